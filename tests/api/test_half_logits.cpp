// SPDX-License-Identifier: Apache-2.0
// float16 and bfloat16 logits and gradients: the loss is computed in float32 from the half
// values, so it must equal the float32 call on the same (widened) values exactly, and a half
// gradient must be the float32 gradient rounded to nearest even, bit for bit. The rounding is
// checked against a plain implementation written here from the formats' definitions.
#include <cmath>
#include <cstring>

#include <catch2/catch.hpp>

#include "support/loss_matrix.h"

using namespace segloss;
using namespace segloss::test;

namespace {

enum class Half { F16, BF16 };

// Format of a half: exponent bias, mantissa bits.
struct Format {
    int bias, mant;
};
Format format_of(Half h) { return h == Half::F16 ? Format{15, 10} : Format{127, 7}; }

double half_to_double(uint16_t b, Half h) {
    const Format f = format_of(h);
    const int exp_bits = 15 - f.mant, max_exp = (1 << exp_bits) - 1;
    const int sign = b >> 15, e = (b >> f.mant) & max_exp, m = b & ((1 << f.mant) - 1);
    double v;
    if (e == max_exp) v = m ? NAN : INFINITY;
    else if (e == 0) v = std::ldexp(m, 1 - f.bias - f.mant);
    else v = std::ldexp(1.0 + std::ldexp(m, -f.mant), e - f.bias);
    return sign ? -v : v;
}

// Round to nearest, ties to even (nearbyint in the default rounding mode).
uint16_t double_to_half(double x, Half h) {
    const Format f = format_of(h);
    const int exp_bits = 15 - f.mant, max_exp = (1 << exp_bits) - 1;
    if (std::isnan(x)) return static_cast<uint16_t>((max_exp << f.mant) | (1 << (f.mant - 1)));
    const uint16_t sign = std::signbit(x) ? 0x8000 : 0;
    const double a = std::fabs(x);
    if (std::isinf(a)) return static_cast<uint16_t>(sign | (max_exp << f.mant));
    const int min_normal_exp = 1 - f.bias;
    int bits;
    if (a < std::ldexp(1.0, min_normal_exp)) {
        bits = static_cast<int>(std::nearbyint(std::ldexp(a, f.bias - 1 + f.mant)));  // subnormal steps
    } else {
        int e;
        const double m = std::frexp(a, &e) * 2;  // a = m 2^(e-1), m in [1, 2)
        e -= 1;
        int q = static_cast<int>(std::nearbyint((m - 1) * (1 << f.mant)));
        if (q == (1 << f.mant)) {
            q = 0;
            e++;
        }
        bits = e + f.bias >= max_exp ? (max_exp << f.mant) : (((e + f.bias) << f.mant) | q);
    }
    return static_cast<uint16_t>(sign | bits);
}

DLDataType dl_of(Half h) { return h == Half::F16 ? DLDataType{kDLFloat, 16, 1} : DLDataType{kDLBfloat, 16, 1}; }

}  // namespace

TEST_CASE("the half conversions of this test match the formats", "[half]") {
    REQUIRE(double_to_half(1.0, Half::F16) == 0x3c00);
    REQUIRE(double_to_half(65504.0, Half::F16) == 0x7bff);
    REQUIRE(double_to_half(65520.0, Half::F16) == 0x7c00);  // the tie rounds to even: infinity
    REQUIRE(double_to_half(std::ldexp(1.0, -24), Half::F16) == 0x0001);
    REQUIRE(double_to_half(std::ldexp(1.0, -25), Half::F16) == 0x0000);  // tie to even
    REQUIRE(double_to_half(1.0, Half::BF16) == 0x3f80);
    REQUIRE(double_to_half(-2.0, Half::BF16) == 0xc000);
    REQUIRE(double_to_half(1.0 + std::ldexp(1.0, -8), Half::BF16) == 0x3f80);  // tie to even
    for (uint32_t b = 0; b < 0x10000; b++) {
        for (Half h : {Half::F16, Half::BF16}) {
            const double v = half_to_double(static_cast<uint16_t>(b), h);
            if (!std::isnan(v)) REQUIRE(double_to_half(v, h) == b);
        }
    }
}

