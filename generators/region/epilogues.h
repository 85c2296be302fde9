// SPDX-License-Identifier: Apache-2.0
// Region losses as epilogues: each turns one group's sums into its loss and into the
// derivatives dL/d(sum) that the shared gradient pass consumes. A new region loss (IoU,
// Tversky, ...) is one more function here and one more abi::RegionLoss value.
#pragma once

#include "Halide.h"
#include "generators/common/layout.h"

namespace segloss::gen {

// One group's sums in float64 (LOSSES.md notation).
struct GroupSums {
    Halide::Expr I, P, G, P2, G2;
};

// A group's loss and its derivatives w.r.t. the sums the gradient depends on (I, P, P2).
struct GroupLoss {
    Halide::Expr loss, dI, dP, dP2;
};

struct RegionOptions {
    Halide::Expr smooth_nr, smooth_dr;  // float64
    Halide::Expr squared_pred;          // bool
};

// dice: 1 - (2I + s_nr) / (D + s_dr), D = P + G, or P2 + G2 with squared_pred (V-Net).
inline GroupLoss dice_loss(const GroupSums &s, const RegionOptions &o) {
    using namespace Halide;
    Expr D = select(o.squared_pred, s.P2 + s.G2, s.P + s.G);
    Expr num = f64(2) * s.I + o.smooth_nr;
    Expr den = D + o.smooth_dr;
    Expr dD = num / (den * den);  // dL/dD
    return {f64(1) - num / den, f64(-2) / den, select(o.squared_pred, f64(0), dD),
            select(o.squared_pred, dD, f64(0))};
}

}  // namespace segloss::gen
