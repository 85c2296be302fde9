// SPDX-License-Identifier: Apache-2.0
// Pointwise losses as formulas: the per-voxel loss and its gradient w.r.t. the logits, each
// written once for every activation. Cross-entropy is the focal loss with gamma = 0 and
// exp_log's CE term is it with a power of -log p, so one formula serves ce, wce, focal and the
// pointwise parts of the compound losses; kernels specialise on plain cross-entropy, where
// every extra factor folds away.
#pragma once

#include <vector>

#include "Halide.h"
#include "generators/common/activations.h"
#include "generators/common/layout.h"
#include "generators/common/targets.h"

namespace segloss::gen {

struct PointwiseTerms {
    // class_loss(x, y, z, c, n) = {pos, neg}: class c's loss before its weights; the voxel's loss
    // is sum_c alpha_pos(c) pos + alpha_neg(c) neg (neg is 0 but for the sigmoid).
    Halide::Func class_loss;
    Halide::Func loss;  // loss(x, y, z, n): the voxel's weighted loss, before masking and normalisation
    Halide::Func unweighted;  // unweighted(x, y, z, n): the same with class weights of 1 (TopK's key)
    Halide::Func dx;    // dx(x, y, z, c, n): d loss(voxel) / d logit_c, before scaling
    std::vector<Halide::Func> row_funcs;  // per-voxel intermediates to compute once per task
    // Where the hard-label path applies (softmax, index targets, no label smoothing; any gamma
    // and log_power); undefined elsewhere. Kernels specialise on it, and within it on
    // is_cross_entropy.
    Halide::Expr hard;
};

struct PointwiseOptions {
    // Class weights alpha(c, n): softmax and identity use alpha_pos (CE's weight, focal's
    // alpha); the sigmoid weighs a channel's loss by alpha_pos g + alpha_neg (1 - g).
    Halide::Func alpha_pos, alpha_neg;
    Halide::Expr gamma;      // focal: (1 - p)^gamma, >= 0 (0: cross-entropy)
    Halide::Expr log_power;  // exp_log: (-log p)^log_power, > 0 (1: cross-entropy); softmax and identity
    Halide::Expr smoothing;  // label smoothing eps: g' = (1 - eps) g + eps / K (K = C, or 2 per sigmoid channel)
};

// The condition under which the formula is plain cross-entropy (kernels specialise on it).
inline Halide::Expr is_cross_entropy(const PointwiseOptions &o) { return o.gamma == 0.0f && o.log_power == 1.0f; }

// The label's class weight and logit per voxel, {alpha(label), logits(label)}, for labels in
// [0, C) (uncounted voxels get whatever; callers mask them). A vector of voxels has a label
// each, so reading "the label's logit" is a gather, and Halide 14 turns a gather into one
// scalar load and lane insert per lane (with large_buffers, 64-bit addresses extracted lane by
// lane): 15% of a CE pass's perf samples at 4 classes. With few classes the logits of every
// class are read instead and the label's kept by a compare and a blend per class, a few
// vector operations per class (CE value 7% and value+gradient 3% faster at 2x4x128^3, the
// same at 14 classes); beyond kMaxBlendedClasses the gather is cheaper. Both are update
// loops of one Func, whose extents (C or 0, 0 or 1) pick one at run time: no specialisation,
// no second copy of the kernel.
constexpr int kMaxBlendedClasses = 16;
inline Halide::Func label_logit_and_weight(Halide::Func logits, Halide::Expr label, Halide::Func alpha,
                                           Halide::Expr C, const Vars &v) {
    using namespace Halide;
    const Var &x = v.x, &y = v.y, &z = v.z, &n = v.n;
    Expr blend = C <= kMaxBlendedClasses;
    Func f("label_terms");
    f(x, y, z, n) = {0.0f, 0.0f};
    RDom rb(0, select(blend, C, 0), "rlab");
    Expr hit = rb == label;
    f(x, y, z, n) = {select(hit, alpha(rb, n), f(x, y, z, n)[0]), select(hit, logits(x, y, z, rb, n), f(x, y, z, n)[1])};
    RDom rg(0, select(blend, 0, 1), "rgat");
    Expr y_c = clamp(label, 0, C - 1) + rg;  // + rg (always 0): the loop runs once, or never
    f(x, y, z, n) = {alpha(y_c, n), logits(x, y, z, y_c, n)};
    return f;
}

// A class's loss term at g' = 1 (softmax, identity) from u = -log p, p and q = 1 - p:
// term = (1 - p)^gamma u^lp, and h = p d(term)/dp (formulas below). For cross-entropy (gamma =
// 0, lp = 1) term = u and h = -1: kernels specialise on it and every factor folds away.
struct FocalPowerTerm {
    Halide::Expr term, h;
};
inline FocalPowerTerm focal_power_term(Halide::Expr u, Halide::Expr p, Halide::Expr q, const PointwiseOptions &o) {
    using namespace Halide;
    Expr gamma = o.gamma, no_focus = o.gamma == 0.0f, no_power = o.log_power == 1.0f;
    Expr m = select(no_focus, 1.0f, q > 0.0f, exp(gamma * log(q)), 0.0f);
    Expr uc = max(u, 1e-30f);
    Expr powered = select(no_power, u, exp(o.log_power * log(uc)));
    Expr focal_h = select(no_focus, -1.0f, -1.0f - gamma * p * select(q > 0.0f, u / q, 1.0f));
    Expr power_h = select(u > 1e-30f, -o.log_power * exp((o.log_power - 1.0f) * log(uc)), 0.0f);
    return {m * powered, select(no_power, m * focal_h, power_h)};
}

// Per class, on targets g' (smoothed), with u = -log p:
//  softmax, identity: g' (1 - p)^gamma u^lp (lp = log_power). With h = p d(term)/dp,
//    focal (lp = 1):   h = g' (1 - p)^gamma (gamma p log p / q - 1); log p / q -> -1 as q -> 0,
//                      (1 - p)^gamma = exp(gamma log q): finite for every gamma >= 0;
//    exp_log (gamma = 0): h = -g' lp u^(lp - 1), u clamped at >= 1e-30 (0 below): only a log
//                      of exactly 0 is kept away from 0 (LOSSES.md); through the softmax
//                      u^(lp - 1) q ~ u^lp stays finite, and a float p below 1 has u >= 6e-8;
//    the softmax gradient is d/dx_k = sum_c h_c (delta_ck - p_k) = h_k q_k - p_k (H - h_k) (no
//    cancellation near p = 1; for CE it is p_k (wg - w_k g_k) - w_k g_k q_k), with H - h_k
//    summed without the arg max class's h where k is that class.
//  sigmoid (MONAI's focal): m bce, bce = softplus(x) - g' x, m = sigmoid(-x s)^gamma, s = 2g' - 1,
//    weighed by alpha_pos g' + alpha_neg (1 - g'); d/dx = m ((p - g') - gamma s sigmoid(x s) bce).
inline PointwiseTerms focal_cross_entropy(const ActivationForward &act, const Targets &t,
                                          const PointwiseOptions &o, Halide::Expr C, const Vars &v) {
    using namespace Halide;
    const Var &x = v.x, &y = v.y, &z = v.z, &c = v.c, &n = v.n;
    PointwiseTerms r;
    r.class_loss = Func("class_loss");
    r.loss = Func("voxel_loss");
    r.dx = Func("voxel_dx");
    const bool sigmoid = act.kind == ActivationKind::Sigmoid;
    // The hard-label path (below) needs none of the per-class sums (acc, class_sum): there they
    // run over no class.
    const bool hard_path = act.kind == ActivationKind::Softmax && t.label.defined();
    if (hard_path) r.hard = o.smoothing == 0.0f;
    const Expr summed_classes = hard_path ? select(r.hard, 0, C) : C;
    RDom rc(0, summed_classes, "rcl");
    Expr K = sigmoid ? Expr(2.0f) : cast<float>(C);
    Expr gamma = o.gamma, no_focus = o.gamma == 0.0f;
    Expr xc = act.logits(x, y, z, c, n), pc = act.p(x, y, z, c, n), qc = act.q(x, y, z, c, n);
    Expr gc = (1.0f - o.smoothing) * t.g(x, y, z, c, n) + o.smoothing / K;
    Expr ap = o.alpha_pos(c, n), an = o.alpha_neg(c, n);

    // Per (voxel, class): class_loss = {pos, neg}, and grad = the weighted h_c (softmax,
    // identity) or the weighted d/dx (sigmoid). Both are inlined into their consumers (the
    // sum over classes and the gradient): storing them per line cost ~17% of a CE pass, and
    // recomputing them costs no more even for focal (measured, docs/performance.md).
    Func grad_c("class_grad");
    if (sigmoid) {
        Expr e = act.e(x, y, z, c, n);
        Expr bce = max(xc, 0.0f) - gc * xc + log1p_accurate(e);
        Expr s = 2.0f * gc - 1.0f, xs = xc * s;
        Expr E = exp(-abs(xs));
        Expr m = select(no_focus, 1.0f, exp(-gamma * (max(xs, 0.0f) + log1p_accurate(E))));
        Expr sig_xs = select(xs >= 0.0f, 1.0f, E) / (1.0f + E);
        Expr p_minus_g = pc * (1.0f - gc) - qc * gc;  // p - g' without cancellation
        r.class_loss(x, y, z, c, n) = {gc * m * bce, (1.0f - gc) * m * bce};
        grad_c(x, y, z, c, n) = (ap * gc + an * (1.0f - gc)) * m *
                                (p_minus_g - select(no_focus, 0.0f, gamma * s * sig_xs * bce));
    } else {
        // u = -log p: exact from the logits for the softmax, log1p(rest) - (x - max). Strict:
        // fast-math may reassociate it into (log1p(rest) + max) - x, where a confident class's
        // tiny u would drown in the rounding of max.
        Expr u = act.kind == ActivationKind::Softmax ? strict_float(act.log_se - (xc - act.max)) : -log(xc);
        const FocalPowerTerm f = focal_power_term(u, pc, qc, o);
        // Classes with g' = 0 add 0 even where log p is -inf (identity with p = 0).
        Expr zero = gc == 0.0f;
        r.class_loss(x, y, z, c, n) = {select(zero, 0.0f, gc * f.term), 0.0f};
        grad_c(x, y, z, c, n) = select(zero, 0.0f, ap * gc * f.h);
    }

    // The voxel's loss and, for the softmax, H = sum_c h_c kept as the arg max class's h and the
    // sum of the others': h of a confident class can dwarf the rest (exp_log: u^(lp - 1)), and
    // H - h_argmax taken from the full sum would cancel the others away.
    Func acc("pointwise_acc");
    Expr ap_r = o.alpha_pos(rc, n), an_r = o.alpha_neg(rc, n);
    Expr l_r = ap_r * r.class_loss(x, y, z, rc, n)[0] + (sigmoid ? an_r * r.class_loss(x, y, z, rc, n)[1] : 0.0f);
    const bool softmax = act.kind == ActivationKind::Softmax;
    Expr h_r = softmax ? grad_c(x, y, z, rc, n) : Expr(0.0f);
    Expr top_r = softmax ? rc == act.argmax : Expr(false);
    acc(x, y, z, n) = {0.0f, 0.0f, 0.0f};
    acc(x, y, z, n) = {acc(x, y, z, n)[0] + l_r, acc(x, y, z, n)[1] + select(top_r, 0.0f, h_r),
                       acc(x, y, z, n)[2] + select(top_r, h_r, 0.0f)};
    r.row_funcs.push_back(acc);
    Expr h = grad_c(x, y, z, c, n);
    Expr h_rest = acc(x, y, z, n)[1], h_top = acc(x, y, z, n)[2];
    Expr softmax_dx = softmax ? h * qc - pc * select(c == act.argmax, h_rest, (h_rest - h) + h_top) : Expr();
    Expr loss = acc(x, y, z, n)[0];
    Func class_sum("class_loss_sum");
    RDom ru(0, summed_classes, "rcu");
    class_sum(x, y, z, n) = 0.0f;
    class_sum(x, y, z, n) += r.class_loss(x, y, z, ru, n)[0] + r.class_loss(x, y, z, ru, n)[1];
    Expr unweighted = class_sum(x, y, z, n);
    r.row_funcs.push_back(class_sum);  // read by the map kernel only
    if (hard_path) {
        // Hard labels, no smoothing: only the label's class y has g' != 0, so the voxel's loss
        // is a_y term_y and, with H = h_y, d/dx_k = h_y ([k = y] q_k - [k != y] p_k) (1 - p_y
        // taken from q, no cancellation); for cross-entropy a_y u_y and a_y (p_k - [k = y]).
        // The general formula gives the same values; this one needs no per-class sums (acc,
        // class_sum) and computes focal's and exp_log's factors for the label's class only (per
        // voxel two exps, a log and a division, where the general formula has a log, an exp
        // and a division per class), from the label's logit and weight (label_logit_and_weight).
        // CE gradient kernel 1.55x faster, focal 1.5-2.4x (docs/performance.md).
        Func label_terms = label_logit_and_weight(act.logits, t.label, o.alpha_pos, C, v);
        r.row_funcs.push_back(label_terms);
        Expr a_y = select(t.counted, label_terms(x, y, z, n)[0], 0.0f), x_y = label_terms(x, y, z, n)[1];
        Expr u_y = strict_float(act.log_se - (x_y - act.max));
        Expr p_y = exp(x_y - act.max) * act.inv_se;  // the same bits as p(c = y)
        Expr q_y = select(t.label == act.argmax, act.rest * act.inv_se, 1.0f - p_y);
        const FocalPowerTerm f = focal_power_term(u_y, p_y, q_y, o);
        // Once per voxel: inlined, every class's gradient would recompute the factors.
        Func label_class("label_class_terms");
        label_class(x, y, z, n) = {f.term, f.h};
        r.row_funcs.push_back(label_class);
        Expr term = label_class(x, y, z, n)[0], h_y = a_y * label_class(x, y, z, n)[1];
        loss = select(r.hard, a_y * term, loss);
        unweighted = select(r.hard, select(t.counted, term, 0.0f), unweighted);
        softmax_dx = select(r.hard, h_y * select(c == t.label, qc, -pc), softmax_dx);
    }
    r.loss(x, y, z, n) = loss;
    r.unweighted = Func("unweighted_loss");
    r.unweighted(x, y, z, n) = unweighted;
    switch (act.kind) {
    case ActivationKind::Softmax: r.dx(x, y, z, c, n) = softmax_dx; break;
    case ActivationKind::Sigmoid: r.dx(x, y, z, c, n) = h; break;
    case ActivationKind::Identity: r.dx(x, y, z, c, n) = select(h == 0.0f, 0.0f, h / pc); break;
    }
    return r;
}

}  // namespace segloss::gen
