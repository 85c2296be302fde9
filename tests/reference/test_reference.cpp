// SPDX-License-Identifier: Apache-2.0
// The float64 references' gradients against central finite differences of their own values,
// so that the references can be trusted to judge the kernels.
#include <cmath>

#include <catch2/catch.hpp>

#include "reference/reference.h"
#include "support/loss_tester.h"

using namespace segloss;
using namespace segloss::test;

namespace {

// Sum of the outputs: the value (mean/sum) or the sum of the per-element values (none).
double objective(const ref::Case &k, const segloss_loss_params_t &p) {
    ref::Result r = ref::loss(k, p, 1.0);
    if (p.reduction != SEGLOSS_REDUCTION_NONE) return r.value;
    double s = 0;
    for (double v : r.values) s += v;
    return s;
}

void check_fd(LossTester &t) {
    t.make_inputs();
    ref::Case k = t.reference_case();
    const segloss_loss_params_t &p = *t.params().get();
    ref::Result r = ref::loss(k, p, 1.0);
    const double h = p.activation == SEGLOSS_ACTIVATION_NONE ? 1e-7 : 1e-5;
    for (size_t i = 0; i < k.x.size(); i++) {
        const double x0 = k.x[i];
        k.x[i] = x0 + h;
        const double up = objective(k, p);
        k.x[i] = x0 - h;
        const double down = objective(k, p);
        k.x[i] = x0;
        const double fd = (up - down) / (2 * h);
        INFO("element " << i << ": analytic " << r.grad[i] << ", finite difference " << fd);
        REQUIRE(std::fabs(fd - r.grad[i]) <= 1e-5 * std::fabs(fd) + 1e-7);
    }
}

}  // namespace

TEST_CASE("reference gradients match central finite differences", "[reference]") {
    auto loss = GENERATE(SEGLOSS_LOSS_CE, SEGLOSS_LOSS_DICE, SEGLOSS_LOSS_IOU, SEGLOSS_LOSS_TVERSKY,
                         SEGLOSS_LOSS_FOCAL_TVERSKY, SEGLOSS_LOSS_ASYMMETRIC, SEGLOSS_LOSS_SENSITIVITY_SPECIFICITY,
                         SEGLOSS_LOSS_GENERALIZED_DICE, SEGLOSS_LOSS_PENALTY_GENERALIZED_DICE,
                         SEGLOSS_LOSS_LOG_COSH_DICE, SEGLOSS_LOSS_WCE, SEGLOSS_LOSS_FOCAL, SEGLOSS_LOSS_DICE_CE,
                         SEGLOSS_LOSS_DICE_FOCAL, SEGLOSS_LOSS_GENERALIZED_DICE_FOCAL, SEGLOSS_LOSS_COMBO,
                         SEGLOSS_LOSS_EXP_LOG, SEGLOSS_LOSS_TOPK, SEGLOSS_LOSS_DICE_TOPK);
    auto act = GENERATE(SEGLOSS_ACTIVATION_SOFTMAX, SEGLOSS_ACTIVATION_SIGMOID, SEGLOSS_ACTIVATION_NONE);
    auto target = GENERATE(Target::I32, Target::F32);
    auto reduction = GENERATE(SEGLOSS_REDUCTION_MEAN, SEGLOSS_REDUCTION_SUM, SEGLOSS_REDUCTION_NONE);
    // 1: weights, ignored voxels, a fractional mask, batch, no background, squared, empty
    auto variant = GENERATE(0, 1);
    if (ref::is_compound(loss) && (variant || reduction == SEGLOSS_REDUCTION_NONE)) return;  // parts: above
    LossTester t(loss);
    t.shape({2, 3, 2, 3}).target(target).logit_range(4).seed(7 + variant);
    t.params().activation(act).reduction(reduction);
    if (loss == SEGLOSS_LOSS_WCE) t.params().weight({0.5f, 2.0f, 1.25f});
    if (loss == SEGLOSS_LOSS_TOPK) t.params().topk_percent(25.0f);
    if (variant) t.mask(Mask::Fractional, 0.3);
    if (variant && ref::is_pointwise(loss)) {
        // Weights or alphas, smoothing, ignored voxels.
        if (loss == SEGLOSS_LOSS_FOCAL) t.params().focal_alpha({0.5f, 2.0f, 1.25f}).gamma(0.7f);
        else t.params().class_weights(SEGLOSS_CLASS_WEIGHTS_INVERSE_FREQUENCY).weight({});
        t.params().label_smoothing(0.2f);
        if (target != Target::F32) t.ignore(2, 0.2);
    } else if (variant) {
        t.params().batch(true).include_background(false).empty(SEGLOSS_EMPTY_EXCLUDE);
        if (loss != SEGLOSS_LOSS_GENERALIZED_DICE && loss != SEGLOSS_LOSS_PENALTY_GENERALIZED_DICE) {
            t.params().weight({0.5f, 2.0f, 1.25f});
        }
        if (loss == SEGLOSS_LOSS_DICE || loss == SEGLOSS_LOSS_LOG_COSH_DICE) t.params().squared_pred(true);
        if (target != Target::F32) t.ignore(2, 0.2);
    }
    check_fd(t);
}
