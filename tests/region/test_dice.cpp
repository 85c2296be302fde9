// SPDX-License-Identifier: Apache-2.0
// Dice kernels (region family: stats, epilogue, gradient) against the float64 reference.
#include <catch2/catch.hpp>

#include "support/loss_matrix.h"

using namespace segloss;
using namespace segloss::test;

TEST_CASE("dice matches the reference for every activation, target and reduction", "[dice]") {
    check_activation_target_reduction_matrix(SEGLOSS_LOSS_DICE);
}

TEST_CASE("dice options: batch, include_background, squared_pred, smoothing, weights, ignore_index", "[dice]") {
    auto shape = GENERATE(from_range(kMatrixShapes));
    auto batch = GENERATE(false, true);
    auto background = GENERATE(true, false);
    auto squared = GENERATE(false, true);
    auto reduction = GENERATE(SEGLOSS_REDUCTION_MEAN, SEGLOSS_REDUCTION_SUM, SEGLOSS_REDUCTION_NONE);
    auto target = GENERATE(Target::I32, Target::U8, Target::F32);
    LossTester t(SEGLOSS_LOSS_DICE);
    t.shape(shape).target(target).strided(true).grad_scale(1.7f).seed(5);
    std::vector<float> w;
    for (int64_t c = 0; c < shape[1]; c++) w.push_back(1.5f - 0.25f * c);
    t.params().batch(batch).include_background(background || shape[1] < 2).squared_pred(squared)
        .reduction(reduction).smooth(0.5f, 1.0f).weight(w);
    if (target != Target::F32) t.ignore(target == Target::U8 ? 255 : 9, 0.25);
    t.check();
}

TEST_CASE("dice forward only", "[dice]") {
    LossTester t(SEGLOSS_LOSS_DICE);
    t.shape({2, 4, 5, 19}).with_grad(false).strided(true);
    t.check();
}
