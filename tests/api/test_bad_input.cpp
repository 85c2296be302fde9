// SPDX-License-Identifier: Apache-2.0
// The bad-input matrix: each case returns its documented status, says why, and writes nothing
// (the outputs keep their sentinel).
#include <climits>
#include <cmath>
#include <cstring>
#include <string>
#include <utility>
#include <vector>

#include <dlfcn.h>

#include <catch2/catch.hpp>

#include "segloss/segloss.h"
#include "segloss/segloss.hpp"
#include "support/host_tensor.h"

using namespace segloss::test;

namespace {

const float kSentinel = 12345.0f;

// Whether this machine has a CUDA driver (what segloss probes before running a CUDA tensor).
[[maybe_unused]] bool cuda_driver_loads() {
    void *lib = dlopen("libcuda.so.1", RTLD_NOW | RTLD_LOCAL);
    if (lib) dlclose(lib);
    return lib != nullptr;
}

// A valid problem [2, 3, 4, 5] with int32 labels, plus outputs holding a sentinel.
struct Fixture {
    HostTensor<float> logits{{2, 3, 4, 5}};
    HostTensor<int32_t> labels{{2, 4, 5}};
    HostTensor<float> value{{1}, false, kSentinel};
    HostTensor<float> grad{{2, 3, 4, 5}, false, kSentinel};
    DLTensor l, t, v, g;
    segloss_loss_params_t p;
    segloss_context_t ctx = nullptr;

    explicit Fixture(segloss_loss_kind_t loss = SEGLOSS_LOSS_CE) {
        for (int64_t i = 0; i < logits.numel(); i++) logits.flat(i) = std::sin(0.7 * i) * 5;
        for (int64_t i = 0; i < labels.numel(); i++) labels.flat(i) = static_cast<int32_t>(i % 3);
        l = logits.dl();
        t = labels.dl();
        v = value.dl();
        g = grad.dl();
        segloss_loss_params_init(&p, loss);
        segloss_context_create(&ctx);
    }
    ~Fixture() { segloss_context_destroy(ctx); }
    segloss_status_t run(DLTensor *grad_out = nullptr) {
        return segloss_loss_compute(ctx, &p, &l, &t, &v, grad_out ? grad_out : &g, 1.0f);
    }
    bool untouched() const {
        for (int64_t i = 0; i < grad.numel(); i++) {
            if (grad.flat(i) != kSentinel) return false;
        }
        return value.flat(0) == kSentinel;
    }
};

}  // namespace

TEST_CASE("a valid call succeeds (the fixture itself is good)", "[bad_input]") {
    auto loss = GENERATE(SEGLOSS_LOSS_CE, SEGLOSS_LOSS_DICE);
    Fixture f(loss);
    REQUIRE(f.run() == SEGLOSS_STATUS_OK);
    REQUIRE(std::isfinite(f.value.flat(0)));
    REQUIRE(std::string(segloss_last_error(f.ctx)).empty());
}

