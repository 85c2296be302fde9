// SPDX-License-Identifier: Apache-2.0
// The boundary losses (boundary, hausdorff_dt) on device memory, against the same call on host
// copies (the CPU path, checked against float64 references elsewhere): the distance maps, the
// counts and the reductions all on the device; a precomputed target map on the device; masks,
// strided logits, ignored voxels, every reduction, the Dice compounds (their region part's
// epilogue on the device too); two runs with the same bits; bad labels with and without
// check_inputs.
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

constexpr int64_t N = 2, C = 3, D = 3, H = 6, W = 11, V = D * H * W;
constexpr float kSentinel = 7.0f;
const double kSpacing[] = {2.0, 1.0, 0.75};

// Labels: a ball of class 1 and a slab of class 2 in image 0, class 2 absent from image 1 (an
// empty mask), ignored voxels (255); the dense maps their one-hot rows; logits around them.
struct Inputs {
    HostTensor<float> logits{{N, C, D, H, W}, true}, dense{{N, C, D, H, W}}, mask{{N, D, H, W}};
    HostTensor<uint8_t> u8{{N, 1, D, H, W}};
    HostTensor<int32_t> i32{{N, D, H, W}};
    explicit Inputs(uint32_t seed) {
        std::mt19937 rng(seed);
        std::normal_distribution<float> g(0.0f, 2.0f);
        std::uniform_real_distribution<float> u(0.0f, 1.0f);
        for (int64_t i = 0; i < N * V; i++) {
            const int64_t n = i / V, v = i % V, z = v / (H * W), y = v / W % H, x = v % W;
            const double dz = (z - 1.0) * 2.0, dy = y - 2.5, dx = (x - 5.0) * 0.75;
            int label = dz * dz + dy * dy + dx * dx < 6.0 ? 1 : (n == 0 && x >= 9) ? 2 : 0;
            if (rng() % 16 == 0) label = 255;
            u8.flat(i) = uint8_t(label);
            i32.flat(i) = label;
            mask.flat(i) = rng() % 5 == 0 ? 0.0f : u(rng);
            for (int64_t c = 0; c < C; c++) {
                dense.flat((n * C + c) * V + v) = label == c ? 1.0f : 0.0f;
                logits.flat((n * C + c) * V + v) = g(rng) + (label == c ? 2.0f : 0.0f);
            }
        }
    }
};

enum class Target { u8, i32, dense };

struct Case {
    segloss_loss_kind_t loss;
    segloss_activation_t act;
    Target target;
    segloss_reduction_t reduction;
    bool mask, batch, include_background, precomputed;
};

segloss_loss_params_t params_of(const Case &c) {
    segloss_loss_params_t p;
    REQUIRE(segloss_loss_params_init(&p, c.loss) == SEGLOSS_STATUS_OK);
    p.activation = c.act;
    p.reduction = c.reduction;
    segloss_loss_kind_t region, pointwise;
    if (segloss_loss_parts(c.loss, &region, &pointwise) != SEGLOSS_STATUS_OK) {  // a compound's are its parts'
        p.batch = c.batch;
        p.include_background = c.include_background;
    }
    p.spacing = kSpacing;
    p.num_spacing = 3;
    if (c.target != Target::dense) {
        p.has_ignore_index = 1;
        p.ignore_index = 255;
    }
    if (c.loss == SEGLOSS_LOSS_HAUSDORFF_DT) p.alpha = 1.5f;
    return p;
}

int64_t maps_of(const Case &c) { return C - (c.include_background ? 0 : 1); }

std::vector<int64_t> value_shape(const Case &c) {
    if (c.reduction != SEGLOSS_REDUCTION_NONE) return {1};
    return {c.batch ? 1 : N, maps_of(c)};
}

