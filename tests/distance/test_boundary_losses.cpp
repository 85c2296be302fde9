// SPDX-License-Identifier: Apache-2.0
// boundary, hausdorff_dt, dpce, dice_boundary and dice_hausdorff against the float64 reference
// (maps from the brute-force EDT), the references' gradients against central finite differences
// with the maps held constant, and a precomputed target map against the one computed in the call.
#include <cmath>
#include <random>
#include <string>
#include <vector>

#include <catch2/catch.hpp>

#include "reference/boundary.h"
#include "segloss/segloss.h"
#include "support/grid.h"
#include "support/host_tensor.h"

using segloss::test::concat;
using segloss::test::HostTensor;
using segloss::test::xyz;
using segloss::test::xyz_spacing;

namespace {

struct Setup {
    std::vector<int64_t> spatial;  // D, H, W (1 to 3 axes)
    std::vector<double> spacing;   // one per axis
    int64_t N = 2, C = 3;
    bool dense = false;            // dense one-hot float32 target instead of int32 labels
    bool ignore = false, mask = false;
};

// Labels: blobs from a smooth random field (so masks have interiors), class C-1 absent from
// image 1 (an empty mask); logits: the labels of a shifted copy, with noise.
segloss::ref::Case make_case(const Setup &s, uint32_t seed) {
    std::mt19937 rng(seed);
    std::uniform_real_distribution<double> u(0, 6.28), noise(-1.5, 1.5);
    const auto e = xyz(s.spatial);
    segloss::ref::Case k;
    k.N = s.N;
    k.C = s.C;
    k.V = e[0] * e[1] * e[2];
    k.dense_target = s.dense;
    k.label.resize(static_cast<size_t>(k.N * k.V));
    k.x.resize(static_cast<size_t>(k.N * k.C * k.V));
    for (int64_t n = 0; n < k.N; n++) {
        std::vector<double> phase(static_cast<size_t>(3 * k.C));
        for (double &ph : phase) ph = u(rng);
        for (int64_t v = 0; v < k.V; v++) {
            const double x = double(v % e[0]), y = double((v / e[0]) % e[1]), z = double(v / (e[0] * e[1]));
            auto field = [&](int64_t c, double shift) {
                return std::sin(0.7 * x + phase[3 * c] + shift) + std::sin(0.6 * y + phase[3 * c + 1]) +
                       std::sin(0.8 * z + phase[3 * c + 2]);
            };
            int64_t best = 0, best_shifted = 0;
            for (int64_t c = 1; c < k.C; c++) {
                if (n == 1 && c == k.C - 1) continue;
                if (field(c, 0) > field(best, 0)) best = c;
                if (field(c, 0.8) > field(best_shifted, 0.8)) best_shifted = c;
            }
            k.label[n * k.V + v] = best;
            for (int64_t c = 0; c < k.C; c++) k.x[(n * k.C + c) * k.V + v] = (c == best_shifted ? 3.0 : 0.0) + noise(rng);
        }
    }
    if (s.ignore) {
        for (int i = 0; i < 5; i++) k.label[rng() % k.label.size()] = 7;
    }
    if (s.dense) {
        k.dense.resize(static_cast<size_t>(k.N * k.C * k.V));
        for (int64_t n = 0; n < k.N; n++) {
            for (int64_t c = 0; c < k.C; c++) {
                for (int64_t v = 0; v < k.V; v++) k.dense[(n * k.C + c) * k.V + v] = k.label[n * k.V + v] == c ? 1.0 : 0.0;
            }
        }
    }
    if (s.mask) {
        std::uniform_real_distribution<double> m(0, 1);
        for (int64_t i = 0; i < k.N * k.V; i++) k.mask.push_back(m(rng) < 0.15 ? 0.0 : m(rng));
    }
    return k;
}

struct Run {
    double value = 0;
    std::vector<double> values, grad;
};

// The loss through the C ABI on the case's float32 copy.
Run run_segloss(const segloss::ref::Case &k, const Setup &s, segloss_loss_params_t p, const DLTensor *target_map = nullptr) {
    HostTensor<float> logits(concat({k.N, k.C}, s.spatial), true), grad(concat({k.N, k.C}, s.spatial));
    for (int64_t i = 0; i < logits.numel(); i++) logits.flat(i) = static_cast<float>(k.x[i]);
    HostTensor<int32_t> labels(concat({k.N}, s.spatial));
    HostTensor<float> dense(concat({k.N, k.C}, s.spatial));
    for (int64_t i = 0; i < labels.numel(); i++) labels.flat(i) = static_cast<int32_t>(k.label[i]);
    for (int64_t i = 0; i < (s.dense ? dense.numel() : 0); i++) dense.flat(i) = static_cast<float>(k.dense[i]);
    HostTensor<float> mask(concat({k.N}, s.spatial));
    for (int64_t i = 0; i < (s.mask ? mask.numel() : 0); i++) mask.flat(i) = static_cast<float>(k.mask[i]);
    DLTensor m = mask.dl();
    if (s.mask) p.loss_mask = &m;
    p.spacing = s.spacing.data();
    p.num_spacing = int64_t(s.spacing.size());
    p.target_distance = target_map;
    const int64_t K = k.C - (p.include_background ? 0 : 1);
    std::vector<int64_t> vshape{1};
    if (p.reduction == SEGLOSS_REDUCTION_NONE) {
        vshape = p.loss == SEGLOSS_LOSS_DPCE ? concat({k.N}, s.spatial) : std::vector<int64_t>{p.batch ? 1 : k.N, K};
    }
    // Per-voxel value maps are float32; group values and scalars float64.
    const bool voxel_map = p.reduction == SEGLOSS_REDUCTION_NONE && p.loss == SEGLOSS_LOSS_DPCE;
    HostTensor<double> value(vshape);
    HostTensor<float> value32(vshape);
    segloss_context_t ctx;
    REQUIRE(segloss_context_create(&ctx) == SEGLOSS_STATUS_OK);
    DLTensor l = logits.dl(), t = s.dense ? dense.dl() : labels.dl(), v = voxel_map ? value32.dl() : value.dl();
    DLTensor g = grad.dl();
    const segloss_status_t st = segloss_loss_compute(ctx, &p, &l, &t, &v, &g, 1.0f);
    INFO(segloss_last_error(ctx));
    REQUIRE(st == SEGLOSS_STATUS_OK);
    segloss_context_destroy(ctx);
    Run r;
    r.value = value.flat(0);
    for (int64_t i = 0; i < value.numel(); i++) r.values.push_back(voxel_map ? value32.flat(i) : value.flat(i));
    for (int64_t i = 0; i < grad.numel(); i++) r.grad.push_back(grad.flat(i));
    return r;
}

// The reference's value and gradient checked against the library's (values to 1e-4 relative,
// gradients to 1e-4 of the largest).
void require_close(const Run &got, const segloss::ref::Result &want, bool none) {
    if (!none) {
        REQUIRE(got.value == Approx(want.value).epsilon(1e-4).margin(1e-6));
    } else {
        REQUIRE(got.values.size() == want.values.size());
        for (size_t i = 0; i < want.values.size(); i++) REQUIRE(got.values[i] == Approx(want.values[i]).epsilon(1e-4).margin(1e-6));
    }
    double gmax = 0;
    for (double g : want.grad) gmax = std::max(gmax, std::fabs(g));
    REQUIRE(gmax > 0);
    for (size_t i = 0; i < want.grad.size(); i++) {
        INFO("gradient element " << i);
        REQUIRE(std::fabs(got.grad[i] - want.grad[i]) <= 1e-4 * gmax);
    }
}

segloss::ref::Case rounded(segloss::ref::Case k) {
    for (double &x : k.x) x = static_cast<float>(x);
    for (double &m : k.mask) m = static_cast<float>(m);
    return k;
}

void require_matches_reference(const segloss::ref::Case &k, const Setup &s, const segloss_loss_params_t &p) {
    // The reference sees the float32-rounded logits the kernels see.
    const segloss::ref::Case k32 = rounded(k);
    const auto maps = segloss::ref::boundary_maps(k32, p, xyz(s.spatial), xyz_spacing(s.spacing));
    require_close(run_segloss(k, s, p), segloss::ref::boundary(k32, p, maps, 1.0), p.reduction == SEGLOSS_REDUCTION_NONE);
}

// A reference's gradient against central differences of its value (every third element), with
// whatever maps `value` closes over held constant.
template <typename F>
void require_fd_gradient(const segloss::ref::Case &k, const std::vector<double> &grad, F value) {
    const double h = 1e-6;
    for (size_t i = 0; i < k.x.size(); i += 3) {
        segloss::ref::Case a = k, b = k;
        a.x[i] += h;
        b.x[i] -= h;
        INFO("element " << i);
        REQUIRE(grad[i] == Approx((value(a) - value(b)) / (2 * h)).margin(1e-8).epsilon(1e-5));
    }
}

segloss_loss_params_t params(segloss_loss_kind_t loss) {
    segloss_loss_params_t p;
    REQUIRE(segloss_loss_params_init(&p, loss) == SEGLOSS_STATUS_OK);
    return p;
}

}  // namespace