TEST_CASE("bad inputs return their documented status and write nothing", "[bad_input]") {
    auto loss = GENERATE(SEGLOSS_LOSS_CE, SEGLOSS_LOSS_DICE);
    Fixture f(loss);
    segloss_status_t want = SEGLOSS_STATUS_OK;
    // Everything a section points the descriptors at lives as long as the final call.
    int64_t bad_shape[5] = {2, 3, 4, 5, 1};
    int64_t s6[6] = {2, 3, 4, 5, 1, 1};
    int64_t ts_spatial[3] = {2, 4, 4}, ts_batch[3] = {1, 4, 5}, gs[4] = {2, 3, 5, 4}, vs[1] = {2};
    float w2[2] = {1, 1}, wneg[3] = {1, -1, 1};
    int64_t huge[4] = {2, 3, 4, int64_t(1) << 32}, strides[4] = {0, 0, 0, 0};
    int64_t lhuge[3] = {2, 4, int64_t(1) << 32}, lstrides[3] = {0, 0, 0};
    HostTensor<float> big({2}, false, kSentinel), dense({2, 3, 4, 5});
    int64_t gzero[4] = {60, 20, 0, 1}, ginterleaved[4] = {60, 20, 5, 2};

    SECTION("null pointers") {
        REQUIRE(segloss_loss_compute(nullptr, &f.p, &f.l, &f.t, &f.v, &f.g, 1) == SEGLOSS_STATUS_INVALID_ARGUMENT);
        REQUIRE(segloss_loss_compute(f.ctx, nullptr, &f.l, &f.t, &f.v, &f.g, 1) == SEGLOSS_STATUS_INVALID_ARGUMENT);
        REQUIRE(segloss_loss_compute(f.ctx, &f.p, nullptr, &f.t, &f.v, &f.g, 1) == SEGLOSS_STATUS_INVALID_ARGUMENT);
        REQUIRE(segloss_loss_compute(f.ctx, &f.p, &f.l, nullptr, &f.v, &f.g, 1) == SEGLOSS_STATUS_INVALID_ARGUMENT);
        REQUIRE(segloss_loss_compute(f.ctx, &f.p, &f.l, &f.t, nullptr, &f.g, 1) == SEGLOSS_STATUS_INVALID_ARGUMENT);
        f.l.data = nullptr;
        want = SEGLOSS_STATUS_INVALID_ARGUMENT;
    }
    SECTION("zero-size logits") {
        bad_shape[3] = 0;
        f.l.shape = bad_shape;
        f.l.strides = nullptr;
        want = SEGLOSS_STATUS_INVALID_SHAPE;
    }
    SECTION("rank too small") {
        f.l.ndim = 2;
        f.l.strides = nullptr;
        want = SEGLOSS_STATUS_INVALID_SHAPE;
    }
    SECTION("rank too large") {
        f.l.ndim = 6;
        f.l.shape = s6;
        f.l.strides = nullptr;
        REQUIRE(f.run() == SEGLOSS_STATUS_INVALID_SHAPE);
        want = SEGLOSS_STATUS_INVALID_SHAPE;
        f.l.ndim = 2;
    }
    SECTION("target spatial mismatch") {
        f.t.shape = ts_spatial;
        f.t.strides = nullptr;
        want = SEGLOSS_STATUS_INVALID_SHAPE;
    }
    SECTION("target batch mismatch") {
        f.t.shape = ts_batch;
        f.t.strides = nullptr;
        want = SEGLOSS_STATUS_INVALID_SHAPE;
    }
    SECTION("grad of the wrong shape") {
        f.g.shape = gs;
        f.g.strides = nullptr;
        want = SEGLOSS_STATUS_INVALID_SHAPE;
    }
    SECTION("value of the wrong size") {
        f.v = big.dl();
        f.v.shape = vs;
        want = SEGLOSS_STATUS_INVALID_SHAPE;
        REQUIRE(f.run() == want);
        REQUIRE(big.flat(0) == kSentinel);
        f.v = f.value.dl();
        f.l.ndim = 2;  // keep the outputs untouched for the common check below
    }
    SECTION("float64 logits are unsupported") {
        f.l.dtype = {kDLFloat, 64, 1};
        want = SEGLOSS_STATUS_UNSUPPORTED;
    }
    SECTION("int16 labels are unsupported") {
        f.t.dtype = {kDLInt, 16, 1};
        want = SEGLOSS_STATUS_UNSUPPORTED;
    }
    SECTION("a label >= C") {
        f.labels.flat(17) = 3;
        want = SEGLOSS_STATUS_INVALID_LABEL;
    }
    SECTION("a negative label that is not ignore_index") {
        f.labels.flat(3) = -1;
        f.p.has_ignore_index = 1;
        f.p.ignore_index = 255;
        want = SEGLOSS_STATUS_INVALID_LABEL;
    }
    // CUDA tensors. A build without CUDA kernels: UNSUPPORTED. With them: DEVICE_UNAVAILABLE where
    // the driver cannot be loaded (the CI) or the device id is beyond the driver's devices;
    // DEVICE_MISMATCH on a machine with the device (the target is host memory). The message
    // names the argument and the device.
    SECTION("CUDA logits") {
        f.l.device = {kDLCUDA, 0};
#ifdef SEGLOSS_HAVE_CUDA_KERNELS
        want = cuda_driver_loads() ? SEGLOSS_STATUS_DEVICE_MISMATCH : SEGLOSS_STATUS_DEVICE_UNAVAILABLE;
#else
        want = SEGLOSS_STATUS_UNSUPPORTED;
#endif
        f.run();
        CHECK(std::string(segloss_last_error(f.ctx)).find("logits is on cuda:0") != std::string::npos);
    }
#ifdef SEGLOSS_HAVE_CUDA_KERNELS
    SECTION("a CUDA gradient on a device the driver does not have") {
        f.g.device = {kDLCUDA, 999};
        want = SEGLOSS_STATUS_DEVICE_UNAVAILABLE;
        f.run();
        CHECK(std::string(segloss_last_error(f.ctx)).find("grad is on cuda:999") != std::string::npos);
    }
#endif
    SECTION("a gradient that overlaps the logits") {
        f.g.data = f.logits.storage().data();
        want = SEGLOSS_STATUS_INVALID_ARGUMENT;
    }
    SECTION("a gradient whose elements share addresses (a zero stride)") {
        f.g.strides = gzero;
        want = SEGLOSS_STATUS_INVALID_ARGUMENT;
    }
    SECTION("a gradient whose axes interleave") {
        f.g.strides = ginterleaved;
        want = SEGLOSS_STATUS_INVALID_ARGUMENT;
    }
    SECTION("a value that overlaps the gradient") {
        f.v.data = f.grad.storage().data() + 5;
        want = SEGLOSS_STATUS_INVALID_ARGUMENT;
    }
    SECTION("weights of the wrong length") {
        f.p.weight = w2;
        f.p.num_weights = 2;
        want = SEGLOSS_STATUS_INVALID_SHAPE;
    }
    SECTION("a negative weight") {
        f.p.weight = wneg;
        f.p.num_weights = 3;
        want = SEGLOSS_STATUS_INVALID_ARGUMENT;
    }
    SECTION("params from another ABI version") {
        f.p.struct_size = 8;
        want = SEGLOSS_STATUS_INVALID_ARGUMENT;
    }
    SECTION("an unknown option value") {
        f.p.reduction = static_cast<segloss_reduction_t>(9);
        want = SEGLOSS_STATUS_INVALID_ARGUMENT;
    }
    SECTION("negative smoothing") {
        f.p.smooth_dr = -1;
        want = SEGLOSS_STATUS_INVALID_ARGUMENT;
    }
    SECTION("ignore_index with a dense target") {
        f.t = dense.dl();
        f.p.has_ignore_index = 1;
        want = SEGLOSS_STATUS_INVALID_ARGUMENT;
        REQUIRE(f.run() == want);
        f.l.ndim = 2;
        want = SEGLOSS_STATUS_INVALID_SHAPE;
    }
    SECTION("extents beyond 32 bits") {
        // Stride-0 view: a huge logical extent over a tiny buffer; rejected before any access.
        f.l.shape = huge;
        f.l.strides = strides;
        f.t.shape = lhuge;
        f.t.strides = lstrides;
        want = SEGLOSS_STATUS_TOO_LARGE;
    }
    SECTION("a non-finite upstream gradient") {
        REQUIRE(segloss_loss_compute(f.ctx, &f.p, &f.l, &f.t, &f.v, &f.g, NAN) == SEGLOSS_STATUS_INVALID_ARGUMENT);
        f.l.data = nullptr;
        want = SEGLOSS_STATUS_INVALID_ARGUMENT;
    }
    INFO("message: " << segloss_last_error(f.ctx));
    REQUIRE(f.run() == want);
    REQUIRE(std::strlen(segloss_last_error(f.ctx)) > 0);
    REQUIRE(f.untouched());
}

