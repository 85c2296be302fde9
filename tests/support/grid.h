// SPDX-License-Identifier: Apache-2.0
// Spatial shapes in the two orders the tests meet: PyTorch's (D, H, W) and Halide's / the
// references' (x, y, z), and shape concatenation.
#pragma once

#include <array>
#include <cstdint>
#include <vector>

namespace segloss::test {

// Spatial shape {D, H, W} (1 to 3 axes) -> extents {X, Y, Z}, 1 for missing axes.
inline std::array<int64_t, 3> xyz(const std::vector<int64_t> &spatial) {
    std::array<int64_t, 3> e{1, 1, 1};
    for (size_t i = 0; i < spatial.size(); i++) e[i] = spatial[spatial.size() - 1 - i];
    return e;
}

// Spacing in tensor order -> {sx, sy, sz}, 1 for missing axes.
inline std::array<double, 3> xyz_spacing(const std::vector<double> &s) {
    std::array<double, 3> e{1, 1, 1};
    for (size_t i = 0; i < s.size(); i++) e[i] = s[s.size() - 1 - i];
    return e;
}

inline std::vector<int64_t> concat(std::vector<int64_t> a, const std::vector<int64_t> &b) {
    a.insert(a.end(), b.begin(), b.end());
    return a;
}

// Grids of the distance and metric tests: odd extents, anisotropic spacing, 1 to 3 axes.
struct Grid {
    std::vector<int64_t> spatial;  // D, H, W
    std::vector<double> spacing;   // one per axis
};
inline std::vector<Grid> distance_grids() {
    return {
        {{7, 9, 11}, {2.0, 0.7, 1.1}},  // 3-D, anisotropic, odd extents
        {{5, 1, 13}, {1.0, 1.0, 1.0}},  // a 3-D volume with one row
        {{13, 17}, {0.5, 1.5}},         // 2-D
        {{33}, {2.5}},                  // 1-D
    };
}

}  // namespace segloss::test
