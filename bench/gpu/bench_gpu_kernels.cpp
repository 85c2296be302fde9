// SPDX-License-Identifier: Apache-2.0
// The GPU kernels of a loss call, timed on device-resident data (wrapped device memory, as the
// runtime will pass DLPack GPU tensors), against the device's measured copy bandwidth in the
// same run. Run by tools/gpu-check on a machine with an NVIDIA GPU (no Halide or toolkit
// needed there); the timer is gpu_timing.h's.
//   segloss_bench_gpu [cuda|opencl] [repetitions] [small]   (small: tiny shapes, to check the
//   harness itself, e.g. on pocl)
// Prints one line per (loss, shape): median and spread of the kernels' time, GB/s of the bytes
// a loss call must move, and that rate as a fraction of the device-to-device copy rate; before
// it, indented, each kernel of the loss alone.
// (ce: the target pre-pass, the normaliser, the fused gradient pass and the loss's total;
// dice: statistics, epilogue, gradient.)
#include <cstdio>
#include <cstring>
#include <functional>
#include <random>
#include <string>
#include <vector>

#include "HalideBuffer.h"
#include "generators/common/abi.h"
#include "gpu_kernel_headers.h"
#include "kernel_headers.h"
#include "gpu_timing.h"
#include "tests/support/halide_device.h"

namespace {

using Halide::Runtime::Buffer;
using segloss::bench::Shape;
using segloss::bench::Timing;

const halide_device_interface_t *g_itf = nullptr;
bool g_probing = false;  // the driver probe's failures are the expected "no GPU here"

void report_error(void *, const char *msg) {
    if (!g_probing) std::fprintf(stderr, "halide: %s\n", msg);
}

// A device-only view of b (no host pointer), as the runtime will make of a DLPack GPU tensor.
template <typename T>
halide_buffer_t view_of(Buffer<T> &b) {
    if (b.data()) b.set_host_dirty();  // Halide copies a buffer up only when marked as changed
    if (b.copy_to_device(g_itf) != 0) std::exit(2);
    halide_buffer_t v;
    if (segloss::test::wrap_device_view(b.raw_buffer(), g_itf, &v) != 0) std::exit(2);
    return v;
}

// Timing of `body` on the device, waited for through `sync`.
Timing time_it(const std::function<void()> &body, halide_buffer_t *sync, int reps) {
    return segloss::bench::time_on_device(body, [sync] { halide_device_sync(nullptr, sync); }, reps);
}

void check(int err, const char *what) {
    if (err != 0) {
        std::fprintf(stderr, "segloss_bench_gpu: %s failed (%d)\n", what, err);
        std::exit(1);
    }
}

// The GPU kernels built, by name and API (gpu_kernels.inc).
void *kernel(const std::string &name, const std::string &api) {
    struct Row {
        const char *api, *name;
        void *fn;
    };
    static const Row rows[] = {
#define SEGLOSS_GPU_KERNEL(api, stage, name, act, kind) {#api, #name, reinterpret_cast<void *>(&name##_##api)},
#include "gpu_kernels.inc"
#undef SEGLOSS_GPU_KERNEL
    };
    for (const Row &r : rows) {
        if (name == r.name && api == r.api) return r.fn;
    }
    std::fprintf(stderr, "segloss_bench_gpu: no %s kernel %s in this build\n", api.c_str(), name.c_str());
    std::exit(2);
}

template <typename Fn>
Fn kernel_as(const std::string &name, const std::string &api, Fn model) {
    (void)model;
    return reinterpret_cast<Fn>(kernel(name, api));
}

}  // namespace

