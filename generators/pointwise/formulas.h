// SPDX-License-Identifier: Apache-2.0
// Pointwise losses as formulas: the per-voxel loss and its gradient w.r.t. the logits, each
// written once for every activation. A new pointwise loss is one more function here.
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

// Cross-entropy (LOSSES.md `ce`), class weights w. Written to stay accurate for confident
// predictions (losses and gradients of 1e-6 keep their relative precision):
//  softmax:  -sum_c w_c g_c log p_c = sum_c w_c g_c ((max - x_c) + log1p(rest));
//            d/dx_c = p_c sum_k w_k g_k - w_c g_c = p_c (sum_k w_k g_k - w_c g_c) - w_c g_c q_c
//  sigmoid:  sum_c w_c [max(x_c, 0) - g_c x_c + log1p(exp(-|x_c|))]  (binary CE per channel);
//            d/dx_c = w_c (p_c (1 - g_c) - q_c g_c)
//  identity: -sum_c w_c g_c log p_c on probabilities (terms with g_c = 0 are 0);
//            d/dp_c = -w_c g_c / p_c
inline PointwiseTerms cross_entropy(const ActivationForward &act, const Targets &t,
                                    Halide::Func weight, Halide::Expr C, const Vars &v) {
    using namespace Halide;
    const Var &x = v.x, &y = v.y, &z = v.z, &c = v.c, &n = v.n;
    PointwiseTerms r;
    r.loss = Func("voxel_loss");
    r.dx = Func("voxel_dx");
    RDom rc(0, C, "rcl");
    Func logits = act.logits, g = t.g;
    Expr gc = g(x, y, z, c, n), gr = g(x, y, z, rc, n);
    Expr wg_c = weight(c) * gc, wg_r = weight(rc) * gr;
    Expr xc = logits(x, y, z, c, n), xr = logits(x, y, z, rc, n);
    Expr pc = act.p(x, y, z, c, n), qc = act.q(x, y, z, c, n);
    Func acc("ce_acc");
    switch (act.kind) {
    case ActivationKind::Softmax: {
        acc(x, y, z, n) = {0.0f, 0.0f};
        acc(x, y, z, n) = {acc(x, y, z, n)[0] + wg_r, acc(x, y, z, n)[1] + wg_r * (act.max - xr)};
        Expr wg = acc(x, y, z, n)[0];
        r.loss(x, y, z, n) = wg * act.log_se + acc(x, y, z, n)[1];
        // p_c wg - w_c g_c rearranged as p_c (wg - w_c g_c) - w_c g_c q_c: no cancellation
        // when p_c is close to 1 (exact for one-hot targets).
        r.dx(x, y, z, c, n) = pc * (wg - wg_c) - wg_c * qc;
        break;
    }
    case ActivationKind::Sigmoid: {
        Expr softplus_minus = max(xr, 0.0f) - gr * xr + log1p_accurate(act.e(x, y, z, rc, n));
        acc(x, y, z, n) = 0.0f;
        acc(x, y, z, n) += weight(rc) * softplus_minus;
        r.loss(x, y, z, n) = acc(x, y, z, n);
        r.dx(x, y, z, c, n) = weight(c) * (pc * (1.0f - gc) - qc * gc);
        break;
    }
    case ActivationKind::Identity:
        acc(x, y, z, n) = 0.0f;
        acc(x, y, z, n) += select(wg_r == 0.0f, 0.0f, -wg_r * log(xr));
        r.loss(x, y, z, n) = acc(x, y, z, n);
        r.dx(x, y, z, c, n) = select(wg_c == 0.0f, 0.0f, -wg_c / xc);
        break;
    }
    r.row_funcs.push_back(acc);
    return r;
}

}  // namespace segloss::gen
