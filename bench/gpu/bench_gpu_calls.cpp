// SPDX-License-Identifier: Apache-2.0
// Whole loss calls on a GPU, as a training step makes them: segloss_loss_compute on tensors in
// device memory, on the caller's stream, value and gradient (the runtime's checks, its small
// host-to-device copies and every kernel launch included), against the device's measured copy
// rate in the same run. tools/gpu-check runs it beside tools/gpu_torch_baseline.py (PyTorch's
// forward+backward of the same losses, same shapes, same card).
//   segloss_bench_gpu_calls [cuda|opencl] [repetitions] [small]   (small: tiny shapes, to check
//   the harness itself, e.g. on pocl)
// Prints one line per (loss, shape): median, min and max ms of a call (synchronised on the
// stream), GB/s of the bytes the call must move, and that rate as a fraction of the copy rate.
#include <cstdio>
#include <cstdlib>
#include <functional>
#include <random>
#include <string>
#include <vector>

#include "segloss/segloss.h"
#include "gpu_timing.h"
#include "tests/support/device_memory.h"

namespace {

using segloss::bench::Shape;
using segloss::bench::Timing;
using segloss::test::DeviceMemory;

// Timing of `body`, waited for on the stream.
Timing time_it(DeviceMemory &dev, const std::function<void()> &body, int reps) {
    return segloss::bench::time_on_device(body, [&dev] { dev.synchronize(); }, reps);
}

// A compact tensor in device memory, filled from `host`.
template <typename T>
struct DeviceArray {
    DeviceMemory &dev;
    std::vector<int64_t> shape, strides;
    size_t bytes;
    void *mem;
    DeviceArray(DeviceMemory &d, std::vector<int64_t> s, const std::vector<T> &host) : dev(d), shape(std::move(s)) {
        strides.assign(shape.size(), 1);
        for (size_t i = shape.size() - 1; i > 0; i--) strides[i - 1] = strides[i] * shape[i];
        bytes = host.size() * sizeof(T);
        mem = dev.alloc(bytes);
        dev.upload(mem, host.data(), bytes);
    }
    ~DeviceArray() { dev.release(mem); }
    DeviceArray(const DeviceArray &) = delete;
    DeviceArray &operator=(const DeviceArray &) = delete;
    DLTensor dl(DLDataType dtype) {
        DLTensor t{};
        t.data = mem;
        t.device = dev.device();
        t.ndim = int32_t(shape.size());
        t.dtype = dtype;
        t.shape = shape.data();
        t.strides = strides.data();
        return t;
    }
};

// A row this API's kernel set does not have (the OpenCL set is the CI's covering subset):
// one line saying so, and the bench goes on.
bool built(segloss_status_t s, segloss_context_t ctx, const char *what) {
    if (s != SEGLOSS_STATUS_UNSUPPORTED) return true;
    std::printf("%-12s not built for this API: %s\n", what, segloss_last_error(ctx));
    return false;
}

void check(segloss_status_t s, segloss_context_t ctx, const char *what) {
    if (s != SEGLOSS_STATUS_OK) {
        std::fprintf(stderr, "segloss_bench_gpu_calls: %s failed: %s\n", what, segloss_last_error(ctx));
        std::exit(1);
    }
}

}  // namespace

