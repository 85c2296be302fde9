// SPDX-License-Identifier: Apache-2.0
// A synthetic 3-D phantom made in code (no downloads): ellipsoids as labels, and noisy logits
// from a shifted copy of them (a slightly misaligned, uncertain prediction).
#pragma once

#include <cstdint>
#include <vector>

namespace segloss::cli {

struct Phantom {
    int64_t N, C, D, H, W;
    std::vector<float> logits;    // N,C,D,H,W
    std::vector<int32_t> labels;  // N,D,H,W in [0, C)
};

Phantom make_phantom(int64_t N, int64_t C, int64_t D, int64_t H, int64_t W, uint32_t seed);

}  // namespace segloss::cli
