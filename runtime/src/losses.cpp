// SPDX-License-Identifier: Apache-2.0
#include "losses.h"

#include <cstring>

#include "../../generators/common/abi.h"

namespace segloss::rt {
namespace {

const LossInfo kLosses[] = {
    {SEGLOSS_LOSS_CE, "ce", Family::pointwise, 0, 0, {}, {}},
    {SEGLOSS_LOSS_DICE, "dice", Family::region, abi::kBaseDice, abi::kTransformNone, {}, {}},
    {SEGLOSS_LOSS_IOU, "iou", Family::region, abi::kBaseIou, abi::kTransformNone, {}, {}},
    {SEGLOSS_LOSS_TVERSKY, "tversky", Family::region, abi::kBaseTversky, abi::kTransformNone, {}, {}},
    {SEGLOSS_LOSS_FOCAL_TVERSKY, "focal_tversky", Family::region, abi::kBaseTversky, abi::kTransformRoot, {}, {}},
    {SEGLOSS_LOSS_ASYMMETRIC, "asymmetric", Family::region, abi::kBaseTversky, abi::kTransformNone, {}, {}},
    {SEGLOSS_LOSS_SENSITIVITY_SPECIFICITY, "sensitivity_specificity", Family::region, abi::kBaseSensSpec,
     abi::kTransformNone, {}, {}},
    {SEGLOSS_LOSS_GENERALIZED_DICE, "generalized_dice", Family::region, abi::kBaseGeneralizedDice,
     abi::kTransformNone, {}, {}},
    {SEGLOSS_LOSS_PENALTY_GENERALIZED_DICE, "penalty_generalized_dice", Family::region,
     abi::kBaseGeneralizedDice, abi::kTransformPenalty, {}, {}},
    {SEGLOSS_LOSS_LOG_COSH_DICE, "log_cosh_dice", Family::region, abi::kBaseDice, abi::kTransformLogCosh, {}, {}},
    {SEGLOSS_LOSS_WCE, "wce", Family::pointwise, 0, 0, {}, {}},
    {SEGLOSS_LOSS_FOCAL, "focal", Family::pointwise, 0, 0, {}, {}},
    {SEGLOSS_LOSS_DICE_CE, "dice_ce", Family::compound, 0, 0, SEGLOSS_LOSS_DICE, SEGLOSS_LOSS_CE},
    {SEGLOSS_LOSS_DICE_FOCAL, "dice_focal", Family::compound, 0, 0, SEGLOSS_LOSS_DICE, SEGLOSS_LOSS_FOCAL},
    {SEGLOSS_LOSS_GENERALIZED_DICE_FOCAL, "generalized_dice_focal", Family::compound, 0, 0,
     SEGLOSS_LOSS_GENERALIZED_DICE, SEGLOSS_LOSS_FOCAL},
    {SEGLOSS_LOSS_COMBO, "combo", Family::compound, 0, 0, SEGLOSS_LOSS_DICE, SEGLOSS_LOSS_CE},
    {SEGLOSS_LOSS_EXP_LOG, "exp_log", Family::compound, 0, 0, SEGLOSS_LOSS_DICE, SEGLOSS_LOSS_CE},
    {SEGLOSS_LOSS_TOPK, "topk", Family::pointwise, 0, 0, {}, {}},
    {SEGLOSS_LOSS_DICE_TOPK, "dice_topk", Family::compound, 0, 0, SEGLOSS_LOSS_DICE, SEGLOSS_LOSS_TOPK},
    {SEGLOSS_LOSS_BOUNDARY, "boundary", Family::boundary, 0, 0, {}, {}},
    {SEGLOSS_LOSS_HAUSDORFF_DT, "hausdorff_dt", Family::boundary, 0, 0, {}, {}},
    {SEGLOSS_LOSS_DPCE, "dpce", Family::pointwise, 0, 0, {}, {}},
    {SEGLOSS_LOSS_DICE_BOUNDARY, "dice_boundary", Family::boundary, 0, 0, SEGLOSS_LOSS_DICE, SEGLOSS_LOSS_BOUNDARY},
    {SEGLOSS_LOSS_DICE_HAUSDORFF, "dice_hausdorff", Family::boundary, 0, 0, SEGLOSS_LOSS_DICE,
     SEGLOSS_LOSS_HAUSDORFF_DT},
};

}  // namespace

const LossInfo *find_loss(int kind) {
    for (const LossInfo &l : kLosses) {
        if (static_cast<int>(l.kind) == kind) return &l;
    }
    return nullptr;
}

const LossInfo *find_loss(const char *name) {
    for (const LossInfo &l : kLosses) {
        if (name && !std::strcmp(l.name, name)) return &l;
    }
    return nullptr;
}

bool has_parts(const LossInfo &l) {
    return l.family == Family::compound || (l.family == Family::boundary && l.region_part == SEGLOSS_LOSS_DICE);
}

void default_params(segloss_loss_params_t &p, segloss_loss_kind_t kind) {
    std::memset(&p, 0, sizeof(p));
    p.struct_size = sizeof(p);
    p.loss = kind;
    p.activation = SEGLOSS_ACTIVATION_SOFTMAX;
    p.include_background = 1;
    p.reduction = SEGLOSS_REDUCTION_MEAN;
    p.smooth_nr = 1e-5f;
    p.smooth_dr = 1e-5f;
    p.empty = SEGLOSS_EMPTY_SMOOTH;
    // Salehi's Tversky weights (MONAI defaults to 0.5/0.5), Abraham's gamma, Hashemi's b,
    // Brosch's r, the penalty of Yang et al.
    p.alpha = 0.3f;
    p.beta = 0.7f;
    p.gamma = 4.0f / 3.0f;
    p.b = 1.5f;
    p.r = 0.05f;
    p.k = 2.5f;
    p.w_type = SEGLOSS_GD_WEIGHT_SQUARE;
    p.weight_norm = SEGLOSS_WEIGHT_NORM_WEIGHTED;
    p.class_weights = SEGLOSS_CLASS_WEIGHTS_GIVEN;
    p.lambda_region = 1.0f;
    p.lambda_pointwise = 1.0f;
    p.gamma_d = 0.3f;
    p.gamma_ce = 0.3f;
    if (kind == SEGLOSS_LOSS_COMBO) {  // Taghanaki et al.: alpha = beta = 0.5
        p.alpha = 0.5f;
        p.beta = 0.5f;
        p.activation = SEGLOSS_ACTIVATION_SIGMOID;
    }
    if (kind == SEGLOSS_LOSS_EXP_LOG) {  // Wong et al.
        p.lambda_region = 0.8f;
        p.lambda_pointwise = 0.2f;
    }
    p.topk_mode = SEGLOSS_TOPK_PERCENT;
    p.t = 0.5f;
    if (kind == SEGLOSS_LOSS_TOPK) p.k = 10.0f;  // nnU-Net's TopK10
    if (kind == SEGLOSS_LOSS_BOUNDARY || kind == SEGLOSS_LOSS_HAUSDORFF_DT) {
        p.include_background = 0;  // LOSSES.md: the background's boundary is the foreground's
        p.alpha = 2.0f;            // Karimi's exponent of the distances
        p.hd_variant = SEGLOSS_HD_TWO_SIDED;
    }
    if (kind == SEGLOSS_LOSS_FOCAL) {
        // Lin et al.'s gamma; alpha off (every class weighs 1), 0.25 when switched on; the mean
        // over voxels, so that alpha rebalances instead of cancelling out.
        p.gamma = 2.0f;
        p.alpha = 0.25f;
        p.weight_norm = SEGLOSS_WEIGHT_NORM_COUNT;
    }
}

}  // namespace segloss::rt
