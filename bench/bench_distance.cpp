// SPDX-License-Identifier: Apache-2.0
// The exact EDT against SciPy's distance_transform_edt on the same mask, in the same run.
//
// Mask: an ellipsoid filling ~10% of the volume (an organ-sized structure), or its complement,
// spacing (1.0, 0.8, 0.8); segloss computes EDT(M) (distance to the nearest voxel outside,
// SciPy's semantics). SciPy runs through /usr/bin/python3 (Debian's python3-scipy) on the same bytes,
// timed inside Python (interpreter start-up excluded), single-threaded as SciPy is; its rows are
// named scipy/edt/... and each segloss row carries scipy_ms and speedup_vs_scipy counters.
// Rows are absent for SciPy when it cannot be imported.
//
// Counters: bytes_per_second and roofline_fraction charge an EDT one read of the uint8 mask and
// one write of the float32 map (5 bytes per voxel), the losses what loss_bytes.h says, against
// the copy bandwidth measured at the start of the run.
//
// Run: build/bench/segloss_bench_distance [--benchmark_filter=128x128x128]
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <map>
#include <string>
#include <vector>

#include <benchmark/benchmark.h>

#include "../tools/cli/phantom.h"
#include "loss_bytes.h"
#include "roofline.h"
#include "segloss/segloss.hpp"

using namespace segloss;