// The target map a user would precompute for the case (segloss_distance_compute on the host).
HostTensor<float> target_map(const Case &c, Inputs &in) {
    Ctx ctx;
    segloss_distance_params_t d;
    REQUIRE(segloss_distance_params_init(&d) == SEGLOSS_STATUS_OK);
    const bool boundary = c.loss == SEGLOSS_LOSS_BOUNDARY || c.loss == SEGLOSS_LOSS_DICE_BOUNDARY;
    d.kind = boundary ? SEGLOSS_DISTANCE_SIGNED : SEGLOSS_DISTANCE_BOUNDARY;
    d.include_background = c.include_background;
    d.spacing = kSpacing;
    d.num_spacing = 3;
    HostTensor<float> map({N, maps_of(c), D, H, W});
    DLTensor s = c.target == Target::dense ? in.dense.dl() : in.i32.dl(), m = map.dl();
    if (c.target != Target::dense) {
        d.num_classes = C;
        d.has_ignore_index = 1;
        d.ignore_index = 255;
    }
    REQUIRE(segloss_distance_compute(ctx.ctx, &d, &s, &m, nullptr) == SEGLOSS_STATUS_OK);
    return map;
}

using Result = LossResult<float>;

Result run_host(const Case &c, Inputs &in) {
    Ctx ctx;
    segloss_loss_params_t p = params_of(c);
    HostTensor<float> map = target_map(c, in);
    DLTensor l = in.logits.dl(), m = in.mask.dl(), tm = map.dl();
    DLTensor t = c.target == Target::u8 ? in.u8.dl() : c.target == Target::i32 ? in.i32.dl() : in.dense.dl();
    if (c.mask) p.loss_mask = &m;
    if (c.precomputed) p.target_distance = &tm;
    Result r{SEGLOSS_STATUS_OK, "", "", HostTensor<float>(value_shape(c), false, kSentinel),
             HostTensor<float>(in.logits.shape(), true, kSentinel)};
    DLTensor v = r.value.dl(), g = r.grad.dl();
    r.status = segloss_loss_compute(ctx.ctx, &p, &l, &t, &v, &g, 0.5f);
    r.error = segloss_last_error(ctx.ctx);
    return r;
}

Result run_device(DeviceMemory &dev, const Case &c, Inputs &in, bool check_inputs = false) {
    segloss_loss_params_t p = params_of(c);
    p.check_inputs = check_inputs;
    HostTensor<float> map = target_map(c, in);
    DeviceTensor<float> logits(dev, in.logits), mask(dev, in.mask), dense(dev, in.dense), map_d(dev, map);
    DeviceTensor<uint8_t> u8(dev, in.u8);
    DeviceTensor<int32_t> i32(dev, in.i32);
    DLTensor l = logits.dl(), m = mask.dl(), tm = map_d.dl();
    DLTensor t = c.target == Target::u8 ? u8.dl() : c.target == Target::i32 ? i32.dl() : dense.dl();
    if (c.mask) p.loss_mask = &m;
    if (c.precomputed) p.target_distance = &tm;
    HostTensor<float> value_init(value_shape(c), false, kSentinel), grad_init(in.logits.shape(), true, kSentinel);
    return loss_on_device(dev, p, l, t, value_init, grad_init);
}

// The cases each API's kernels cover: the OpenCL set (what the CI runs on pocl) has uint8
// labels with probabilities (activation none) and the sigmoid with dense targets (whose target
// map, from a dense map, the caller precomputes there); CUDA every row.
std::vector<Case> cases_of(const std::string &api) {
    // loss, activation, target, reduction, mask, batch, include_background, precomputed
    std::vector<Case> cases = {
        {SEGLOSS_LOSS_BOUNDARY, SEGLOSS_ACTIVATION_NONE, Target::u8, SEGLOSS_REDUCTION_MEAN, true, false, true, false},
        {SEGLOSS_LOSS_BOUNDARY, SEGLOSS_ACTIVATION_NONE, Target::u8, SEGLOSS_REDUCTION_NONE, false, true, false, false},
        {SEGLOSS_LOSS_HAUSDORFF_DT, SEGLOSS_ACTIVATION_SIGMOID, Target::dense, SEGLOSS_REDUCTION_SUM, true, false, true,
         true},
        {SEGLOSS_LOSS_HAUSDORFF_DT, SEGLOSS_ACTIVATION_SIGMOID, Target::dense, SEGLOSS_REDUCTION_NONE, false, false,
         true, true},
        // The Dice compounds (their parts' default options: no background in the boundary part).
        {SEGLOSS_LOSS_DICE_BOUNDARY, SEGLOSS_ACTIVATION_NONE, Target::u8, SEGLOSS_REDUCTION_MEAN, true, false, false,
         false},
        {SEGLOSS_LOSS_DICE_HAUSDORFF, SEGLOSS_ACTIVATION_SIGMOID, Target::dense, SEGLOSS_REDUCTION_SUM, false, false,
         false, true},
    };
    if (api == "cuda") {
        cases.push_back({SEGLOSS_LOSS_BOUNDARY, SEGLOSS_ACTIVATION_SOFTMAX, Target::i32, SEGLOSS_REDUCTION_MEAN, true,
                         false, false, false});
        cases.push_back({SEGLOSS_LOSS_HAUSDORFF_DT, SEGLOSS_ACTIVATION_SOFTMAX, Target::i32, SEGLOSS_REDUCTION_MEAN,
                         false, true, false, false});
        cases.push_back({SEGLOSS_LOSS_HAUSDORFF_DT, SEGLOSS_ACTIVATION_SIGMOID, Target::dense, SEGLOSS_REDUCTION_MEAN,
                         true, false, true, false});
    }
    return cases;
}

}  // namespace

