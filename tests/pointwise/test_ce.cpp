// SPDX-License-Identifier: Apache-2.0
// Cross-entropy kernels against the float64 reference: every activation, target type,
// reduction and option, on 1-, 2- and 3-D grids with odd extents, contiguous and strided.
#include <catch2/catch.hpp>

#include "support/loss_matrix.h"

using namespace segloss;
using namespace segloss::test;

TEST_CASE("ce matches the reference for every activation, target and reduction", "[ce]") {
    check_activation_target_reduction_matrix(SEGLOSS_LOSS_CE);
}

TEST_CASE("ce with class weights, ignore_index and an upstream gradient", "[ce]") {
    auto shape = GENERATE(from_range(kMatrixShapes));
    auto target = GENERATE(Target::I32, Target::U8, Target::F32);
    auto act = GENERATE(SEGLOSS_ACTIVATION_SOFTMAX, SEGLOSS_ACTIVATION_SIGMOID, SEGLOSS_ACTIVATION_NONE);
    auto reduction = GENERATE(SEGLOSS_REDUCTION_MEAN, SEGLOSS_REDUCTION_SUM, SEGLOSS_REDUCTION_NONE);
    LossTester t(SEGLOSS_LOSS_CE);
    t.shape(shape).target(target).strided(true).grad_scale(0.37f).seed(11);
    std::vector<float> w;
    for (int64_t c = 0; c < shape[1]; c++) w.push_back(0.25f + 0.5f * c);
    t.params().activation(act).reduction(reduction).weight(w);
    if (target != Target::F32) t.ignore(target == Target::U8 ? 255 : -100, 0.3);
    t.check();
}

TEST_CASE("ce reads the label's logit and weight right on both sides of the blend limit", "[ce]") {
    // The kernels take the label's logit and class weight by a blend over the classes up to 16
    // classes and by a gather beyond (generators/pointwise/formulas.h): 16 and 17 classes, and
    // many, with weights that differ per class, ignored voxels and both label types.
    auto classes = GENERATE(int64_t{15}, int64_t{16}, int64_t{17}, int64_t{41});
    auto target = GENERATE(Target::I32, Target::U8);
    LossTester t(SEGLOSS_LOSS_CE);
    t.shape({2, classes, 5, 9}).target(target).strided(classes % 2 == 1).grad_scale(0.6f).seed(31);
    std::vector<float> w;
    for (int64_t c = 0; c < classes; c++) w.push_back(0.3f + 0.11f * float((c * 7) % classes));
    t.params().weight(w);
    t.ignore(target == Target::U8 ? 255 : -100, 0.25);
    t.check();
}

TEST_CASE("ce forward only leaves the gradient alone", "[ce]") {
    auto reduction = GENERATE(SEGLOSS_REDUCTION_MEAN, SEGLOSS_REDUCTION_NONE);
    LossTester t(SEGLOSS_LOSS_CE);
    t.shape({2, 4, 5, 19}).with_grad(false).strided(true);
    t.params().reduction(reduction);
    t.check();
}

TEST_CASE("ce of a batch whose every voxel is ignored is 0 with a zero gradient", "[ce]") {
    LossTester t(SEGLOSS_LOSS_CE);
    t.shape({2, 3, 4, 5}).ignore(7, 1.0);
    Outcome o = t.run();
    REQUIRE(o.status == SEGLOSS_STATUS_OK);
    REQUIRE(o.values[0] == 0.0);
    for (double g : o.grad) REQUIRE(g == 0.0);
}

TEST_CASE("ce and wce options: label_smoothing, weight_norm, inverse-frequency weights", "[ce]") {
    auto shape = GENERATE(from_range(kMatrixShapes));
    auto target = GENERATE(Target::I32, Target::U8, Target::F32);
    auto act = GENERATE(SEGLOSS_ACTIVATION_SOFTMAX, SEGLOSS_ACTIVATION_SIGMOID, SEGLOSS_ACTIVATION_NONE);
    auto reduction = GENERATE(SEGLOSS_REDUCTION_MEAN, SEGLOSS_REDUCTION_SUM, SEGLOSS_REDUCTION_NONE);
    auto variant = GENERATE(range(0, 4));
    std::vector<float> w;
    for (int64_t c = 0; c < shape[1]; c++) w.push_back(2.0f - 0.3f * c);
    LossTester t(SEGLOSS_LOSS_CE);
    t.shape(shape).target(target).strided(variant % 2 == 1).grad_scale(0.8f).seed(23 + variant);
    switch (variant) {
    case 0: t.params().label_smoothing(0.1f).weight(w); break;
    case 1: t.params().weight_norm(SEGLOSS_WEIGHT_NORM_COUNT).weight(w).label_smoothing(1.0f); break;
    case 2: t.params(LossParams(SEGLOSS_LOSS_WCE).class_weights(SEGLOSS_CLASS_WEIGHTS_INVERSE_FREQUENCY)); break;
    case 3: t.params(LossParams(SEGLOSS_LOSS_WCE).weight(w).label_smoothing(0.05f)); break;
    }
    t.params().activation(act).reduction(reduction);
    if (target != Target::F32) t.ignore(target == Target::U8 ? 255 : -100, 0.2);
    t.check();
}

TEST_CASE("ce with logits of +-1000: no overflow, exact log-softmax", "[ce][trap]") {
    auto act = GENERATE(SEGLOSS_ACTIVATION_SOFTMAX, SEGLOSS_ACTIVATION_SIGMOID);
    auto loss = GENERATE(SEGLOSS_LOSS_CE, SEGLOSS_LOSS_FOCAL);
    LossTester t(loss);
    t.shape({2, 4, 6, 9}).logit_range(1000).seed(4);
    t.params().activation(act);
    t.check();
}

TEST_CASE("inverse-frequency weights make every present class weigh the same in total", "[ce][wce]") {
    // With w_c = M / (K M_c), sum_v w_{y_v} = M: the weighted mean divides by the voxel count.
    LossTester t(LossParams(SEGLOSS_LOSS_WCE).class_weights(SEGLOSS_CLASS_WEIGHTS_INVERSE_FREQUENCY));
    t.shape({2, 4, 5, 7}).absent_class(1);
    t.params().reduction(SEGLOSS_REDUCTION_SUM);
    Outcome sum = t.run();
    t.params().reduction(SEGLOSS_REDUCTION_MEAN);
    Outcome mean = t.run();
    REQUIRE(sum.status == SEGLOSS_STATUS_OK);
    REQUIRE(mean.status == SEGLOSS_STATUS_OK);
    require_close(mean.values[0] * 2 * 5 * 7, sum.values[0], 1e-6, "mean x voxels = sum");
    t.check();
}
