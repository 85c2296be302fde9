// SPDX-License-Identifier: Apache-2.0
#include "tensor.h"

#include <algorithm>
#include <climits>
#include <cstring>
#include <utility>
#include <vector>

#include "../devices/cuda_probe.h"
#include "../devices/gpu.h"
#include "batch_split.h"
#include "failure.h"

namespace segloss::rt {

const char *dtype_name(DLDataType dt) {
    if (dt.lanes != 1) return "vector";
    switch (dt.code) {
    case kDLFloat: return dt.bits == 32 ? "float32" : dt.bits == 64 ? "float64" : dt.bits == 16 ? "float16" : "float";
    case kDLInt: return dt.bits == 32 ? "int32" : dt.bits == 64 ? "int64" : dt.bits == 8 ? "int8" : "int";
    case kDLUInt: return dt.bits == 8 ? "uint8" : dt.bits == 1 ? "bool" : "uint";
    case kDLBfloat: return "bfloat16";
    default: return "unknown";
    }
}

bool is_dtype(const Tensor &t, uint8_t code, int bits) {
    return t.dtype.code == code && t.dtype.bits == bits && t.dtype.lanes == 1;
}

int64_t element_offset(const Tensor &t, int64_t i) {
    int64_t offset = 0;
    for (int d = t.ndim - 1; d >= 0; d--) {
        offset += (i % t.shape[d]) * t.strides[d];
        i /= t.shape[d];
    }
    return offset;
}

namespace {

// A tensor in GPU memory: whether this build and machine can run kernels on it.
void check_device_tensor(const DLTensor *dl, const char *what, bool allow_device) {
    const GpuApi api = gpu_api_of(dl->device.device_type);
    const char *name = device_name(dl->device.device_type);
    const int id = dl->device.device_id;
    if (!gpu_api_built(api)) {
        fail(SEGLOSS_STATUS_UNSUPPORTED, what, " is on ", name, ":", id, ": this build of segloss has no ", name,
             " kernels (SEGLOSS_GPU_APIS)");
    }
    if (api == GpuApi::cuda) {
        const CudaProbe &cuda = probe_cuda();
        if (cuda.devices == 0) fail(SEGLOSS_STATUS_DEVICE_UNAVAILABLE, what, " is on cuda:", id, ", but ", cuda.reason);
        if (id < 0 || id >= cuda.devices) {
            fail(SEGLOSS_STATUS_DEVICE_UNAVAILABLE, what, " is on cuda:", id, ", but the driver reports ",
                 cuda.devices, " device(s)");
        }
    }
    if (!allow_device) {
        fail(SEGLOSS_STATUS_UNSUPPORTED, what, " is on ", name, ":", id,
             ": this function takes host memory only (device calls: segloss_loss_compute)");
    }
    if (api == GpuApi::opencl && dl->byte_offset != 0) {
        fail(SEGLOSS_STATUS_UNSUPPORTED, what, " is on opencl with a byte_offset: an OpenCL tensor must start its cl_mem");
    }
}

}  // namespace

Tensor read_tensor(const DLTensor *dl, const char *what, bool allow_device) {
    if (!dl) fail(SEGLOSS_STATUS_INVALID_ARGUMENT, what, " is NULL");
    Tensor t;
    t.what = what;
    if (gpu_api_of(dl->device.device_type) != GpuApi::none) {
        check_device_tensor(dl, what, allow_device);
        t.device = dl->device;
    } else if (dl->device.device_type != kDLCPU && dl->device.device_type != kDLCUDAHost) {
        fail(SEGLOSS_STATUS_UNSUPPORTED, what, " is on device type ", int(dl->device.device_type),
             ": only CPU, CUDA and OpenCL memory are supported");
    }
    if (dl->ndim < 1 || dl->ndim > kMaxRank) {
        fail(SEGLOSS_STATUS_INVALID_SHAPE, what, " has ", dl->ndim, " dimensions; 1 to ", kMaxRank, " are supported");
    }
    if (!dl->shape) fail(SEGLOSS_STATUS_INVALID_ARGUMENT, what, " has a NULL shape");
    if (dl->dtype.lanes != 1) fail(SEGLOSS_STATUS_UNSUPPORTED, what, " has vector dtype (lanes ", int(dl->dtype.lanes), ")");
    t.ndim = dl->ndim;
    t.dtype = dl->dtype;
    t.numel = 1;
    for (int i = 0; i < t.ndim; i++) {
        if (dl->shape[i] <= 0) {
            fail(SEGLOSS_STATUS_INVALID_SHAPE, what, " has extent ", dl->shape[i], " in dimension ", i,
                 ": empty and negative extents are rejected");
        }
        t.shape[i] = dl->shape[i];
        if (t.numel > INT64_MAX / t.shape[i]) fail(SEGLOSS_STATUS_TOO_LARGE, what, " has more than 2^63 elements");
        t.numel *= t.shape[i];
    }
    if (dl->strides) {
        for (int i = 0; i < t.ndim; i++) t.strides[i] = dl->strides[i];
    } else {
        int64_t s = 1;
        for (int i = t.ndim - 1; i >= 0; i--) {
            t.strides[i] = s;
            s *= t.shape[i];
        }
    }
    if (!dl->data) fail(SEGLOSS_STATUS_INVALID_ARGUMENT, what, " has a NULL data pointer");
    t.data = static_cast<char *>(dl->data) + dl->byte_offset;
    const int64_t elem = (t.dtype.bits + 7) / 8;
    // An OpenCL buffer is a handle: byte ranges are offsets in it.
    if (gpu_api_of(t.device.device_type) == GpuApi::opencl) t.space = reinterpret_cast<uintptr_t>(t.data);
    const char *origin = t.space ? nullptr : t.data;
    // Byte range: the lowest and highest element addresses (strides may be negative).
    __int128 lo = 0, hi = 0;
    for (int i = 0; i < t.ndim; i++) {
        __int128 span = static_cast<__int128>(t.shape[i] - 1) * t.strides[i] * elem;
        (span < 0 ? lo : hi) += span;
    }
    const __int128 base = static_cast<__int128>(reinterpret_cast<uintptr_t>(origin));
    if (base + lo < 0 || base + hi + elem > static_cast<__int128>(UINTPTR_MAX)) {
        fail(SEGLOSS_STATUS_INVALID_ARGUMENT, what, " spans addresses outside the address space");
    }
    t.lo = static_cast<uintptr_t>(base + lo);
    t.hi = static_cast<uintptr_t>(base + hi + elem);
    return t;
}

void require_same_device(const Tensor &t, const Tensor &like) {
    if (t.device.device_type != like.device.device_type || t.device.device_id != like.device.device_id) {
        fail(SEGLOSS_STATUS_DEVICE_MISMATCH, t.what, " is on ", device_name(t.device.device_type), ":",
             t.device.device_id, " but ", like.what, " is on ", device_name(like.device.device_type), ":",
             like.device.device_id);
    }
}

void require_distinct_elements(const Tensor &t) {
    std::vector<std::pair<int64_t, int64_t>> axes;  // |stride|, extent
    for (int i = 0; i < t.ndim; i++) {
        if (t.shape[i] > 1) axes.emplace_back(t.strides[i] < 0 ? -t.strides[i] : t.strides[i], t.shape[i]);
    }
    std::sort(axes.begin(), axes.end());
    __int128 span = 0;  // the largest offset the smaller axes reach
    for (const auto &[stride, extent] : axes) {
        if (stride <= span) {
            fail(SEGLOSS_STATUS_INVALID_ARGUMENT, t.what, " has strides that give two elements one address (stride ",
                 stride, "); an output's elements must be distinct");
        }
        span += static_cast<__int128>(stride) * (extent - 1);
    }
}

void require_disjoint(const Tensor &a, const Tensor &b) {
    if (a.space == b.space && a.lo < b.hi && b.lo < a.hi) {
        fail(SEGLOSS_STATUS_INVALID_ARGUMENT, a.what, " and ", b.what, " overlap in memory");
    }
}

HalideView HalideView::broadcast_line(float *data, const std::vector<int> &extents) {
    HalideView v = dense(data, extents);
    for (size_t i = 1; i < extents.size(); i++) v.dim_[i].stride = 0;
    v.set_per_image(0);  // the same line for every image (x, ..., n)
    v.buf_.set_host_dirty(true);  // an input: a GPU kernel copies it to the device
    return v;
}

halide_type_t halide_type_of_dl(DLDataType dt) {
    switch (dt.code) {
    case kDLFloat: return halide_type_t(halide_type_float, dt.bits);
    case kDLInt: return halide_type_t(halide_type_int, dt.bits);
    default: return halide_type_t(halide_type_uint, dt.bits);
    }
}

void HalideView::init(void *data, halide_type_t type, int dims) {
    std::memset(&buf_, 0, sizeof(buf_));
    buf_.host = static_cast<uint8_t *>(data);
    buf_.type = type;
    buf_.dimensions = dims;
    buf_.dim = dim_;
}

void HalideView::set_per_image(int64_t batch_stride) {
    if (per_image_) unregister_per_image(&buf_);
    per_image_ = true;
    batch_stride_ = batch_stride;
    register_per_image(&buf_, batch_stride);
}

void HalideView::release() {
    if (per_image_) unregister_per_image(&buf_);
    per_image_ = false;
    if (!buf_.device) return;
    // Errors cannot be reported from here; a failed release leaves the block to the driver.
    if (wrapped_) {
        (void)halide_device_detach_native(nullptr, &buf_);
    } else {
        (void)halide_device_free(nullptr, &buf_);
    }
    buf_.device = 0;
    wrapped_ = false;
}

HalideView &HalideView::operator=(HalideView &&o) noexcept {
    release();
    buf_ = o.buf_;
    std::memcpy(dim_, o.dim_, sizeof(dim_));
    buf_.dim = dim_;
    wrapped_ = o.wrapped_;
    o.buf_.device = 0;
    o.buf_.device_interface = nullptr;
    o.wrapped_ = false;
    if (o.per_image_) {
        unregister_per_image(&o.buf_);
        o.per_image_ = false;
        set_per_image(o.batch_stride_);
    }
    return *this;
}

HalideView::HalideView(const Tensor &t, const std::vector<int> &axes) {
    init(t.on_device() ? nullptr : t.data, halide_type_of_dl(t.dtype), static_cast<int>(axes.size()));
    const bool per_image = axes.size() >= 2 && axes.back() == 0;
    for (size_t i = 0; i < axes.size(); i++) {
        int64_t extent = 1, stride = 0;
        if (axes[i] >= 0) {
            extent = t.shape[axes[i]];
            stride = t.strides[axes[i]];
        }
        const bool stride_fits = stride <= INT32_MAX && stride >= INT32_MIN;
        if (per_image && i + 1 == axes.size() && !stride_fits && extent <= INT32_MAX && !t.on_device()) {
            stride = 0;  // the images are run one at a time (batch_split.h)
        } else if (extent > INT32_MAX || !stride_fits) {
            fail(SEGLOSS_STATUS_TOO_LARGE, t.what, " has an extent or stride beyond 32 bits (extent ", extent,
                 ", stride ", stride, t.on_device() ? "; a device tensor's batch is not split" : "; one image must fit",
                 ")");
        }
        dim_[i] = halide_dimension_t(0, static_cast<int32_t>(extent), static_cast<int32_t>(stride));
    }
    if (per_image) set_per_image(t.strides[0]);
    if (t.on_device()) {
        const uint64_t native = reinterpret_cast<uintptr_t>(t.data);
        if (halide_device_wrap_native(nullptr, &buf_, native, device_interface(gpu_api_of(t.device.device_type)))) {
            fail(SEGLOSS_STATUS_INTERNAL, "cannot wrap ", t.what, "'s device memory");
        }
        wrapped_ = true;
    }
}

}  // namespace segloss::rt
