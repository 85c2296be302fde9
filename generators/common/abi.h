// SPDX-License-Identifier: Apache-2.0
// Constants shared by the kernels and the runtime that calls them (slot indices, lane counts).
// Plain C++ with no Halide dependency: the runtime includes it too.
#pragma once

namespace segloss::abi {

// Lanes of every deterministic partial sum: lane l adds x = l, l+16, l+32, ... in order, then
// the lanes are added 0..15. The order is part of the algorithm, not of the schedule, so the
// bits do not depend on the vector width or on the thread count.
constexpr int kSumLanes = 16;

// Slots of the pointwise row partials, rows(slot, y, z, n).
enum PointwiseSlot { kLossSum = 0, kNonfinite, kNumPointwiseSlots };

// Slots of the label pre-pass row partials, rows(slot, y, z, n).
enum LabelSlot { kWeightSum = 0, kCounted, kInvalid, kNumLabelSlots };

// Slots of the region statistics, stats(slot, c, n), float64, over counted voxels.
enum RegionStat {
    kStatI = 0,   // sum p*g
    kStatP,       // sum p
    kStatG,       // sum g
    kStatP2,      // sum p^2
    kStatG2,      // sum g^2
    kStatCount,   // counted voxels
    kStatInvalid, // voxels whose label is neither in [0, C) nor ignore_index
    kStatNonfinite, // counted voxels with a non-finite logit (they are left out of the sums)
    kNumRegionStats
};

// Slots of the per-group coefficients dL/d(sum), coef(slot, c, n), float32: the gradient pass
// computes dL/dp_v = coef_I * g_v + coef_P + 2 * coef_P2 * p_v on counted voxels.
enum RegionCoef { kCoefI = 0, kCoefP, kCoefP2, kNumRegionCoefs };

// Region losses the epilogue knows (its loss_kind argument).
enum RegionLoss { kRegionDice = 0 };

// Reductions (the epilogue's reduction argument).
enum Reduction { kReduceMean = 0, kReduceSum = 1, kReduceNone = 2 };

}  // namespace segloss::abi
