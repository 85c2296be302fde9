// SPDX-License-Identifier: Apache-2.0
// Compound losses (one statistics pass, one gradient pass) against the float64 reference (the
// sum of their parts' references), with the parts' own options; and against the API's own
// single losses.
#include <cmath>

#include <catch2/catch.hpp>

#include "support/kernel_names.h"
#include "support/loss_matrix.h"

using namespace segloss;
using namespace segloss::test;

namespace {

// The activations a compound accepts: combo is binary (sigmoid), exp_log needs class
// probabilities (softmax or none).
bool accepts(segloss_loss_kind_t loss, segloss_activation_t act) {
    if (loss == SEGLOSS_LOSS_COMBO) return act == SEGLOSS_ACTIVATION_SIGMOID;
    if (loss == SEGLOSS_LOSS_EXP_LOG) return act != SEGLOSS_ACTIVATION_SIGMOID;
    return true;
}

}  // namespace

TEST_CASE("compound losses match the sum of their parts' references", "[compound]") {
    auto loss = GENERATE(SEGLOSS_LOSS_DICE_CE, SEGLOSS_LOSS_DICE_FOCAL, SEGLOSS_LOSS_GENERALIZED_DICE_FOCAL,
                         SEGLOSS_LOSS_COMBO, SEGLOSS_LOSS_EXP_LOG, SEGLOSS_LOSS_DICE_TOPK);
    auto shape = GENERATE(from_range(kMatrixShapes));
    auto target = GENERATE(Target::I32, Target::U8, Target::I32_CHANNEL, Target::F32);
    auto act = GENERATE(SEGLOSS_ACTIVATION_SOFTMAX, SEGLOSS_ACTIVATION_SIGMOID, SEGLOSS_ACTIVATION_NONE);
    auto reduction = GENERATE(SEGLOSS_REDUCTION_MEAN, SEGLOSS_REDUCTION_SUM);
    if (!accepts(loss, act)) return;
    LossTester t(loss);
    t.shape(shape).target(target).strided(shape.size() == 4).grad_scale(0.9f).seed(41 + loss);
    t.params().activation(act).reduction(reduction);
    // exp_log's (-ln Dice)^0.3 has slope (-ln Dice)^-0.7: a group with Dice near 1 (a single
    // voxel) amplifies the float32 rounding of its sums about 1000-fold.
    if (loss == SEGLOSS_LOSS_EXP_LOG) t.tolerance(2e-3);
    t.check();
}

TEST_CASE("compound losses take each part's own options", "[compound]") {
    auto shape = GENERATE(std::vector<int64_t>{2, 3, 6, 11}, std::vector<int64_t>{1, 4, 3, 4, 9});
    auto target = GENERATE(Target::I32, Target::F32);
    auto variant = GENERATE(range(0, 9));
    const std::vector<float> w = {0.5f, 1.5f, 1.0f, 2.0f};
    const std::vector<float> cw(w.begin(), w.begin() + shape[1]);
    LossParams p;
    switch (variant) {
    case 0:  // nnU-Net: Dice without background, batch Dice, CE with weights and smoothing
        p = LossParams(SEGLOSS_LOSS_DICE_CE)
                .region_part(LossParams(SEGLOSS_LOSS_DICE).include_background(false).batch(true).smooth(1, 1))
                .pointwise_part(LossParams(SEGLOSS_LOSS_CE).weight(cw).label_smoothing(0.1f))
                .lambdas(1.0f, 0.5f);
        break;
    case 1:
        p = LossParams(SEGLOSS_LOSS_DICE_CE)
                .region_part(LossParams(SEGLOSS_LOSS_DICE).squared_pred(true).weight(cw).empty(SEGLOSS_EMPTY_EXCLUDE))
                .pointwise_part(LossParams(SEGLOSS_LOSS_CE).class_weights(SEGLOSS_CLASS_WEIGHTS_INVERSE_FREQUENCY));
        break;
    case 2:
        p = LossParams(SEGLOSS_LOSS_DICE_FOCAL)
                .pointwise_part(LossParams(SEGLOSS_LOSS_FOCAL).gamma(0.5f).focal_alpha(cw))
                .lambdas(0.3f, 2.0f);
        break;
    case 3:
        p = LossParams(SEGLOSS_LOSS_GENERALIZED_DICE_FOCAL)
                .region_part(LossParams(SEGLOSS_LOSS_GENERALIZED_DICE).w_type(SEGLOSS_GD_WEIGHT_SIMPLE).batch(true))
                .pointwise_part(LossParams(SEGLOSS_LOSS_FOCAL).focal_alpha(0.25f).weight_norm(SEGLOSS_WEIGHT_NORM_WEIGHTED));
        break;
    case 4:
        p = LossParams(SEGLOSS_LOSS_COMBO).alpha(0.7f).beta(0.2f);
        break;
    case 5:
        p = LossParams(SEGLOSS_LOSS_EXP_LOG).gamma_d(1.5f).gamma_ce(0.5f).lambdas(0.5f, 0.5f);
        break;
    case 6:
        p = LossParams(SEGLOSS_LOSS_DICE_CE).lambdas(0.0f, 1.0f).ignore_index(target == Target::F32 ? 0 : 2);
        if (target == Target::F32) p.get()->has_ignore_index = 0;
        break;
    case 7:  // nnU-Net's DiceTopK10 with label smoothing (Topk10LossLS01)
        p = LossParams(SEGLOSS_LOSS_DICE_TOPK)
                .region_part(LossParams(SEGLOSS_LOSS_DICE).include_background(false))
                .pointwise_part(LossParams(SEGLOSS_LOSS_TOPK).label_smoothing(0.1f).weight(cw))
                .lambdas(0.7f, 1.3f);
        break;
    case 8:
        p = LossParams(SEGLOSS_LOSS_DICE_TOPK)
                .pointwise_part(LossParams(SEGLOSS_LOSS_TOPK).topk_threshold(0.7f).class_weights(
                    SEGLOSS_CLASS_WEIGHTS_INVERSE_FREQUENCY));
        break;
    }
    LossTester t(p);
    t.shape(shape).target(target).seed(53 + variant).grad_scale(1.1f);
    if (variant == 0 && target != Target::F32) t.ignore(7, 0.2);
    t.check();
}