TEST_CASE("boundary loss matches the float64 reference", "[boundary]") {
    Setup s3{{5, 6, 7}, {1.5, 1.0, 0.7}};
    segloss_loss_params_t p = params(SEGLOSS_LOSS_BOUNDARY);
    SECTION("3-D, softmax, index labels, mean") { require_matches_reference(make_case(s3, 1), s3, p); }
    SECTION("3-D, ignored voxels and a loss mask, reduction none") {
        Setup s = s3;
        s.ignore = s.mask = true;
        p.has_ignore_index = 1;
        p.ignore_index = 7;
        p.reduction = SEGLOSS_REDUCTION_NONE;
        require_matches_reference(make_case(s, 2), s, p);
    }
    SECTION("2-D, sigmoid, dense targets, background included, batch, sum") {
        Setup s{{9, 11}, {0.8, 1.2}};
        s.dense = true;
        p.activation = SEGLOSS_ACTIVATION_SIGMOID;
        p.include_background = 1;
        p.batch = 1;
        p.reduction = SEGLOSS_REDUCTION_SUM;
        require_matches_reference(make_case(s, 3), s, p);
    }
}

TEST_CASE("hausdorff_dt matches the float64 reference", "[boundary]") {
    Setup s3{{6, 5, 7}, {1.0, 0.9, 1.3}};
    segloss_loss_params_t p = params(SEGLOSS_LOSS_HAUSDORFF_DT);
    SECTION("two-sided, softmax, alpha 2") { require_matches_reference(make_case(s3, 4), s3, p); }
    SECTION("two-sided, alpha 1.5, ignored voxels and a mask, reduction none, batch") {
        Setup s = s3;
        s.ignore = s.mask = true;
        p.alpha = 1.5f;
        p.has_ignore_index = 1;
        p.ignore_index = 7;
        p.batch = 1;
        p.reduction = SEGLOSS_REDUCTION_NONE;
        require_matches_reference(make_case(s, 5), s, p);
    }
    SECTION("one-sided, sigmoid, dense targets, 2-D") {
        Setup s{{10, 9}, {1.0, 0.5}};
        s.dense = true;
        p.hd_variant = SEGLOSS_HD_ONE_SIDED;
        p.activation = SEGLOSS_ACTIVATION_SIGMOID;
        require_matches_reference(make_case(s, 6), s, p);
    }
}

