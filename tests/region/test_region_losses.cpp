// SPDX-License-Identifier: Apache-2.0
// Every region loss of LOSSES.md (the Dice file covers Dice's own options) against the float64
// reference: the full activation x target x reduction matrix, the common region options, each
// loss's own options, and the traps of anchors-features.md section 8.
#include <cmath>

#include <catch2/catch.hpp>

#include "support/loss_matrix.h"

using namespace segloss;
using namespace segloss::test;

namespace {

const std::vector<segloss_loss_kind_t> kRegionLosses = {
    SEGLOSS_LOSS_DICE,          SEGLOSS_LOSS_IOU,
    SEGLOSS_LOSS_TVERSKY,       SEGLOSS_LOSS_FOCAL_TVERSKY,
    SEGLOSS_LOSS_ASYMMETRIC,    SEGLOSS_LOSS_SENSITIVITY_SPECIFICITY,
    SEGLOSS_LOSS_GENERALIZED_DICE, SEGLOSS_LOSS_PENALTY_GENERALIZED_DICE,
    SEGLOSS_LOSS_LOG_COSH_DICE};

bool generalized(segloss_loss_kind_t l) {
    return l == SEGLOSS_LOSS_GENERALIZED_DICE || l == SEGLOSS_LOSS_PENALTY_GENERALIZED_DICE;
}

void require_all_finite(const std::vector<double> &v, const char *what) {
    for (size_t i = 0; i < v.size(); i++) {
        INFO(what << " element " << i << " = " << v[i]);
        REQUIRE(std::isfinite(v[i]));
    }
}

}  // namespace

TEST_CASE("region losses match the reference for every activation, target and reduction", "[region]") {
    auto loss = GENERATE(SEGLOSS_LOSS_IOU, SEGLOSS_LOSS_TVERSKY, SEGLOSS_LOSS_FOCAL_TVERSKY, SEGLOSS_LOSS_ASYMMETRIC,
                         SEGLOSS_LOSS_SENSITIVITY_SPECIFICITY, SEGLOSS_LOSS_GENERALIZED_DICE,
                         SEGLOSS_LOSS_PENALTY_GENERALIZED_DICE, SEGLOSS_LOSS_LOG_COSH_DICE);
    check_activation_target_reduction_matrix(loss);
}

TEST_CASE("region losses with batch, include_background, empty=exclude, weights and ignore_index", "[region]") {
    auto loss = GENERATE(from_range(kRegionLosses));
    auto shape = GENERATE(from_range(kMatrixShapes));
    auto batch = GENERATE(false, true);
    auto background = GENERATE(true, false);
    auto empty = GENERATE(SEGLOSS_EMPTY_SMOOTH, SEGLOSS_EMPTY_EXCLUDE);
    auto reduction = GENERATE(SEGLOSS_REDUCTION_MEAN, SEGLOSS_REDUCTION_SUM, SEGLOSS_REDUCTION_NONE);
    auto target = GENERATE(Target::I32, Target::U8, Target::F32);
    LossTester t(loss);
    t.shape(shape).target(target).strided(true).grad_scale(1.7f).seed(5 + loss);
    t.params().batch(batch).include_background(background || shape[1] < 2).empty(empty).reduction(reduction)
        .smooth(0.5f, 1.0f).squared_pred(loss == SEGLOSS_LOSS_DICE && !background);
    if (!generalized(loss)) {
        std::vector<float> w;
        for (int64_t c = 0; c < shape[1]; c++) w.push_back(1.5f - 0.25f * c);
        t.params().weight(w);
    }
    if (target != Target::F32) t.ignore(target == Target::U8 ? 255 : 9, 0.25);
    t.check();
}

