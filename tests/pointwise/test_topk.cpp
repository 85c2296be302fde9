// SPDX-License-Identifier: Apache-2.0
// TopK (percent and threshold modes) against the float64 reference, which selects by sorting;
// its deterministic ties; nnU-Net's TopK10 from the cross-entropy reference.
#include <algorithm>
#include <cmath>

#include <catch2/catch.hpp>

#include "support/loss_matrix.h"

using namespace segloss;
using namespace segloss::test;

TEST_CASE("topk matches the reference for every activation, target and reduction", "[topk]") {
    check_activation_target_reduction_matrix(SEGLOSS_LOSS_TOPK);
}

TEST_CASE("topk percent mode: k, class weights, ignore_index, label smoothing, masks", "[topk]") {
    auto shape = GENERATE(from_range(kMatrixShapes));
    auto k = GENERATE(1.0f, 10.0f, 37.5f, 100.0f);
    auto variant = GENERATE(range(0, 4));
    LossTester t(SEGLOSS_LOSS_TOPK);
    t.shape(shape).strided(variant % 2 == 1).grad_scale(0.6f).seed(71 + variant);
    t.params().topk_percent(k);
    std::vector<float> w;
    for (int64_t c = 0; c < shape[1]; c++) w.push_back(0.5f + 0.4f * c);
    switch (variant) {
    case 0: t.params().weight(w); break;
    case 1: t.target(Target::U8).ignore(255, 0.3); break;
    case 2: t.params().label_smoothing(0.1f); t.mask(Mask::Fractional); break;
    case 3:
        t.target(Target::F32).mask(Mask::Binary, 0.4);
        t.params().activation(SEGLOSS_ACTIVATION_SIGMOID);
        break;
    }
    t.check();
}

TEST_CASE("topk threshold mode keeps the voxels with p_y < t", "[topk]") {
    auto shape = GENERATE(from_range(kMatrixShapes));
    auto tv = GENERATE(0.2f, 0.6f, 1.0f);
    auto target = GENERATE(Target::I32, Target::F32);
    auto act = GENERATE(SEGLOSS_ACTIVATION_SOFTMAX, SEGLOSS_ACTIVATION_SIGMOID, SEGLOSS_ACTIVATION_NONE);
    LossTester t(SEGLOSS_LOSS_TOPK);
    t.shape(shape).target(target).strided(true).seed(83).logit_range(3.0f);
    t.params().topk_threshold(tv).activation(act);
    if (target == Target::I32) t.ignore(-1, 0.2).mask(Mask::Fractional, 0.1);
    t.check();
}

TEST_CASE("topk breaks ties at the cut by memory order", "[topk]") {
    // Every voxel has the same logits and label, so every loss is log 3: K = 10% of the
    // counted voxels, and those are the first ones in (n, v) order.
    const int64_t N = 2, C = 3, V = 50;
    std::vector<int64_t> lshape{N, C, V}, tshape{N, V}, vshape{1};
    std::vector<float> logits(N * C * V, 0.25f), grad(N * C * V, NAN);
    std::vector<int32_t> labels(N * V, 1);
    for (int v : {0, 3, 4}) labels[v] = -100;  // ignored: the selection skips them
    double value = 0;
    auto view = [](void *d, DLDataType t, std::vector<int64_t> &s) {
        DLTensor x{};
        x.data = d;
        x.device = {kDLCPU, 0};
        x.ndim = static_cast<int>(s.size());
        x.dtype = t;
        x.shape = s.data();
        return x;
    };
    DLTensor l = view(logits.data(), {kDLFloat, 32, 1}, lshape), tt = view(labels.data(), {kDLInt, 32, 1}, tshape);
    DLTensor vt = view(&value, {kDLFloat, 64, 1}, vshape), gt = view(grad.data(), {kDLFloat, 32, 1}, lshape);
    LossParams p(SEGLOSS_LOSS_TOPK);
    p.ignore_index(-100);
    Context ctx;
    ctx.compute(p, l, tt, vt, &gt);
    REQUIRE(value == Approx(std::log(3.0)).epsilon(1e-6));
    // M = 97 counted voxels, K = 9: voxels 1, 2, 5, ..., 11 of image 0.
    std::vector<int64_t> selected;
    for (int64_t n = 0; n < N; n++) {
        for (int64_t v = 0; v < V; v++) {
            if (grad[(n * C + 1) * V + v] != 0.0f) selected.push_back(n * V + v);
        }
    }
    REQUIRE(selected == std::vector<int64_t>{1, 2, 5, 6, 7, 8, 9, 10, 11});
    // The same call again: the same bits.
    std::vector<float> again(grad.size());
    DLTensor at = view(again.data(), {kDLFloat, 32, 1}, lshape);
    ctx.compute(p, l, tt, vt, &at);
    REQUIRE(again == grad);
}

TEST_CASE("topk's default is nnU-Net's TopK10: the mean of the 10% largest cross-entropies", "[topk]") {
    auto shape = GENERATE(std::vector<int64_t>{2, 4, 9, 23}, std::vector<int64_t>{1, 3, 5, 6, 7});
    LossTester t(SEGLOSS_LOSS_TOPK);
    t.shape(shape).seed(5);
    Outcome o = t.run();
    REQUIRE(o.status == SEGLOSS_STATUS_OK);
    // nnU-Net: per-voxel CE (reduction none), torch.topk of int(N_vox * 10 / 100), mean.
    LossParams ce(SEGLOSS_LOSS_CE);
    ce.reduction(SEGLOSS_REDUCTION_NONE);
    std::vector<double> losses = ref::pointwise(t.reference_case(), *ce.get(), 1.0).values;
    std::sort(losses.rbegin(), losses.rend());
    const size_t K = losses.size() * 10 / 100;
    double want = 0;
    for (size_t i = 0; i < K; i++) want += losses[i] / K;
    require_close(o.values[0], want, 2e-6, "topk10");
}

TEST_CASE("topk of a batch whose every voxel is ignored is 0 with a zero gradient", "[topk]") {
    auto mode = GENERATE(SEGLOSS_TOPK_PERCENT, SEGLOSS_TOPK_THRESHOLD);
    LossTester t(SEGLOSS_LOSS_TOPK);
    t.shape({2, 3, 4, 5}).ignore(7, 1.0);
    t.params().get()->topk_mode = mode;
    Outcome o = t.run();
    REQUIRE(o.status == SEGLOSS_STATUS_OK);
    REQUIRE(o.values[0] == 0.0);
    for (double g : o.grad) REQUIRE(g == 0.0);
}
