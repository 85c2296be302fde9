// SPDX-License-Identifier: Apache-2.0
// Tensors beyond 32-bit strides. Halide's buffers hold 32-bit extents and strides (element
// offsets are 64-bit: the kernels are built with large_buffers), so a batch whose images lie
// more than 2^31 elements apart (N,C,spatial with C * spatial >= 2^31, or any caller's layout
// with such a batch stride) cannot be one buffer. Such a view keeps the batch stride here, and
// Call::run runs each kernel that reads or writes it once per image, on every per-image buffer
// of the call moved to that image: the kernels compute each image from its own data (their
// partial sums are per image or per line), so the results are those of one call over the
// batch, bit for bit. A single image must still fit 32 bits (TOO_LARGE otherwise).
#pragma once

#include <cstddef>
#include <cstdint>
#include <vector>

#include "HalideRuntime.h"

namespace segloss::rt {

// Per-image buffers (HalideView): their last dimension is the batch, and `batch_stride`
// (elements) the distance between images, which the buffer itself may not hold (its stride
// is then 0). Registered for the calling thread while the view lives.
void register_per_image(const halide_buffer_t *buf, int64_t batch_stride);
void unregister_per_image(const halide_buffer_t *buf);

// The images one kernel call runs on: 1 (all at once, select does nothing) unless one of its
// per-image buffers has a batch stride beyond 32 bits; then N, and select(n) points every
// per-image buffer of the call at image n (extent 1). Restores the buffers when it ends.
class BatchSplit {
public:
    BatchSplit(halide_buffer_t *const *bufs, size_t count);
    ~BatchSplit();
    BatchSplit(const BatchSplit &) = delete;
    BatchSplit &operator=(const BatchSplit &) = delete;
    int64_t images() const { return images_; }
    void select(int64_t n);

private:
    struct Moved {
        halide_buffer_t *buf;
        uint8_t *host;
        int64_t batch_stride;
        halide_dimension_t dim;  // the batch dimension as it was
    };
    std::vector<Moved> moved_;
    int64_t images_ = 1;
};

}  // namespace segloss::rt
