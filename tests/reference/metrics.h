// SPDX-License-Identifier: Apache-2.0
// float64 reference of the evaluation metrics (LOSSES.md, Metrics), by brute force: surfaces by
// their definition, every pair of surface voxels, sorted directed distances. Small masks only.
#pragma once

#include <array>

#include "reference/distance.h"

namespace segloss::ref {

struct Metrics {
    // dice, iou, hd, hd95, assd, nsd (segloss_metric_t order); the empty cases per LOSSES.md.
    std::array<double, 6> values{};
    int empty_case = 0;  // 0 both present, 1 prediction empty, 2 target empty, 3 both empty
};

Metrics metrics_brute_force(const Mask &pred, const Mask &target, const std::array<double, 3> &spacing,
                            double tolerance, double percentile);

}  // namespace segloss::ref
