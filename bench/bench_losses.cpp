// SPDX-License-Identifier: Apache-2.0
// Every loss, forward and forward+backward, through the public API, at the suite's four shapes
// on 1 and 2 threads; against this machine's memory bandwidth measured in the same run, a plain
// C++ loop (ce, dice) and, when the bench is built with Debian's libtorch-dev, PyTorch's
// forward+backward of the same loss (bench/torch_losses.cpp).
//
// Names (read by tools/plot-bench): <impl>/<loss>/<fwd|fwdbwd>/<N>x<C>x<D>x<H>x<W>/threads:<t>,
// impl = segloss, plain (the C++ loops; plain/stream_pointwise and plain/stream_region move the
// one- and two-pass bytes with no loss, the floor regular stores attain), torch, half (segloss on float16 / bfloat16 logits,
// loss "ce_float16" ...). Counters: bytes_per_second counts what the loss must move at least
// (loss_bytes.h); roofline_fraction is the time those bytes take at the measured bandwidth over
// the measured time (STREAM copy for forward+backward, STREAM read for forward).
#include <cstdio>
#include <cstring>
#include <memory>
#include <string>
#include <vector>

#include <benchmark/benchmark.h>

#include "baseline.h"
#include "loss_bytes.h"
#include "problem.h"
#include "roofline.h"
#include "segloss/segloss.hpp"
#ifdef SEGLOSS_BENCH_TORCH
#include "torch_losses.h"
#endif

using namespace segloss;

namespace {

bench::Bandwidth g_bw[3];  // by thread count (1, 2)

// One problem in memory at a time (the large shape's is 0.6 GB): benchmarks run in
// registration order, shape by shape.
bench::Problem &problem(const std::vector<int64_t> &shape) {
    static std::unique_ptr<bench::Problem> p;
    if (!p || p->shape != shape) {
        p.reset();
        p = std::make_unique<bench::Problem>(shape);
    }
    return *p;
}

// What one benchmark runs: its loss and mode, and the bytes it is charged.
struct Row {
    std::string loss;
    bool backward = false;
    int threads = 1;
    std::vector<int64_t> shape;
};

void set_counters(benchmark::State &st, const Row &r, double input_bytes, double grad_bytes) {
    const double bytes = bench::loss_bytes(r.loss, input_bytes, grad_bytes, r.backward);
    const double bw = (r.backward ? g_bw[r.threads].copy_gbs : g_bw[r.threads].read_gbs) * 1e9;
    st.SetBytesProcessed(int64_t(bytes) * st.iterations());
    st.counters["roofline_fraction"] = benchmark::Counter(bytes / bw * st.iterations(), benchmark::Counter::kIsRate);
    st.counters["bandwidth_GBps"] = bw / 1e9;
}

void BM_segloss(benchmark::State &st, Row r) {
    bench::Problem &p = problem(r.shape);
    segloss_set_num_threads(r.threads);
    Context ctx;
    const LossParams params = bench::bench_params(r.loss);
    double value = 0;
    bench::CallViews c(p, &value);
    for (auto _ : st) {
        ctx.compute(params, c.logits, c.labels, c.value, r.backward ? &c.grad : nullptr);
        benchmark::DoNotOptimize(value);
    }
    set_counters(st, r, p.input_bytes(), p.grad_bytes());
    segloss_set_num_threads(0);
}

// Half-precision logits and gradient (float16 or bfloat16), forward + backward. Bytes are the
// half tensors' (2 per logit and gradient element).
void BM_half(benchmark::State &st, Row r, bool bf16) {
    bench::Problem &p = problem(r.shape);
    const DLDataType dt = bf16 ? DLDataType{kDLBfloat, 16, 1} : DLDataType{kDLFloat, 16, 1};
    // The float32 logits' top 16 bits: a bfloat16 by truncation; for float16 any finite pattern
    // of the same magnitude range is as good for timing.
    std::vector<uint16_t> logits(p.logits.size()), grad(p.logits.size());
    for (size_t i = 0; i < logits.size(); i++) {
        uint32_t b;
        std::memcpy(&b, &p.logits[i], 4);
        logits[i] = bf16 ? uint16_t(b >> 16) : uint16_t(0x3c00 | (b & 0x3ff));
    }
    segloss_set_num_threads(r.threads);
    Context ctx;
    const LossParams params = bench::bench_params(r.loss);
    double value = 0;
    std::vector<int64_t> one{1};
    DLTensor l = bench::view(logits.data(), dt, p.shape), t = bench::view(p.labels.data(), {kDLInt, 32, 1}, p.tshape);
    DLTensor v = bench::view(&value, {kDLFloat, 64, 1}, one), g = bench::view(grad.data(), dt, p.shape);
    for (auto _ : st) {
        ctx.compute(params, l, t, v, &g);
        benchmark::DoNotOptimize(value);
    }
    set_counters(st, r, 2.0 * double(p.logits.size()) + 4.0 * double(p.labels.size()), 2.0 * double(p.logits.size()));
    segloss_set_num_threads(0);
}

void BM_plain(benchmark::State &st, Row r) {
    bench::Problem &p = problem(r.shape);
    const bench::Shape s{p.N, p.C, p.V};
    for (auto _ : st) {
        float *g = r.backward ? p.grad.data() : nullptr;
        double v = r.loss == "dice"             ? bench::plain_dice(s, p.logits.data(), p.labels.data(), g, r.threads)
                   : r.loss == "ce"             ? bench::plain_ce(s, p.logits.data(), p.labels.data(), g, r.threads)
                                                : bench::plain_stream(s, p.logits.data(), p.labels.data(), g, r.threads,
                                                                      r.loss == "stream_region");
        benchmark::DoNotOptimize(v);
    }
    set_counters(st, r, p.input_bytes(), p.grad_bytes());
}

#ifdef SEGLOSS_BENCH_TORCH
void BM_torch(benchmark::State &st, Row r) {
    bench::Problem &p = problem(r.shape);
    bench::TorchProblem tp(p, r.threads);
    for (auto _ : st) benchmark::DoNotOptimize(tp.run(r.loss, r.backward));
    set_counters(st, r, p.input_bytes(), p.grad_bytes());
}
#endif

void add(const char *impl, void (*fn)(benchmark::State &, Row), const Row &r) {
    const std::string name = std::string(impl) + "/" + r.loss + "/" + (r.backward ? "fwdbwd" : "fwd") + "/" +
                             bench::shape_name(r.shape) + "/threads:" + std::to_string(r.threads);
    benchmark::RegisterBenchmark(name.c_str(), fn, r)->UseRealTime()->Unit(benchmark::kMillisecond);
}

const std::vector<std::vector<int64_t>> kShapes = {
    {8, 4, 256, 256}, {2, 4, 128, 128, 128}, {1, 14, 96, 96, 96}, {1, 4, 256, 256, 256}};

}  // namespace