int main(int argc, char **argv) {
    const std::string api = argc > 1 ? argv[1] : "cuda";
    const int reps = argc > 2 ? std::atoi(argv[2]) : 20;
    const bool small = argc > 3 && std::string(argv[3]) == "small";
    std::string why;
    std::unique_ptr<DeviceMemory> dev = segloss::test::open_device(api, why);
    if (!dev) {
        std::printf("SKIPPED: no %s device here (%s)\n", api.c_str(), why.c_str());
        return 0;
    }
    segloss_context_t ctx = nullptr;
    if (segloss_context_create(&ctx) != SEGLOSS_STATUS_OK) return 1;
    check(segloss_context_set_stream(ctx, dev->device(), dev->stream()), ctx, "segloss_context_set_stream");

    // The roofline: a device-to-device copy of 1 GiB (bytes read + written per second).
    double copy_gbs = 0;
    {
        const size_t bytes = small ? size_t(1) << 24 : size_t(1) << 30;
        void *a = dev->alloc(bytes), *b = dev->alloc(bytes);
        const Timing t = time_it(*dev, [&] { dev->copy(b, a, bytes); }, reps);
        copy_gbs = 2.0 * double(bytes) / (t.median_ms * 1e6);
        std::printf("device copy: %.1f GB/s (median of %d, %.3f ms)\n", copy_gbs, reps, t.median_ms);
        dev->release(a);
        dev->release(b);
    }
    segloss::bench::print_header();

    const std::vector<Shape> shapes = segloss::bench::gpu_bench_shapes(small);
    const DLDataType f32{kDLFloat, 32, 1}, i32{kDLInt, 32, 1};
    for (const Shape &s : shapes) {
        const int64_t voxels = int64_t(s.N) * s.D * s.H * s.W;
        std::mt19937 rng(1);
        std::normal_distribution<float> nd(0.0f, 3.0f);
        std::vector<float> logits_host(static_cast<size_t>(voxels * s.C));
        std::vector<int32_t> labels_host(static_cast<size_t>(voxels));
        for (float &v : logits_host) v = nd(rng);
        for (int32_t &v : labels_host) v = int32_t(rng() % uint32_t(s.C));
        DeviceArray<float> logits(*dev, {s.N, s.C, s.D, s.H, s.W}, logits_host),
            grad(*dev, {s.N, s.C, s.D, s.H, s.W}, logits_host), value(*dev, {1}, std::vector<float>(1, 0.0f));
        DeviceArray<int32_t> labels(*dev, {s.N, s.D, s.H, s.W}, labels_host);
        DLTensor l = logits.dl(f32), t = labels.dl(i32), g = grad.dl(f32), v = value.dl(f32);
        const double logit_bytes = double(logits.bytes), label_bytes = double(labels.bytes);
        const double map_bytes = logit_bytes * double(s.C - 1) / double(s.C);
        // The bytes each loss must move at least: ce reads the labels twice (its normaliser's
        // pre-pass, then the fused pass), the region losses read logits and labels twice
        // (statistics, gradient); all write the gradient once. topk writes its keys and reads
        // them back in its gradient pass (its select reads them too, not counted); dice_topk
        // reads logits and labels three times (statistics, keys, gradient) and the keys twice;
        // dpce writes and reads its weights;
        // the boundary losses write and read their distance maps (C - 1 channels; the
        // brute-force EDT passes are bound by arithmetic, not by these bytes).
        struct Loss {
            const char *name;
            segloss_loss_kind_t kind;
            double bytes;
        };
        const Loss losses[] = {
            {"ce", SEGLOSS_LOSS_CE, 2 * label_bytes + 2 * logit_bytes},
            {"dice", SEGLOSS_LOSS_DICE, 2 * (logit_bytes + label_bytes) + logit_bytes},
            {"dice_ce", SEGLOSS_LOSS_DICE_CE, 2 * (logit_bytes + label_bytes) + logit_bytes},
            {"topk", SEGLOSS_LOSS_TOPK, 2 * label_bytes + 3 * logit_bytes + 3 * label_bytes},
            {"dice_topk", SEGLOSS_LOSS_DICE_TOPK, 3 * (logit_bytes + label_bytes) + logit_bytes + 2 * label_bytes},
            {"dpce", SEGLOSS_LOSS_DPCE, 3 * label_bytes + 2 * logit_bytes + 2 * label_bytes},
            {"boundary", SEGLOSS_LOSS_BOUNDARY, 3 * label_bytes + 2 * logit_bytes + 2 * map_bytes},
            {"hausdorff_dt", SEGLOSS_LOSS_HAUSDORFF_DT, 3 * label_bytes + 3 * logit_bytes + 4 * map_bytes},
        };
        for (const Loss &loss : losses) {
            segloss_loss_params_t p;
            check(segloss_loss_params_init(&p, loss.kind), ctx, "segloss_loss_params_init");
            if (!built(segloss_loss_compute(ctx, &p, &l, &t, &v, &g, 1.0f), ctx, loss.name)) continue;
            const Timing tm = time_it(
                *dev, [&] { check(segloss_loss_compute(ctx, &p, &l, &t, &v, &g, 1.0f), ctx, loss.name); }, reps);
            segloss::bench::print_row(loss.name, s, tm, loss.bytes, copy_gbs);
        }
        // The boundary loss's target map alone (segloss_distance_compute, the signed map).
        {
            segloss_distance_params_t dp;
            check(segloss_distance_params_init(&dp), ctx, "segloss_distance_params_init");
            dp.kind = SEGLOSS_DISTANCE_SIGNED;
            dp.num_classes = s.C;
            DeviceArray<float> map(*dev, {s.N, s.C - 1, s.D, s.H, s.W}, std::vector<float>(size_t(voxels * (s.C - 1))));
            DLTensor m = map.dl(f32);
            if (!built(segloss_distance_compute(ctx, &dp, &t, &m, nullptr), ctx, "distance")) continue;
            const Timing tm = time_it(
                *dev, [&] { check(segloss_distance_compute(ctx, &dp, &t, &m, nullptr), ctx, "distance"); }, reps);
            segloss::bench::print_row("distance_signed", s, tm, label_bytes + map_bytes, copy_gbs);
        }
    }
    std::printf("kernels of the last call: %s\n", segloss_last_kernel(ctx));
    segloss_context_destroy(ctx);
    return 0;
}
