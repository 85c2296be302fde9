// SPDX-License-Identifier: Apache-2.0
// float64 references of the compound losses: lambda_region * region part + lambda_pointwise *
// pointwise part, each part from its own reference (LOSSES.md, compound table).
#include "reference.h"

namespace segloss::ref {
namespace {

// A part's options: the caller's (or LOSSES.md's defaults) with the compound's shared ones.
segloss_loss_params_t part(const segloss_loss_params_t *given, segloss_loss_kind_t kind,
                           const segloss_loss_params_t &p) {
    segloss_loss_params_t q;
    if (given) q = *given;
    else segloss_loss_params_init(&q, kind);
    q.activation = p.activation;
    q.reduction = p.reduction;
    q.has_ignore_index = p.has_ignore_index;
    q.ignore_index = p.ignore_index;
    return q;
}

}  // namespace

Result compound(const Case &k, const segloss_loss_params_t &p, double grad_scale) {
    const bool generalized = p.loss == SEGLOSS_LOSS_GENERALIZED_DICE_FOCAL;
    const bool focal = p.loss == SEGLOSS_LOSS_DICE_FOCAL || generalized;
    const segloss_loss_kind_t pointwise_kind = focal                              ? SEGLOSS_LOSS_FOCAL
                                               : p.loss == SEGLOSS_LOSS_DICE_TOPK ? SEGLOSS_LOSS_TOPK
                                                                                  : SEGLOSS_LOSS_CE;
    segloss_loss_params_t r = part(p.region_part, generalized ? SEGLOSS_LOSS_GENERALIZED_DICE : SEGLOSS_LOSS_DICE, p);
    segloss_loss_params_t w = part(p.pointwise_part, pointwise_kind, p);
    double lr = p.lambda_region, lp = p.lambda_pointwise;
    if (p.loss == SEGLOSS_LOSS_COMBO) {
        // alpha mCE_beta + (1 - alpha)(1 - Dice): mCE_beta is the binary CE with beta on the
        // targets 1 and 1 - beta on the targets 0, i.e. the sigmoid focal loss with gamma = 0.
        lr = 1 - p.alpha;
        lp = p.alpha;
        segloss_loss_params_init(&w, SEGLOSS_LOSS_FOCAL);
        w.activation = p.activation;
        w.reduction = p.reduction;
        w.gamma = 0;
        w.has_alpha = 1;
        w.alpha = p.beta;
    }
    if (p.loss == SEGLOSS_LOSS_EXP_LOG) {
        // The region and pointwise references know exp_log's terms by its kind.
        r.loss = w.loss = SEGLOSS_LOSS_EXP_LOG;
        r.gamma_d = p.gamma_d;
        w.gamma_ce = p.gamma_ce;
        w.weight_norm = SEGLOSS_WEIGHT_NORM_COUNT;
    }
    Result a = region(k, r, lr * grad_scale), b = pointwise(k, w, lp * grad_scale);
    Result out;
    out.value = lr * a.value + lp * b.value;
    out.grad = a.grad;
    for (size_t i = 0; i < out.grad.size(); i++) out.grad[i] += b.grad[i];
    return out;
}

}  // namespace segloss::ref
