// SPDX-License-Identifier: Apache-2.0
// Activations fused into every loss, and their backward (chain rule to the logits).
//
// Confident predictions are where trained networks live, so the forward pass keeps what is
// needed to compute log p and 1 - p without cancellation: for the softmax the arg max and the
// sum of exp(x - max) over the other classes; for the sigmoid exp(-|x|).
#pragma once

#include <vector>

#include "Halide.h"
#include "generators/common/layout.h"

namespace segloss::gen {

enum class ActivationKind { Softmax, Sigmoid, Identity };

inline const std::map<std::string, ActivationKind> kActivationNames = {
    {"softmax", ActivationKind::Softmax},
    {"sigmoid", ActivationKind::Sigmoid},
    {"identity", ActivationKind::Identity}};

struct ActivationForward {
    ActivationKind kind;
    Halide::Func logits;     // the input, (x, y, z, c, n)
    Halide::Func p;          // p(x, y, z, c, n)
    Halide::Func q;          // q(x, y, z, c, n) = 1 - p, computed without cancellation
    Halide::Func e;          // softmax: exp(x - max); sigmoid: exp(-|x|); identity: undefined
    Halide::Expr bad;        // at (x, y, z, n): a non-finite input in the voxel (loss becomes NaN)
    Halide::Expr max;        // softmax: max_c x_c at (x, y, z, n)
    Halide::Expr argmax;     // softmax: the first class that attains it
    Halide::Expr log_se;     // softmax: log sum_c exp(x_c - max) at (x, y, z, n), accurate near 0
    Halide::Expr rest;       // softmax: sum of exp(x_c - max) over the classes but the arg max
    Halide::Expr inv_se;     // softmax: 1 / sum_c exp(x_c - max) = 1 / (1 + rest)
    // Funcs that hold one value per voxel or per (voxel, class), in producer order: the schedule
    // computes them once per x line.
    std::vector<Halide::Func> row_funcs;
};

// logits: (x, y, z, c, n), C classes. separate_bad (GPU schedules): the non-finite count is a
// Func of its own instead of a third value of the per-voxel tuple. A GPU thread computes a
// voxel's stages one by one, and Halide 14 then guards the stages that only a finite voxel
// needs with a condition that reads the count; when the count is a tuple element, that
// condition escapes the pass that splits tuples (an internal error in storage flattening).
inline ActivationForward activation_forward(ActivationKind kind, Halide::Func logits,
                                            Halide::Expr C, const Vars &v, bool separate_bad = false) {
    using namespace Halide;
    const Var &x = v.x, &y = v.y, &z = v.z, &c = v.c, &n = v.n;
    ActivationForward a;
    a.kind = kind;
    a.logits = logits;
    RDom rc(0, C, "rc");
    Expr xr = logits(x, y, z, rc, n);
    Expr xc = logits(x, y, z, c, n);

    // Per voxel: max, the first class that attains it, and the count of non-finite inputs
    // (Halide's max() and exp() drop NaN, so they are counted explicitly).
    Func vox("vox");
    vox(x, y, z, n) = {Float(32).min(), 0, 0};
    Tuple cur = vox(x, y, z, n);
    if (kind == ActivationKind::Softmax) {
        vox(x, y, z, n) = {max(cur[0], xr), select(xr > cur[0], rc, cur[1]),
                           cur[2] + select(is_nonfinite(xr), 1, 0)};
    } else {
        vox(x, y, z, n) = {cur[0], cur[1], cur[2] + select(is_nonfinite(xr), 1, 0)};
    }
    a.bad = vox(x, y, z, n)[2] != 0;
    a.row_funcs.push_back(vox);
    if (separate_bad) {
        Func bad("nonfinite");
        bad(x, y, z, n) = 0;
        bad(x, y, z, n) += select(is_nonfinite(xr), 1, 0);
        a.bad = bad(x, y, z, n) != 0;
        a.row_funcs.push_back(bad);
    }

    a.p = Func("p");
    a.q = Func("q");
    if (kind == ActivationKind::Softmax) {
        // One exp per element: e is kept for the line. se = 1 + rest, where rest sums the
        // classes other than the arg max, so log(se) = log1p(rest) keeps its precision when
        // the prediction is confident, and so does 1 - p_argmax = rest / se.
        Expr m = vox(x, y, z, n)[0], argmax = vox(x, y, z, n)[1];
        a.e = Func("e");
        a.e(x, y, z, c, n) = exp(xc - m);
        Func rest("se_rest");
        rest(x, y, z, n) = 0.0f;
        rest(x, y, z, n) += select(rc == argmax, 0.0f, a.e(x, y, z, rc, n));
        Func inv("inv_se");
        inv(x, y, z, n) = 1.0f / (1.0f + rest(x, y, z, n));
        a.max = m;
        a.argmax = argmax;
        // log(se) once per voxel (an Expr would be re-evaluated by every class that reads it).
        Func log_se("log_se");
        log_se(x, y, z, n) = log1p_accurate(rest(x, y, z, n));
        a.log_se = log_se(x, y, z, n);
        a.rest = rest(x, y, z, n);
        a.inv_se = inv(x, y, z, n);
        a.p(x, y, z, c, n) = a.e(x, y, z, c, n) * inv(x, y, z, n);
        a.q(x, y, z, c, n) = select(c == argmax, rest(x, y, z, n) * inv(x, y, z, n), 1.0f - a.p(x, y, z, c, n));
        a.row_funcs.insert(a.row_funcs.end(), {a.e, rest, inv, log_se});
    } else if (kind == ActivationKind::Sigmoid) {
        // sigmoid(x) and sigmoid(-x) from exp(-|x|), which never overflows.
        a.e = Func("e");
        a.e(x, y, z, c, n) = exp(-abs(xc));
        Expr e = a.e(x, y, z, c, n);
        a.p(x, y, z, c, n) = select(xc >= 0, 1.0f, e) / (1.0f + e);
        a.q(x, y, z, c, n) = select(xc >= 0, e, 1.0f) / (1.0f + e);
        a.row_funcs.push_back(a.e);
    } else {
        a.p(x, y, z, c, n) = xc;
        a.q(x, y, z, c, n) = 1.0f - xc;
    }
    return a;
}

// dL/dx from dL/dp = grad_p(x, y, z, c, n). Softmax: p_c (a_c - sum_k p_k a_k);
// sigmoid: p (1 - p) a; identity: a.
inline Halide::Func activation_backward(const ActivationForward &f, Halide::Func grad_p,
                                        Halide::Expr C, const Vars &v,
                                        std::vector<Halide::Func> &row_funcs) {
    using namespace Halide;
    const Var &x = v.x, &y = v.y, &z = v.z, &c = v.c, &n = v.n;
    Func dx("dx");
    Expr p = f.p(x, y, z, c, n);
    Expr a = grad_p(x, y, z, c, n);
    if (f.kind == ActivationKind::Softmax) {
        RDom rc(0, C, "rk");
        Func dot("dot");
        dot(x, y, z, n) = 0.0f;
        dot(x, y, z, n) += f.p(x, y, z, rc, n) * grad_p(x, y, z, rc, n);
        row_funcs.push_back(dot);
        dx(x, y, z, c, n) = p * (a - dot(x, y, z, n));
    } else if (f.kind == ActivationKind::Sigmoid) {
        dx(x, y, z, c, n) = p * f.q(x, y, z, c, n) * a;
    } else {
        dx(x, y, z, c, n) = a;
    }
    return dx;
}

}  // namespace segloss::gen
