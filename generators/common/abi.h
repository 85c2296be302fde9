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

// Slots of the label pre-pass row partials, rows(slot, y, z, n); its class_rows(c, y, z, n)
// hold the per-class target sums (voxels of each label, or sum g_c of dense maps), each voxel
// weighed by its loss mask value; kCounted is the sum of the mask over counted voxels.
enum LabelSlot { kCounted = 0, kInvalid, kBadMask, kNumLabelSlots };

// Slots of the region statistics, stats(slot, c, n), float64, over counted voxels, each voxel
// weighed by its loss mask value.
enum RegionStat {
    kStatI = 0,   // sum p*g
    kStatP,       // sum p
    kStatG,       // sum g
    kStatP2,      // sum p^2
    kStatG2,      // sum g^2
    kStatSsPos,   // sum (g-p)^2 g      (sensitivity term)
    kStatSsNeg,   // sum (g-p)^2 (1-g)  (specificity term)
    kStatPwPos,   // compound losses: sum of the pointwise part's class loss, pos (formulas.h)
    kStatPwNeg,   // compound losses: the same, neg (sigmoid)
    kStatCount,   // counted voxels (sum of their mask values)
    kStatInvalid, // voxels whose label is neither in [0, C) nor ignore_index
    kStatNonfinite, // counted voxels with a non-finite logit (they are left out of the sums)
    kStatBadMask, // voxels whose mask value is not in [0, 1] (the call fails)
    kNumRegionStats
};

// Slots of the per-group coefficients dL/d(sum), coef(slot, c, n), float32: the gradient pass
// computes on counted voxels
//   dL/dp_v = coef_I g + coef_P + 2 coef_P2 p + 2 (p - g) (coef_SsPos g + coef_SsNeg (1 - g)),
// and compound losses add the pointwise part with class weights alpha_pos = coef_PwPos,
// alpha_neg = coef_PwNeg (scaled by the part's lambda and normaliser).
enum RegionCoef { kCoefI = 0, kCoefP, kCoefP2, kCoefSsPos, kCoefSsNeg, kCoefPwPos, kCoefPwNeg, kNumRegionCoefs };

// A region loss is a base (the per-group loss from the sums) and a transform of it.
enum RegionBase { kBaseDice = 0, kBaseIou, kBaseTversky, kBaseSensSpec, kBaseGeneralizedDice };
enum RegionTransform {
    kTransformNone = 0,
    kTransformRoot,     // focal Tversky: max(L, 1e-7)^(1/gamma)
    kTransformPenalty,  // penalty generalized Dice: L / (1 + k (1 - L))
    kTransformLogCosh,  // log(cosh(L))
    kTransformExpLog    // exp_log: (-ln(1 - L))^gamma
};
// Class weights of the generalized Dice.
enum GdWeight { kGdSquare = 0, kGdSimple, kGdUniform };

// Slots of the epilogue's options vector (float32; enums and flags as small integers).
enum RegionOption {
    kOptBase = 0,          // RegionBase
    kOptTransform,         // RegionTransform
    kOptSmoothNr,
    kOptSmoothDr,
    kOptIncludeBackground, // 0 or 1
    kOptBatch,             // 0 or 1
    kOptSquaredPred,       // 0 or 1 (Dice)
    kOptReduction,         // Reduction
    kOptExcludeEmpty,      // 1: groups with G = 0 leave the mean
    kOptAlpha,             // Tversky: weight of FP
    kOptBeta,              // Tversky: weight of FN
    kOptR,                 // sensitivity-specificity: weight of the sensitivity term
    kOptGamma,             // root transform exponent 1/gamma
    kOptPenaltyK,          // penalty transform k
    kOptGdWeight,          // GdWeight
    // Compound losses: lambda_region * region loss + lambda_pointwise * pointwise part.
    kOptLambdaRegion,
    kOptLambdaPointwise,   // 0: no pointwise part
    kOptPwNorm,            // PwNorm: the pointwise part's mean
    kOptPwClassWeights,    // PwClassWeights
    kOptPwNormValue,       // kPwNormGiven: the normaliser (TopK's selected voxels)
    kNumRegionOptions
};
// The pointwise part's normaliser (mean): sum of alpha_pos_c G_c, the counted voxels, the
// counted (voxel, channel) elements (sigmoid), or kOptPwNormValue. With kPwNormGiven the
// part's value is not in the epilogue's total (dice_topk: the runtime has it from the keys).
enum PwNorm { kPwNormWeighted = 0, kPwNormCount, kPwNormElements, kPwNormGiven };
// Where its class weights come from: the alpha inputs, w_c = M / (K G_c) (inverse frequency), or
// w_c = sqrt(M / G_c) (exp_log, Wong et al.), with G_c over the batch and M = sum of G_c.
enum PwClassWeights { kPwWeightsGiven = 0, kPwWeightsInverse, kPwWeightsSqrtInverse };

// Reductions (the epilogue's reduction argument).
enum Reduction { kReduceMean = 0, kReduceSum = 1, kReduceNone = 2 };

// Distance maps of the distance family (per mask M of one class in one image, in physical
// units; edt_passes.h).
enum DistanceKind {
    kDistanceEdt = 0,            // EDT(M): distance to the nearest voxel outside M (0 outside M)
    kDistanceEdtComplement = 1,  // EDT(not M): distance to the nearest voxel of M (0 inside M)
    kDistanceSigned = 2,         // phi = EDT(not M) outside M, h - EDT(M) inside (h = smallest spacing)
    kDistanceBoundary = 3,       // EDT(M) + EDT(not M): distance to the other side of the boundary
    kDistanceSurface = 4,        // distance to the nearest surface voxel of M (0 on the surface)
    kDistanceDpce = 5            // DPCE's D = (m - EDT(M)) / m inside M, m = max of EDT(M); 0 outside
};
// The term of a boundary-based loss (generators/distance/boundary_loss_generator.cpp).
enum BoundaryFormula {
    kFormulaBoundary = 0,  // phi_G p (boundary loss)
    kFormulaHausdorff = 1  // (p - g)^2 (d_G^alpha + d_S^alpha) (hausdorff_dt)
};

// What a mask is, per (class, image): a mask with no voxel (empty) or with every voxel (full)
// has no boundary.
enum MaskFlag { kMaskNormal = 0, kMaskEmpty = 1, kMaskFull = 2 };

}  // namespace segloss::abi
