// SPDX-License-Identifier: Apache-2.0
// Random label maps made of blobs, for the distance tests and the metrics tests.
#pragma once

#include <algorithm>
#include <array>
#include <cstdint>
#include <random>
#include <vector>

#include "reference/distance.h"

namespace segloss::test {

// Random labels in [0, C) made of blobs (so masks have interiors and boundaries), with some
// thin lines, ignored voxels (label C) and, in image 1, class C - 1 absent.
inline std::vector<int32_t> blob_labels(int64_t N, int64_t C, const std::array<int64_t, 3> &e, uint32_t seed,
                                 bool with_ignore) {
    std::mt19937 rng(seed);
    const int64_t V = e[0] * e[1] * e[2];
    std::vector<int32_t> lab(static_cast<size_t>(N * V), 0);
    for (int64_t n = 0; n < N; n++) {
        for (int b = 0; b < 4; b++) {
            const int32_t c = int32_t(rng() % C);
            if (n == 1 && c == C - 1) continue;
            const double cx = rng() % e[0], cy = rng() % e[1], cz = rng() % e[2];
            const double r = 1.0 + (rng() % 100) / 100.0 * 0.4 * std::max<int64_t>(e[0], e[1]);
            for (int64_t v = 0; v < V; v++) {
                const double dx = v % e[0] - cx, dy = (v / e[0]) % e[1] - cy, dz = v / (e[0] * e[1]) - cz;
                if (dx * dx + dy * dy + dz * dz <= r * r) lab[n * V + v] = c;
            }
        }
        // A thin line of class 1 along x.
        const int64_t y = rng() % e[1], z = rng() % e[2];
        for (int64_t x = 0; x < e[0]; x++) lab[n * V + (z * e[1] + y) * e[0] + x] = 1;
        if (with_ignore) {
            for (int k = 0; k < 3; k++) lab[n * V + rng() % V] = int32_t(C);
        }
    }
    return lab;
}

inline ref::Mask class_mask(const std::vector<int32_t> &lab, int64_t n, const std::array<int64_t, 3> &e, int c) {
    const int64_t V = e[0] * e[1] * e[2];
    ref::Mask m{e, std::vector<uint8_t>(static_cast<size_t>(V))};
    for (int64_t v = 0; v < V; v++) m.values[v] = lab[n * V + v] == c ? 1 : 0;
    return m;
}

}  // namespace segloss::test
