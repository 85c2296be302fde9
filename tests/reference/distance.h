// SPDX-License-Identifier: Apache-2.0
// float64 reference of the exact Euclidean distance transform (issue 4), by brute force over
// all pairs of voxels: no separable passes, nothing shared with the kernels. Small masks only
// (O(V^2)).
#pragma once

#include <array>
#include <cstdint>
#include <optional>
#include <vector>

namespace segloss::ref {

// One volume, x fastest: extents {X, Y, Z} (1 for missing axes), nonzero = foreground.
struct Mask {
    std::array<int64_t, 3> extents{1, 1, 1};
    std::vector<uint8_t> values;
};

// SciPy's distance_transform_edt(mask, sampling=spacing): for every voxel the distance to the
// nearest zero voxel, with per-axis spacing {sx, sy, sz}; zero voxels get 0. A mask without a
// zero voxel has no distance (std::nullopt), never a made-up field.
std::optional<std::vector<double>> edt_brute_force(const Mask &mask, const std::array<double, 3> &spacing);

}  // namespace segloss::ref