namespace {

struct Volume {
    std::vector<int64_t> shape;  // D, H, W
    bool background = false;     // the mask is the ellipsoid's complement
    std::vector<uint8_t> mask;
};

const double kSpacing[3] = {1.0, 0.8, 0.8};

Volume &volume(const std::vector<int64_t> &shape, bool background) {
    static Volume v;
    if (v.shape == shape && v.background == background) return v;
    v.shape = shape;
    v.background = background;
    const int64_t D = shape[0], H = shape[1], W = shape[2];
    v.mask.assign(static_cast<size_t>(D * H * W), 0);
    for (int64_t z = 0; z < D; z++) {
        for (int64_t y = 0; y < H; y++) {
            for (int64_t x = 0; x < W; x++) {
                const double a = (z - D / 2.0) / (D / 3.0), b = (y - H / 2.0) / (H / 4.0), c = (x - W / 2.0) / (W / 3.5);
                v.mask[(z * H + y) * W + x] = (a * a + b * b + c * c < 1) != background ? 1 : 0;
            }
        }
    }
    return v;
}

std::string shape_name(const std::vector<int64_t> &s) {
    return "1x1x" + std::to_string(s[0]) + "x" + std::to_string(s[1]) + "x" + std::to_string(s[2]);
}

bool scipy_available() {
    static const bool ok = std::system("/usr/bin/python3 -c 'import scipy.ndimage' 2>/dev/null") == 0;
    return ok;
}

// SciPy's times (seconds) of `reps` calls on the volume's mask.
std::vector<double> scipy_times(const Volume &v, int reps) {
    const std::string path = "/tmp/segloss_bench_mask_" + std::to_string(getpid()) + ".bin";
    {
        std::ofstream f(path, std::ios::binary);
        f.write(reinterpret_cast<const char *>(v.mask.data()), static_cast<std::streamsize>(v.mask.size()));
    }
    const std::string cmd =
        "/usr/bin/python3 -c \"import sys, time, numpy as np; from scipy import ndimage; "
        "m = np.fromfile(sys.argv[1], np.uint8).reshape(" + std::to_string(v.shape[0]) + ", " +
        std::to_string(v.shape[1]) + ", " + std::to_string(v.shape[2]) + ").astype(bool)\n"
        "for _ in range(" + std::to_string(reps) + "):\n"
        "    t = time.perf_counter(); ndimage.distance_transform_edt(m, sampling=(1.0, 0.8, 0.8)); "
        "print(time.perf_counter() - t)\" " + path;
    FILE *p = popen(cmd.c_str(), "r");
    std::vector<double> t;
    double s;
    while (p && std::fscanf(p, "%lf", &s) == 1) t.push_back(s);
    if (p) pclose(p);
    std::remove(path.c_str());
    return t;
}

double median(std::vector<double> v) {
    std::sort(v.begin(), v.end());
    return v.empty() ? 0 : v[v.size() / 2];
}

bench::Bandwidth g_bw[3];  // by thread count (1, 2)

// bytes_per_second and roofline_fraction of `bytes` per call at a median of `ms` per call.
void set_bytes(benchmark::State &state, double bytes, double ms, int threads) {
    state.SetBytesProcessed(int64_t(bytes) * state.iterations());
    state.counters["roofline_fraction"] = bytes / (g_bw[threads].copy_gbs * 1e9) / (ms * 1e-3);
}

// Median per (shape, background), measured by the scipy rows.
std::map<std::pair<std::vector<int64_t>, bool>, double> g_scipy_ms;

void scipy_edt(benchmark::State &state, std::vector<int64_t> shape, bool background) {
    Volume &v = volume(shape, background);
    std::vector<double> all;
    for (auto _ : state) {
        std::vector<double> t = scipy_times(v, 1);
        if (t.empty()) {
            state.SkipWithError("SciPy failed");
            return;
        }
        state.SetIterationTime(t[0]);
        all.push_back(t[0]);
    }
    g_scipy_ms[{shape, background}] = 1e3 * median(all);
    state.SetItemsProcessed(state.iterations() * int64_t(v.mask.size()));
    set_bytes(state, 5.0 * double(v.mask.size()), 1e3 * median(all), 1);
}

void segloss_edt(benchmark::State &state, std::vector<int64_t> shape, bool background, int threads) {
    Volume &v = volume(shape, background);
    segloss_set_num_threads(threads);
    std::vector<float> out(v.mask.size());
    std::vector<int64_t> sshape{1, shape[0], shape[1], shape[2]}, dshape{1, 1, shape[0], shape[1], shape[2]};
    DLTensor s{v.mask.data(), {kDLCPU, 0}, 4, {kDLUInt, 8, 1}, sshape.data(), nullptr, 0};
    DLTensor d{out.data(), {kDLCPU, 0}, 5, {kDLFloat, 32, 1}, dshape.data(), nullptr, 0};
    segloss_distance_params_t p;
    segloss_distance_params_init(&p);
    p.spacing = kSpacing;
    p.num_spacing = 3;
    Context ctx;
    std::vector<double> ms;
    for (auto _ : state) {
        const auto t0 = std::chrono::steady_clock::now();
        ctx.distance(p, s, d);
        const double t = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
        state.SetIterationTime(t);
        ms.push_back(1e3 * t);
    }
    state.SetItemsProcessed(state.iterations() * int64_t(v.mask.size()));
    state.counters["median_ms"] = median(ms);
    set_bytes(state, 5.0 * double(v.mask.size()), median(ms), threads);
    auto it = g_scipy_ms.find({shape, background});
    if (it != g_scipy_ms.end()) {
        state.counters["scipy_ms"] = it->second;
        state.counters["speedup_vs_scipy"] = it->second / median(ms);
    }
    segloss_set_num_threads(0);
}

// Boundary-based losses forward+backward on the built-in phantom (ellipsoid labels, logits from
// a shifted noisy copy: realistic masks for the maps), every map computed in the call, next to
// dice on the same data (the target: hausdorff_dt <= 3x dice).
void phantom_loss(benchmark::State &state, segloss_loss_kind_t kind) {
    static cli::Phantom ph = cli::make_phantom(2, 4, 128, 128, 128, 2026);
    std::vector<int64_t> ls{2, 4, 128, 128, 128}, ts{2, 128, 128, 128}, vs{1};
    std::vector<float> grad(ph.logits.size());
    double value = 0;
    DLTensor lt{ph.logits.data(), {kDLCPU, 0}, 5, {kDLFloat, 32, 1}, ls.data(), nullptr, 0};
    DLTensor tt{ph.labels.data(), {kDLCPU, 0}, 4, {kDLInt, 32, 1}, ts.data(), nullptr, 0};
    DLTensor vt{&value, {kDLCPU, 0}, 1, {kDLFloat, 64, 1}, vs.data(), nullptr, 0};
    DLTensor gt{grad.data(), {kDLCPU, 0}, 5, {kDLFloat, 32, 1}, ls.data(), nullptr, 0};
    segloss_set_num_threads(2);
    Context ctx;
    LossParams p(kind);
    std::vector<double> ms;
    for (auto _ : state) {
        const auto t0 = std::chrono::steady_clock::now();
        ctx.compute(p, lt, tt, vt, &gt);
        const double t = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
        state.SetIterationTime(t);
        ms.push_back(1e3 * t);
    }
    state.counters["median_ms"] = median(ms);
    const double logits = 4.0 * double(ph.logits.size());
    set_bytes(state, bench::loss_bytes(segloss_loss_name(kind), logits + 4.0 * double(ph.labels.size()), logits, true),
              median(ms), 2);
    segloss_set_num_threads(0);
}

// Every metric of the phantom's prediction (argmax of its logits) against its labels, 4
// classes (3 without the background) of 2 images of 128^3.
void phantom_metrics(benchmark::State &state) {
    static cli::Phantom ph = cli::make_phantom(2, 4, 128, 128, 128, 2026);
    const int64_t N = 2, C = 4, V = 128 * 128 * 128;
    std::vector<int32_t> pred(static_cast<size_t>(N * V));
    for (int64_t n = 0; n < N; n++) {
        for (int64_t v = 0; v < V; v++) {
            int32_t best = 0;
            for (int32_t c = 1; c < C; c++) {
                if (ph.logits[(n * C + c) * V + v] > ph.logits[(n * C + best) * V + v]) best = c;
            }
            pred[n * V + v] = best;
        }
    }
    std::vector<int64_t> ts{2, 128, 128, 128}, vs{2, 3, SEGLOSS_NUM_METRICS};
    std::vector<double> values(2 * 3 * SEGLOSS_NUM_METRICS);
    DLTensor pt{pred.data(), {kDLCPU, 0}, 4, {kDLInt, 32, 1}, ts.data(), nullptr, 0};
    DLTensor tt{ph.labels.data(), {kDLCPU, 0}, 4, {kDLInt, 32, 1}, ts.data(), nullptr, 0};
    DLTensor vt{values.data(), {kDLCPU, 0}, 3, {kDLFloat, 64, 1}, vs.data(), nullptr, 0};
    segloss_metric_params_t p;
    segloss_metric_params_init(&p);
    p.num_classes = C;
    segloss_set_num_threads(2);
    Context ctx;
    std::vector<double> ms;
    for (auto _ : state) {
        const auto t0 = std::chrono::steady_clock::now();
        ctx.metrics(p, pt, tt, vt);
        const double t = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
        state.SetIterationTime(t);
        ms.push_back(1e3 * t);
    }
    state.counters["median_ms"] = median(ms);
    state.counters["hd95_class1"] = values[SEGLOSS_METRIC_HD95];
    segloss_set_num_threads(0);
}

// edt: the ellipsoid's EDT (distances inside a structure, as a boundary loss needs for the
// foreground); edt_background: its complement's (distances in the background to the
// structure: every line of the volume has work).
void register_all() {
    for (segloss_loss_kind_t kind : {SEGLOSS_LOSS_DICE, SEGLOSS_LOSS_BOUNDARY, SEGLOSS_LOSS_HAUSDORFF_DT,
                                     SEGLOSS_LOSS_DICE_BOUNDARY, SEGLOSS_LOSS_DICE_HAUSDORFF, SEGLOSS_LOSS_CE,
                                     SEGLOSS_LOSS_DPCE}) {
        benchmark::RegisterBenchmark(
            (std::string("segloss/") + segloss_loss_name(kind) + "/fwdbwd/2x4x128x128x128/threads:2").c_str(), phantom_loss,
            kind)
            ->UseManualTime()
            ->Iterations(5)
            ->Unit(benchmark::kMillisecond);
    }
    benchmark::RegisterBenchmark("segloss/metrics/all/2x128x128x128/threads:2", phantom_metrics)
        ->UseManualTime()
        ->Iterations(5)
        ->Unit(benchmark::kMillisecond);
    for (const std::vector<int64_t> &shape : {std::vector<int64_t>{128, 128, 128}, std::vector<int64_t>{181, 217, 181},
                                              std::vector<int64_t>{256, 256, 256}}) {
        for (bool background : {false, true}) {
            const std::string tail = std::string(background ? "edt_background" : "edt") + "/fwd/" + shape_name(shape);
            if (scipy_available()) {
                benchmark::RegisterBenchmark(("scipy/" + tail + "/threads:1").c_str(), scipy_edt, shape, background)
                    ->UseManualTime()
                    ->Iterations(3)
                    ->Unit(benchmark::kMillisecond);
            }
            for (int threads : {1, 2}) {
                benchmark::RegisterBenchmark(("segloss/" + tail + "/threads:" + std::to_string(threads)).c_str(),
                                             segloss_edt, shape, background, threads)
                    ->UseManualTime()
                    ->Iterations(shape[0] >= 256 ? 5 : 11)
                    ->Unit(benchmark::kMillisecond);
            }
        }
    }
}

}  // namespace

int main(int argc, char **argv) {
    benchmark::Initialize(&argc, argv);
    for (int th : {1, 2}) g_bw[th] = bench::measure_bandwidth(th);
    std::printf("memory bandwidth: copy %.2f GB/s (1 thread), %.2f GB/s (2 threads)\n", g_bw[1].copy_gbs,
                g_bw[2].copy_gbs);
    if (!scipy_available()) std::fprintf(stderr, "SciPy rows skipped: /usr/bin/python3 cannot import scipy.ndimage\n");
    register_all();
    benchmark::RunSpecifiedBenchmarks();
    benchmark::Shutdown();
    return 0;
}
