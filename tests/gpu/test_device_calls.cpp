// SPDX-License-Identifier: Apache-2.0
// Device calls through the public API: segloss_loss_compute on tensors in a GPU's memory, on the
// caller's stream, against the same call on host copies of the same tensors (the CPU path,
// itself checked against float64 references and finite differences elsewhere). Odd shapes,
// strided and broadcast layouts, masks, ignored voxels, empty classes, every reduction and
// value dtype; two runs give the same bits; the gaps of strided outputs stay untouched; bad
// labels and the device statuses.
//
// Each API with a driver and a device here runs (the CI: OpenCL on pocl, a CPU OpenCL); one
// without is skipped with a visible message, never failed.
#include <cmath>
#include <cstdio>
#include <algorithm>
#include <cstring>
#include <random>
#include <string>
#include <vector>

#include <catch2/catch.hpp>

#include "tests/support/device_tensor.h"
#include "segloss/segloss.h"
#include "tests/support/context.h"
#include "tests/support/host_tensor.h"

namespace segloss::test {
namespace {

enum class Kind { i32, u8, f32 };

struct Case {
    segloss_loss_kind_t loss;
    segloss_activation_t act;
    Kind kind;
    segloss_reduction_t reduction;
    bool mask, strided, f64_value, include_background, batch;
    segloss_class_weights_t class_weights = SEGLOSS_CLASS_WEIGHTS_GIVEN;  // pointwise losses
};

bool is_pointwise(segloss_loss_kind_t l) {
    return l == SEGLOSS_LOSS_CE || l == SEGLOSS_LOSS_WCE || l == SEGLOSS_LOSS_FOCAL || l == SEGLOSS_LOSS_DPCE ||
           l == SEGLOSS_LOSS_TOPK;
}

// wce's class weights (unequal: the weighted mean's normaliser sums w_c M_c).
const float kClassWeights[] = {0.5f, 1.0f, 2.0f, 1.5f};

// The inputs of one case: N = 2 images of C = 4 classes on a 9 x 7 x 3 grid; image 0 has no
// voxel of class 3 (an empty class), some voxels are ignored (index targets) or masked out.
struct Inputs {
    HostTensor<float> logits, mask, dense;
    HostTensor<int32_t> i32;
    HostTensor<uint8_t> u8;
    static constexpr int64_t N = 2, C = 4, D = 3, H = 7, W = 9;
    explicit Inputs(const Case &c, uint32_t seed)
        : logits({N, C, D, H, W}, c.strided), mask({N, D, H, W}, c.strided), dense({N, C, D, H, W}),
          i32({N, D, H, W}, c.strided), u8({N, 1, D, H, W}) {
        std::mt19937 rng(seed);
        std::normal_distribution<float> g(0.0f, 3.0f);
        std::uniform_real_distribution<float> u(0.0f, 1.0f);
        for (int64_t i = 0; i < logits.numel(); i++) {
            logits.flat(i) = c.act == SEGLOSS_ACTIVATION_NONE ? u(rng) : std::fmax(-12.0f, std::fmin(12.0f, g(rng)));
        }
        const int64_t V = D * H * W;
        for (int64_t i = 0; i < i32.numel(); i++) {
            const int64_t n = i / V;
            int label = int(rng() % (n == 0 ? C - 1 : C));
            if (rng() % 20 == 0) label = 255;  // ignored
            i32.flat(i) = label;
            u8.flat(i) = uint8_t(label);
            mask.flat(i) = rng() % 5 == 0 ? 0.0f : u(rng);
            for (int64_t k = 0; k < C; k++) {
                const float one_hot = label == k ? 1.0f : 0.0f;
                dense.flat((n * C + k) * V + i % V) = rng() % 4 == 0 ? u(rng) : one_hot;
            }
        }
    }
};

bool has_index_target(const Case &c) { return c.kind != Kind::f32; }

segloss_loss_params_t params_of(const Case &c) {
    segloss_loss_params_t p;
    REQUIRE(segloss_loss_params_init(&p, c.loss) == SEGLOSS_STATUS_OK);
    p.activation = c.act;
    p.reduction = c.reduction;
    segloss_loss_kind_t region, pointwise;
    if (is_pointwise(c.loss)) {
        p.class_weights = c.class_weights;
        if (c.loss == SEGLOSS_LOSS_WCE && c.class_weights == SEGLOSS_CLASS_WEIGHTS_GIVEN) {
            p.weight = kClassWeights;
            p.num_weights = 4;
        }
    } else if (segloss_loss_parts(c.loss, &region, &pointwise) != SEGLOSS_STATUS_OK) {  // a compound's are its parts'
        p.include_background = c.include_background;
        p.batch = c.batch;
    } else if (pointwise == SEGLOSS_LOSS_TOPK) {
        // dice_topk's TopK part: unequal class weights (on a device they carry its 1 / K), or
        // inverse frequency (from pass 1's counts: on a device, a kernel of their own).
        static segloss_loss_params_t part;
        REQUIRE(segloss_loss_params_init(&part, SEGLOSS_LOSS_TOPK) == SEGLOSS_STATUS_OK);
        part.class_weights = c.class_weights;
        if (c.class_weights == SEGLOSS_CLASS_WEIGHTS_GIVEN) {
            part.weight = kClassWeights;
            part.num_weights = 4;
        }
        p.pointwise_part = &part;
    }
    if (has_index_target(c)) {
        p.has_ignore_index = 1;
        p.ignore_index = 255;
    }
    return p;
}

bool is_generalized(segloss_loss_kind_t l) {
    return l == SEGLOSS_LOSS_GENERALIZED_DICE || l == SEGLOSS_LOSS_PENALTY_GENERALIZED_DICE;
}

std::vector<int64_t> value_shape(const Case &c) {
    if (c.reduction != SEGLOSS_REDUCTION_NONE) return {1};
    if (is_pointwise(c.loss)) return {Inputs::N, Inputs::D, Inputs::H, Inputs::W};
    const int64_t n = c.batch ? 1 : Inputs::N;
    return {n, is_generalized(c.loss) ? 1 : Inputs::C - (c.include_background ? 0 : 1)};
}

template <typename V>
using Result = LossResult<V>;

constexpr float kSentinel = 7.0f;

// The call on host memory.
template <typename V>
Result<V> run_host(const Case &c, Inputs &in) {
    Ctx ctx;
    segloss_loss_params_t p = params_of(c);
    DLTensor logits = in.logits.dl(), mask = in.mask.dl();
    DLTensor target = c.kind == Kind::i32 ? in.i32.dl() : c.kind == Kind::u8 ? in.u8.dl() : in.dense.dl();
    if (c.mask) p.loss_mask = &mask;
    Result<V> r{SEGLOSS_STATUS_OK, "", "", HostTensor<V>(value_shape(c)),
                HostTensor<float>(in.logits.shape(), c.strided, kSentinel)};
    DLTensor value = r.value.dl(), grad = r.grad.dl();
    r.status = segloss_loss_compute(ctx.ctx, &p, &logits, &target, &value, &grad, 0.5f);
    r.error = segloss_last_error(ctx.ctx);
    return r;
}

// The same call on device copies, on the device's stream.
template <typename V>
Result<V> run_device(DeviceMemory &dev, const Case &c, Inputs &in, bool check_inputs = false) {
    segloss_loss_params_t p = params_of(c);
    p.check_inputs = check_inputs;
    DeviceTensor<float> logits(dev, in.logits), mask(dev, in.mask);
    DeviceTensor<int32_t> i32(dev, in.i32);
    DeviceTensor<uint8_t> u8(dev, in.u8);
    DeviceTensor<float> dense(dev, in.dense);
    DLTensor l = logits.dl(), m = mask.dl();
    DLTensor t = c.kind == Kind::i32 ? i32.dl() : c.kind == Kind::u8 ? u8.dl() : dense.dl();
    if (c.mask) p.loss_mask = &m;
    HostTensor<V> value_init(value_shape(c), false, V(kSentinel));
    HostTensor<float> grad_init(in.logits.shape(), c.strided, kSentinel);
    return loss_on_device(dev, p, l, t, value_init, grad_init);
}

template <typename V>
void check_against_host(DeviceMemory &dev, const Case &c, uint32_t seed) {
    Inputs in(c, seed);
    INFO(dev.name() << " " << segloss_loss_name(c.loss) << " activation " << c.act << " target " << int(c.kind)
                    << " reduction " << c.reduction << " mask " << c.mask << " strided " << c.strided);
    Result<V> cpu = run_host<V>(c, in);
    INFO("cpu: " << cpu.error);
    REQUIRE(cpu.status == SEGLOSS_STATUS_OK);
    Result<V> gpu = run_device<V>(dev, c, in);
    INFO("device: " << gpu.error);
    REQUIRE(gpu.status == SEGLOSS_STATUS_OK);
    // Every kernel of the call ran on the device; the inputs hold no NaN, so neither may the CPU's results.
    INFO("kernels: " << gpu.kernels);
    CHECK(check_kernels_on(gpu.kernels, dev.name()) >= 3);  // statistics, epilogue, gradient (and the value's store)
    // The reductions stay on the device: the value's store, and the pointwise normaliser
    // from the pre-pass of index targets.
    if (c.reduction != SEGLOSS_REDUCTION_NONE || !is_pointwise(c.loss)) {
        CHECK(gpu.kernels.find("value_store_") != std::string::npos);
    }
    // (TopK takes its normaliser from its cut, on the host.)
    if (is_pointwise(c.loss) && c.loss != SEGLOSS_LOSS_TOPK && c.reduction != SEGLOSS_REDUCTION_NONE &&
        c.kind != Kind::f32) {
        CHECK(gpu.kernels.find("pointwise_norm_") != std::string::npos);
    }
    // topk finds its cut on the device unless it waits anyway (reduction none); dice_topk finds
    // it and adds its part there (its inverse-frequency weights from the statistics there too).
    auto ran = [&](const char *kernel) { return gpu.kernels.find(kernel) != std::string::npos; };
    if (c.loss == SEGLOSS_LOSS_TOPK) CHECK(ran("topk_mark_") == (c.reduction != SEGLOSS_REDUCTION_NONE));
    if (c.loss == SEGLOSS_LOSS_DICE_TOPK) {
        CHECK(ran("topk_mark_"));
        CHECK(ran("topk_part_total_"));
        CHECK(ran("topk_part_inverse_") == (c.class_weights == SEGLOSS_CLASS_WEIGHTS_INVERSE_FREQUENCY));
    }
    for (int64_t i = 0; i < cpu.value.numel(); i++) REQUIRE(std::isfinite(double(cpu.value.flat(i))));
    // The line sums are the same float32 additions (the GPU adds the lines in float64 in
    // another fixed order: over y, then z); the terms differ by the device's float32 exp/log
    // and FMA contraction.
    check_close(gpu.value, cpu.value, 1e-5, 1e-6, "value");
    check_close(gpu.grad, cpu.grad, 1e-4, 1e-6, "grad");
    CHECK(gpu.grad.gaps_all([](float f) { return f == kSentinel; }));
    // Deterministic: a second call repeats the bits.
    Result<V> again = run_device<V>(dev, c, in);
    CHECK(same_bits(again.grad, gpu.grad));
    CHECK(same_bits(again.value, gpu.value));
}

}  // namespace

TEST_CASE("device calls of the pointwise, region and compound losses match the CPU and repeat their bits", "[gpu]") {
    const std::vector<Case> cases = {
        // loss, activation, target, reduction, mask, strided, f64 value, include_background, batch
        {SEGLOSS_LOSS_DICE, SEGLOSS_ACTIVATION_SOFTMAX, Kind::i32, SEGLOSS_REDUCTION_MEAN, false, false, false, true, false},
        {SEGLOSS_LOSS_DICE, SEGLOSS_ACTIVATION_SOFTMAX, Kind::i32, SEGLOSS_REDUCTION_NONE, true, true, false, false, false},
        {SEGLOSS_LOSS_IOU, SEGLOSS_ACTIVATION_SOFTMAX, Kind::i32, SEGLOSS_REDUCTION_SUM, false, true, true, true, true},
        {SEGLOSS_LOSS_FOCAL_TVERSKY, SEGLOSS_ACTIVATION_SOFTMAX, Kind::i32, SEGLOSS_REDUCTION_MEAN, true, false, false, false, false},
        {SEGLOSS_LOSS_SENSITIVITY_SPECIFICITY, SEGLOSS_ACTIVATION_SOFTMAX, Kind::i32, SEGLOSS_REDUCTION_MEAN, false, false, true, true, false},
        {SEGLOSS_LOSS_GENERALIZED_DICE, SEGLOSS_ACTIVATION_SOFTMAX, Kind::i32, SEGLOSS_REDUCTION_NONE, true, false, true, false, false},
        {SEGLOSS_LOSS_DICE, SEGLOSS_ACTIVATION_SIGMOID, Kind::f32, SEGLOSS_REDUCTION_MEAN, true, false, false, true, false},
        {SEGLOSS_LOSS_LOG_COSH_DICE, SEGLOSS_ACTIVATION_NONE, Kind::u8, SEGLOSS_REDUCTION_NONE, false, false, false, true, true},
        {SEGLOSS_LOSS_DICE_CE, SEGLOSS_ACTIVATION_SOFTMAX, Kind::i32, SEGLOSS_REDUCTION_MEAN, true, true, false, true, false},
        {SEGLOSS_LOSS_DICE_FOCAL, SEGLOSS_ACTIVATION_SIGMOID, Kind::f32, SEGLOSS_REDUCTION_SUM, false, false, true, true, false},
        {SEGLOSS_LOSS_EXP_LOG, SEGLOSS_ACTIVATION_NONE, Kind::u8, SEGLOSS_REDUCTION_MEAN, true, false, false, true, false},
        // Pointwise: the normaliser and class weights from the device's pre-pass, or the host's.
        {SEGLOSS_LOSS_CE, SEGLOSS_ACTIVATION_SOFTMAX, Kind::i32, SEGLOSS_REDUCTION_MEAN, true, true, false, true, false},
        {SEGLOSS_LOSS_WCE, SEGLOSS_ACTIVATION_SOFTMAX, Kind::i32, SEGLOSS_REDUCTION_MEAN, false, false, true, true, false},
        {SEGLOSS_LOSS_CE, SEGLOSS_ACTIVATION_SOFTMAX, Kind::i32, SEGLOSS_REDUCTION_MEAN, false, false, false, true, false,
         SEGLOSS_CLASS_WEIGHTS_INVERSE_FREQUENCY},
        {SEGLOSS_LOSS_CE, SEGLOSS_ACTIVATION_SOFTMAX, Kind::i32, SEGLOSS_REDUCTION_NONE, true, true, false, true, false},
        {SEGLOSS_LOSS_FOCAL, SEGLOSS_ACTIVATION_SIGMOID, Kind::f32, SEGLOSS_REDUCTION_MEAN, true, false, false, true, false},
        {SEGLOSS_LOSS_FOCAL, SEGLOSS_ACTIVATION_SIGMOID, Kind::f32, SEGLOSS_REDUCTION_MEAN, false, true, true, true, false},
        {SEGLOSS_LOSS_CE, SEGLOSS_ACTIVATION_NONE, Kind::u8, SEGLOSS_REDUCTION_SUM, false, false, true, true, false},
        // DPCE: its distance weights built on the device (uint8 labels and probabilities: the
        // rows of the OpenCL set), times a mask, and per voxel.
        {SEGLOSS_LOSS_DPCE, SEGLOSS_ACTIVATION_NONE, Kind::u8, SEGLOSS_REDUCTION_MEAN, true, true, true, true, false},
        {SEGLOSS_LOSS_DPCE, SEGLOSS_ACTIVATION_NONE, Kind::u8, SEGLOSS_REDUCTION_NONE, false, false, false, true, false},
        // TopK and dice_topk: the keys and the cut on the device; with topk's reduction none the
        // cut on the host (the call waits).
        {SEGLOSS_LOSS_TOPK, SEGLOSS_ACTIVATION_SOFTMAX, Kind::i32, SEGLOSS_REDUCTION_MEAN, true, true, false, true, false},
        {SEGLOSS_LOSS_TOPK, SEGLOSS_ACTIVATION_SOFTMAX, Kind::i32, SEGLOSS_REDUCTION_NONE, false, false, false, true, false},
        {SEGLOSS_LOSS_TOPK, SEGLOSS_ACTIVATION_SOFTMAX, Kind::i32, SEGLOSS_REDUCTION_SUM, false, false, true, true, false,
         SEGLOSS_CLASS_WEIGHTS_INVERSE_FREQUENCY},
        {SEGLOSS_LOSS_DICE_TOPK, SEGLOSS_ACTIVATION_SOFTMAX, Kind::i32, SEGLOSS_REDUCTION_MEAN, true, false, false, true,
         false},
        {SEGLOSS_LOSS_DICE_TOPK, SEGLOSS_ACTIVATION_NONE, Kind::u8, SEGLOSS_REDUCTION_SUM, false, true, true, true,
         false},
        {SEGLOSS_LOSS_DICE_TOPK, SEGLOSS_ACTIVATION_SOFTMAX, Kind::i32, SEGLOSS_REDUCTION_MEAN, false, true, false, true,
         false, SEGLOSS_CLASS_WEIGHTS_INVERSE_FREQUENCY},
    };
    for (const auto &[api, dev] : available_devices()) {
        uint32_t seed = 1;
        for (const Case &c : cases) {
            if (c.f64_value) {
                check_against_host<double>(*dev, c, seed++);
            } else {
                check_against_host<float>(*dev, c, seed++);
            }
        }
        std::printf("checked the device calls (%s)\n", api.c_str());
    }
}

namespace {

uint16_t to_bfloat16(float f) {
    uint32_t u;
    std::memcpy(&u, &f, 4);
    return uint16_t((u + 0x7fffu + ((u >> 16) & 1u)) >> 16);
}

float from_bfloat16(uint16_t b) {
    const uint32_t u = uint32_t(b) << 16;
    float f;
    std::memcpy(&f, &u, 4);
    return f;
}

// One call with bfloat16 logits and gradient, on host memory or on `dev` (the conversions run
// on the device, into device scratch).
Result<float> run_bfloat16(DeviceMemory *dev, const Case &c, Inputs &in) {
    HostTensor<uint16_t> logits(in.logits.shape(), c.strided), grad(in.logits.shape(), c.strided, 0x7fc1);
    for (int64_t i = 0; i < logits.numel(); i++) logits.flat(i) = to_bfloat16(in.logits.flat(i));
    HostTensor<float> value({1}, false, kSentinel);
    Ctx ctx;
    segloss_loss_params_t p = params_of(c);
    Result<float> r{SEGLOSS_STATUS_OK, "", "", HostTensor<float>({1}), HostTensor<float>(in.logits.shape())};
    auto finish = [&](HostTensor<uint16_t> &g, HostTensor<float> &v) {
        r.value.flat(0) = v.flat(0);
        for (int64_t i = 0; i < g.numel(); i++) r.grad.flat(i) = from_bfloat16(g.flat(i));
        CHECK(g.gaps_all([](uint16_t b) { return b == 0x7fc1; }));
    };
    if (!dev) {
        DLTensor l = logits.dl(), t = in.i32.dl(), v = value.dl(), g = grad.dl();
        l.dtype = g.dtype = {kDLBfloat, 16, 1};
        r.status = segloss_loss_compute(ctx.ctx, &p, &l, &t, &v, &g, 1.0f);
        finish(grad, value);
        return r;
    }
    REQUIRE(segloss_context_set_stream(ctx.ctx, dev->device(), dev->stream()) == SEGLOSS_STATUS_OK);
    DeviceTensor<uint16_t> dl_logits(*dev, logits), dl_grad(*dev, grad);
    DeviceTensor<int32_t> labels(*dev, in.i32);
    DeviceTensor<float> dl_value(*dev, value);
    DLTensor l = dl_logits.dl(), t = labels.dl(), v = dl_value.dl(), g = dl_grad.dl();
    l.dtype = g.dtype = {kDLBfloat, 16, 1};
    r.status = segloss_loss_compute(ctx.ctx, &p, &l, &t, &v, &g, 1.0f);
    r.error = segloss_last_error(ctx.ctx);
    r.kernels = segloss_last_kernel(ctx.ctx);
    HostTensor<uint16_t> g_back = dl_grad.download();
    HostTensor<float> v_back = dl_value.download();
    finish(g_back, v_back);
    return r;
}

}  // namespace

TEST_CASE("device calls with bfloat16 logits and gradient match the CPU", "[gpu]") {
    const std::vector<Case> cases = {
        {SEGLOSS_LOSS_DICE, SEGLOSS_ACTIVATION_SOFTMAX, Kind::i32, SEGLOSS_REDUCTION_MEAN, false, true, false, true, false},
        {SEGLOSS_LOSS_CE, SEGLOSS_ACTIVATION_SOFTMAX, Kind::i32, SEGLOSS_REDUCTION_MEAN, false, false, false, true, false},
    };
    for (const auto &[api, dev] : available_devices()) {
        uint32_t seed = 40;
        for (const Case &c : cases) {
            Inputs in(c, seed++);
            Result<float> cpu = run_bfloat16(nullptr, c, in);
            REQUIRE(cpu.status == SEGLOSS_STATUS_OK);
            Result<float> gpu = run_bfloat16(dev, c, in);
            INFO(api << " " << segloss_loss_name(c.loss) << ": " << gpu.error << " kernels " << gpu.kernels);
            REQUIRE(gpu.status == SEGLOSS_STATUS_OK);
            CHECK(gpu.kernels.find("convert_bf16_to_f32_" + api) != std::string::npos);
            CHECK(gpu.kernels.find("convert_f32_to_bf16_" + api) != std::string::npos);
            check_close(gpu.value, cpu.value, 1e-5, 1e-6, "value");
            // The float32 gradients differ by the device's float32 math; rounding to bfloat16
            // can then differ by one unit (2^-8 relative).
            check_close(gpu.grad, cpu.grad, 1e-2, 1e-6, "grad");
        }
    }
}

TEST_CASE("device calls: bad labels, checks and statuses", "[gpu]") {
    const Case dice{SEGLOSS_LOSS_DICE, SEGLOSS_ACTIVATION_SOFTMAX, Kind::i32, SEGLOSS_REDUCTION_NONE,
                    false, false, false, true, false};
    for (const auto &[api, dev] : available_devices()) {
        INFO(api);
        Inputs in(dice, 5);
        const int64_t V = Inputs::D * Inputs::H * Inputs::W;
        in.i32.flat(V + 10) = 9;  // image 1: a label outside [0, C)

        // Without check_inputs nothing is read back: image 1's loss and gradient are NaN.
        Result<float> r = run_device<float>(*dev, dice, in);
        REQUIRE(r.status == SEGLOSS_STATUS_OK);
        for (int64_t k = 0; k < Inputs::C; k++) {
            CHECK(std::isfinite(r.value.flat(k)));
            CHECK(std::isnan(r.value.flat(Inputs::C + k)));
        }
        const int64_t per_image = Inputs::C * V;
        bool image0_finite = true, image1_nan = true;
        for (int64_t i = 0; i < per_image; i++) image0_finite = image0_finite && std::isfinite(r.grad.flat(i));
        for (int64_t i = 0; i < V; i++) image1_nan = image1_nan && (std::isnan(r.grad.flat(per_image + i)) || in.i32.flat(V + i) >= Inputs::C);
        CHECK(image0_finite);
        CHECK(image1_nan);

        // With check_inputs: the CPU's status, and no output written.
        Result<float> checked = run_device<float>(*dev, dice, in, true);
        CHECK(checked.status == SEGLOSS_STATUS_INVALID_LABEL);
        CHECK(checked.error.find("outside [0, 4)") != std::string::npos);
        for (int64_t i = 0; i < checked.grad.numel(); i++) REQUIRE(checked.grad.flat(i) == kSentinel);
        for (int64_t i = 0; i < checked.value.numel(); i++) REQUIRE(checked.value.flat(i) == kSentinel);

        // CE: a bad label makes the normaliser, so the loss and every gradient, NaN; with
        // check_inputs the call reports it and writes nothing.
        const Case ce{SEGLOSS_LOSS_CE, SEGLOSS_ACTIVATION_SOFTMAX, Kind::i32, SEGLOSS_REDUCTION_MEAN,
                      false, false, false, true, false};
        Result<float> ce_bad = run_device<float>(*dev, ce, in);
        REQUIRE(ce_bad.status == SEGLOSS_STATUS_OK);
        CHECK(std::isnan(ce_bad.value.flat(0)));
        CHECK(std::isnan(ce_bad.grad.flat(0)));
        Result<float> ce_checked = run_device<float>(*dev, ce, in, true);
        CHECK(ce_checked.status == SEGLOSS_STATUS_INVALID_LABEL);
        CHECK(ce_checked.value.flat(0) == kSentinel);
        for (int64_t i = 0; i < ce_checked.grad.numel(); i++) REQUIRE(ce_checked.grad.flat(i) == kSentinel);

        // check_finite waits for the value: a NaN logit is NONFINITE.
        Inputs nan_in(dice, 6);
        nan_in.logits.flat(3) = NAN;
        Case finite = dice;
        finite.reduction = SEGLOSS_REDUCTION_MEAN;
        {
            Ctx ctx;
            REQUIRE(segloss_context_set_stream(ctx.ctx, dev->device(), dev->stream()) == SEGLOSS_STATUS_OK);
            segloss_loss_params_t p = params_of(finite);
            p.check_finite = 1;
            DeviceTensor<float> logits(*dev, nan_in.logits);
            DeviceTensor<int32_t> labels(*dev, nan_in.i32);
            HostTensor<float> value_host({1});
            DeviceTensor<float> value(*dev, value_host);
            DLTensor l = logits.dl(), t = labels.dl(), v = value.dl(), host_v = value_host.dl(), host_l = nan_in.logits.dl();
            CHECK(segloss_loss_compute(ctx.ctx, &p, &l, &t, &v, nullptr, 1.0f) == SEGLOSS_STATUS_NONFINITE);

            // Statuses of device calls.
            p.check_finite = 0;
            CHECK(segloss_loss_compute(ctx.ctx, &p, &l, &t, &host_v, nullptr, 1.0f) == SEGLOSS_STATUS_DEVICE_MISMATCH);
            CHECK(segloss_loss_compute(ctx.ctx, &p, &host_l, &t, &v, nullptr, 1.0f) == SEGLOSS_STATUS_DEVICE_MISMATCH);
            DLTensor elsewhere = l;
            elsewhere.device.device_id = 1;
            DLTensor t1 = t, v1 = v;
            t1.device.device_id = v1.device.device_id = 1;
            const segloss_status_t other = segloss_loss_compute(ctx.ctx, &p, &elsewhere, &t1, &v1, nullptr, 1.0f);
            CHECK((other == SEGLOSS_STATUS_DEVICE_MISMATCH || other == SEGLOSS_STATUS_DEVICE_UNAVAILABLE));
            // A gradient over the logits' memory.
            DLTensor over = l;
            CHECK(segloss_loss_compute(ctx.ctx, &p, &l, &t, &v, &over, 1.0f) == SEGLOSS_STATUS_INVALID_ARGUMENT);
            if (api == "opencl") {
                // float16 needs cl_khr_fp16, which pocl lacks: no OpenCL conversion kernel.
                DLTensor half = l;
                half.dtype = {kDLFloat, 16, 1};
                CHECK(segloss_loss_compute(ctx.ctx, &p, &half, &t, &v, nullptr, 1.0f) == SEGLOSS_STATUS_UNSUPPORTED);
                DLTensor offset = l;
                offset.byte_offset = 64;
                CHECK(segloss_loss_compute(ctx.ctx, &p, &offset, &t, &v, nullptr, 1.0f) == SEGLOSS_STATUS_UNSUPPORTED);
                // Without a queue, OpenCL memory cannot be used.
                Ctx unbound;
                CHECK(segloss_loss_compute(unbound.ctx, &p, &l, &t, &v, nullptr, 1.0f) == SEGLOSS_STATUS_INVALID_ARGUMENT);
                CHECK(segloss_context_set_stream(unbound.ctx, dev->device(), nullptr) == SEGLOSS_STATUS_INVALID_ARGUMENT);
            }
            // Unbinding: the context takes host memory again.
            REQUIRE(segloss_context_set_stream(ctx.ctx, {kDLCPU, 0}, nullptr) == SEGLOSS_STATUS_OK);
            DLTensor host_t = nan_in.i32.dl();
            nan_in.logits.flat(3) = 0.5f;
            CHECK(segloss_loss_compute(ctx.ctx, &p, &host_l, &host_t, &host_v, nullptr, 1.0f) == SEGLOSS_STATUS_OK);
        }
    }
}

}  // namespace segloss::test
