// SPDX-License-Identifier: Apache-2.0
// Properties that relate calls to each other: reductions, batch Dice vs one volume, perfect
// predictions, CPU feature levels, thread counts, the region stages, large volumes, NaN.
#include <cmath>
#include <cstring>

#include <catch2/catch.hpp>

#include "support/host_tensor.h"
#include "support/loss_tester.h"

using namespace segloss;
using namespace segloss::test;

namespace {

struct Run {
    double value;
    std::vector<float> grad;
};

// One call through the C++ API with a float64 scalar value.
Run compute(const LossParams &p, HostTensor<float> &logits, DLTensor target) {
    Context ctx;
    HostTensor<double> value({1});
    HostTensor<float> grad(logits.shape());
    DLTensor l = logits.dl(), v = value.dl(), g = grad.dl();
    ctx.compute(p, l, target, v, &g);
    return {value.flat(0), grad.storage()};
}

// The x86 levels this CPU can run (aarch64 builds have the baseline level only).
bool cpu_has(segloss_cpu_isa_t isa) {
#if defined(__x86_64__)
    switch (isa) {
    case SEGLOSS_CPU_ISA_AVX512: return __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512bw");
    case SEGLOSS_CPU_ISA_AVX2: return __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma");
    case SEGLOSS_CPU_ISA_SSE41: return __builtin_cpu_supports("sse4.1");
    default: return true;
    }
#else
    return isa == SEGLOSS_CPU_ISA_BASELINE;
#endif
}

}  // namespace

TEST_CASE("mean times the normaliser equals sum", "[cross]") {
    auto loss = GENERATE(SEGLOSS_LOSS_CE, SEGLOSS_LOSS_DICE);
    LossTester t(loss);
    t.shape({3, 4, 6, 9}).ignore(3, 0.2);
    t.make_inputs();
    LossParams mean(loss), sum(loss);
    mean.ignore_index(3);
    sum.ignore_index(3).reduction(SEGLOSS_REDUCTION_SUM);
    Run m = compute(mean, t.logits(), t.labels_i32().dl());
    Run s = compute(sum, t.logits(), t.labels_i32().dl());
    double count = 0;
    if (loss == SEGLOSS_LOSS_CE) {
        for (int64_t l : t.reference_case().label) count += l != 3;
    } else {
        count = 3 * 4;  // groups
    }
    REQUIRE(count > 0);
    require_close(m.value * count, s.value, 1e-6, "mean * count vs sum");
    for (size_t i = 0; i < m.grad.size(); i++) {
        REQUIRE(std::fabs(m.grad[i] * count - s.grad[i]) <= 1e-5 * std::fabs(s.grad[i]) + 1e-7);
    }
}

TEST_CASE("batch dice over a batch equals dice of the concatenated volume", "[cross][dice]") {
    const int64_t N = 3, C = 4, H = 5, W = 11;
    LossTester t(SEGLOSS_LOSS_DICE);
    t.shape({N, C, H, W}).seed(3);
    t.make_inputs();
    // The same voxels as one image of height N*H.
    HostTensor<float> one({1, C, N * H, W});
    HostTensor<int32_t> one_labels({1, N * H, W});
    for (int64_t n = 0; n < N; n++) {
        for (int64_t c = 0; c < C; c++) {
            for (int64_t v = 0; v < H * W; v++) one.flat((c * N + n) * H * W + v) = t.logits().flat((n * C + c) * H * W + v);
        }
        for (int64_t v = 0; v < H * W; v++) one_labels.flat(n * H * W + v) = t.labels_i32().flat(n * H * W + v);
    }
    LossParams batch(SEGLOSS_LOSS_DICE);
    batch.batch(true);
    Run b = compute(batch, t.logits(), t.labels_i32().dl());
    Run o = compute(LossParams(SEGLOSS_LOSS_DICE), one, one_labels.dl());
    require_close(b.value, o.value, 1e-6, "batch dice vs concatenated dice");
    for (int64_t n = 0; n < N; n++) {
        for (int64_t c = 0; c < C; c++) {
            for (int64_t v = 0; v < H * W; v++) {
                const float gb = b.grad[(n * C + c) * H * W + v], go = o.grad[(c * N + n) * H * W + v];
                REQUIRE(std::fabs(gb - go) <= 1e-5 * std::fabs(go) + 1e-9);
            }
        }
    }
}

