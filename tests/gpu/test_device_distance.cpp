// SPDX-License-Identifier: Apache-2.0
// segloss_distance_compute on tensors in a GPU's memory, against the same call on host copies
// (the CPU path, checked against SciPy and float64 references elsewhere): every map kind, index
// maps and logits, strided outputs (their gaps untouched), the flags on the device, two runs
// with the same bits; bad labels, mixed devices and int64 labels on a device.
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

constexpr int64_t N = 2, C = 4, D = 3, H = 6, W = 13, V = D * H * W;
constexpr float kSentinel = -7.0f;
const double kSpacing[] = {2.0, 1.25, 0.8};  // D, H, W

// Structures, not noise: image 0 a ball of class 1 and a plane of class 2 one voxel thin in
// background, no class 3 (an empty mask), ignored voxels (255); image 1 all class 1 (a full
// mask, an empty background). Logits: noise around the same ball.
struct Inputs {
    HostTensor<uint8_t> u8{{N, 1, D, H, W}};
    HostTensor<int32_t> i32{{N, D, H, W}, true};
    HostTensor<float> logits{{N, C, D, H, W}, true};
    explicit Inputs(uint32_t seed) {
        std::mt19937 rng(seed);
        std::normal_distribution<float> g(0.0f, 2.0f);
        for (int64_t i = 0; i < N * V; i++) {
            const int64_t n = i / V, v = i % V, z = v / (H * W), y = v / W % H, x = v % W;
            const double dz = (z - 1.0) * 2.0, dy = (y - 2.5) * 1.25, dx = (x - 6.0) * 0.8;
            const bool ball = dz * dz + dy * dy + dx * dx < 9.0;
            int label = ball ? 1 : y == 4 ? 2 : 0;
            if (n == 1) label = 1;
            else if (rng() % 16 == 0) label = 255;
            u8.flat(i) = uint8_t(label);
            i32.flat(i) = label;
            for (int64_t c = 0; c < C; c++) logits.flat((n * C + c) * V + v) = g(rng) + (c == 1 && ball ? 4.0f : -1.0f);
        }
    }
};

enum class Source { u8, i32, sigmoid };

struct Case {
    Source source;
    segloss_distance_kind_t kind;
    bool include_background;
};

segloss_distance_params_t params_of(const Case &c) {
    segloss_distance_params_t p;
    REQUIRE(segloss_distance_params_init(&p) == SEGLOSS_STATUS_OK);
    p.kind = c.kind;
    p.include_background = c.include_background;
    p.spacing = kSpacing;
    p.num_spacing = 3;
    if (c.source == Source::sigmoid) {
        p.activation = SEGLOSS_ACTIVATION_SIGMOID;
    } else {
        p.num_classes = C;
        p.has_ignore_index = 1;
        p.ignore_index = 255;
    }
    return p;
}

struct Outputs {
    HostTensor<float> distance;
    HostTensor<int32_t> flags;
    explicit Outputs(const Case &c)
        : distance({N, C - (c.include_background ? 0 : 1), D, H, W}, true, kSentinel),
          flags({N, C - (c.include_background ? 0 : 1)}, false, -1) {}
};

DLTensor source_dl(const Case &c, Inputs &in) {
    return c.source == Source::u8 ? in.u8.dl() : c.source == Source::i32 ? in.i32.dl() : in.logits.dl();
}

Outputs on_host(const Case &c, Inputs &in) {
    Ctx ctx;
    segloss_distance_params_t p = params_of(c);
    Outputs o(c);
    DLTensor s = source_dl(c, in), d = o.distance.dl(), f = o.flags.dl();
    REQUIRE(segloss_distance_compute(ctx.ctx, &p, &s, &d, &f) == SEGLOSS_STATUS_OK);
    return o;
}

Outputs on_device(const std::string &api, DeviceMemory &dev, const Case &c, Inputs &in) {
    Ctx ctx;
    REQUIRE(segloss_context_set_stream(ctx.ctx, dev.device(), dev.stream()) == SEGLOSS_STATUS_OK);
    segloss_distance_params_t p = params_of(c);
    Outputs o(c);
    DeviceTensor<uint8_t> u8(dev, in.u8);
    DeviceTensor<int32_t> i32(dev, in.i32);
    DeviceTensor<float> logits(dev, in.logits), distance(dev, o.distance);
    DeviceTensor<int32_t> flags(dev, o.flags);
    DLTensor s = c.source == Source::u8 ? u8.dl() : c.source == Source::i32 ? i32.dl() : logits.dl();
    DLTensor d = distance.dl(), f = flags.dl();
    const segloss_status_t st = segloss_distance_compute(ctx.ctx, &p, &s, &d, &f);
    INFO(segloss_last_error(ctx.ctx));
    REQUIRE(st == SEGLOSS_STATUS_OK);
    const std::string kernel = segloss_last_kernel(ctx.ctx);
    INFO("kernel " << kernel);
    CHECK(kernel.find("_" + api) != std::string::npos);  // the device's kernel, not the CPU's
    o.distance = distance.download();
    o.flags = flags.download();
    return o;
}

