// SPDX-License-Identifier: Apache-2.0
#include "region_plan.h"

#include "../../generators/common/abi.h"
#include "../src/failure.h"
#include "../src/losses.h"

namespace segloss::rt {
namespace {

// The epilogue's options vector (abi::RegionOption) from a region loss's params.
std::vector<float> epilogue_options(const segloss_loss_params_t &p) {
    const LossInfo &l = *find_loss(p.loss);
    std::vector<float> o(abi::kNumRegionOptions, 0.0f);
    o[abi::kOptBase] = static_cast<float>(l.region_base);
    o[abi::kOptTransform] = static_cast<float>(l.region_transform);
    o[abi::kOptSmoothNr] = p.smooth_nr;
    o[abi::kOptSmoothDr] = p.smooth_dr;
    o[abi::kOptIncludeBackground] = p.include_background ? 1.0f : 0.0f;
    o[abi::kOptBatch] = p.batch ? 1.0f : 0.0f;
    o[abi::kOptSquaredPred] = p.squared_pred ? 1.0f : 0.0f;
    o[abi::kOptReduction] = static_cast<float>(p.reduction);
    o[abi::kOptExcludeEmpty] = p.empty == SEGLOSS_EMPTY_EXCLUDE ? 1.0f : 0.0f;
    o[abi::kOptAlpha] = p.alpha;
    o[abi::kOptBeta] = p.beta;
    if (p.loss == SEGLOSS_LOSS_ASYMMETRIC) {
        // (1+b^2) I / ((1+b^2) I + b^2 FN + FP) is Tversky's index with these weights.
        const double b2 = static_cast<double>(p.b) * p.b;
        o[abi::kOptAlpha] = static_cast<float>(1 / (1 + b2));
        o[abi::kOptBeta] = static_cast<float>(b2 / (1 + b2));
    }
    o[abi::kOptR] = p.r;
    o[abi::kOptGamma] = p.gamma;
    o[abi::kOptPenaltyK] = p.k;
    o[abi::kOptGdWeight] = static_cast<float>(p.w_type);
    o[abi::kOptLambdaRegion] = 1.0f;
    return o;
}

void plan_compound(const segloss_loss_params_t &p, int64_t C, Act act, TargetKind kind, RegionPlan &plan) {
    const LossInfo &l = *find_loss(p.loss);
    plan.compound = true;
    plan.region = part_params(p.region_part, l.region_part, p, "region_part");
    const segloss_loss_params_t pw = part_params(p.pointwise_part, l.pointwise_part, p, "pointwise_part");
    plan.options = epilogue_options(plan.region);
    plan.pointwise = pointwise_args(pw, C, act);
    float lambda_region = p.lambda_region, lambda_pw = p.lambda_pointwise;
    int weights = plan.pointwise.inverse_frequency ? abi::kPwWeightsInverse : abi::kPwWeightsGiven;
    int norm = pointwise_norm(pw, act, kind);
    if (p.loss == SEGLOSS_LOSS_COMBO) {
        // alpha mCE_beta + (1 - alpha)(1 - Dice), mCE_beta = -(1/V) sum beta g log p + (1 - beta)(1 - g) log(1 - p)
        // per channel: the sigmoid's binary CE weighed by beta on targets 1 and 1 - beta on 0.
        if (act != Act::sigmoid) fail(SEGLOSS_STATUS_INVALID_ARGUMENT, "combo is a binary loss: activation=sigmoid");
        lambda_pw = p.alpha;
        lambda_region = 1.0f - p.alpha;
        plan.pointwise.alpha_pos.assign(static_cast<size_t>(C), p.beta);
        plan.pointwise.alpha_neg.assign(static_cast<size_t>(C), 1.0f - p.beta);
        weights = abi::kPwWeightsGiven;
    } else if (p.loss == SEGLOSS_LOSS_EXP_LOG) {
        // w_d mean_c (-ln Dice_c)^gamma_d + w_ce mean_v w_y (-ln p_y)^gamma_ce, w_l = sqrt(M / G_l).
        if (act == Act::sigmoid) fail(SEGLOSS_STATUS_INVALID_ARGUMENT, "exp_log needs activation=softmax or none");
        plan.options[abi::kOptTransform] = static_cast<float>(abi::kTransformExpLog);
        plan.options[abi::kOptGamma] = p.gamma_d;
        plan.pointwise.log_power = p.gamma_ce;
        plan.pointwise.gamma = 0;
        weights = abi::kPwWeightsSqrtInverse;
        norm = abi::kPwNormCount;
    }
    if (l.pointwise_part == SEGLOSS_LOSS_TOPK) {
        // The part's normaliser (the selected voxels) comes from TopK's cut (region.cpp).
        plan.topk = true;
        plan.topk_part = pw;
        norm = abi::kPwNormGiven;
    }
    plan.options[abi::kOptLambdaRegion] = lambda_region;
    plan.options[abi::kOptLambdaPointwise] = lambda_pw;
    plan.options[abi::kOptPwClassWeights] = static_cast<float>(weights);
    plan.options[abi::kOptPwNorm] = static_cast<float>(norm);
}

}  // namespace

segloss_loss_params_t part_params(const segloss_loss_params_t *given, segloss_loss_kind_t kind,
                                  const segloss_loss_params_t &compound, const char *which) {
    segloss_loss_params_t part;
    if (given) {
        if (given->struct_size != sizeof(segloss_loss_params_t) || given->loss != kind) {
            fail(SEGLOSS_STATUS_INVALID_ARGUMENT, segloss_loss_name(compound.loss), ": ", which,
                 " must be params of loss ", segloss_loss_name(kind), " (from segloss_loss_params_init)");
        }
        part = *given;
    } else {
        segloss_loss_params_init(&part, kind);
    }
    part.activation = compound.activation;
    part.reduction = compound.reduction;
    part.has_ignore_index = compound.has_ignore_index;
    part.ignore_index = compound.ignore_index;
    part.check_finite = compound.check_finite;
    part.check_inputs = compound.check_inputs;
    part.loss_mask = compound.loss_mask;
    check_params(&part);
    return part;
}

RegionPlan make_region_plan(const segloss_loss_params_t &p, int64_t C, Act act, TargetKind kind) {
    RegionPlan plan;
    if (find_loss(p.loss)->family == Family::compound) {
        plan_compound(p, C, act, kind, plan);
    } else {
        plan.region = p;
        plan.options = epilogue_options(p);
        plan.pointwise.alpha_pos.assign(static_cast<size_t>(C), 1.0f);  // no pointwise part
        plan.pointwise.alpha_neg = plan.pointwise.alpha_pos;
    }
    if (!plan.region.include_background && C < 2) {
        fail(SEGLOSS_STATUS_INVALID_ARGUMENT, "include_background=false leaves no class with C = ", C);
    }
    plan.weight = read_weights(plan.region, C);
    plan.squares = plan.region.squared_pred || find_loss(plan.region.loss)->region_base == abi::kBaseSensSpec;
    return plan;
}

}  // namespace segloss::rt