int main(int argc, char **argv) {
    const std::string api = argc > 1 ? argv[1] : "cuda";
    const int reps = argc > 2 ? std::atoi(argv[2]) : 20;
    const bool small = argc > 3 && std::string(argv[3]) == "small";
    halide_set_error_handler(report_error);
    g_itf = segloss::test::device_interface_of(api);
    if (!g_itf) {
        std::fprintf(stderr, "segloss_bench_gpu: this build has no %s kernels\n", api.c_str());
        return 2;
    }
    {
        Buffer<float> probe(16);
        g_probing = true;
        const int err = probe.device_malloc(g_itf);
        g_probing = false;
        if (err != 0) {
            std::printf("SKIPPED: no %s driver or device on this machine\n", api.c_str());
            return 0;
        }
    }

    // The roofline: a device-to-device copy of 1 GiB (bytes read + written per second).
    double copy_gbs = 0;
    {
        const int n = small ? 1 << 22 : 1 << 28;  // 16 MiB or 1 GiB, device memory only
        Buffer<float> a(nullptr, n), b(nullptr, n);
        check(a.device_malloc(g_itf), "device_malloc");
        check(b.device_malloc(g_itf), "device_malloc");
        Timing t = time_it([&] { check(halide_buffer_copy(nullptr, a.raw_buffer(), g_itf, b.raw_buffer()), "copy"); },
                           b.raw_buffer(), reps);
        copy_gbs = 2.0 * a.size_in_bytes() / (t.median_ms * 1e6);
        std::printf("device copy: %.1f GB/s (median of %d, %.3f ms)\n", copy_gbs, reps, t.median_ms);
    }
    segloss::bench::print_header();

    const std::vector<Shape> shapes = segloss::bench::gpu_bench_shapes(small);
    const auto ls = kernel_as("label_stats_i32", api, &label_stats_i32);
    const auto ce_grad = kernel_as("ce_softmax_i32_grad", api, &ce_softmax_i32_grad);
    const auto pw_norm = kernel_as("pointwise_norm", api, &pointwise_norm);
    const auto pw_total = kernel_as("pointwise_total", api, &pointwise_total);
    const auto stats_k = kernel_as("region_stats_softmax_i32", api, &region_stats_softmax_i32);
    const auto epilogue = kernel_as("region_epilogue", api, &region_epilogue);
    const auto dice_grad = kernel_as("region_grad_softmax_i32", api, &region_grad_softmax_i32);
    for (const Shape &s : shapes) {
        const int X = s.W, Y = s.H, Z = s.D, C = s.C, N = s.N;
        std::mt19937 rng(1);
        std::normal_distribution<float> nd(0.0f, 3.0f);
        Buffer<float> logits(X, Y, Z, C, N), grad(X, Y, Z, C, N), mask_line(X), ones_a(C), ones_b(C);
        Buffer<int32_t> labels(X, Y, Z, N);
        logits.for_each_value([&](float &v) { v = nd(rng); });
        labels.for_each_value([&](int32_t &v) { v = int32_t(rng() % C); });
        mask_line.fill(1.0f);
        ones_a.fill(1.0f);
        ones_b.fill(1.0f);
        Buffer<float> key(X, Y, Z, N);
        key.fill(0.0f);
        // The runtime's "no mask": one line of ones broadcast with zero strides.
        halide_dimension_t md[4] = {{0, X, 1, 0}, {0, Y, 0, 0}, {0, Z, 0, 0}, {0, N, 0, 0}};
        Buffer<float> mask(mask_line.data(), 4, md);
        using namespace segloss::abi;
        Buffer<float> ls_rows(kNumLabelSlots, Y, Z, N), ls_class(C, Y, Z, N), pw_rows(kNumPointwiseSlots, Y, Z, N);
        Buffer<double> stats(kNumRegionStats, C, N), group_loss(C, N), total(1), norm(1);
        Buffer<float> coef(kNumRegionCoefs, C, N), options(kNumRegionOptions), norm_scale(1), weights(C);
        options.fill(0.0f);
        options(kOptSmoothNr) = options(kOptSmoothDr) = 1e-5f;
        options(kOptLambdaRegion) = 1.0f;
        for (auto *b : {&grad, &ls_rows, &ls_class, &pw_rows, &coef, &norm_scale, &weights}) {
            check(b->device_malloc(g_itf), "device_malloc");
        }
        for (auto *b : {&stats, &group_loss, &total, &norm}) check(b->device_malloc(g_itf), "device_malloc");
        halide_buffer_t vl = view_of(logits), vy = view_of(labels), vm = view_of(mask), vk = view_of(key),
                        vg = view_of(grad), va = view_of(ones_a), vb = view_of(ones_b), vr1 = view_of(ls_rows),
                        vr2 = view_of(ls_class), vr3 = view_of(pw_rows), vs = view_of(stats), vgl = view_of(group_loss),
                        vt = view_of(total), vc = view_of(coef), vn = view_of(norm), vns = view_of(norm_scale),
                        vw = view_of(weights);
        const double logit_bytes = double(logits.size_in_bytes()), label_bytes = double(labels.size_in_bytes());
        auto report = [&](const char *loss, const Timing &t, double bytes) {
            segloss::bench::print_row(loss, s, t, bytes, copy_gbs);
        };
        const int ignore = -100;
        // Each kernel of a loss call alone (to see which one to tune), then the call's sequence.
        // ce, as a device call runs it: the target pre-pass (labels once), the normaliser, the
        // fused pass (logits, labels, gradient) and the loss from its line sums.
        auto ce_stats = [&] { check(ls(nullptr, &vy, C, 0, ignore, &vm, 0, &vr1, &vr2), "label_stats"); };
        auto ce_norm = [&] {
            check(pw_norm(nullptr, &vr1, &vr2, &va, kPwNormWeighted, 0, 0, 1, &vn, &vns, &vw), "pointwise_norm");
        };
        auto ce_pass = [&] {
            check(ce_grad(nullptr, &vl, &vy, 0, ignore, &vm, &va, &vb, 0.0f, 1.0f, 0.0f, 1.0f, &vk, -1.0f, 0, &vns, &vr3,
                          &vg),
                  "ce grad");
        };
        auto ce_total = [&] { check(pw_total(nullptr, &vr3, &vn, &vt), "pointwise_total"); };
        report(" label_stats", time_it(ce_stats, &vr2, reps), label_bytes);
        report(" pw_norm", time_it(ce_norm, &vw, reps), 0);
        report(" ce_grad", time_it(ce_pass, &vg, reps), label_bytes + 2 * logit_bytes);
        report(" pw_total", time_it(ce_total, &vt, reps), 0);
        Timing ce = time_it(
            [&] {
                ce_stats();
                ce_norm();
                ce_pass();
                ce_total();
            },
            &vg, reps);
        report("ce", ce, label_bytes + logit_bytes + label_bytes + logit_bytes);
        // dice: statistics (logits, labels), epilogue, gradient (logits, labels, gradient).
        auto dice_stats = [&] { check(stats_k(nullptr, &vl, &vy, 0, ignore, &vm, 0, &vs), "region_stats"); };
        auto dice_epilogue = [&] {
            check(epilogue(nullptr, &vs, ones_a, options, ones_a, ones_b, 1.0f, &vgl, &vt, &vc), "region_epilogue");
        };
        auto dice_pass = [&] { check(dice_grad(nullptr, &vl, &vy, 0, ignore, &vm, &vc, &vg), "region_grad"); };
        report(" reg_stats", time_it(dice_stats, &vs, reps), logit_bytes + label_bytes);
        report(" epilogue", time_it(dice_epilogue, &vc, reps), 0);
        report(" reg_grad", time_it(dice_pass, &vg, reps), label_bytes + 2 * logit_bytes);
        Timing dice = time_it(
            [&] {
                dice_stats();
                dice_epilogue();
                dice_pass();
            },
            &vg, reps);
        report("dice", dice, 2 * (logit_bytes + label_bytes) + logit_bytes);
        for (halide_buffer_t *v : {&vl, &vy, &vm, &vk, &vg, &va, &vb, &vr1, &vr2, &vr3, &vs, &vgl, &vt, &vc}) {
            halide_device_detach_native(nullptr, v);
        }
    }
    return 0;
}