TEST_CASE("the gradient of a perfect prediction is ~0", "[cross]") {
    auto loss = GENERATE(SEGLOSS_LOSS_CE, SEGLOSS_LOSS_DICE);
    auto act = GENERATE(SEGLOSS_ACTIVATION_SOFTMAX, SEGLOSS_ACTIVATION_SIGMOID);
    LossTester t(loss);
    t.shape({2, 3, 6, 7});
    t.params().activation(act);
    t.make_inputs();
    // Every class present in every image; logits +20 on the label, -20 elsewhere, so p is
    // one-hot up to e^-20.
    const ref::Case &k = t.reference_case();
    for (int64_t n = 0; n < k.N; n++) {
        for (int64_t v = 0; v < k.V; v++) {
            const int32_t label = static_cast<int32_t>(v % k.C);
            t.labels_i32().flat(n * k.V + v) = label;
            for (int64_t c = 0; c < k.C; c++) t.logits().flat((n * k.C + c) * k.V + v) = label == c ? 20 : -20;
        }
    }
    Run r = compute(t.params(), t.logits(), t.labels_i32().dl());
    REQUIRE(std::fabs(r.value) < 1e-6);
    for (float g : r.grad) REQUIRE(std::fabs(g) < 1e-7);
}

TEST_CASE("every CPU feature level computes the same values", "[cross][isa]") {
    auto loss = GENERATE(SEGLOSS_LOSS_CE, SEGLOSS_LOSS_DICE);
    LossTester t(loss);
    // 5 classes: the general kernels, which every build has at every level (4 would run the
    // class-count kernels, which a test build has at its best level only: tools/test.sh).
    t.shape({2, 5, 9, 37}).ignore(1, 0.1);
    t.make_inputs();
    LossParams p(loss);
    p.ignore_index(1);
    REQUIRE(segloss_set_max_cpu_isa(SEGLOSS_CPU_ISA_BASELINE) == SEGLOSS_STATUS_OK);
    Run base = compute(p, t.logits(), t.labels_i32().dl());
    for (segloss_cpu_isa_t isa : {SEGLOSS_CPU_ISA_SSE41, SEGLOSS_CPU_ISA_AVX2, SEGLOSS_CPU_ISA_AVX512}) {
        if (!cpu_has(isa)) {
            WARN("skipped: this CPU cannot run ISA level " << int(isa));
            continue;
        }
        REQUIRE(segloss_set_max_cpu_isa(isa) == SEGLOSS_STATUS_OK);
        Run r = compute(p, t.logits(), t.labels_i32().dl());
        INFO("ISA level " << int(isa));
        require_close(r.value, base.value, 1e-6, "value vs baseline");
        for (size_t i = 0; i < r.grad.size(); i++) {
            REQUIRE(std::fabs(r.grad[i] - base.grad[i]) <= 1e-5 * std::fabs(base.grad[i]) + 1e-9);
        }
    }
    REQUIRE(segloss_set_max_cpu_isa(SEGLOSS_CPU_ISA_ALL) == SEGLOSS_STATUS_OK);
}

TEST_CASE("results are bitwise identical for any thread count", "[cross][determinism]") {
    auto loss = GENERATE(SEGLOSS_LOSS_CE, SEGLOSS_LOSS_DICE, SEGLOSS_LOSS_TOPK);
    LossTester t(loss);
    // TopK's cut sums its keys' histograms over chunks of 2^20 voxels in parallel (topk.cpp):
    // its batch spans two chunks.
    if (loss == SEGLOSS_LOSS_TOPK) t.shape({2, 2, 64, 96, 96});
    else t.shape({2, 3, 16, 24, 40});
    t.seed(9);
    t.make_inputs();
    std::vector<Run> runs;
    for (int threads : {1, 2, 3, 0}) {
        REQUIRE(segloss_set_num_threads(threads) == SEGLOSS_STATUS_OK);
        runs.push_back(compute(LossParams(loss), t.logits(), t.labels_i32().dl()));
    }
    for (const Run &r : runs) {
        REQUIRE(std::memcmp(&r.value, &runs[0].value, sizeof(double)) == 0);
        REQUIRE(std::memcmp(r.grad.data(), runs[0].grad.data(), r.grad.size() * sizeof(float)) == 0);
    }
}

TEST_CASE("the region stages compose to the one-shot call", "[cross][dice]") {
    LossTester t(SEGLOSS_LOSS_DICE);
    t.shape({2, 3, 7, 9});
    t.make_inputs();
    LossParams p(SEGLOSS_LOSS_DICE);
    Run one = compute(p, t.logits(), t.labels_i32().dl());
    Context ctx;
    HostTensor<double> stats({2, 3, SEGLOSS_REGION_NUM_STATS}), value({1});
    HostTensor<float> coef({2, 3, SEGLOSS_REGION_NUM_COEFS}), grad(t.logits().shape());
    DLTensor l = t.logits().dl(), tg = t.labels_i32().dl(), s = stats.dl(), v = value.dl(), c = coef.dl(), g = grad.dl();
    ctx.region_stats(p, l, tg, s);
    ctx.region_epilogue(p, s, v, &c);
    ctx.region_grad(p, l, tg, c, g);
    REQUIRE(value.flat(0) == one.value);
    REQUIRE(grad.storage() == one.grad);
    // Statistics summed by the caller (an all-reduce) give batch Dice: stats of two halves.
    REQUIRE(stats.flat(SEGLOSS_REGION_NUM_STATS * 0 + SEGLOSS_REGION_STAT_COUNT) > 0);
}

