// SPDX-License-Identifier: Apache-2.0
// Every loss, forward and forward+backward, through the public API, against a plain C++ loop
// (ce, dice) and against this machine's memory bandwidth measured in the same run.
//
// Counters: bytes_per_second counts what the loss must move at least: pointwise losses read the
// logits and labels once and write the gradient once (one-pass roofline); region and compound
// losses read them twice with a gradient (two-pass roofline: statistics, then gradient). TopK
// is held to the one-pass roofline (its target is "within 2x of ce"), dice_topk to two passes.
// roofline is the time those bytes take at the measured bandwidth over the measured time
// (STREAM copy for forward+backward, STREAM read for forward).
#include <cstdio>
#include <cstring>
#include <random>
#include <string>
#include <vector>

#include <benchmark/benchmark.h>

#include "baseline.h"
#include "roofline.h"
#include "segloss/segloss.hpp"

using namespace segloss;

namespace {

bench::Bandwidth g_bw[3];  // by thread count (1, 2)

struct Problem {
    std::vector<int64_t> shape, tshape;
    std::vector<float> logits, grad;
    std::vector<int32_t> labels;
    bench::Shape s;
};

Problem &problem(const std::vector<int64_t> &shape) {
    static std::vector<Problem> cache;
    for (Problem &p : cache) {
        if (p.shape == shape) return p;
    }
    if (!cache.empty()) cache.clear();  // one problem in memory at a time
    Problem p;
    p.shape = shape;
    p.tshape = shape;
    p.tshape.erase(p.tshape.begin() + 1);
    int64_t V = 1;
    for (size_t i = 2; i < shape.size(); i++) V *= shape[i];
    p.s = {shape[0], shape[1], V};
    std::mt19937 rng(1);
    std::uniform_real_distribution<float> u(-10, 10);
    p.logits.resize(shape[0] * shape[1] * V);
    for (float &x : p.logits) x = u(rng);
    p.labels.resize(shape[0] * V);
    for (int32_t &l : p.labels) l = static_cast<int32_t>(rng() % shape[1]);
    p.grad.assign(p.logits.size(), 0.0f);
    cache.push_back(std::move(p));
    return cache.back();
}

DLTensor view(void *d, DLDataType t, std::vector<int64_t> &shape) {
    DLTensor v{};
    v.data = d;
    v.device = {kDLCPU, 0};
    v.ndim = int(shape.size());
    v.dtype = t;
    v.shape = shape.data();
    return v;
}

// The losses and whether they make two passes over the inputs with a gradient.
struct Loss {
    segloss_loss_kind_t kind;
    bool two_pass;
};
const Loss kLosses[] = {
    {SEGLOSS_LOSS_CE, false},          {SEGLOSS_LOSS_WCE, false},
    {SEGLOSS_LOSS_FOCAL, false},       {SEGLOSS_LOSS_DICE, true},
    {SEGLOSS_LOSS_IOU, true},          {SEGLOSS_LOSS_TVERSKY, true},
    {SEGLOSS_LOSS_FOCAL_TVERSKY, true}, {SEGLOSS_LOSS_ASYMMETRIC, true},
    {SEGLOSS_LOSS_SENSITIVITY_SPECIFICITY, true}, {SEGLOSS_LOSS_GENERALIZED_DICE, true},
    {SEGLOSS_LOSS_PENALTY_GENERALIZED_DICE, true}, {SEGLOSS_LOSS_LOG_COSH_DICE, true},
    {SEGLOSS_LOSS_DICE_CE, true},      {SEGLOSS_LOSS_DICE_FOCAL, true},
    {SEGLOSS_LOSS_GENERALIZED_DICE_FOCAL, true}, {SEGLOSS_LOSS_COMBO, true},
    {SEGLOSS_LOSS_EXP_LOG, true},      {SEGLOSS_LOSS_TOPK, false},
    {SEGLOSS_LOSS_DICE_TOPK, true},    {SEGLOSS_LOSS_BOUNDARY, true},
    {SEGLOSS_LOSS_HAUSDORFF_DT, true}, {SEGLOSS_LOSS_DPCE, false},
    {SEGLOSS_LOSS_DICE_BOUNDARY, true}, {SEGLOSS_LOSS_DICE_HAUSDORFF, true}};

LossParams params_for(segloss_loss_kind_t kind) {
    LossParams p(kind);
    if (kind == SEGLOSS_LOSS_WCE) p.class_weights(SEGLOSS_CLASS_WEIGHTS_INVERSE_FREQUENCY);
    return p;
}

void set_counters(benchmark::State &st, const Problem &p, bool backward, int threads, bool two_pass = false) {
    const double reads = 4.0 * p.logits.size() + 4.0 * p.labels.size();
    const double bytes = reads * (backward && two_pass ? 2 : 1) + (backward ? 4.0 * p.logits.size() : 0.0);
    const double bw = (backward ? g_bw[threads].copy_gbs : g_bw[threads].read_gbs) * 1e9;
    st.SetBytesProcessed(int64_t(bytes) * st.iterations());
    st.counters["roofline"] = benchmark::Counter(bytes / bw * st.iterations(), benchmark::Counter::kIsRate);
    st.counters["bandwidth_GBps"] = bw / 1e9;
}

// args: loss (segloss_loss_kind_t), backward (0/1), threads
void BM_segloss(benchmark::State &st, std::vector<int64_t> shape) {
    const segloss_loss_kind_t kind = static_cast<segloss_loss_kind_t>(st.range(0));
    const bool backward = st.range(1);
    const int threads = int(st.range(2));
    Problem &p = problem(shape);
    segloss_set_num_threads(threads);
    Context ctx;
    const LossParams params = params_for(kind);
    double value = 0;
    std::vector<int64_t> one{1};
    DLTensor l = view(p.logits.data(), {kDLFloat, 32, 1}, p.shape), t = view(p.labels.data(), {kDLInt, 32, 1}, p.tshape);
    DLTensor v = view(&value, {kDLFloat, 64, 1}, one), g = view(p.grad.data(), {kDLFloat, 32, 1}, p.shape);
    for (auto _ : st) {
        ctx.compute(params, l, t, v, backward ? &g : nullptr);
        benchmark::DoNotOptimize(value);
    }
    bool two_pass = false;
    for (const Loss &l : kLosses) two_pass = two_pass || (l.kind == kind && l.two_pass);
    set_counters(st, p, backward, threads, two_pass);
    st.SetLabel(segloss_loss_name(kind));
    segloss_set_num_threads(0);
}

// Half-precision logits and gradient (args: loss, dtype 1 = float16, 2 = bfloat16; forward +
// backward on 2 threads). Bytes are the half tensors' (2 per logit and gradient element).
void BM_half(benchmark::State &st, std::vector<int64_t> shape) {
    const segloss_loss_kind_t kind = static_cast<segloss_loss_kind_t>(st.range(0));
    const DLDataType dt = st.range(1) == 1 ? DLDataType{kDLFloat, 16, 1} : DLDataType{kDLBfloat, 16, 1};
    Problem &p = problem(shape);
    // The float32 logits' top 16 bits: a bfloat16 by truncation, for float16 any finite pattern
    // of the same magnitude range is as good for timing.
    std::vector<uint16_t> logits(p.logits.size()), grad(p.logits.size());
    for (size_t i = 0; i < logits.size(); i++) {
        uint32_t b;
        std::memcpy(&b, &p.logits[i], 4);
        logits[i] = st.range(1) == 2 ? uint16_t(b >> 16) : uint16_t(0x3c00 | (b & 0x3ff));
    }
    segloss_set_num_threads(2);
    Context ctx;
    const LossParams params = params_for(kind);
    double value = 0;
    std::vector<int64_t> one{1};
    DLTensor l = view(logits.data(), dt, p.shape), t = view(p.labels.data(), {kDLInt, 32, 1}, p.tshape);
    DLTensor v = view(&value, {kDLFloat, 64, 1}, one), g = view(grad.data(), dt, p.shape);
    for (auto _ : st) {
        ctx.compute(params, l, t, v, &g);
        benchmark::DoNotOptimize(value);
    }
    bool two_pass = false;
    for (const Loss &x : kLosses) two_pass = two_pass || (x.kind == kind && x.two_pass);
    const double bytes = (2.0 * p.logits.size() + 4.0 * p.labels.size()) * (two_pass ? 2 : 1) + 2.0 * p.logits.size();
    st.SetBytesProcessed(int64_t(bytes) * st.iterations());
    st.counters["roofline"] = benchmark::Counter(bytes / (g_bw[2].copy_gbs * 1e9) * st.iterations(),
                                                 benchmark::Counter::kIsRate);
    st.SetLabel(std::string(segloss_loss_name(kind)) + (st.range(1) == 1 ? " float16" : " bfloat16"));
    segloss_set_num_threads(0);
}

void BM_plain_loop(benchmark::State &st, std::vector<int64_t> shape) {
    const bool dice = st.range(0) == SEGLOSS_LOSS_DICE, backward = st.range(1);
    const int threads = int(st.range(2));
    Problem &p = problem(shape);
    for (auto _ : st) {
        float *g = backward ? p.grad.data() : nullptr;
        double v = dice ? bench::plain_dice(p.s, p.logits.data(), p.labels.data(), g, threads)
                        : bench::plain_ce(p.s, p.logits.data(), p.labels.data(), g, threads);
        benchmark::DoNotOptimize(v);
    }
    set_counters(st, p, backward, threads, dice);
    st.SetLabel(dice ? "dice" : "ce");
}

// Every loss on 2 threads; ce and dice (with their plain-loop baselines) also on 1.
void all_losses(benchmark::internal::Benchmark *b) {
    b->ArgNames({"loss", "backward", "threads"});
    for (const Loss &l : kLosses) {
        for (int bwd : {0, 1}) {
            for (int th : {1, 2}) {
                if (th == 2 || l.kind == SEGLOSS_LOSS_CE || l.kind == SEGLOSS_LOSS_DICE) b->Args({l.kind, bwd, th});
            }
        }
    }
    b->UseRealTime()->Unit(benchmark::kMillisecond);
}

void baseline_losses(benchmark::internal::Benchmark *b) {
    b->ArgNames({"loss", "backward", "threads"});
    for (int kind : {SEGLOSS_LOSS_CE, SEGLOSS_LOSS_DICE}) {
        for (int bwd : {0, 1}) {
            for (int th : {1, 2}) b->Args({kind, bwd, th});
        }
    }
    b->UseRealTime()->Unit(benchmark::kMillisecond);
}

const std::vector<std::vector<int64_t>> kShapes = {{8, 4, 256, 256}, {2, 4, 128, 128, 128}, {1, 14, 96, 96, 96}};

}  // namespace

int main(int argc, char **argv) {
    for (int th : {1, 2}) {
        g_bw[th] = bench::measure_bandwidth(th);
        std::printf("memory bandwidth, %d thread(s): copy %.2f GB/s, read %.2f GB/s\n", th, g_bw[th].copy_gbs,
                    g_bw[th].read_gbs);
    }
    for (const auto &s : kShapes) {
        std::string name;
        for (int64_t e : s) name += (name.empty() ? "" : "x") + std::to_string(e);
        benchmark::RegisterBenchmark(("segloss/" + name).c_str(), BM_segloss, s)->Apply(all_losses);
        benchmark::RegisterBenchmark(("plain_loop/" + name).c_str(), BM_plain_loop, s)->Apply(baseline_losses);
        benchmark::RegisterBenchmark(("half/" + name).c_str(), BM_half, s)
            ->ArgNames({"loss", "dtype"})
            ->ArgsProduct({{SEGLOSS_LOSS_CE, SEGLOSS_LOSS_DICE}, {1, 2}})
            ->UseRealTime()
            ->Unit(benchmark::kMillisecond);
    }
    benchmark::Initialize(&argc, argv);
    benchmark::RunSpecifiedBenchmarks();
    benchmark::Shutdown();
    return 0;
}
