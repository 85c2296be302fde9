// SPDX-License-Identifier: Apache-2.0
#include "batch_split.h"

#include <algorithm>
#include <climits>

#include "failure.h"

namespace segloss::rt {

namespace {

struct PerImage {
    const halide_buffer_t *buf;
    int64_t batch_stride;
};

// The calling thread's live per-image views (a call's few): kernels never create views, and a
// call runs on the thread that made it.
thread_local std::vector<PerImage> live;

const PerImage *find(const halide_buffer_t *buf) {
    for (const PerImage &p : live) {
        if (p.buf == buf) return &p;
    }
    return nullptr;
}

bool fits_32_bits(int64_t v) { return v >= INT32_MIN && v <= INT32_MAX; }

}  // namespace

void register_per_image(const halide_buffer_t *buf, int64_t batch_stride) { live.push_back({buf, batch_stride}); }

void unregister_per_image(const halide_buffer_t *buf) {
    auto it = std::find_if(live.begin(), live.end(), [&](const PerImage &p) { return p.buf == buf; });
    if (it != live.end()) live.erase(it);
}

BatchSplit::BatchSplit(halide_buffer_t *const *bufs, size_t count) {
    bool split = false;
    for (size_t i = 0; i < count; i++) {
        const PerImage *p = bufs[i] ? find(bufs[i]) : nullptr;
        if (!p || std::any_of(moved_.begin(), moved_.end(), [&](const Moved &m) { return m.buf == bufs[i]; })) continue;
        halide_buffer_t *b = bufs[i];
        const halide_dimension_t &n = b->dim[b->dimensions - 1];
        moved_.push_back({b, b->host, p->batch_stride, n});
        split = split || (n.extent > 1 && !fits_32_bits(p->batch_stride));
    }
    if (!split) {
        moved_.clear();
        return;
    }
    images_ = moved_.front().dim.extent;
    for (const Moved &m : moved_) {
        if (m.dim.extent != images_) {
            fail(SEGLOSS_STATUS_INTERNAL, "per-image buffers of one kernel disagree on the batch (", m.dim.extent, " vs ",
                 images_, ")");
        }
        if (m.buf->device) fail(SEGLOSS_STATUS_TOO_LARGE, "device tensors whose batch stride needs 64 bits are not split");
    }
}

void BatchSplit::select(int64_t n) {
    for (Moved &m : moved_) {
        m.buf->host = m.host + n * m.batch_stride * static_cast<int64_t>(m.buf->type.bytes());
        m.buf->dim[m.buf->dimensions - 1].extent = 1;  // (its stride: kept, or 0 where it needs 64 bits)
    }
}

BatchSplit::~BatchSplit() {
    for (Moved &m : moved_) {
        m.buf->host = m.host;
        m.buf->dim[m.buf->dimensions - 1] = m.dim;
    }
}

}  // namespace segloss::rt