TEST_CASE("boundary loss references: gradients by central differences with the maps held constant", "[boundary][reference]") {
    Setup s{{3, 4, 5}, {1.2, 1.0, 0.8}};
    s.mask = s.ignore = true;
    const segloss::ref::Case k = make_case(s, 7);
    for (segloss_loss_kind_t loss : {SEGLOSS_LOSS_BOUNDARY, SEGLOSS_LOSS_HAUSDORFF_DT}) {
        for (segloss_activation_t act : {SEGLOSS_ACTIVATION_SOFTMAX, SEGLOSS_ACTIVATION_SIGMOID}) {
            INFO("loss " << int(loss) << ", activation " << int(act));
            segloss_loss_params_t p = params(loss);
            p.activation = act;
            p.has_ignore_index = 1;
            p.ignore_index = 7;
            p.alpha = 1.7f;
            const auto maps = segloss::ref::boundary_maps(k, p, xyz(s.spatial), xyz_spacing(s.spacing));
            require_fd_gradient(k, segloss::ref::boundary(k, p, maps, 1.0).grad,
                                [&](const segloss::ref::Case &c) { return segloss::ref::boundary(c, p, maps, 1.0).value; });
        }
    }
}

TEST_CASE("boundary losses take a precomputed target map and give the same result", "[boundary]") {
    Setup s{{6, 7, 5}, {1.0, 0.8, 0.8}};
    const segloss::ref::Case k = make_case(s, 8);
    HostTensor<int32_t> labels(concat({k.N}, s.spatial));
    for (int64_t i = 0; i < labels.numel(); i++) labels.flat(i) = static_cast<int32_t>(k.label[i]);
    for (segloss_loss_kind_t loss : {SEGLOSS_LOSS_BOUNDARY, SEGLOSS_LOSS_HAUSDORFF_DT}) {
        segloss_loss_params_t p = params(loss);
        segloss_distance_params_t dp;
        segloss_distance_params_init(&dp);
        dp.kind = loss == SEGLOSS_LOSS_BOUNDARY ? SEGLOSS_DISTANCE_SIGNED : SEGLOSS_DISTANCE_BOUNDARY;
        dp.num_classes = k.C;
        dp.spacing = s.spacing.data();
        dp.num_spacing = 3;
        HostTensor<float> map(concat({k.N, k.C - 1}, s.spatial), true);
        segloss_context_t ctx;
        segloss_context_create(&ctx);
        DLTensor l = labels.dl(), m = map.dl();
        REQUIRE(segloss_distance_compute(ctx, &dp, &l, &m, nullptr) == SEGLOSS_STATUS_OK);
        segloss_context_destroy(ctx);
        const Run computed = run_segloss(k, s, p), given = run_segloss(k, s, p, &m);
        REQUIRE(given.value == computed.value);
        REQUIRE(given.grad == computed.grad);
    }
}