TEST_CASE("each region loss's own options", "[region]") {
    auto shape = GENERATE(std::vector<int64_t>{2, 3, 6, 11}, std::vector<int64_t>{1, 4, 3, 4, 9});
    auto target = GENERATE(Target::I32, Target::F32);
    auto act = GENERATE(SEGLOSS_ACTIVATION_SOFTMAX, SEGLOSS_ACTIVATION_SIGMOID);
    auto variant = GENERATE(range(0, 13));
    LossTester t(SEGLOSS_LOSS_DICE);
    t.shape(shape).target(target).seed(17 + variant);
    switch (variant) {
    case 0: t.params(LossParams(SEGLOSS_LOSS_TVERSKY).alpha(0.5f).beta(0.5f)); break;  // MONAI's default
    case 1: t.params(LossParams(SEGLOSS_LOSS_TVERSKY).alpha(1.0f).beta(0.0f)); break;
    case 2: t.params(LossParams(SEGLOSS_LOSS_FOCAL_TVERSKY).gamma(0.75f)); break;
    case 3: t.params(LossParams(SEGLOSS_LOSS_FOCAL_TVERSKY).gamma(3.0f).alpha(0.7f).beta(0.3f)); break;
    case 4: t.params(LossParams(SEGLOSS_LOSS_ASYMMETRIC).b(0.5f)); break;
    case 5: t.params(LossParams(SEGLOSS_LOSS_ASYMMETRIC).b(3.0f)); break;
    case 6: t.params(LossParams(SEGLOSS_LOSS_SENSITIVITY_SPECIFICITY).r(0.0f)); break;
    case 7: t.params(LossParams(SEGLOSS_LOSS_SENSITIVITY_SPECIFICITY).r(1.0f)); break;
    case 8: t.params(LossParams(SEGLOSS_LOSS_GENERALIZED_DICE).w_type(SEGLOSS_GD_WEIGHT_SIMPLE)); break;
    case 9: t.params(LossParams(SEGLOSS_LOSS_GENERALIZED_DICE).w_type(SEGLOSS_GD_WEIGHT_UNIFORM)); break;
    case 10: t.params(LossParams(SEGLOSS_LOSS_PENALTY_GENERALIZED_DICE).k(0.0f)); break;
    case 11: t.params(LossParams(SEGLOSS_LOSS_PENALTY_GENERALIZED_DICE).k(10.0f).batch(true)); break;
    case 12: t.params(LossParams(SEGLOSS_LOSS_LOG_COSH_DICE).squared_pred(true)); break;
    }
    t.params().activation(act);
    t.check();
}

TEST_CASE("generalized Dice with a class absent from the whole batch", "[region][trap]") {
    auto loss = GENERATE(SEGLOSS_LOSS_GENERALIZED_DICE, SEGLOSS_LOSS_PENALTY_GENERALIZED_DICE);
    auto w_type = GENERATE(SEGLOSS_GD_WEIGHT_SQUARE, SEGLOSS_GD_WEIGHT_SIMPLE);
    auto batch = GENERATE(false, true);
    LossTester t(loss);
    t.shape({2, 4, 5, 9}).absent_class(2);
    t.params().w_type(w_type).batch(batch);
    t.check();
    Outcome o = t.run();
    require_all_finite(o.grad, "gradient");
}

TEST_CASE("focal Tversky near a perfect overlap has a finite gradient", "[region][trap]") {
    auto act = GENERATE(SEGLOSS_ACTIVATION_SOFTMAX, SEGLOSS_ACTIVATION_SIGMOID);
    auto gamma = GENERATE(0.75f, 4.0f / 3.0f, 3.0f);
    LossTester t(SEGLOSS_LOSS_FOCAL_TVERSKY);
    t.shape({2, 3, 6, 7}).perfect().logit_range(30);
    t.params().activation(act).gamma(gamma);
    Outcome o = t.run();
    REQUIRE(o.status == SEGLOSS_STATUS_OK);
    REQUIRE(std::isfinite(o.values[0]));
    require_all_finite(o.grad, "gradient");
    t.check();
}

TEST_CASE("region losses with every voxel ignored are 0 with a zero gradient", "[region][trap]") {
    auto loss = GENERATE(from_range(kRegionLosses));
    auto empty = GENERATE(SEGLOSS_EMPTY_SMOOTH, SEGLOSS_EMPTY_EXCLUDE);
    LossTester t(loss);
    t.shape({2, 3, 4, 5}).ignore(7, 1.0);
    t.params().empty(empty);
    Outcome o = t.run();
    REQUIRE(o.status == SEGLOSS_STATUS_OK);
    REQUIRE(std::fabs(o.values[0]) < 1e-6);
    for (double g : o.grad) REQUIRE(g == 0.0);
}

TEST_CASE("region losses with a single sigmoid class", "[region][trap]") {
    auto loss = GENERATE(from_range(kRegionLosses));
    auto target = GENERATE(Target::I32, Target::F32);
    LossTester t(loss);
    t.shape({3, 1, 5, 7}).target(target).seed(3);
    t.params().activation(SEGLOSS_ACTIVATION_SIGMOID);
    t.check();
}
