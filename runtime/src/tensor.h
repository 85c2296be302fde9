// SPDX-License-Identifier: Apache-2.0
// DLTensor -> checked host view -> halide_buffer_t. Knows DLPack and Halide's buffer layout,
// nothing about losses.
#pragma once

#include <cstdint>
#include <vector>

#include "HalideRuntime.h"
#include "segloss/segloss.h"

namespace segloss::rt {

constexpr int kMaxRank = 5;

struct Tensor {
    const char *what = "";  // name used in messages ("logits", "target", ...)
    int ndim = 0;
    int64_t shape[kMaxRank] = {};
    int64_t strides[kMaxRank] = {};  // elements
    DLDataType dtype{};
    char *data = nullptr;            // data + byte_offset (OpenCL: the cl_mem)
    int64_t numel = 0;
    DLDevice device{kDLCPU, 0};      // kDLCPU for host memory (kDLCUDAHost included)
    uintptr_t space = 0;             // OpenCL: the cl_mem, whose byte offsets lo and hi are
    uintptr_t lo = 0, hi = 0;        // [lo, hi): bytes the tensor can touch
    bool on_device() const { return device.device_type != kDLCPU; }
};

// Checks the descriptor (non-null, 1..5 dims, no zero extent, non-null data, lanes == 1) and
// computes its strides and byte range. Fails with the documented status. Host memory only,
// unless allow_device: then also CUDA and OpenCL memory that this build and machine can run
// kernels on (DEVICE_UNAVAILABLE, UNSUPPORTED otherwise).
Tensor read_tensor(const DLTensor *t, const char *what, bool allow_device = false);
// Fails with DEVICE_MISMATCH unless t is on the device of `like`.
void require_same_device(const Tensor &t, const Tensor &like);

bool is_dtype(const Tensor &t, uint8_t code, int bits);
// Offset in elements of element i (row-major over the tensor's shape).
int64_t element_offset(const Tensor &t, int64_t i);
const char *dtype_name(DLDataType dt);

// Fails with INVALID_ARGUMENT if the byte ranges of a and b overlap.
void require_disjoint(const Tensor &a, const Tensor &b);
// Fails with INVALID_ARGUMENT unless t's elements lie at distinct addresses, as an output's must:
// ordered by |stride|, each axis (of extent > 1) steps beyond everything the smaller ones span.
// (Negative strides and gaps are fine; zero strides and interleaved axes are not.)
void require_distinct_elements(const Tensor &t);

// A halide_buffer_t over a Tensor. `axes` lists the tensor axis of each Halide dimension,
// innermost first; -1 adds an extent-1 dimension. Every extent and stride must fit int32 but
// the batch's: a view whose last axis is the tensor's axis 0 is per image (batch_split.h), and
// a host tensor's batch stride beyond 32 bits makes the kernels that use it run per image.
// Over device memory the view has no host pointer and wraps the caller's allocation. A view
// over host memory that a GPU kernel reads or writes gets a device copy from Halide (pooled),
// given back when the view ends: only inside the device call (Call::use_device). A GPU kernel
// copies a host input to its device copy only when it is marked host-dirty (get()->
// set_host_dirty()); outputs must not be.
class HalideView {
public:
    HalideView() = default;
    ~HalideView() { release(); }
    HalideView(const Tensor &t, const std::vector<int> &axes);
    // A dense buffer over caller memory of the given Halide extents (innermost first).
    template <typename T>
    static HalideView dense(T *data, const std::vector<int> &extents);
    // One float32 line of extents[0] values repeated over the other extents (zero strides), as
    // an input.
    static HalideView broadcast_line(float *data, const std::vector<int> &extents);
    // dense() of a per-image buffer: its last extent is the batch (batch_split.h).
    template <typename T>
    static HalideView per_image(T *data, const std::vector<int> &extents);
    halide_buffer_t *get() { return &buf_; }
    HalideView(const HalideView &) = delete;
    HalideView &operator=(const HalideView &) = delete;
    HalideView(HalideView &&o) noexcept { *this = std::move(o); }
    HalideView &operator=(HalideView &&o) noexcept;

private:
    void init(void *data, halide_type_t type, int dims);
    void release();
    halide_buffer_t buf_{};
    bool wrapped_ = false;  // buf_.device is the caller's memory
    halide_dimension_t dim_[kMaxRank] = {};
    // Per image: the distance between images in elements (registered while the view lives).
    bool per_image_ = false;
    int64_t batch_stride_ = 0;
    void set_per_image(int64_t batch_stride);
};

halide_type_t halide_type_of_dl(DLDataType dt);

template <typename T>
HalideView HalideView::dense(T *data, const std::vector<int> &extents) {
    HalideView v;
    v.init(data, halide_type_of<T>(), static_cast<int>(extents.size()));
    int stride = 1;
    for (size_t i = 0; i < extents.size(); i++) {
        v.dim_[i] = halide_dimension_t(0, extents[i], stride);
        stride *= extents[i];
    }
    return v;
}

template <typename T>
HalideView HalideView::per_image(T *data, const std::vector<int> &extents) {
    HalideView v = dense(data, extents);
    v.set_per_image(v.dim_[extents.size() - 1].stride);
    return v;
}

}  // namespace segloss::rt
