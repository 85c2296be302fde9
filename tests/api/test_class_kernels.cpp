// SPDX-License-Identifier: Apache-2.0
// The kernels built for one class count (cmake/kernels.cmake, SEGLOSS_CLASS_KERNELS): the
// registry hands them out for that count only, and every path of theirs matches the float64
// reference like the general kernels do, with a count that has no kernel of its own beside them.
#include <catch2/catch.hpp>

#include <string>
#include <vector>

#include "runtime/src/registry.h"
#include "support/kernel_names.h"

using namespace segloss;
using namespace segloss::test;

namespace {

std::string kernel_for(rt::Stage stage, int64_t classes) {
    return rt::find_kernel(stage, rt::Act::softmax, rt::TargetKind::i32, rt::GpuApi::none, classes).name;
}

std::vector<float> ramp_weights(int64_t classes) {
    std::vector<float> w;
    for (int64_t c = 0; c < classes; c++) w.push_back(0.4f + 0.35f * float(c));
    return w;
}

// Inputs of one variant: hard labels; weights and ignored voxels; a fractional mask; strided
// views with ignored voxels; logits of +-1000 on a 3-D grid. Widths leave a vector tail.
void set_inputs(LossTester &t, int64_t classes, int variant) {
    t.shape(variant == 4 ? std::vector<int64_t>{1, classes, 3, 5, 70} : std::vector<int64_t>{2, classes, 6, 37})
        .grad_scale(0.7f)
        .seed(uint32_t(97 + 10 * classes + variant));
    switch (variant) {
    case 1: t.ignore(-100, 0.3); break;
    case 2: t.mask(Mask::Fractional, 0.3); break;
    case 3: t.strided(true).ignore(-100, 0.2); break;
    case 4: t.logit_range(1000.0f); break;
    default: break;
    }
}

}  // namespace

TEST_CASE("the registry hands out a class-count kernel for its count only", "[classes]") {
    for (int k : class_kernel_counts()) {
        REQUIRE(kernel_for(rt::Stage::pointwise_grad, k) == "ce_softmax_i32_grad_c" + std::to_string(k));
        REQUIRE(kernel_for(rt::Stage::region_grad, k) == "region_grad_softmax_i32_c" + std::to_string(k));
        REQUIRE(kernel_for(rt::Stage::compound_grad, k) == "compound_grad_softmax_i32_c" + std::to_string(k));
    }
    // And calls through the API run them: the gradient pass is the last kernel of each call.
    auto classes = GENERATE(int64_t{2}, int64_t{3}, int64_t{4}, int64_t{5});
    auto loss = GENERATE(SEGLOSS_LOSS_CE, SEGLOSS_LOSS_DICE, SEGLOSS_LOSS_DICE_CE);
    LossTester t(loss);
    t.shape({2, classes, 5, 7});
    t.make_inputs();
    const std::string row = loss == SEGLOSS_LOSS_CE     ? "ce_softmax_i32_grad"
                            : loss == SEGLOSS_LOSS_DICE ? "region_grad_softmax_i32"
                                                        : "compound_grad_softmax_i32";
    const std::string kernels = call_kernels(t, t.params()), last = kernels.substr(kernels.rfind(',') + 1);
    REQUIRE(last == row + class_kernel_suffix(classes));
    REQUIRE(kernel_for(rt::Stage::pointwise_grad, 17) == "ce_softmax_i32_grad");
    REQUIRE(kernel_for(rt::Stage::region_grad, 17) == "region_grad_softmax_i32");
    REQUIRE(kernel_for(rt::Stage::compound_grad, 17) == "compound_grad_softmax_i32");
}

TEST_CASE("class-count kernels of the pointwise losses match the reference", "[classes][ce]") {
    // ce (the hard-label path), wce, ce with label smoothing and focal (the general formula).
    auto classes = GENERATE(int64_t{2}, int64_t{3}, int64_t{4}, int64_t{5});
    auto variant = GENERATE(range(0, 5));
    auto loss = GENERATE(range(0, 3));
    LossTester t(loss == 2 ? SEGLOSS_LOSS_FOCAL : SEGLOSS_LOSS_CE);
    set_inputs(t, classes, variant);
    if (loss == 1) t.params().label_smoothing(0.1f).weight(ramp_weights(classes));
    if (loss == 2) t.params().gamma(2.0f).focal_alpha(ramp_weights(classes));
    if (variant == 4) t.params().reduction(SEGLOSS_REDUCTION_SUM);
    t.check();
}

TEST_CASE("class-count kernels of the region and compound losses match the reference", "[classes][dice]") {
    auto classes = GENERATE(int64_t{2}, int64_t{3}, int64_t{4}, int64_t{5});
    auto variant = GENERATE(range(0, 5));
    auto loss = GENERATE(range(0, 4));
    LossParams p;
    switch (loss) {
    case 0: p = LossParams(SEGLOSS_LOSS_DICE); break;
    case 1: p = LossParams(SEGLOSS_LOSS_TVERSKY).alpha(0.3f).beta(0.7f).include_background(false); break;
    case 2:  // the compound's hard-label CE path
        p = LossParams(SEGLOSS_LOSS_DICE_CE).lambdas(1.0f, 0.5f);
        break;
    case 3:  // its general formula
        p = LossParams(SEGLOSS_LOSS_DICE_FOCAL)
                .pointwise_part(LossParams(SEGLOSS_LOSS_FOCAL).gamma(0.5f).focal_alpha(ramp_weights(classes)))
                .lambdas(0.3f, 2.0f);
        break;
    }
    LossTester t(p);
    set_inputs(t, classes, variant);
    t.check();
}
