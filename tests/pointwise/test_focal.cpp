// SPDX-License-Identifier: Apache-2.0
// Focal loss (softmax, sigmoid as MONAI, and probabilities) against the float64 reference, its
// options, and the traps: gamma < 1 with p_t -> 1, gamma = 0 is cross-entropy.
#include <cmath>
#include <cstring>

#include <catch2/catch.hpp>

#include "support/loss_matrix.h"

using namespace segloss;
using namespace segloss::test;

TEST_CASE("focal matches the reference for every activation, target and reduction", "[focal]") {
    check_activation_target_reduction_matrix(SEGLOSS_LOSS_FOCAL);
}

TEST_CASE("focal options: gamma, scalar and per-class alpha, label smoothing, weight_norm", "[focal]") {
    auto shape = GENERATE(std::vector<int64_t>{2, 3, 6, 11}, std::vector<int64_t>{1, 4, 3, 4, 9},
                          std::vector<int64_t>{3, 1, 17});
    auto target = GENERATE(Target::I32, Target::F32);
    auto act = GENERATE(SEGLOSS_ACTIVATION_SOFTMAX, SEGLOSS_ACTIVATION_SIGMOID, SEGLOSS_ACTIVATION_NONE);
    auto gamma = GENERATE(0.0f, 0.5f, 1.0f, 2.0f, 5.0f);
    auto variant = GENERATE(range(0, 4));
    LossTester t(SEGLOSS_LOSS_FOCAL);
    t.shape(shape).target(target).strided(variant == 2).grad_scale(1.3f).seed(31 + variant);
    std::vector<float> alpha;
    for (int64_t c = 0; c < shape[1]; c++) alpha.push_back(0.2f + 0.3f * c);
    t.params().gamma(gamma).activation(act);
    switch (variant) {
    case 0: break;
    case 1: t.params().focal_alpha(0.25f); break;
    case 2: t.params().focal_alpha(alpha).weight_norm(SEGLOSS_WEIGHT_NORM_WEIGHTED); break;
    case 3: t.params().focal_alpha(0.75f).label_smoothing(0.1f).reduction(SEGLOSS_REDUCTION_SUM); break;
    }
    if (target == Target::I32) t.ignore(5, 0.2);
    t.check();
}

TEST_CASE("focal with gamma < 1 and p_t -> 1 has a finite gradient", "[focal][trap]") {
    auto act = GENERATE(SEGLOSS_ACTIVATION_SOFTMAX, SEGLOSS_ACTIVATION_SIGMOID);
    auto gamma = GENERATE(0.1f, 0.5f, 0.9f);
    LossTester t(SEGLOSS_LOSS_FOCAL);
    t.shape({2, 3, 5, 8}).perfect().logit_range(40).seed(9);
    t.params().gamma(gamma).activation(act);
    Outcome o = t.run();
    REQUIRE(o.status == SEGLOSS_STATUS_OK);
    REQUIRE(std::isfinite(o.values[0]));
    for (double g : o.grad) REQUIRE(std::isfinite(g));
    t.check();
}

TEST_CASE("focal with gamma = 0 is cross-entropy, bit for bit", "[focal][cross]") {
    auto act = GENERATE(SEGLOSS_ACTIVATION_SOFTMAX, SEGLOSS_ACTIVATION_SIGMOID, SEGLOSS_ACTIVATION_NONE);
    LossTester focal(SEGLOSS_LOSS_FOCAL), ce(SEGLOSS_LOSS_CE);
    focal.shape({2, 3, 7, 9}).seed(12);
    ce.shape({2, 3, 7, 9}).seed(12);
    focal.params().gamma(0).activation(act);
    ce.params().activation(act).weight_norm(SEGLOSS_WEIGHT_NORM_COUNT);
    Outcome a = focal.run(), b = ce.run();
    REQUIRE(a.status == SEGLOSS_STATUS_OK);
    REQUIRE(b.status == SEGLOSS_STATUS_OK);
    REQUIRE(a.values == b.values);
    REQUIRE(a.grad == b.grad);
}

// Hard labels with softmax take a path of their own: only the label's class has a loss term, so
// focal's and exp_log's factors are computed for that class alone, once per voxel (formulas.h);
// the label's logit is read by a blend up to 16 classes and by a gather beyond.
TEST_CASE("focal, dice_focal and exp_log with hard labels at few and many classes", "[focal][hard]") {
    auto classes = GENERATE(2, 4, 7, 20);
    auto target = GENERATE(Target::I32, Target::U8);
    auto gamma = GENERATE(0.5f, 2.0f);
    auto variant = GENERATE(range(0, 4));
    std::vector<float> alpha;
    for (int c = 0; c < classes; c++) alpha.push_back(0.1f + 0.07f * float(c));
    LossParams p(SEGLOSS_LOSS_FOCAL);
    switch (variant) {
    case 0: p.gamma(gamma).focal_alpha(alpha); break;
    case 1: p.gamma(gamma).reduction(SEGLOSS_REDUCTION_NONE); break;
    case 2: p = LossParams(SEGLOSS_LOSS_DICE_FOCAL).pointwise_part(LossParams(SEGLOSS_LOSS_FOCAL).gamma(gamma)); break;
    case 3: p = LossParams(SEGLOSS_LOSS_EXP_LOG).gamma_ce(gamma).lambdas(0.4f, 0.6f); break;
    }
    LossTester t(p);
    t.shape({2, classes, 5, 13}).target(target).grad_scale(0.7f).seed(70 + classes + variant).ignore(255, 0.2);
    if (variant == 3) t.tolerance(2e-3);  // as test_compound: exp_log's Dice term amplifies rounding
    t.check();
}

TEST_CASE("focal with hard labels and confident predictions (p_y = 1 in float) is finite and exact",
          "[focal][hard][trap]") {
    auto classes = GENERATE(3, 20);
    auto gamma = GENERATE(0.5f, 2.0f);
    LossTester t(SEGLOSS_LOSS_FOCAL);
    t.shape({2, classes, 4, 9}).perfect().logit_range(40).seed(90 + classes);
    t.params().gamma(gamma);
    Outcome o = t.run();
    REQUIRE(o.status == SEGLOSS_STATUS_OK);
    REQUIRE(std::isfinite(o.values[0]));
    for (double g : o.grad) REQUIRE(std::isfinite(g));
    t.check();
}
