// SPDX-License-Identifier: Apache-2.0
// CE and Dice, forward and forward+backward, through the public API, against a plain C++ loop
// and against this machine's memory bandwidth measured in the same run.
//
// Counters: bytes_per_second counts what the loss must move at least (logits and labels read
// once, gradient written once); roofline is that rate over the measured bandwidth (STREAM copy
// for forward+backward, STREAM read for forward).
#include <cstdio>
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

void set_counters(benchmark::State &st, const Problem &p, bool backward, int threads) {
    const double bytes = 4.0 * p.logits.size() * (backward ? 2 : 1) + 4.0 * p.labels.size();
    const double bw = (backward ? g_bw[threads].copy_gbs : g_bw[threads].read_gbs) * 1e9;
    st.SetBytesProcessed(int64_t(bytes) * st.iterations());
    st.counters["roofline"] = benchmark::Counter(bytes / bw * st.iterations(), benchmark::Counter::kIsRate);
    st.counters["bandwidth_GBps"] = bw / 1e9;
}

// args: loss (0 ce, 1 dice), backward (0/1), threads
void BM_segloss(benchmark::State &st, std::vector<int64_t> shape) {
    const bool dice = st.range(0), backward = st.range(1);
    const int threads = int(st.range(2));
    Problem &p = problem(shape);
    segloss_set_num_threads(threads);
    Context ctx;
    LossParams params(dice ? SEGLOSS_LOSS_DICE : SEGLOSS_LOSS_CE);
    double value = 0;
    std::vector<int64_t> one{1};
    DLTensor l = view(p.logits.data(), {kDLFloat, 32, 1}, p.shape), t = view(p.labels.data(), {kDLInt, 32, 1}, p.tshape);
    DLTensor v = view(&value, {kDLFloat, 64, 1}, one), g = view(p.grad.data(), {kDLFloat, 32, 1}, p.shape);
    for (auto _ : st) {
        ctx.compute(params, l, t, v, backward ? &g : nullptr);
        benchmark::DoNotOptimize(value);
    }
    set_counters(st, p, backward, threads);
    segloss_set_num_threads(0);
}

void BM_plain_loop(benchmark::State &st, std::vector<int64_t> shape) {
    const bool dice = st.range(0), backward = st.range(1);
    const int threads = int(st.range(2));
    Problem &p = problem(shape);
    for (auto _ : st) {
        float *g = backward ? p.grad.data() : nullptr;
        double v = dice ? bench::plain_dice(p.s, p.logits.data(), p.labels.data(), g, threads)
                        : bench::plain_ce(p.s, p.logits.data(), p.labels.data(), g, threads);
        benchmark::DoNotOptimize(v);
    }
    set_counters(st, p, backward, threads);
}

void args(benchmark::internal::Benchmark *b) {
    b->ArgNames({"dice", "backward", "threads"});
    for (int dice : {0, 1}) {
        for (int bwd : {0, 1}) {
            for (int th : {1, 2}) b->Args({dice, bwd, th});
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
        benchmark::RegisterBenchmark(("segloss/" + name).c_str(), BM_segloss, s)->Apply(args);
        benchmark::RegisterBenchmark(("plain_loop/" + name).c_str(), BM_plain_loop, s)->Apply(args);
    }
    benchmark::Initialize(&argc, argv);
    benchmark::RunSpecifiedBenchmarks();
    benchmark::Shutdown();
    return 0;
}
