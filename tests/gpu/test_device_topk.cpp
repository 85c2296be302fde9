// SPDX-License-Identifier: Apache-2.0
// TopK's cut selected on the device (topk_hist, topk_cut, topk_tie, topk_mark) against the CPU
// call, which finds it on the host (find_topk_cut, itself checked against a sort elsewhere):
// many ties at the cut (quantised logits), every k from one voxel to all, the threshold mode,
// ignored voxels, a mask, mean and sum, a NaN logit, a batch whose candidates are all ignored.
// The value and gradient agree when both select the same voxels (a voxel off at the cut moves
// the gradient there by its whole term).
#include <cmath>
#include <cstdio>
#include <random>
#include <string>
#include <vector>

#include <catch2/catch.hpp>

#include "segloss/segloss.h"
#include "tests/support/context.h"
#include "tests/support/device_tensor.h"

namespace segloss::test {
namespace {

constexpr int64_t N = 2, C = 3, D = 4, H = 7, W = 13;
constexpr float kSentinel = 7.0f;

struct Inputs {
    HostTensor<float> logits{{N, C, D, H, W}, true}, mask{{N, D, H, W}};
    HostTensor<int32_t> labels{{N, D, H, W}};
    // Logits on a grid of 0.5 (many equal keys); some labels ignored (255).
    explicit Inputs(uint32_t seed, bool all_ignored = false) {
        std::mt19937 rng(seed);
        for (int64_t i = 0; i < logits.numel(); i++) logits.flat(i) = 0.5f * float(int(rng() % 9) - 4);
        for (int64_t i = 0; i < labels.numel(); i++) {
            labels.flat(i) = all_ignored || rng() % 10 == 0 ? 255 : int32_t(rng() % C);
            mask.flat(i) = rng() % 4 == 0 ? 0.0f : 1.0f;
        }
    }
};

struct Case {
    float k;                  // percent; 0: the threshold mode (t = 0.3)
    segloss_reduction_t reduction;
    bool mask;
};

LossResult<float> run(DeviceMemory *dev, const Case &c, Inputs &in) {
    segloss_loss_params_t p;
    REQUIRE(segloss_loss_params_init(&p, SEGLOSS_LOSS_TOPK) == SEGLOSS_STATUS_OK);
    if (c.k > 0) {
        p.k = c.k;
    } else {
        p.topk_mode = SEGLOSS_TOPK_THRESHOLD;
        p.t = 0.3f;
    }
    p.reduction = c.reduction;
    p.has_ignore_index = 1;
    p.ignore_index = 255;
    HostTensor<float> value({1}, false, kSentinel), grad(in.logits.shape(), true, kSentinel);
    if (!dev) {
        Ctx ctx;
        DLTensor l = in.logits.dl(), t = in.labels.dl(), m = in.mask.dl(), v = value.dl(), g = grad.dl();
        if (c.mask) p.loss_mask = &m;
        LossResult<float> r{segloss_loss_compute(ctx.ctx, &p, &l, &t, &v, &g, 0.5f), segloss_last_error(ctx.ctx), "",
                            value, grad};
        return r;
    }
    DeviceTensor<float> logits(*dev, in.logits), mask(*dev, in.mask);
    DeviceTensor<int32_t> labels(*dev, in.labels);
    DLTensor l = logits.dl(), t = labels.dl(), m = mask.dl();
    if (c.mask) p.loss_mask = &m;
    return loss_on_device(*dev, p, l, t, value, grad);
}

}  // namespace

TEST_CASE("topk's cut selected on the device matches the host's", "[gpu]") {
    const std::vector<Case> cases = {
        {10.0f, SEGLOSS_REDUCTION_MEAN, false}, {0.2f, SEGLOSS_REDUCTION_MEAN, true},
        {33.0f, SEGLOSS_REDUCTION_SUM, true},   {50.0f, SEGLOSS_REDUCTION_MEAN, false},
        {100.0f, SEGLOSS_REDUCTION_SUM, false}, {0.0f, SEGLOSS_REDUCTION_MEAN, true},
    };
    for (auto &[api, dev] : available_devices()) {
        uint32_t seed = 21;
        for (const Case &c : cases) {
            Inputs in(seed++);
            INFO(api << " k " << c.k << " reduction " << c.reduction << " mask " << c.mask);
            const LossResult<float> host = run(nullptr, c, in);
            REQUIRE(host.status == SEGLOSS_STATUS_OK);
            const LossResult<float> a = run(dev, c, in), b = run(dev, c, in);
            INFO(a.error << "; kernels " << a.kernels);
            REQUIRE(a.status == SEGLOSS_STATUS_OK);
            check_kernels_on(a.kernels, api);
            CHECK(a.kernels.find("topk_cut_") != std::string::npos);  // the device select, not the host's
            check_close(a.value, host.value, 1e-5, 1e-6, "value");
            check_close(a.grad, host.grad, 1e-4, 1e-6, "grad");
            CHECK(same_bits(a.value, b.value));
            CHECK(same_bits(a.grad, b.grad));
        }
        // Every candidate ignored: nothing selected, a zero loss and gradient, as on the host.
        Inputs none(5, true);
        const Case c{10.0f, SEGLOSS_REDUCTION_MEAN, false};
        const LossResult<float> host = run(nullptr, c, none), gpu = run(dev, c, none);
        REQUIRE(gpu.status == SEGLOSS_STATUS_OK);
        check_close(gpu.value, host.value, 0.0, 0.0, "value, all ignored");
        check_close(gpu.grad, host.grad, 0.0, 0.0, "grad, all ignored");
        // A NaN logit: NaN loss, as on the host.
        Inputs nan_in(6);
        nan_in.logits.flat(5) = NAN;
        nan_in.labels.flat(5) = 1;  // counted
        const LossResult<float> nan_host = run(nullptr, c, nan_in), nan_gpu = run(dev, c, nan_in);
        REQUIRE(std::isnan(nan_host.value.flat(0)));
        CHECK(std::isnan(nan_gpu.value.flat(0)));
        check_close(nan_gpu.grad, nan_host.grad, 1e-4, 1e-6, "grad with a NaN logit");
        std::printf("checked the device topk select (%s)\n", api.c_str());
    }
}

}  // namespace segloss::test