TEST_CASE("region options are refused for ce rather than ignored", "[bad_input][ce]") {
    auto option = GENERATE(0, 1, 2);
    Fixture f(SEGLOSS_LOSS_CE);
    if (option == 0) f.p.include_background = 0;
    if (option == 1) f.p.batch = 1;
    if (option == 2) f.p.squared_pred = 1;
    REQUIRE(f.run() == SEGLOSS_STATUS_INVALID_ARGUMENT);
    REQUIRE(f.untouched());
}

TEST_CASE("region options are refused for ce rather than ignored: empty", "[bad_input][ce]") {
    Fixture f(SEGLOSS_LOSS_CE);
    f.p.empty = SEGLOSS_EMPTY_EXCLUDE;
    REQUIRE(f.run() == SEGLOSS_STATUS_INVALID_ARGUMENT);
    REQUIRE(f.untouched());
}

TEST_CASE("out-of-range options of each region loss are refused", "[bad_input][region]") {
    auto bad = GENERATE(range(0, 13));
    segloss_loss_kind_t kinds[] = {SEGLOSS_LOSS_TVERSKY, SEGLOSS_LOSS_TVERSKY, SEGLOSS_LOSS_FOCAL_TVERSKY,
                                   SEGLOSS_LOSS_FOCAL_TVERSKY, SEGLOSS_LOSS_ASYMMETRIC,
                                   SEGLOSS_LOSS_SENSITIVITY_SPECIFICITY, SEGLOSS_LOSS_SENSITIVITY_SPECIFICITY,
                                   SEGLOSS_LOSS_GENERALIZED_DICE, SEGLOSS_LOSS_GENERALIZED_DICE,
                                   SEGLOSS_LOSS_PENALTY_GENERALIZED_DICE, SEGLOSS_LOSS_IOU, SEGLOSS_LOSS_DICE,
                                   SEGLOSS_LOSS_TVERSKY};
    Fixture f(kinds[bad]);
    static const float w[3] = {1, 1, 1};
    switch (bad) {
    case 0: f.p.alpha = -0.1f; break;
    case 1: f.p.beta = NAN; break;
    case 2: f.p.gamma = 0; break;
    case 3: f.p.gamma = -1; break;
    case 4: f.p.b = 0; break;
    case 5: f.p.r = 1.5f; break;
    case 6: f.p.r = NAN; break;
    case 7: f.p.w_type = static_cast<segloss_gd_weight_t>(3); break;
    case 8: f.p.weight = w; f.p.num_weights = 3; break;  // generalized Dice makes its own weights
    case 9: f.p.k = -1; break;
    case 10: f.p.squared_pred = 1; break;  // Dice's option
    case 11: f.p.empty = static_cast<segloss_empty_t>(2); break;
    case 12: f.p.loss = static_cast<segloss_loss_kind_t>(99); break;
    }
    INFO("case " << bad);
    REQUIRE(f.run() == SEGLOSS_STATUS_INVALID_ARGUMENT);
    REQUIRE(f.untouched());
}

