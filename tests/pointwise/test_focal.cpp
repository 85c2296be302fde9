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