TEST_CASE("dpce matches the float64 reference", "[boundary][dpce]") {
    Setup s3{{6, 5, 7}, {1.0, 0.9, 1.3}};
    segloss_loss_params_t p = params(SEGLOSS_LOSS_DPCE);
    auto check = [&](const Setup &s, uint32_t seed) {
        const segloss::ref::Case k = rounded(make_case(s, seed));
        const auto D = segloss::ref::dpce_map(k, p, xyz(s.spatial), xyz_spacing(s.spacing));
        double dmax = 0;
        for (double d : D) dmax = std::max(dmax, d);
        REQUIRE(dmax > 0.5);  // the weights are not all 1
        require_close(run_segloss(k, s, p), segloss::ref::dpce(k, p, D, 1.0), p.reduction == SEGLOSS_REDUCTION_NONE);
    };
    SECTION("3-D, mean") { check(s3, 11); }
    SECTION("3-D, class weights, ignored voxels and a loss mask") {
        Setup s = s3;
        s.ignore = s.mask = true;
        const float w[] = {0.5f, 2.0f, 1.0f};
        p.weight = w;
        p.num_weights = 3;
        p.has_ignore_index = 1;
        p.ignore_index = 7;
        check(s, 12);
    }
    SECTION("2-D, reduction none and sum") {
        Setup s{{11, 9}, {0.6, 1.4}};
        p.reduction = SEGLOSS_REDUCTION_NONE;
        check(s, 13);
        p.reduction = SEGLOSS_REDUCTION_SUM;
        check(s, 14);
    }
}