TEST_CASE("out-of-range options of each pointwise loss are refused", "[bad_input][pointwise]") {
    auto bad = GENERATE(range(0, 11));
    segloss_loss_kind_t kinds[] = {SEGLOSS_LOSS_CE,    SEGLOSS_LOSS_CE,    SEGLOSS_LOSS_WCE,   SEGLOSS_LOSS_CE,
                                   SEGLOSS_LOSS_FOCAL, SEGLOSS_LOSS_FOCAL, SEGLOSS_LOSS_FOCAL, SEGLOSS_LOSS_FOCAL,
                                   SEGLOSS_LOSS_FOCAL, SEGLOSS_LOSS_FOCAL, SEGLOSS_LOSS_FOCAL};
    Fixture f(kinds[bad]);
    static const float w[3] = {1, 1, 1}, two[2] = {1, 1}, negative[3] = {1, -1, 1};
    switch (bad) {
    case 0: f.p.label_smoothing = 1.5f; break;
    case 1: f.p.weight_norm = static_cast<segloss_weight_norm_t>(2); break;
    case 2: break;  // wce without weights
    case 3: f.p.class_weights = SEGLOSS_CLASS_WEIGHTS_INVERSE_FREQUENCY; f.p.weight = w; f.p.num_weights = 3; break;
    case 4: f.p.gamma = -1; break;
    case 5: f.p.weight = w; f.p.num_weights = 3; break;  // focal weighs by alpha
    case 6: f.p.has_alpha = 1; f.p.alpha = 1.5f; break;
    case 7: f.p.class_alpha = w; f.p.num_class_alpha = 3; break;  // without has_alpha
    case 8: f.p.has_alpha = 1; f.p.class_alpha = two; f.p.num_class_alpha = 2; break;
    case 9: f.p.has_alpha = 1; f.p.class_alpha = negative; f.p.num_class_alpha = 3; break;
    case 10: f.p.class_weights = SEGLOSS_CLASS_WEIGHTS_INVERSE_FREQUENCY; break;
    }
    INFO("case " << bad);
    const segloss_status_t want = bad == 8 ? SEGLOSS_STATUS_INVALID_SHAPE : SEGLOSS_STATUS_INVALID_ARGUMENT;
    REQUIRE(f.run() == want);
    REQUIRE(f.untouched());
}