// Long reductions: 2^24 voxels per class (2^22 on slow runs: qemu, ~20x slower, or the
// sanitizer build, whose float64 reference is instrumented).
TEST_CASE("dice of a 256^3 volume (160^3 on slow runs) matches the float64 reference to 1e-5",
          "[cross][dice][large]") {
#if SEGLOSS_TESTS_SLOW
    const int64_t e = 160;
#else
    const int64_t e = 256;
#endif
    LossTester t(SEGLOSS_LOSS_DICE);
    t.shape({1, 2, e, e, e}).with_grad(false).seed(2);
    Outcome o = t.run();
    REQUIRE(o.status == SEGLOSS_STATUS_OK);
    require_close(o.values[0], o.ref.value, 1e-5, "large-volume dice");
}

TEST_CASE("non-finite logits give a NaN loss, never a finite number", "[cross][nan]") {
    auto loss = GENERATE(SEGLOSS_LOSS_CE, SEGLOSS_LOSS_DICE);
    auto bad = GENERATE(NAN, INFINITY, -INFINITY);
    auto act = GENERATE(SEGLOSS_ACTIVATION_SOFTMAX, SEGLOSS_ACTIVATION_SIGMOID);
    LossTester t(loss);
    t.shape({1, 3, 4, 5}).ignore(2, 0.0);
    t.params().activation(act);
    t.make_inputs();
    HostTensor<int32_t> &lab = t.labels_i32();
    lab.flat(7) = 0;   // voxel 7 counted, with a bad logit
    lab.flat(11) = 2;  // voxel 11 ignored, with a bad logit
    t.logits().flat(1 * 20 + 7) = bad;
    t.logits().flat(0 * 20 + 11) = NAN;
    Context ctx;
    HostTensor<double> value({1});
    HostTensor<float> grad(t.logits().shape());
    DLTensor l = t.logits().dl(), tg = lab.dl(), v = value.dl(), g = grad.dl();
    LossParams p = t.params();
    ctx.compute(p, l, tg, v, &g);
    INFO("loss " << int(loss) << ", bad logit " << bad << ", activation " << int(act) << ", value " << value.flat(0)
                 << ", grad " << grad.flat(7));
    REQUIRE(std::isnan(value.flat(0)));
    REQUIRE(std::isnan(grad.flat(0 * 20 + 7)));
    REQUIRE(grad.flat(0 * 20 + 11) == 0.0f);  // ignored voxel: exactly 0 whatever its logits
    p.check_finite(true);
    REQUIRE_THROWS_AS(ctx.compute(p, l, tg, v, &g), Error);
    try {
        ctx.compute(p, l, tg, v, &g);
    } catch (const Error &e) {
        REQUIRE(e.status() == SEGLOSS_STATUS_NONFINITE);
    }
}

// Index labels take the kernels' hard-label path (plain cross-entropy: one gather per voxel,
// generators/pointwise/formulas.h); their one-hot map takes the general formula.
TEST_CASE("index labels and their one-hot map give the same loss and gradient", "[cross][ce]") {
    auto loss = GENERATE(SEGLOSS_LOSS_CE, SEGLOSS_LOSS_DICE_CE);
    LossTester t(loss);
    t.shape({2, 4, 6, 9}).seed(7);
    t.make_inputs();
    const std::vector<int64_t> &shape = t.logits().shape();
    const int64_t N = shape[0], C = shape[1], V = shape[2] * shape[3];
    HostTensor<float> onehot(shape, false, 0.0f);
    for (int64_t n = 0; n < N; n++) {
        for (int64_t v = 0; v < V; v++) onehot.flat((n * C + t.labels_i32().flat(n * V + v)) * V + v) = 1.0f;
    }
    LossParams p(loss);
    if (loss == SEGLOSS_LOSS_CE) p.weight({0.5f, 2.0f, 1.0f, 3.0f}).reduction(SEGLOSS_REDUCTION_SUM);
    Run hard = compute(p, t.logits(), t.labels_i32().dl());
    Run general = compute(p, t.logits(), onehot.dl());
    require_close(hard.value, general.value, 1e-6, "index labels vs one-hot");
    for (size_t i = 0; i < hard.grad.size(); i++) {
        REQUIRE(std::fabs(hard.grad[i] - general.grad[i]) <= 1e-6 * std::fabs(general.grad[i]) + 1e-8);
    }
}