namespace {

// The loss with half logits and a half gradient against the float32 call on the same values.
void check_half(segloss_loss_kind_t loss, Half half, Target target, bool strided) {
    const std::vector<int64_t> shape{2, 3, 5, 9};
    LossTester t(loss);
    t.shape(shape).target(target).strided(strided).seed(13);
    t.make_inputs();
    // The logits rounded to half; the float32 logits hold the same values.
    HostTensor<float> &l32 = t.logits();
    HostTensor<uint16_t> lh(shape, strided, 0);
    for (int64_t i = 0; i < l32.numel(); i++) {
        lh.flat(i) = double_to_half(l32.flat(i), half);
        l32.flat(i) = static_cast<float>(half_to_double(lh.flat(i), half));
    }
    DLTensor tl32 = l32.dl(), tlh = lh.dl(), tt = t.target_dl();
    tlh.dtype = dl_of(half);
    HostTensor<float> g32(shape, strided, NAN), g32_from_half(shape, strided, NAN);
    HostTensor<uint16_t> gh(shape, strided, 0xabcd);
    DLTensor tg32 = g32.dl(), tg32h = g32_from_half.dl(), tgh = gh.dl();
    tgh.dtype = dl_of(half);
    double v32 = 0, vh = 0, vh32 = 0;
    std::vector<int64_t> one{1};
    auto value = [&](double *v) {
        DLTensor x{};
        x.data = v;
        x.device = {kDLCPU, 0};
        x.ndim = 1;
        x.dtype = {kDLFloat, 64, 1};
        x.shape = one.data();
        return x;
    };
    DLTensor tv32 = value(&v32), tvh = value(&vh), tvh32 = value(&vh32);
    Context ctx;
    const LossParams &p = t.params();
    ctx.compute(p, tl32, tt, tv32, &tg32);
    ctx.compute(p, tlh, tt, tvh, &tgh);
    const std::string kernels = ctx.last_kernel();
    ctx.compute(p, tlh, tt, tvh32, &tg32h);
    INFO("loss " << segloss_loss_name(loss) << ", kernels " << kernels);
    REQUIRE(kernels.find(half == Half::F16 ? "convert_f16_to_f32" : "convert_bf16_to_f32") == 0);
    REQUIRE(vh == v32);
    REQUIRE(vh32 == v32);
    for (int64_t i = 0; i < g32.numel(); i++) {
        REQUIRE(g32_from_half.flat(i) == g32.flat(i));
        INFO("element " << i << ": float32 gradient " << g32.flat(i));
        REQUIRE(gh.flat(i) == double_to_half(g32.flat(i), half));
    }
    REQUIRE(gh.gaps_all([](uint16_t b) { return b == 0xabcd; }));
    // And the float32 computation on the half values is the reference's.
    ref::Case k = t.reference_case();
    for (int64_t i = 0; i < l32.numel(); i++) k.x[i] = l32.flat(i);
    require_close(v32, ref::loss(k, *p.get(), 1.0).value, 2e-5, "value");
}

}  // namespace

TEST_CASE("half logits: the float32 loss of the half values, the gradient rounded to even", "[half]") {
    auto loss = GENERATE(SEGLOSS_LOSS_CE, SEGLOSS_LOSS_FOCAL, SEGLOSS_LOSS_TOPK, SEGLOSS_LOSS_DICE,
                         SEGLOSS_LOSS_GENERALIZED_DICE, SEGLOSS_LOSS_DICE_CE, SEGLOSS_LOSS_DICE_TOPK);
    auto half = GENERATE(Half::F16, Half::BF16);
    auto target = GENERATE(Target::I32, Target::F32);
    auto strided = GENERATE(false, true);
    check_half(loss, half, target, strided);
}

TEST_CASE("half conversions round alike at every CPU feature level", "[half][isa]") {
    // Baseline and SSE4.1 convert float16 in software, AVX2 with F16C instructions.
    for (segloss_cpu_isa_t isa : {SEGLOSS_CPU_ISA_BASELINE, SEGLOSS_CPU_ISA_SSE41, SEGLOSS_CPU_ISA_ALL}) {
        REQUIRE(segloss_set_max_cpu_isa(isa) == SEGLOSS_STATUS_OK);
        INFO("ISA level " << int(isa));
        for (Half half : {Half::F16, Half::BF16}) check_half(SEGLOSS_LOSS_CE, half, Target::I32, true);
    }
    REQUIRE(segloss_set_max_cpu_isa(SEGLOSS_CPU_ISA_ALL) == SEGLOSS_STATUS_OK);
}

TEST_CASE("non-finite half logits make the loss NaN", "[half]") {
    auto half = GENERATE(Half::F16, Half::BF16);
    auto bad = GENERATE(NAN, INFINITY);
    LossTester t(SEGLOSS_LOSS_CE);
    t.shape({1, 3, 4, 4}).seed(2);
    t.make_inputs();
    HostTensor<uint16_t> lh({1, 3, 4, 4});
    for (int64_t i = 0; i < lh.numel(); i++) lh.flat(i) = double_to_half(t.logits().flat(i), half);
    lh.flat(7) = double_to_half(bad, half);
    DLTensor tl = lh.dl(), tt = t.target_dl();
    tl.dtype = dl_of(half);
    double v = 0;
    std::vector<int64_t> one{1};
    DLTensor tv{&v, {kDLCPU, 0}, 1, {kDLFloat, 64, 1}, one.data(), nullptr, 0};
    Context().compute(t.params(), tl, tt, tv, nullptr);
    REQUIRE(std::isnan(v));
}