TEST_CASE("dense targets outside [0, 1] are refused with check_inputs", "[bad_input]") {
    auto loss = GENERATE(SEGLOSS_LOSS_CE, SEGLOSS_LOSS_WCE, SEGLOSS_LOSS_FOCAL, SEGLOSS_LOSS_DICE,
                         SEGLOSS_LOSS_GENERALIZED_DICE);
    auto value = GENERATE(-0.5f, 1.5f, NAN);
    Fixture f(loss);
    // wce's inverse-frequency weights run the target pre-pass even without check_inputs.
    if (loss == SEGLOSS_LOSS_WCE) f.p.class_weights = SEGLOSS_CLASS_WEIGHTS_INVERSE_FREQUENCY;
    HostTensor<float> dense({2, 3, 4, 5});
    for (int64_t i = 0; i < dense.numel(); i++) dense.flat(i) = (i % 3) / 2.0f;
    dense.flat(17) = value;
    f.t = dense.dl();
    REQUIRE(f.run() == SEGLOSS_STATUS_OK);  // unchecked: the caller's promise
    for (int64_t i = 0; i < f.grad.numel(); i++) f.grad.flat(i) = kSentinel;
    f.value.flat(0) = kSentinel;
    f.p.check_inputs = 1;
    REQUIRE(f.run() == SEGLOSS_STATUS_INVALID_LABEL);
    REQUIRE(f.untouched());
}

TEST_CASE("region options that leave no class are rejected", "[bad_input][dice]") {
    HostTensor<float> logits({2, 1, 4, 5});
    HostTensor<int32_t> labels({2, 4, 5});
    HostTensor<float> value({1}, false, kSentinel);
    DLTensor l = logits.dl(), t = labels.dl(), v = value.dl();
    segloss_loss_params_t p;
    segloss_loss_params_init(&p, SEGLOSS_LOSS_DICE);
    p.include_background = 0;
    segloss_context_t ctx;
    segloss_context_create(&ctx);
    REQUIRE(segloss_loss_compute(ctx, &p, &l, &t, &v, nullptr, 1) == SEGLOSS_STATUS_INVALID_ARGUMENT);
    REQUIRE(value.flat(0) == kSentinel);
    segloss_context_destroy(ctx);
}

TEST_CASE("status strings and version", "[api]") {
    REQUIRE(std::string(segloss_status_string(SEGLOSS_STATUS_INVALID_LABEL)) == "SEGLOSS_STATUS_INVALID_LABEL");
    REQUIRE(std::string(segloss_version()) == "0.1.0");
    segloss_loss_kind_t k;
    REQUIRE(segloss_loss_from_name("dice", &k) == SEGLOSS_STATUS_OK);
    REQUIRE(k == SEGLOSS_LOSS_DICE);
    REQUIRE(segloss_loss_from_name("nope", &k) == SEGLOSS_STATUS_INVALID_ARGUMENT);
}

