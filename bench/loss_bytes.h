// SPDX-License-Identifier: Apache-2.0
// What a loss call must move at least, the bytes behind bytes_per_second and roofline_fraction
// in every bench: pointwise losses read the logits and labels once and write the gradient once
// (one-pass roofline); region, compound and boundary losses read them twice with a gradient
// (statistics, then gradient: two-pass roofline), once without. TopK is held to the one-pass
// roofline, dice_topk to two passes. Every implementation of a loss (segloss, PyTorch, a plain
// loop) is charged the same bytes, so their fractions compare directly.
#pragma once

#include <string>
#include <vector>

#include "segloss/segloss.h"

namespace segloss::bench {

struct LossInfo {
    segloss_loss_kind_t kind;
    bool two_pass;
};

// Every loss of LOSSES.md, in the order of the benches' tables.
inline const std::vector<LossInfo> &all_losses() {
    static const std::vector<LossInfo> losses = {
        {SEGLOSS_LOSS_CE, false},          {SEGLOSS_LOSS_WCE, false},
        {SEGLOSS_LOSS_FOCAL, false},       {SEGLOSS_LOSS_DICE, true},
        {SEGLOSS_LOSS_IOU, true},          {SEGLOSS_LOSS_TVERSKY, true},
        {SEGLOSS_LOSS_FOCAL_TVERSKY, true}, {SEGLOSS_LOSS_ASYMMETRIC, true},
        {SEGLOSS_LOSS_SENSITIVITY_SPECIFICITY, true}, {SEGLOSS_LOSS_GENERALIZED_DICE, true},
        {SEGLOSS_LOSS_PENALTY_GENERALIZED_DICE, true}, {SEGLOSS_LOSS_LOG_COSH_DICE, true},
        {SEGLOSS_LOSS_DICE_CE, true},      {SEGLOSS_LOSS_DICE_FOCAL, true},
        {SEGLOSS_LOSS_GENERALIZED_DICE_FOCAL, true}, {SEGLOSS_LOSS_COMBO, true},
        {SEGLOSS_LOSS_EXP_LOG, true},      {SEGLOSS_LOSS_TOPK, false},
        {SEGLOSS_LOSS_DICE_TOPK, true},    {SEGLOSS_LOSS_BOUNDARY, true},
        {SEGLOSS_LOSS_HAUSDORFF_DT, true}, {SEGLOSS_LOSS_DPCE, false},
        {SEGLOSS_LOSS_DICE_BOUNDARY, true}, {SEGLOSS_LOSS_DICE_HAUSDORFF, true}};
    return losses;
}

// The bytes of one call of the loss named `loss` (a segloss name) with these input and gradient
// sizes.
inline double loss_bytes(const std::string &loss, double input_bytes, double grad_bytes, bool backward) {
    bool two_pass = loss == "stream_region";  // bench/baseline.h's two-pass floor
    for (const LossInfo &l : all_losses()) two_pass = two_pass || (loss == segloss_loss_name(l.kind) && l.two_pass);
    return input_bytes * (backward && two_pass ? 2 : 1) + (backward ? grad_bytes : 0.0);
}

}  // namespace segloss::bench
