// SPDX-License-Identifier: Apache-2.0
// Region losses as epilogues: each base turns one group's sums into its loss and into the
// derivatives dL/d(sum) that the shared gradient pass consumes; a transform then maps the
// group's loss (focal Tversky, penalty, log-cosh) with the chain rule applied to every
// derivative. All in float64 (a few hundred numbers per call).
#pragma once

#include "Halide.h"
#include "generators/common/abi.h"
#include "generators/common/layout.h"

namespace segloss::gen {

// One group's sums in float64 (LOSSES.md notation; SsPos = sum (g-p)^2 g, SsNeg = sum (g-p)^2 (1-g)).
struct GroupSums {
    Halide::Expr I, P, G, P2, G2, SsPos, SsNeg, count;
};

// A group's loss and its derivatives w.r.t. the sums the gradient depends on.
struct GroupLoss {
    Halide::Expr loss, dI, dP, dP2, dSsPos, dSsNeg;
};

inline GroupLoss zero_derivatives(Halide::Expr loss) {
    return {loss, f64(0), f64(0), f64(0), f64(0), f64(0)};
}

struct RegionOptions {
    Halide::Expr smooth_nr, smooth_dr;  // float64
    Halide::Expr squared_pred;          // bool (Dice)
    Halide::Expr alpha, beta;           // Tversky weights of FP and FN, float64
    Halide::Expr r;                     // sensitivity-specificity weight, float64
};

// dice: 1 - (2I + s_nr) / (D + s_dr), D = P + G, or P2 + G2 with squared_pred (V-Net).
inline GroupLoss dice_loss(const GroupSums &s, const RegionOptions &o) {
    using namespace Halide;
    Expr D = select(o.squared_pred, s.P2 + s.G2, s.P + s.G);
    Expr num = f64(2) * s.I + o.smooth_nr;
    Expr den = D + o.smooth_dr;
    Expr dD = num / (den * den);  // dL/dD
    GroupLoss l = zero_derivatives(f64(1) - num / den);
    l.dI = f64(-2) / den;
    l.dP = select(o.squared_pred, f64(0), dD);
    l.dP2 = select(o.squared_pred, dD, f64(0));
    return l;
}

// iou: 1 - (I + s_nr) / (P + G - I + s_dr).
inline GroupLoss iou_loss(const GroupSums &s, const RegionOptions &o) {
    Halide::Expr num = s.I + o.smooth_nr;
    Halide::Expr den = s.P + s.G - s.I + o.smooth_dr;
    GroupLoss l = zero_derivatives(f64(1) - num / den);
    l.dI = -(f64(1) / den + num / (den * den));
    l.dP = num / (den * den);
    return l;
}

// tversky: 1 - (I + s_nr) / (I + alpha FP + beta FN + s_dr), FP = P - I, FN = G - I (exact for
// soft targets too). The asymmetric loss is this with alpha = 1/(1+b^2), beta = b^2/(1+b^2).
inline GroupLoss tversky_loss(const GroupSums &s, const RegionOptions &o) {
    Halide::Expr num = s.I + o.smooth_nr;
    Halide::Expr den = s.I + o.alpha * (s.P - s.I) + o.beta * (s.G - s.I) + o.smooth_dr;
    Halide::Expr ratio = num / (den * den);
    GroupLoss l = zero_derivatives(f64(1) - num / den);
    l.dI = -(f64(1) / den - ratio * (f64(1) - o.alpha - o.beta));
    l.dP = ratio * o.alpha;
    return l;
}

// sensitivity_specificity: r SsPos / (G + eps) + (1 - r) SsNeg / (V - G + eps), eps = s_dr,
// V = counted voxels of the group (sum of 1 - g over them is V - G).
inline GroupLoss sensitivity_specificity_loss(const GroupSums &s, const RegionOptions &o) {
    Halide::Expr a = o.r / (s.G + o.smooth_dr);
    Halide::Expr b = (f64(1) - o.r) / (s.count - s.G + o.smooth_dr);
    GroupLoss l = zero_derivatives(a * s.SsPos + b * s.SsNeg);
    l.dSsPos = a;
    l.dSsNeg = b;
    return l;
}

// A transform of a group's loss L: the value and dT/dL.
struct Transformed {
    Halide::Expr value, slope;
};

// kind: abi::RegionTransform. gamma: focal Tversky's loss^(1/gamma), exp_log's gamma_d; k: penalty.
inline Transformed transform_loss(Halide::Expr kind, Halide::Expr L, Halide::Expr gamma, Halide::Expr k) {
    using namespace Halide;
    // focal Tversky: (1 - T)^(1/gamma). Its slope is taken at 1 - T clamped to >= 1e-7 (0
    // below), so that it stays finite for gamma > 1 near a perfect overlap; the value itself
    // needs no clamp (0 for a perfect or an empty group).
    Expr u = max(L, f64(1e-7));
    Expr root = pow(max(L, f64(0)), f64(1) / gamma);
    Expr root_slope = select(L > f64(1e-7), pow(u, f64(1) / gamma) / (gamma * u), f64(0));
    // penalty: L / (1 + k (1 - L)); slope (1 + k) / (1 + k (1 - L))^2.
    Expr pd = f64(1) + k * (f64(1) - L);
    // log(cosh(L)) = |L| + log1p(exp(-2|L|)) - log 2 (no overflow); slope tanh(L).
    Expr logcosh = abs(L) + log(f64(1) + exp(f64(-2) * abs(L))) - f64(0.69314718055994530942);
    // exp_log: (-ln D)^gamma with D = 1 - L the score; slope gamma (-ln D)^(gamma - 1) / D, 0
    // where -ln D < 1e-12 (the log kept away from 0: finite for gamma < 1 at D = 1).
    Expr D = f64(1) - L, lnD = max(-log(D), f64(0));
    Expr explog = pow(lnD, gamma);
    Expr explog_slope = select(lnD > f64(1e-12), gamma * pow(lnD, gamma - f64(1)) / D, f64(0));
    Expr is_root = kind == abi::kTransformRoot, is_penalty = kind == abi::kTransformPenalty;
    Expr is_logcosh = kind == abi::kTransformLogCosh, is_explog = kind == abi::kTransformExpLog;
    return {select(is_root, root, is_penalty, L / pd, is_logcosh, logcosh, is_explog, explog, L),
            select(is_root, root_slope, is_penalty, (f64(1) + k) / (pd * pd), is_logcosh, tanh(L), is_explog,
                   explog_slope, f64(1))};
}

}  // namespace segloss::gen