TEST_CASE("boundary losses on device memory match the CPU and repeat their bits", "[gpu]") {
    for (auto &[api, dev] : available_devices()) {
        uint32_t seed = 3;
        for (const Case &c : cases_of(api)) {
            Inputs in(seed++);
            INFO(api << " " << segloss_loss_name(c.loss) << " activation " << c.act << " target " << int(c.target)
                      << " reduction " << c.reduction << " mask " << c.mask << " batch " << c.batch << " background "
                      << c.include_background << " precomputed " << c.precomputed);
            const Result host = run_host(c, in);
            INFO("host: " << host.error);
            REQUIRE(host.status == SEGLOSS_STATUS_OK);
            const Result a = run_device(*dev, c, in), b = run_device(*dev, c, in);
            INFO("device: " << a.error << "; kernels " << a.kernels);
            REQUIRE(a.status == SEGLOSS_STATUS_OK);
            // Every kernel on the device, the reductions included (no host step).
            check_kernels_on(a.kernels, api);
            CHECK(a.kernels.find("boundary_total_") != std::string::npos);
            for (int64_t i = 0; i < host.value.numel(); i++) REQUIRE(std::isfinite(double(host.value.flat(i))));
            check_close(a.value, host.value, 1e-5, 1e-6, "value");
            check_close(a.grad, host.grad, 1e-4, 1e-6, "grad");
            CHECK(a.grad.gaps_all([](float f) { return f == kSentinel; }));
            CHECK(same_bits(a.value, b.value));
            CHECK(same_bits(a.grad, b.grad));
        }
        std::printf("checked the device boundary losses (%s)\n", api.c_str());  // tools/gpu-check counts these
    }
}

TEST_CASE("boundary losses on device memory: bad labels with and without check_inputs", "[gpu]") {
    for (auto &[api, dev] : available_devices()) {
        INFO(api);
        Inputs in(9);
        const Case c{SEGLOSS_LOSS_BOUNDARY, SEGLOSS_ACTIVATION_NONE, Target::u8, SEGLOSS_REDUCTION_MEAN, false, false,
                     true, false};
        in.u8.flat(17) = 5;  // a label outside [0, C), not ignore_index
        // Without check_inputs the call does not wait: the loss and gradient are NaN.
        const Result quiet = run_device(*dev, c, in);
        INFO(quiet.error);
        REQUIRE(quiet.status == SEGLOSS_STATUS_OK);
        CHECK(std::isnan(quiet.value.flat(0)));
        // With it, the CPU's status, nothing written.
        const Result checked = run_device(*dev, c, in, true);
        CHECK(checked.status == SEGLOSS_STATUS_INVALID_LABEL);
        CHECK(checked.value.flat(0) == kSentinel);
        CHECK(checked.grad.gaps_all([](float f) { return f == kSentinel; }));
        int64_t written = 0;
        for (int64_t i = 0; i < checked.grad.numel(); i++) written += checked.grad.flat(i) != kSentinel;
        CHECK(written == 0);
    }
}

}  // namespace segloss::test
