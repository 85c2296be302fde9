// SPDX-License-Identifier: Apache-2.0
// Memory for the kernels' intermediate buffers (Halide's malloc hook). Large blocks are kept
// after a call and reused by the next one: the distance kernels allocate volumes of scratch per
// image, and fresh pages cost their first-touch faults (a quarter of an EDT's time on this
// machine), as the context's own scratch does for the losses.
#pragma once

#include <cstddef>

namespace segloss::rt {

// Halide's malloc and free hooks: 128-byte aligned blocks; blocks of 1 MiB or more are kept,
// up to kMaxCachedBytes in all, and handed out again for requests they can hold.
void *cached_malloc(void *user_context, size_t bytes);
void cached_free(void *user_context, void *ptr);

constexpr size_t kMaxCachedBytes = size_t(512) << 20;

}  // namespace segloss::rt
