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

// The distance maps of LOSSES.md (boundary-based losses) from the brute-force EDT, float64:
// kind 0 EDT(M) (+inf everywhere for a full mask), 1 EDT(not M) (+inf for an empty mask),
// 2 signed phi = EDT(not M) outside M and h - EDT(M) inside, h = the smallest spacing of the
// axes with more than one voxel, 3 EDT(M) + EDT(not M). Kinds 2 and 3 are zero for empty and
// full masks. Kind 4: the distance to the nearest voxel of surface(M) (surface_of; +inf
// everywhere for an empty mask). Kind 5: DPCE's (m - EDT(M)) / m inside M, m the largest
// EDT(M), 0 outside and for empty and full masks.
std::vector<double> distance_map(const Mask &mask, const std::array<double, 3> &spacing, int kind);

// The surface of a mask (LOSSES.md, metrics): its voxels with a 6-neighbour outside it or on
// the volume's border, along the axes with more than one voxel (a volume of one voxel is its
// own surface).
std::vector<uint8_t> surface_of(const Mask &mask);

}  // namespace segloss::ref
