// SPDX-License-Identifier: Apache-2.0
// The region stages (segloss_region_stats, segloss_region_epilogue, segloss_region_grad) on
// device memory, as distributed training uses them (the statistics gathered or reduced on the
// GPU between pass 1 and the epilogue): each stage's output against the same stage on host
// copies (the CPU path, checked against float64 references elsewhere), the three stages against
// the one-shot device call, bad labels with and without check_inputs, mixed devices.
#include <cmath>
#include <random>
#include <string>
#include <vector>

#include <catch2/catch.hpp>

#include "segloss/segloss.h"
#include "tests/support/context.h"
#include "tests/support/device_tensor.h"

namespace segloss::test {
namespace {

constexpr int64_t N = 2, C = 4, D = 3, H = 5, W = 11, V = D * H * W;
constexpr int64_t S = SEGLOSS_REGION_NUM_STATS, K = SEGLOSS_REGION_NUM_COEFS;
constexpr float kSentinel = 7.0f;

// Strided logits, index labels with ignored voxels (255) and an empty class (3 in image 0), a mask.
struct Inputs {
    HostTensor<float> logits{{N, C, D, H, W}, true}, mask{{N, D, H, W}};
    HostTensor<int32_t> labels{{N, D, H, W}};
    explicit Inputs(uint32_t seed) {
        std::mt19937 rng(seed);
        std::normal_distribution<float> g(0.0f, 3.0f);
        std::uniform_real_distribution<float> u(0.0f, 1.0f);
        for (int64_t i = 0; i < logits.numel(); i++) logits.flat(i) = std::fmax(-12.0f, std::fmin(12.0f, g(rng)));
        for (int64_t i = 0; i < labels.numel(); i++) {
            labels.flat(i) = rng() % 16 == 0 ? 255 : int32_t(rng() % (i < V ? C - 1 : C));
            mask.flat(i) = rng() % 5 == 0 ? 0.0f : u(rng);
        }
    }
};

struct Case {
    segloss_loss_kind_t loss;
    segloss_activation_t act;
    segloss_reduction_t reduction;
    bool include_background, batch, mask;
};

segloss_loss_params_t params_of(const Case &c) {
    segloss_loss_params_t p;
    REQUIRE(segloss_loss_params_init(&p, c.loss) == SEGLOSS_STATUS_OK);
    p.activation = c.act;
    p.reduction = c.reduction;
    p.include_background = c.include_background;
    p.batch = c.batch;
    p.has_ignore_index = 1;
    p.ignore_index = 255;
    return p;
}

std::vector<int64_t> value_shape(const Case &c) {
    if (c.reduction != SEGLOSS_REDUCTION_NONE) return {1};
    const bool generalized = c.loss == SEGLOSS_LOSS_GENERALIZED_DICE;
    return {c.batch ? 1 : N, generalized ? 1 : C - (c.include_background ? 0 : 1)};
}

// The outputs of the three stages (or of the one-shot call: no stats, no coef).
struct Outputs {
    HostTensor<double> stats{{N, C, S}, false, double(kSentinel)};
    HostTensor<float> coef{{N, C, K}, false, kSentinel};
    HostTensor<float> value, grad{{N, C, D, H, W}, true, kSentinel};
    explicit Outputs(const Case &c) : value(value_shape(c), false, kSentinel) {}
};

constexpr float kScale = 0.5f;

Outputs stages_on_host(const Case &c, Inputs &in) {
    Ctx ctx;
    segloss_loss_params_t p = params_of(c);
    DLTensor l = in.logits.dl(), t = in.labels.dl(), m = in.mask.dl();
    if (c.mask) p.loss_mask = &m;
    Outputs o(c);
    DLTensor s = o.stats.dl(), cf = o.coef.dl(), v = o.value.dl(), g = o.grad.dl();
    REQUIRE(segloss_region_stats(ctx.ctx, &p, &l, &t, &s) == SEGLOSS_STATUS_OK);
    REQUIRE(segloss_region_epilogue(ctx.ctx, &p, &s, &v, &cf, kScale) == SEGLOSS_STATUS_OK);
    REQUIRE(segloss_region_grad(ctx.ctx, &p, &l, &t, &cf, &g) == SEGLOSS_STATUS_OK);
    return o;
}

// The inputs and outputs of a device call, in device memory; outputs start as the sentinel.
struct OnDevice {
    OnDevice(DeviceMemory &dev, Inputs &in, Outputs &out)
        : logits(dev, in.logits), mask(dev, in.mask), labels(dev, in.labels), stats(dev, out.stats),
          coef(dev, out.coef), value(dev, out.value), grad(dev, out.grad) {}
    DeviceTensor<float> logits, mask;
    DeviceTensor<int32_t> labels;
    DeviceTensor<double> stats;
    DeviceTensor<float> coef, value, grad;
    Outputs download(const Case &c) {
        Outputs o(c);
        o.stats = stats.download();
        o.coef = coef.download();
        o.value = value.download();
        o.grad = grad.download();
        return o;
    }
};

struct DeviceRun {
    segloss_status_t stats, epilogue, grad;
    std::string stats_error, error;
    Outputs out;
};

// The three stages on the device's stream; check_inputs as given.
DeviceRun stages_on_device(DeviceMemory &dev, const Case &c, Inputs &in, bool check_inputs = false) {
    Ctx ctx;
    REQUIRE(segloss_context_set_stream(ctx.ctx, dev.device(), dev.stream()) == SEGLOSS_STATUS_OK);
    segloss_loss_params_t p = params_of(c);
    p.check_inputs = check_inputs;
    Outputs init(c);
    OnDevice d(dev, in, init);
    DLTensor l = d.logits.dl(), t = d.labels.dl(), m = d.mask.dl();
    if (c.mask) p.loss_mask = &m;
    DLTensor s = d.stats.dl(), cf = d.coef.dl(), v = d.value.dl(), g = d.grad.dl();
    DeviceRun r{segloss_region_stats(ctx.ctx, &p, &l, &t, &s), SEGLOSS_STATUS_INTERNAL, SEGLOSS_STATUS_INTERNAL,
                segloss_last_error(ctx.ctx), "", Outputs(c)};
    r.epilogue = segloss_region_epilogue(ctx.ctx, &p, &s, &v, &cf, kScale);
    r.error = segloss_last_error(ctx.ctx);
    if (r.epilogue == SEGLOSS_STATUS_OK) r.grad = segloss_region_grad(ctx.ctx, &p, &l, &t, &cf, &g);
    r.out = d.download(c);
    return r;
}

// The one-shot device call's value and gradient.
Outputs one_shot_on_device(DeviceMemory &dev, const Case &c, Inputs &in) {
    Ctx ctx;
    REQUIRE(segloss_context_set_stream(ctx.ctx, dev.device(), dev.stream()) == SEGLOSS_STATUS_OK);
    segloss_loss_params_t p = params_of(c);
    Outputs init(c);
    OnDevice d(dev, in, init);
    DLTensor l = d.logits.dl(), t = d.labels.dl(), m = d.mask.dl(), v = d.value.dl(), g = d.grad.dl();
    if (c.mask) p.loss_mask = &m;
    REQUIRE(segloss_loss_compute(ctx.ctx, &p, &l, &t, &v, &g, kScale) == SEGLOSS_STATUS_OK);
    return d.download(c);
}

// Device results against host ones that are finite (the inputs hold no NaN).
template <typename T>
void check_finite_close(const HostTensor<T> &device, const HostTensor<T> &host, double rel, double abs, const char *what) {
    INFO(what);
    for (int64_t i = 0; i < host.numel(); i++) REQUIRE(std::isfinite(double(host.flat(i))));
    check_close(device, host, rel, abs, what);
}

}  // namespace

TEST_CASE("device region stages match the CPU stages and compose to the one-shot device call", "[gpu]") {
    // Softmax with int32 labels: the OpenCL set the CI runs on pocl has that row of each stage
    // (the CUDA set has every row; their kernels are checked one by one in test_gpu_kernels.cpp).
    const std::vector<Case> cases = {
        // loss, activation, reduction, include_background, batch, mask
        {SEGLOSS_LOSS_DICE, SEGLOSS_ACTIVATION_SOFTMAX, SEGLOSS_REDUCTION_MEAN, true, false, true},
        {SEGLOSS_LOSS_TVERSKY, SEGLOSS_ACTIVATION_SOFTMAX, SEGLOSS_REDUCTION_NONE, false, false, false},
        {SEGLOSS_LOSS_GENERALIZED_DICE, SEGLOSS_ACTIVATION_SOFTMAX, SEGLOSS_REDUCTION_SUM, false, true, true},
    };
    for (const auto &[api, dev] : available_devices()) {
        uint32_t seed = 11;
        for (const Case &c : cases) {
            INFO(api << " " << segloss_loss_name(c.loss) << " reduction " << c.reduction);
            Inputs in(seed++);
            const Outputs host = stages_on_host(c, in);
            const DeviceRun run = stages_on_device(*dev, c, in);
            INFO(run.error);
            INFO(run.stats_error);
            REQUIRE(run.stats == SEGLOSS_STATUS_OK);
            REQUIRE(run.epilogue == SEGLOSS_STATUS_OK);
            REQUIRE(run.grad == SEGLOSS_STATUS_OK);
            // The same float32 line sums, added in float64 in another fixed order on the GPU.
            check_finite_close(run.out.stats, host.stats, 1e-6, 1e-9, "stats");
            check_finite_close(run.out.coef, host.coef, 1e-4, 1e-7, "coef");
            check_finite_close(run.out.value, host.value, 1e-5, 1e-6, "value");
            check_finite_close(run.out.grad, host.grad, 1e-4, 1e-6, "grad");
            CHECK(run.out.grad.gaps_all([](float f) { return f == kSentinel; }));
            // The stages are the one-shot call's kernels with the caller's memory between them.
            const Outputs once = one_shot_on_device(*dev, c, in);
            CHECK(same_bits(run.out.value, once.value));
            CHECK(same_bits(run.out.grad, once.grad));
            // Deterministic: the stages again give the same bits.
            const DeviceRun again = stages_on_device(*dev, c, in);
            CHECK(same_bits(again.out.stats, run.out.stats));
            CHECK(same_bits(again.out.coef, run.out.coef));
            CHECK(same_bits(again.out.grad, run.out.grad));
        }
        std::printf("checked the device region stages (%s)\n", api.c_str());
    }
}

TEST_CASE("device region stages: bad labels, check_inputs and mixed devices", "[gpu]") {
    const Case dice{SEGLOSS_LOSS_DICE, SEGLOSS_ACTIVATION_SOFTMAX, SEGLOSS_REDUCTION_NONE, true, false, false};
    for (const auto &[api, dev] : available_devices()) {
        INFO(api);
        Inputs in(3);
        in.labels.flat(V + 7) = 9;  // image 1: a label outside [0, C)

        // Without check_inputs nothing is read back: image 1's loss is NaN, image 0's is not.
        const DeviceRun r = stages_on_device(*dev, dice, in);
        REQUIRE(r.stats == SEGLOSS_STATUS_OK);
        REQUIRE(r.epilogue == SEGLOSS_STATUS_OK);
        for (int64_t k = 0; k < C; k++) {
            CHECK(std::isfinite(r.out.value.flat(k)));
            CHECK(std::isnan(r.out.value.flat(C + k)));
        }
        // With check_inputs: the CPU's status, and neither value nor coef written.
        const DeviceRun checked = stages_on_device(*dev, dice, in, true);
        CHECK(checked.epilogue == SEGLOSS_STATUS_INVALID_LABEL);
        CHECK(checked.error.find("outside [0, 4)") != std::string::npos);
        for (int64_t i = 0; i < checked.out.value.numel(); i++) REQUIRE(checked.out.value.flat(i) == kSentinel);
        for (int64_t i = 0; i < checked.out.coef.numel(); i++) REQUIRE(checked.out.coef.flat(i) == kSentinel);

        // Every stage's tensors on one device; compound losses run as one call only.
        Ctx ctx;
        REQUIRE(segloss_context_set_stream(ctx.ctx, dev->device(), dev->stream()) == SEGLOSS_STATUS_OK);
        segloss_loss_params_t p = params_of(dice);
        Outputs host(dice), init(dice);
        OnDevice d(*dev, in, init);
        DLTensor l = d.logits.dl(), t = d.labels.dl(), s = d.stats.dl(), cf = d.coef.dl(), v = d.value.dl(),
                 g = d.grad.dl();
        DLTensor host_s = host.stats.dl(), host_cf = host.coef.dl(), host_v = host.value.dl(), host_g = host.grad.dl();
        CHECK(segloss_region_stats(ctx.ctx, &p, &l, &t, &host_s) == SEGLOSS_STATUS_DEVICE_MISMATCH);
        CHECK(segloss_region_epilogue(ctx.ctx, &p, &s, &host_v, &cf, 1.0f) == SEGLOSS_STATUS_DEVICE_MISMATCH);
        CHECK(segloss_region_epilogue(ctx.ctx, &p, &s, &v, &host_cf, 1.0f) == SEGLOSS_STATUS_DEVICE_MISMATCH);
        CHECK(segloss_region_grad(ctx.ctx, &p, &l, &t, &host_cf, &g) == SEGLOSS_STATUS_DEVICE_MISMATCH);
        CHECK(segloss_region_grad(ctx.ctx, &p, &l, &t, &cf, &host_g) == SEGLOSS_STATUS_DEVICE_MISMATCH);
        DLTensor f32_stats = cf;  // float32 where float64 is due
        CHECK(segloss_region_stats(ctx.ctx, &p, &l, &t, &f32_stats) == SEGLOSS_STATUS_UNSUPPORTED);
        segloss_loss_params_t dice_ce;
        REQUIRE(segloss_loss_params_init(&dice_ce, SEGLOSS_LOSS_DICE_CE) == SEGLOSS_STATUS_OK);
        CHECK(segloss_region_stats(ctx.ctx, &dice_ce, &l, &t, &s) == SEGLOSS_STATUS_UNSUPPORTED);
        // None of the refused calls wrote to the device outputs.
        const Outputs after = d.download(dice);
        CHECK(same_bits(after.stats, init.stats));
        CHECK(same_bits(after.coef, init.coef));
        CHECK(same_bits(after.value, init.value));
        CHECK(same_bits(after.grad, init.grad));
    }
}

}  // namespace segloss::test