TEST_CASE("binding a context to a stream checks the device", "[api][device]") {
    segloss_context_t ctx;
    REQUIRE(segloss_context_create(&ctx) == SEGLOSS_STATUS_OK);
    REQUIRE(segloss_context_set_stream(nullptr, {kDLCPU, 0}, nullptr) == SEGLOSS_STATUS_INVALID_ARGUMENT);
    REQUIRE(segloss_context_set_stream(ctx, {kDLCPU, 0}, nullptr) == SEGLOSS_STATUS_OK);  // unbinds
    REQUIRE(segloss_context_set_stream(ctx, {kDLVulkan, 0}, nullptr) == SEGLOSS_STATUS_UNSUPPORTED);
    // OpenCL needs a command queue.
    const segloss_status_t opencl = segloss_context_set_stream(ctx, {kDLOpenCL, 0}, nullptr);
    CHECK((opencl == SEGLOSS_STATUS_INVALID_ARGUMENT || opencl == SEGLOSS_STATUS_UNSUPPORTED));
    CHECK(std::string(segloss_last_error(ctx)).find("opencl") != std::string::npos);
#ifdef SEGLOSS_HAVE_CUDA_KERNELS
    // A device the driver does not have (or no driver at all).
    REQUIRE(segloss_context_set_stream(ctx, {kDLCUDA, 999}, nullptr) == SEGLOSS_STATUS_DEVICE_UNAVAILABLE);
#else
    REQUIRE(segloss_context_set_stream(ctx, {kDLCUDA, 0}, nullptr) == SEGLOSS_STATUS_UNSUPPORTED);
#endif
    REQUIRE(std::string(segloss_status_string(SEGLOSS_STATUS_DEVICE_MISMATCH)) == "SEGLOSS_STATUS_DEVICE_MISMATCH");
    segloss_context_destroy(ctx);
}

TEST_CASE("the region epilogue stage validates like the one-shot call", "[bad_input][dice]") {
    HostTensor<double> stats({2, 3, SEGLOSS_REGION_NUM_STATS});
    for (int64_t i = 0; i < stats.numel(); i++) stats.flat(i) = 1.0 + (i % 5);
    for (int64_t g = 0; g < 6; g++) {
        stats.flat(g * SEGLOSS_REGION_NUM_STATS + SEGLOSS_REGION_STAT_INVALID) = 0;
        stats.flat(g * SEGLOSS_REGION_NUM_STATS + SEGLOSS_REGION_STAT_NONFINITE) = 0;
        stats.flat(g * SEGLOSS_REGION_NUM_STATS + SEGLOSS_REGION_STAT_BAD_MASK) = 0;
    }
    HostTensor<float> coef({2, 3, SEGLOSS_REGION_NUM_COEFS}, false, kSentinel);
    HostTensor<double> wrong({2}, false, kSentinel), value({1}, false, kSentinel);
    DLTensor s = stats.dl(), c = coef.dl(), w = wrong.dl(), v = value.dl();
    segloss_loss_params_t p;
    segloss_loss_params_init(&p, SEGLOSS_LOSS_DICE);
    segloss_context_t ctx;
    segloss_context_create(&ctx);
    REQUIRE(segloss_region_epilogue(ctx, &p, &s, &w, &c, 1) == SEGLOSS_STATUS_INVALID_SHAPE);
    float neg[3] = {1, -2, 1};
    p.weight = neg;
    p.num_weights = 3;
    REQUIRE(segloss_region_epilogue(ctx, &p, &s, &v, &c, 1) == SEGLOSS_STATUS_INVALID_ARGUMENT);
    for (int64_t i = 0; i < coef.numel(); i++) REQUIRE(coef.flat(i) == kSentinel);
    REQUIRE(value.flat(0) == kSentinel);
    p.weight = nullptr;
    p.num_weights = 0;
    REQUIRE(segloss_region_epilogue(ctx, &p, &s, &v, &c, 1) == SEGLOSS_STATUS_OK);
    REQUIRE(std::isfinite(value.flat(0)));
    segloss_context_destroy(ctx);
}