int main(int argc, char **argv) {
    for (int th : {1, 2}) {
        g_bw[th] = bench::measure_bandwidth(th);
        std::printf("memory bandwidth, %d thread(s): copy %.2f GB/s, read %.2f GB/s\n", th, g_bw[th].copy_gbs,
                    g_bw[th].read_gbs);
    }
    for (const auto &shape : kShapes) {
        for (int threads : {1, 2}) {
            for (bool backward : {false, true}) {
                for (const bench::LossInfo &l : bench::all_losses()) {
                    add("segloss", BM_segloss, {segloss_loss_name(l.kind), backward, threads, shape});
                }
                for (const char *loss : {"ce", "dice", "stream_pointwise", "stream_region"}) {
                    add("plain", BM_plain, {loss, backward, threads, shape});
                }
#ifdef SEGLOSS_BENCH_TORCH
                if (backward) {
                    for (const std::string &loss : bench::torch_losses()) add("torch", BM_torch, {loss, true, threads, shape});
                }
#endif
            }
        }
        for (const char *loss : {"ce", "dice"}) {
            const std::string name = std::string(loss);
            benchmark::RegisterBenchmark(("half/" + name + "_float16/fwdbwd/" + bench::shape_name(shape) + "/threads:2").c_str(),
                                         BM_half, Row{name, true, 2, shape}, false)
                ->UseRealTime()->Unit(benchmark::kMillisecond);
            benchmark::RegisterBenchmark(("half/" + name + "_bfloat16/fwdbwd/" + bench::shape_name(shape) + "/threads:2").c_str(),
                                         BM_half, Row{name, true, 2, shape}, true)
                ->UseRealTime()->Unit(benchmark::kMillisecond);
        }
    }
    benchmark::Initialize(&argc, argv);
    benchmark::RunSpecifiedBenchmarks();
    benchmark::Shutdown();
    return 0;
}