// The sources each API's kernels cover: the OpenCL set (what the CI runs on pocl) has the
// uint8 index map and the sigmoid's logits; CUDA has every row.
std::vector<Source> sources_of(const std::string &api) {
    if (api == "opencl") return {Source::u8, Source::sigmoid};
    return {Source::u8, Source::i32, Source::sigmoid};
}

}  // namespace

TEST_CASE("distance maps on device memory match the CPU and repeat their bits", "[gpu]") {
    Inputs in(5);
    const segloss_distance_kind_t kinds[] = {SEGLOSS_DISTANCE_EDT,      SEGLOSS_DISTANCE_EDT_COMPLEMENT,
                                             SEGLOSS_DISTANCE_SIGNED,   SEGLOSS_DISTANCE_BOUNDARY,
                                             SEGLOSS_DISTANCE_SURFACE,  SEGLOSS_DISTANCE_DPCE};
    for (auto &[api, dev] : available_devices()) {
        for (Source source : sources_of(api)) {
            for (segloss_distance_kind_t kind : kinds) {
                const Case c{source, kind, kind == SEGLOSS_DISTANCE_SIGNED || source == Source::sigmoid};
                INFO(api << " source " << int(source) << " kind " << int(kind) << " background " << c.include_background);
                const Outputs host = on_host(c, in);
                const Outputs a = on_device(api, *dev, c, in), b = on_device(api, *dev, c, in);
                // The same squared distances to float32 rounding (brute force against the CPU's
                // lower envelope), +inf where the CPU has it; the flags exactly.
                check_close(a.distance, host.distance, 1e-5, 1e-5, "distance");
                check_close(a.flags, host.flags, 0.0, 0.0, "flags");
                CHECK(a.distance.gaps_all([](float v) { return v == kSentinel; }));
                CHECK(same_bits(a.distance, b.distance));
                CHECK(same_bits(a.flags, b.flags));
            }
        }
        std::printf("checked the device distance maps (%s)\n", api.c_str());  // tools/gpu-check counts these
    }
}

TEST_CASE("distance calls on device memory: bad labels, mixed devices, int64 labels", "[gpu]") {
    Inputs in(6);
    for (auto &[api, dev] : available_devices()) {
        INFO(api);
        Ctx ctx;
        REQUIRE(segloss_context_set_stream(ctx.ctx, dev->device(), dev->stream()) == SEGLOSS_STATUS_OK);
        const Case c{Source::u8, SEGLOSS_DISTANCE_EDT, false};
        segloss_distance_params_t p = params_of(c);
        Outputs o(c);
        DeviceTensor<uint8_t> u8(*dev, in.u8);
        DeviceTensor<float> distance(*dev, o.distance);
        DeviceTensor<int32_t> flags(*dev, o.flags);
        DLTensor s = u8.dl(), d = distance.dl(), f = flags.dl();
        DLTensor host_s = in.u8.dl(), host_f = o.flags.dl();
        // A label outside [0, C) that is not ignore_index: found by the kernel, reported.
        p.num_classes = 2;
        CHECK(segloss_distance_compute(ctx.ctx, &p, &s, &d, &f) == SEGLOSS_STATUS_INVALID_SHAPE);  // 3 maps, 1 class
        HostTensor<float> one_map({N, 1, D, H, W});
        DeviceTensor<float> one(*dev, one_map);
        DLTensor d1 = one.dl();
        CHECK(segloss_distance_compute(ctx.ctx, &p, &s, &d1, nullptr) == SEGLOSS_STATUS_INVALID_LABEL);
        p.num_classes = C;
        // Mixed devices: nothing runs.
        CHECK(segloss_distance_compute(ctx.ctx, &p, &host_s, &d, &f) == SEGLOSS_STATUS_DEVICE_MISMATCH);
        CHECK(segloss_distance_compute(ctx.ctx, &p, &s, &d, &host_f) == SEGLOSS_STATUS_DEVICE_MISMATCH);
        HostTensor<int64_t> wide({N, D, H, W});
        for (int64_t i = 0; i < wide.numel(); i++) wide.flat(i) = in.u8.flat(i);
        DeviceTensor<int64_t> wide_d(*dev, wide);
        DLTensor w = wide_d.dl();
        CHECK(segloss_distance_compute(ctx.ctx, &p, &w, &d, &f) == SEGLOSS_STATUS_UNSUPPORTED);
        CHECK(distance.download().gaps_all([](float v) { return v == kSentinel; }));
        const HostTensor<float> untouched = distance.download();
        int64_t written = 0;
        for (int64_t i = 0; i < untouched.numel(); i++) written += untouched.flat(i) != kSentinel;
        CHECK(written == 0);
    }
}

}  // namespace segloss::test
