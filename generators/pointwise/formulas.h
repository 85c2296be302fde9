// SPDX-License-Identifier: Apache-2.0
// Pointwise losses as formulas: the per-voxel loss and its gradient w.r.t. the logits, each
// written once for every activation. Cross-entropy is the focal loss with gamma = 0, so one
// formula serves ce, wce and focal; kernels specialise on gamma == 0, where every focal
// factor folds away and the code is plain cross-entropy.
#pragma once

#include <vector>

#include "Halide.h"
#include "generators/common/activations.h"
#include "generators/common/layout.h"
#include "generators/common/targets.h"

namespace segloss::gen {

struct PointwiseTerms {
    Halide::Func loss;  // loss(x, y, z, n): the voxel's loss, before masking and normalisation
    Halide::Func dx;    // dx(x, y, z, c, n): d loss(voxel) / d logit_c, before scaling
    std::vector<Halide::Func> row_funcs;  // per-voxel intermediates to compute once per line
};

struct PointwiseOptions {
    // Class weights (c). Softmax and identity use alpha_pos (CE's weight, focal's alpha);
    // the sigmoid weighs a channel's loss by alpha_pos g + alpha_neg (1 - g).
    Halide::Func alpha_pos, alpha_neg;
    Halide::Expr gamma;      // focusing parameter, >= 0 (0: cross-entropy)
    Halide::Expr smoothing;  // label smoothing eps: g' = (1 - eps) g + eps / K (K = C, or 2 per sigmoid channel)
};

// Focal loss / cross-entropy (LOSSES.md `ce`, `wce`, `focal`) on targets g' (smoothed):
//  softmax, identity: sum_c a_c g'_c (1 - p_c)^gamma (-log p_c). With h_c = p_c d(term_c)/dp_c
//    = a_c g'_c (1 - p_c)^gamma (gamma p_c log p_c / (1 - p_c) - 1), the softmax gradient is
//    d/dx_k = sum_c h_c (delta_ck - p_k) = h_k q_k - p_k (H - h_k)  (no cancellation near p = 1;
//    for gamma = 0 it is CE's p_k (wg - w_k g_k) - w_k g_k q_k). (1 - p)^gamma is exp(gamma log q)
//    and log p / q tends to -1 as q -> 0, so every gamma >= 0 has a finite gradient.
//  sigmoid (MONAI's focal): per channel af m bce, bce = softplus(x) - g' x, m = sigmoid(-x s)^gamma,
//    s = 2g' - 1, af = alpha_pos g' + alpha_neg (1 - g'); d/dx = af m ((p - g') - gamma s sigmoid(x s) bce).
inline PointwiseTerms focal_cross_entropy(const ActivationForward &act, const Targets &t,
                                          const PointwiseOptions &o, Halide::Expr C, const Vars &v) {
    using namespace Halide;
    const Var &x = v.x, &y = v.y, &z = v.z, &c = v.c, &n = v.n;
    PointwiseTerms r;
    r.loss = Func("voxel_loss");
    r.dx = Func("voxel_dx");
    RDom rc(0, C, "rcl");
    const bool sigmoid = act.kind == ActivationKind::Sigmoid;
    Expr K = sigmoid ? Expr(2.0f) : cast<float>(C);
    Expr gamma = o.gamma, ce = o.gamma == 0.0f;
    Expr xc = act.logits(x, y, z, c, n), pc = act.p(x, y, z, c, n), qc = act.q(x, y, z, c, n);
    Expr gc = (1.0f - o.smoothing) * t.g(x, y, z, c, n) + o.smoothing / K;

    // Per (voxel, class): the class's loss term and, for the softmax, h_c; computed once per line.
    Func term("focal_term");
    if (sigmoid) {
        Expr e = act.e(x, y, z, c, n);
        Expr bce = max(xc, 0.0f) - gc * xc + log1p_accurate(e);
        Expr s = 2.0f * gc - 1.0f, xs = xc * s;
        Expr E = exp(-abs(xs));
        Expr m = select(ce, 1.0f, exp(-gamma * (max(xs, 0.0f) + log1p_accurate(E))));
        Expr sig_xs = select(xs >= 0.0f, 1.0f, E) / (1.0f + E);
        Expr af = o.alpha_pos(c) * gc + o.alpha_neg(c) * (1.0f - gc);
        Expr p_minus_g = pc * (1.0f - gc) - qc * gc;  // p - g' without cancellation
        term(x, y, z, c, n) = {af * m * bce,
                               af * m * (p_minus_g - select(ce, 0.0f, gamma * s * sig_xs * bce))};
    } else {
        // log p_c: exact from the logits for the softmax (x - max - log sum exp).
        Expr lp = act.kind == ActivationKind::Softmax ? (xc - act.max) - act.log_se : log(xc);
        Expr m = select(ce, 1.0f, qc > 0.0f, exp(gamma * log(qc)), 0.0f);
        Expr ratio = select(qc > 0.0f, lp / qc, -1.0f);
        Expr w = o.alpha_pos(c) * gc;
        // Terms with w = 0 are 0 even where log p is -inf (identity with p = 0).
        term(x, y, z, c, n) = {select(w == 0.0f, 0.0f, w * m * -lp),
                               select(w == 0.0f, 0.0f, w * m * select(ce, -1.0f, gamma * pc * ratio - 1.0f))};
    }
    r.row_funcs.push_back(term);

    Func acc("focal_acc");
    acc(x, y, z, n) = {0.0f, 0.0f};
    Expr h_r = sigmoid ? Expr(0.0f) : term(x, y, z, rc, n)[1];  // H = sum_c h_c (softmax)
    acc(x, y, z, n) = {acc(x, y, z, n)[0] + term(x, y, z, rc, n)[0], acc(x, y, z, n)[1] + h_r};
    r.row_funcs.push_back(acc);
    r.loss(x, y, z, n) = acc(x, y, z, n)[0];
    Expr h = term(x, y, z, c, n)[1];
    switch (act.kind) {
    case ActivationKind::Softmax: r.dx(x, y, z, c, n) = h * qc - pc * (acc(x, y, z, n)[1] - h); break;
    case ActivationKind::Sigmoid: r.dx(x, y, z, c, n) = h; break;
    case ActivationKind::Identity: r.dx(x, y, z, c, n) = select(h == 0.0f, 0.0f, h / pc); break;
    }
    return r;
}

}  // namespace segloss::gen