TEST_CASE("int64 labels beyond 32 bits are invalid labels, never a class or ignore_index", "[bad_input]") {
    auto ignore = GENERATE(int64_t(-1), int64_t(INT32_MIN), int64_t(255));
    auto bad = GENERATE(int64_t(1) << 32, (int64_t(1) << 32) - 1, INT64_MIN, int64_t(INT32_MIN) - 1);
    Fixture f(SEGLOSS_LOSS_CE);
    HostTensor<int64_t> labels({2, 4, 5});
    for (int64_t i = 0; i < labels.numel(); i++) labels.flat(i) = i % 3;
    f.t = labels.dl();
    f.p.has_ignore_index = 1;
    f.p.ignore_index = ignore;
    REQUIRE(f.run() == SEGLOSS_STATUS_OK);
    for (int64_t i = 0; i < f.grad.numel(); i++) f.grad.flat(i) = kSentinel;
    f.value.flat(0) = kSentinel;
    labels.flat(9) = bad;
    INFO("label " << bad << ", ignore_index " << ignore);
    REQUIRE(f.run() == SEGLOSS_STATUS_INVALID_LABEL);
    REQUIRE(f.untouched());
}

TEST_CASE("bad loss masks are refused before anything is written", "[bad_input][mask]") {
    auto loss = GENERATE(SEGLOSS_LOSS_CE, SEGLOSS_LOSS_DICE, SEGLOSS_LOSS_TOPK, SEGLOSS_LOSS_DICE_CE);
    auto bad = GENERATE(range(0, 7));
    Fixture f(loss);
    HostTensor<float> mask({2, 4, 5}, false, 1.0f), wrong({2, 5, 4}, false, 1.0f);
    HostTensor<int32_t> ints({2, 4, 5}, false, 1);
    DLTensor m = mask.dl();
    segloss_status_t want = SEGLOSS_STATUS_INVALID_ARGUMENT;
    switch (bad) {
    case 0: mask.flat(7) = 1.5f; break;
    case 1: mask.flat(7) = -0.25f; break;
    case 2: mask.flat(7) = NAN; break;
    case 3: mask.flat(7) = INFINITY; break;
    case 4: m = wrong.dl(); want = SEGLOSS_STATUS_INVALID_SHAPE; break;
    case 5: m = ints.dl(); want = SEGLOSS_STATUS_UNSUPPORTED; break;
    case 6: m.data = f.grad.storage().data(); break;  // the gradient would overwrite it
    }
    f.p.loss_mask = &m;
    INFO("case " << bad << ": " << segloss_last_error(f.ctx));
    REQUIRE(f.run() == want);
    REQUIRE(f.untouched());
}

TEST_CASE("out-of-range topk options are refused", "[bad_input][topk]") {
    auto bad = GENERATE(range(0, 5));
    Fixture f(SEGLOSS_LOSS_TOPK);
    switch (bad) {
    case 0: f.p.k = 0; break;
    case 1: f.p.k = 100.5f; break;
    case 2: f.p.topk_mode = SEGLOSS_TOPK_THRESHOLD; f.p.t = 0; break;
    case 3: f.p.topk_mode = SEGLOSS_TOPK_THRESHOLD; f.p.t = 1.01f; break;
    case 4: f.p.topk_mode = static_cast<segloss_topk_mode_t>(7); break;
    }
    INFO("case " << bad);
    REQUIRE(f.run() == SEGLOSS_STATUS_INVALID_ARGUMENT);
    REQUIRE(f.untouched());
}

