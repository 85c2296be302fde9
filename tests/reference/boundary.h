// SPDX-License-Identifier: Apache-2.0
// float64 reference of the boundary-based losses (LOSSES.md): the distance maps from the
// brute-force EDT (reference/distance.h), held constant, and the losses written plainly over
// them, so that their gradients can be checked by finite differences with the maps fixed.
#pragma once

#include <array>
#include <vector>

#include "reference/reference.h"

namespace segloss::ref {

// The maps of one call: target[n][k][v] (phi_G for boundary, d_G for hausdorff_dt) and
// prediction[n][k][v] (d_S, hausdorff_dt only), k = class - first class.
struct BoundaryMaps {
    std::vector<double> target, prediction;
};

// extents {X, Y, Z} of the case's V voxels, spacing {sx, sy, sz}. Target masks: label == c
// (ignored voxels in no mask) or g > 0.5; prediction masks: p > 0.5. Empty and full masks get
// zero maps.
BoundaryMaps boundary_maps(const Case &k, const segloss_loss_params_t &p, const std::array<int64_t, 3> &extents,
                           const std::array<double, 3> &spacing);

// boundary and hausdorff_dt over the given maps: per group (n, class) or (class) with batch,
// (1/V) sum of m term over the V counted voxels (V = their mask sum); mean, sum or the groups.
Result boundary(const Case &k, const segloss_loss_params_t &p, const BoundaryMaps &maps, double grad_scale);

// DPCE's D_v per voxel [n][v] (index labels): (m - E_v) / m inside each label's region, E_v
// its brute-force EDT (distance to the nearest voxel of another label or an ignored voxel), m
// the region's maximum of E; 0 for ignored voxels and in regions with no boundary.
std::vector<double> dpce_map(const Case &k, const segloss_loss_params_t &p, const std::array<int64_t, 3> &extents,
                             const std::array<double, 3> &spacing);

// dpce over a given D (softmax or no activation): -(1/W) sum_v m_v (1 + D_v) w_y log p_y,
// W = sum over counted voxels of m_v w_y (mean), 1 (sum); none: the per-voxel terms [n][v].
Result dpce(const Case &k, const segloss_loss_params_t &p, const std::vector<double> &D, double grad_scale);

}  // namespace segloss::ref
