// SPDX-License-Identifier: Apache-2.0
// dL/dp of a region loss at one voxel from its group's coefficients (abi::RegionCoef), for the
// region gradient pass and for the boundary losses' pass of dice_boundary / dice_hausdorff.
#pragma once

#include "Halide.h"
#include "generators/common/abi.h"

namespace segloss::gen {

// coef(slot, c, n): dL/dp = coef_I g + coef_P + 2 coef_P2 p + 2 (p - g)(coef_SsPos g + coef_SsNeg (1 - g)).
// The (g - p)^2 terms are strict: a coefficient may be huge where its factor is exactly 0
// (r / (G + eps) of an absent class), and fast-math reassociation of c1 g + c2 (1 - g) into
// c2 + g (c1 - c2) would cancel the small one away.
inline Halide::Expr region_dl_dp(const Halide::Func &coef, Halide::Expr g, Halide::Expr p, Halide::Expr c,
                                 Halide::Expr n) {
    using namespace Halide;
    Expr ss = strict_float(2.0f * (p - g) *
                           (coef(abi::kCoefSsPos, c, n) * g + coef(abi::kCoefSsNeg, c, n) * (1.0f - g)));
    return coef(abi::kCoefI, c, n) * g + coef(abi::kCoefP, c, n) + 2.0f * coef(abi::kCoefP2, c, n) * p + ss;
}

}  // namespace segloss::gen