TEST_CASE("dpce reference: gradient by central differences with D held constant", "[boundary][dpce][reference]") {
    Setup s{{3, 4, 5}, {1.2, 1.0, 0.8}};
    s.mask = s.ignore = true;
    const segloss::ref::Case k = make_case(s, 15);
    segloss_loss_params_t p = params(SEGLOSS_LOSS_DPCE);
    p.has_ignore_index = 1;
    p.ignore_index = 7;
    const auto D = segloss::ref::dpce_map(k, p, xyz(s.spatial), xyz_spacing(s.spacing));
    require_fd_gradient(k, segloss::ref::dpce(k, p, D, 1.0).grad,
                        [&](const segloss::ref::Case &c) { return segloss::ref::dpce(c, p, D, 1.0).value; });
}

TEST_CASE("dpce needs an index-map target", "[boundary][dpce][bad-input]") {
    Setup s{{4, 5}, {1.0, 1.0}};
    s.dense = true;
    const segloss::ref::Case k = make_case(s, 16);
    HostTensor<float> logits({k.N, k.C, 4, 5}), dense({k.N, k.C, 4, 5}), grad({k.N, k.C, 4, 5});
    HostTensor<double> value({1});
    segloss_loss_params_t p = params(SEGLOSS_LOSS_DPCE);
    segloss_context_t ctx;
    segloss_context_create(&ctx);
    DLTensor l = logits.dl(), t = dense.dl(), v = value.dl(), g = grad.dl();
    REQUIRE(segloss_loss_compute(ctx, &p, &l, &t, &v, &g, 1.0f) == SEGLOSS_STATUS_UNSUPPORTED);
    REQUIRE(std::string(segloss_last_error(ctx)).find("index-map") != std::string::npos);
    segloss_context_destroy(ctx);
}

TEST_CASE("dice_boundary and dice_hausdorff are lambda-weighted sums of their parts", "[boundary][compound]") {
    Setup s{{5, 6, 7}, {1.5, 1.0, 0.7}};
    s.ignore = s.mask = true;
    const segloss::ref::Case k = rounded(make_case(s, 17));
    for (segloss_loss_kind_t loss : {SEGLOSS_LOSS_DICE_BOUNDARY, SEGLOSS_LOSS_DICE_HAUSDORFF}) {
        INFO("loss " << segloss_loss_name(loss));
        segloss_loss_kind_t region_kind, part_kind;
        REQUIRE(segloss_loss_parts(loss, &region_kind, &part_kind) == SEGLOSS_STATUS_OK);
        REQUIRE(region_kind == SEGLOSS_LOSS_DICE);
        segloss_loss_params_t p = params(loss);
        p.lambda_region = 0.7f;
        p.lambda_pointwise = 0.3f;
        p.has_ignore_index = 1;
        p.ignore_index = 7;
        // The parts with their own options: Dice without the background; hausdorff_dt's alpha.
        segloss_loss_params_t dice = params(SEGLOSS_LOSS_DICE), part = params(part_kind);
        dice.include_background = 0;
        part.alpha = 1.5f;
        p.region_part = &dice;
        p.pointwise_part = &part;
        // The reference parts see the compound's shared options.
        for (segloss_loss_params_t *q : {&dice, &part}) {
            q->has_ignore_index = 1;
            q->ignore_index = 7;
        }
        part.spacing = s.spacing.data();
        part.num_spacing = 3;
        const auto maps = segloss::ref::boundary_maps(k, part, xyz(s.spatial), xyz_spacing(s.spacing));
        const segloss::ref::Result a = segloss::ref::loss(k, dice, 0.7), b = segloss::ref::boundary(k, part, maps, 0.3);
        segloss::ref::Result want;
        want.value = 0.7 * a.value + 0.3 * b.value;
        for (size_t i = 0; i < a.grad.size(); i++) want.grad.push_back(a.grad[i] + b.grad[i]);
        require_close(run_segloss(k, s, p), want, false);
    }
}
