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

}  // namespace segloss::test