TEST_CASE("negative strides in inputs and outputs give the compact call's bits", "[bad_input][strides]") {
    auto loss = GENERATE(SEGLOSS_LOSS_CE, SEGLOSS_LOSS_DICE);
    Fixture f(loss);
    REQUIRE(f.run() == SEGLOSS_STATUS_OK);
    // The logits reversed along x, the gradient along y: element (n, c, y, x) of [2, 3, 4, 5].
    std::vector<float> logits(120), grad(120, kSentinel);
    for (int64_t n = 0; n < 2; n++)
        for (int64_t c = 0; c < 3; c++)
            for (int64_t y = 0; y < 4; y++)
                for (int64_t x = 0; x < 5; x++) logits[n * 60 + c * 20 + y * 5 + (4 - x)] = f.logits.flat(n * 60 + c * 20 + y * 5 + x);
    int64_t lstrides[4] = {60, 20, 5, -1}, gstrides[4] = {60, 20, -5, 1};
    DLTensor l = f.l, g = f.g;
    l.data = logits.data() + 4;
    l.strides = lstrides;
    g.data = grad.data() + 15;
    g.strides = gstrides;
    HostTensor<float> value({1}, false, kSentinel);
    DLTensor v = value.dl();
    REQUIRE(segloss_loss_compute(f.ctx, &f.p, &l, &f.t, &v, &g, 1.0f) == SEGLOSS_STATUS_OK);
    CHECK(value.flat(0) == f.value.flat(0));
    for (int64_t n = 0; n < 2; n++)
        for (int64_t c = 0; c < 3; c++)
            for (int64_t y = 0; y < 4; y++)
                for (int64_t x = 0; x < 5; x++) {
                    const int64_t i = n * 60 + c * 20 + y * 5 + x;
                    REQUIRE(grad[static_cast<size_t>(n * 60 + c * 20 + (3 - y) * 5 + x)] == f.grad.flat(i));
                }
}

TEST_CASE("bad spacing of the boundary losses is refused before anything is written", "[bad_input][boundary]") {
    auto loss = GENERATE(SEGLOSS_LOSS_BOUNDARY, SEGLOSS_LOSS_HAUSDORFF_DT, SEGLOSS_LOSS_DPCE);
    double negative[2] = {1.0, -1.0}, nan[2] = {NAN, 1.0}, three[3] = {1.0, 1.0, 1.0};
    for (auto [spacing, count] : {std::pair<double *, int64_t>{negative, 2}, {nan, 2}, {three, 3}, {nullptr, 2}}) {
        Fixture f(loss);
        f.p.spacing = spacing;
        f.p.num_spacing = count;
        INFO(segloss_loss_name(loss) << ", " << count << " values");
        REQUIRE(f.run() == SEGLOSS_STATUS_INVALID_ARGUMENT);
        CHECK(std::string(segloss_last_error(f.ctx)).find("spacing") != std::string::npos);
        REQUIRE(f.untouched());
    }
}

TEST_CASE("the C++ API throws segloss::Error with the status and the message naming the argument",
          "[bad_input][cpp]") {
    Fixture f(SEGLOSS_LOSS_DICE);
    segloss::Context ctx;
    auto status_of = [](auto &&call) {
        try {
            call();
        } catch (const segloss::Error &e) {
            INFO(e.what());
            return std::make_pair(e.status(), std::string(e.what()));
        }
        return std::make_pair(SEGLOSS_STATUS_OK, std::string());
    };
    auto [unknown, unknown_msg] = status_of([] { segloss::LossParams p("dcie"); });
    CHECK(unknown == SEGLOSS_STATUS_INVALID_ARGUMENT);
    CHECK(unknown_msg.find("dcie") != std::string::npos);
    f.labels.flat(3) = 7;  // >= C
    segloss::LossParams p(SEGLOSS_LOSS_DICE);
    auto [label, label_msg] = status_of([&] { ctx.compute(p, f.l, f.t, f.v, &f.g); });
    CHECK(label == SEGLOSS_STATUS_INVALID_LABEL);
    CHECK(label_msg.find("SEGLOSS_STATUS_INVALID_LABEL: 1 target labels are outside [0, 3)") == 0);
    f.labels.flat(3) = 0;
    segloss::LossParams focal(SEGLOSS_LOSS_FOCAL);
    focal.gamma(-1);
    auto [gamma, gamma_msg] = status_of([&] { ctx.compute(focal, f.l, f.t, f.v, &f.g); });
    CHECK(gamma == SEGLOSS_STATUS_INVALID_ARGUMENT);
    CHECK(gamma_msg.find("gamma") != std::string::npos);
    REQUIRE(f.untouched());
}
