// SPDX-License-Identifier: Apache-2.0
// Plain C++ loops for softmax CE and soft Dice (value + gradient), the baseline the Halide
// kernels are compared with in the same run. Straightforward code, split over threads by image
// and plane; no intrinsics.
#pragma once

#include <cstdint>
#include <vector>

namespace segloss::bench {

struct Shape {
    int64_t N, C, V;  // V = voxels per image
};

// Mean softmax CE over all voxels; writes d/dlogits when grad != nullptr.
double plain_ce(const Shape &s, const float *logits, const int32_t *labels, float *grad, int threads);
// Mean over (n, c) of 1 - (2I + 1e-5)/(P + G + 1e-5) with softmax; gradient as above.
double plain_dice(const Shape &s, const float *logits, const int32_t *labels, float *grad, int threads);
// No loss: the traffic of one (pointwise) or, with two_pass, of a region loss's two passes
// (read logits and labels, read them again and write the gradient), with as little arithmetic
// as the compiler allows (a sum; grad = logit + (label == c)). What this machine attains with
// regular stores for a loss's bytes: the floor under every kernel, next to the copy roofline.
double plain_stream(const Shape &s, const float *logits, const int32_t *labels, float *grad, int threads,
                    bool two_pass);

}  // namespace segloss::bench