TEST_CASE("a compound call is one statistics pass, the epilogue and one gradient pass", "[compound]") {
    LossTester t(SEGLOSS_LOSS_DICE_CE);
    t.shape({2, 3, 5, 7});
    t.make_inputs();
    REQUIRE(call_kernels(t, t.params()) ==
            "compound_stats_softmax_i32,region_epilogue,compound_grad_softmax_i32" + class_kernel_suffix(3));
    // dice_topk: TopK's keys need a pass of their own (the pointwise kernel's map output).
    REQUIRE(call_kernels(t, LossParams(SEGLOSS_LOSS_DICE_TOPK)) ==
            "region_stats_softmax_i32,ce_softmax_i32_map,region_epilogue,compound_grad_softmax_i32" +
                class_kernel_suffix(3));
}

TEST_CASE("dice_ce and dice_topk are the sums of their parts computed apart", "[compound][cross]") {
    auto act = GENERATE(SEGLOSS_ACTIVATION_SOFTMAX, SEGLOSS_ACTIVATION_SIGMOID);
    auto compound = GENERATE(SEGLOSS_LOSS_DICE_CE, SEGLOSS_LOSS_DICE_TOPK);
    const segloss_loss_kind_t part = compound == SEGLOSS_LOSS_DICE_CE ? SEGLOSS_LOSS_CE : SEGLOSS_LOSS_TOPK;
    LossTester t(SEGLOSS_LOSS_DICE);
    t.shape({2, 4, 9, 13}).seed(61);
    t.params().activation(act);
    t.make_inputs();
    Context ctx;
    auto run = [&](const LossParams &p, std::vector<float> &gout) {
        HostTensor<double> value({1});
        HostTensor<float> grad(t.logits().shape());
        DLTensor l = t.logits().dl(), tg = t.target_dl(), v = value.dl(), g = grad.dl();
        ctx.compute(p, l, tg, v, &g);
        gout = grad.storage();
        return value.flat(0);
    };
    std::vector<float> gd, gc, gb;
    const double dice = run(LossParams(SEGLOSS_LOSS_DICE).activation(act), gd);
    const double ce = run(LossParams(part).activation(act), gc);
    const double both = run(LossParams(compound).activation(act), gb);
    require_close(both, dice + ce, 1e-6, "value");
    std::vector<double> sum, got;
    for (size_t i = 0; i < gd.size(); i++) {
        sum.push_back(double(gd[i]) + gc[i]);
        got.push_back(gb[i]);
    }
    require_close_all(got, sum, 1e-5, "gradient");
}

TEST_CASE("exp_log near a perfect overlap is finite", "[compound][trap]") {
    LossTester t(SEGLOSS_LOSS_EXP_LOG);
    t.shape({2, 3, 6, 7}).perfect().logit_range(30).seed(8);
    Outcome o = t.run();
    REQUIRE(o.status == SEGLOSS_STATUS_OK);
    REQUIRE(std::isfinite(o.values[0]));
    for (double g : o.grad) REQUIRE(std::isfinite(g));
    t.check();
}
