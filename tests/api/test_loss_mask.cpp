// SPDX-License-Identifier: Apache-2.0
// loss_mask for every loss: voxel weights applied after the activation to every sum, count and
// gradient (LOSSES.md), against the float64 reference; a zero mask is the same as ignore_index;
// masked voxels get exactly 0 gradient, whatever their logits hold.
#include <cmath>

#include <catch2/catch.hpp>

#include "support/loss_matrix.h"

using namespace segloss;
using namespace segloss::test;

namespace {

const segloss_loss_kind_t kEveryLoss[] = {
    SEGLOSS_LOSS_CE,        SEGLOSS_LOSS_WCE,         SEGLOSS_LOSS_FOCAL,
    SEGLOSS_LOSS_TOPK,      SEGLOSS_LOSS_DICE,        SEGLOSS_LOSS_IOU,
    SEGLOSS_LOSS_TVERSKY,   SEGLOSS_LOSS_FOCAL_TVERSKY, SEGLOSS_LOSS_ASYMMETRIC,
    SEGLOSS_LOSS_SENSITIVITY_SPECIFICITY, SEGLOSS_LOSS_GENERALIZED_DICE, SEGLOSS_LOSS_PENALTY_GENERALIZED_DICE,
    SEGLOSS_LOSS_LOG_COSH_DICE, SEGLOSS_LOSS_DICE_CE, SEGLOSS_LOSS_DICE_FOCAL,
    SEGLOSS_LOSS_DICE_TOPK, SEGLOSS_LOSS_GENERALIZED_DICE_FOCAL, SEGLOSS_LOSS_EXP_LOG};

LossParams params_of(segloss_loss_kind_t loss, int64_t C) {
    LossParams p(loss);
    if (loss == SEGLOSS_LOSS_WCE) {
        std::vector<float> w;
        for (int64_t c = 0; c < C; c++) w.push_back(1.0f + c);
        p.weight(w);
    }
    return p;
}

// Runs params on (logits, target) with a compact gradient of the logits' size; returns the value.
double compute(const LossParams &p, const DLTensor &logits, const DLTensor &target, std::vector<float> &grad) {
    double value = 0;
    std::vector<int64_t> vshape{1};
    DLTensor v{}, g = logits;
    v.data = &value;
    v.device = {kDLCPU, 0};
    v.ndim = 1;
    v.dtype = {kDLFloat, 64, 1};
    v.shape = vshape.data();
    g.data = grad.data();
    g.strides = nullptr;
    Context().compute(p, logits, target, v, &g);
    return value;
}

}  // namespace

TEST_CASE("every loss with a loss mask matches the reference", "[mask]") {
    auto loss = GENERATE(from_range(std::begin(kEveryLoss), std::end(kEveryLoss)));
    auto shape = GENERATE(std::vector<int64_t>{3, 4, 7, 33}, std::vector<int64_t>{2, 3, 3, 5, 7});
    auto mask = GENERATE(Mask::Binary, Mask::Fractional, Mask::U8Channel);
    auto target = GENERATE(Target::I32, Target::F32);
    LossTester t(params_of(loss, shape[1]));
    t.shape(shape).target(target).mask(mask, 0.3).strided(mask == Mask::Fractional).grad_scale(0.7f).seed(97 + loss);
    if (target == Target::I32) t.ignore(-5, 0.1);
    // exp_log: see test_compound.cpp (its (-ln Dice)^0.3 amplifies rounding near Dice = 1).
    if (loss == SEGLOSS_LOSS_EXP_LOG) t.tolerance(2e-3);
    t.check();
}

TEST_CASE("a zero mask value is the same as ignore_index", "[mask]") {
    auto loss = GENERATE(from_range(std::begin(kEveryLoss), std::end(kEveryLoss)));
    const std::vector<int64_t> shape{2, 3, 6, 11};
    // The same inputs twice: once with ignore_index on some voxels, once with mask 0 there.
    LossTester ignored(params_of(loss, shape[1]));
    ignored.shape(shape).ignore(-1, 0.35).seed(3);
    Outcome a = ignored.run();
    REQUIRE(a.status == SEGLOSS_STATUS_OK);
    HostTensor<float> mask({shape[0], shape[2], shape[3]});
    HostTensor<int32_t> &labels = ignored.labels_i32();
    for (int64_t i = 0; i < mask.numel(); i++) {
        mask.flat(i) = labels.flat(i) == -1 ? 0.0f : 1.0f;
        if (labels.flat(i) == -1) labels.flat(i) = 0;  // any class: the mask drops it
    }
    DLTensor m = mask.dl(), l = ignored.logits().dl(), t = labels.dl();
    LossParams p = params_of(loss, shape[1]);
    p.loss_mask(&m);
    std::vector<float> grad(a.grad.size());
    const double value = compute(p, l, t, grad);
    INFO("loss " << segloss_loss_name(loss));
    REQUIRE(value == Approx(a.values[0]).epsilon(1e-6).margin(1e-7));
    for (size_t i = 0; i < grad.size(); i++) REQUIRE(grad[i] == Approx(a.grad[i]).epsilon(1e-4).margin(1e-8));
}

TEST_CASE("masked voxels get exactly 0 gradient, even with non-finite logits", "[mask]") {
    auto loss = GENERATE(from_range(std::begin(kEveryLoss), std::end(kEveryLoss)));
    const std::vector<int64_t> shape{2, 3, 4, 9};
    LossTester t(params_of(loss, shape[1]));
    t.shape(shape).seed(8);
    t.make_inputs();
    const int64_t V = 4 * 9;
    HostTensor<float> mask({2, 4, 9}, false, 1.0f);
    for (int64_t v : {int64_t(0), int64_t(5), V + 3}) {
        mask.flat(v) = 0.0f;
        const int64_t n = v / V, s = v % V;
        t.logits().flat((n * 3 + 1) * V + s) = s == 5 ? NAN : INFINITY;
    }
    DLTensor m = mask.dl(), l = t.logits().dl(), tg = t.target_dl();
    LossParams p = params_of(loss, shape[1]);
    p.loss_mask(&m);
    std::vector<float> grad(2 * 3 * V, 1.0f);
    const double value = compute(p, l, tg, grad);
    INFO("loss " << segloss_loss_name(loss));
    REQUIRE(std::isfinite(value));
    for (int64_t v : {int64_t(0), int64_t(5), V + 3}) {
        for (int64_t c = 0; c < 3; c++) REQUIRE(grad[((v / V) * 3 + c) * V + v % V] == 0.0f);
    }
    for (float x : grad) REQUIRE(std::isfinite(x));
}
