// SPDX-License-Identifier: Apache-2.0
// segloss_metrics_compute: against the brute-force float64 reference on random label maps, on
// hand-computed cases (a shifted cube, nested cubes, two single-voxel spheres), the empty
// cases, and bad inputs.
#include <cmath>
#include <limits>
#include <random>
#include <vector>

#include <catch2/catch.hpp>

#include "reference/metrics.h"
#include "segloss/segloss.h"
#include "support/blobs.h"
#include "support/context.h"
#include "support/grid.h"
#include "support/host_tensor.h"

using segloss::test::blob_labels;
using segloss::test::class_mask;
using segloss::test::concat;
using segloss::test::Ctx;
using segloss::test::HostTensor;
using segloss::test::xyz;
using segloss::test::xyz_spacing;

namespace {

const char *kMetricNames[] = {"dice", "iou", "hd", "hd95", "assd", "nsd"};

void require_metric(double got, double want, int metric) {
    INFO(kMetricNames[metric] << ": got " << got << ", want " << want);
    if (std::isnan(want)) {
        REQUIRE(std::isnan(got));
    } else if (std::isinf(want)) {
        REQUIRE(got == want);
    } else {
        // Distances come from float32 maps: exact to float32 rounding.
        REQUIRE(std::fabs(got - want) <= 2e-6 * std::max(1.0, std::fabs(want)));
    }
}

struct Result {
    HostTensor<double> values;
    HostTensor<int32_t> cases;
};

Result compute(Ctx &c, const segloss_metric_params_t &p, HostTensor<int32_t> &pred, HostTensor<int32_t> &target,
               int64_t K) {
    const int64_t N = target.shape()[0];
    Result r{HostTensor<double>({N, K, SEGLOSS_NUM_METRICS}, true), HostTensor<int32_t>({N, K})};
    DLTensor pd = pred.dl(), td = target.dl(), vd = r.values.dl(), cd = r.cases.dl();
    const segloss_status_t st = segloss_metrics_compute(c.ctx, &p, &pd, &td, &vd, &cd);
    INFO(segloss_last_error(c.ctx));
    REQUIRE(st == SEGLOSS_STATUS_OK);
    return r;
}

// A box [lo, hi] (inclusive, x y z) of label `c` in image n of a N,D,H,W map.
void paint_box(HostTensor<int32_t> &t, int64_t n, std::array<int64_t, 3> lo, std::array<int64_t, 3> hi, int32_t c) {
    const auto &s = t.shape();
    const int64_t D = s[1], H = s[2], W = s[3];
    for (int64_t z = lo[2]; z <= hi[2]; z++) {
        for (int64_t y = lo[1]; y <= hi[1]; y++) {
            for (int64_t x = lo[0]; x <= hi[0]; x++) t.flat(((n * D + z) * H + y) * W + x) = c;
        }
    }
}

}  // namespace

TEST_CASE("metrics match the brute-force reference on random label maps", "[metrics]") {
    const int64_t N = 2, C = 4;
    Ctx c;
    for (const segloss::test::Grid &s : segloss::test::distance_grids()) {
        const auto e = xyz(s.spatial);
        const auto sp = xyz_spacing(s.spacing);
        const int64_t V = e[0] * e[1] * e[2];
        const std::vector<int32_t> tl = blob_labels(N, C, e, 3u + uint32_t(s.spatial.size()), true);
        std::vector<int32_t> pl = blob_labels(N, C, e, 101u + uint32_t(s.spatial.size()), false);
        for (int64_t v = 0; v < V; v++) {
            if (pl[v] == 2) pl[v] = 0;  // image 0: class 2 predicted nowhere
        }
        HostTensor<int32_t> target(concat({N}, s.spatial), true), pred(concat({N}, s.spatial));
        for (int64_t i = 0; i < target.numel(); i++) target.flat(i) = tl[i], pred.flat(i) = pl[i];
        for (int background = 0; background < 2; background++) {
            for (double q : {95.0, 50.0}) {
                INFO("spatial rank " << s.spatial.size() << ", background " << background << ", percentile " << q);
                segloss_metric_params_t p;
                REQUIRE(segloss_metric_params_init(&p) == SEGLOSS_STATUS_OK);
                p.num_classes = C;
                p.include_background = background;
                p.has_ignore_index = 1;
                p.ignore_index = C;
                p.spacing = s.spacing.data();
                p.num_spacing = int64_t(s.spacing.size());
                p.tolerance = 1.2;
                p.percentile = q;
                const int64_t K = C - (background ? 0 : 1);
                Result r = compute(c, p, pred, target, K);
                for (int64_t n = 0; n < N; n++) {
                    for (int64_t k = 0; k < K; k++) {
                        const int cls = int(k + (background ? 0 : 1));
                        INFO("image " << n << ", class " << cls);
                        // The target's ignored voxels are in neither mask.
                        segloss::ref::Mask tm = class_mask(tl, n, e, cls), pm = class_mask(pl, n, e, cls);
                        for (int64_t v = 0; v < V; v++) {
                            if (tl[n * V + v] == C) pm.values[v] = 0;
                        }
                        const auto want = segloss::ref::metrics_brute_force(pm, tm, sp, p.tolerance, q);
                        REQUIRE(r.cases.flat(n * K + k) == want.empty_case);
                        for (int m = 0; m < SEGLOSS_NUM_METRICS; m++) {
                            require_metric(r.values.flat((n * K + k) * SEGLOSS_NUM_METRICS + m), want.values[m], m);
                        }
                    }
                }
            }
        }
    }
}

TEST_CASE("metrics of hand-computed cases: a shifted cube, nested cubes, two single voxels", "[metrics]") {
    // Image 0: target cube [4, 9]^3 of class 1, prediction shifted by one voxel along x.
    //   Every surface voxel of one cube is 0 from the other's surface (shared faces) except the
    //   far face (s^2 = 36 voxels) and the near face's interior ((s-2)^2 = 16): one voxel, sx.
    //   Surfaces have s^3 - (s-2)^3 = 152 voxels each, symmetric. Dice (s-1)/s, IoU (s-1)/(s+1).
    // Image 1: target cube [5, 8]^3 (s = 4) inside a predicted cube [4, 9]^3 (s = 6).
    //   Prediction surface (152): 96 face voxels at 1 voxel, 48 edge voxels at sqrt 2, 8 corners
    //   at sqrt 3; target surface (56): all at 1. Dice 2*64/(64+216), IoU 64/216.
    // Class 2: one voxel each, 3 along x and 4 along y apart (5 voxels); class 3 in neither.
    HostTensor<int32_t> target({2, 14, 14, 14}), pred({2, 14, 14, 14});
    paint_box(target, 0, {4, 4, 4}, {9, 9, 9}, 1);
    paint_box(pred, 0, {5, 4, 4}, {10, 9, 9}, 1);
    paint_box(target, 1, {5, 5, 5}, {8, 8, 8}, 1);
    paint_box(pred, 1, {4, 4, 4}, {9, 9, 9}, 1);
    for (int64_t n = 0; n < 2; n++) {
        paint_box(pred, n, {0, 0, 12}, {0, 0, 12}, 2);
        paint_box(target, n, {3, 4, 12}, {3, 4, 12}, 2);
    }
    const double sx = 0.8;
    const std::vector<double> spacing{2.0, 1.5, sx};  // D, H, W: x is the shifted axis
    const std::vector<double> iso{1.0, 1.0, 1.0};
    const double r2 = std::sqrt(2.0), r3 = std::sqrt(3.0), nan = std::numeric_limits<double>::quiet_NaN();
    Ctx c;
    for (double tolerance : {0.5, 1.0}) {
        INFO("tolerance " << tolerance);
        segloss_metric_params_t p;
        segloss_metric_params_init(&p);
        p.num_classes = 4;
        p.tolerance = tolerance;
        // The shifted cube, anisotropic.
        p.spacing = spacing.data();
        p.num_spacing = 3;
        Result a = compute(c, p, pred, target, 3);
        const double shifted[] = {5.0 / 6, 5.0 / 7, sx, sx, sx * 52 / 152, tolerance >= sx ? 1.0 : 100.0 / 152};
        for (int m = 0; m < SEGLOSS_NUM_METRICS; m++) require_metric(a.values.flat(m), shifted[m], m);
        REQUIRE(a.cases.flat(0) == SEGLOSS_METRIC_BOTH_PRESENT);
        // Two voxels, isotropic spacing in the volume of image 1; class 3 absent from both.
        p.spacing = iso.data();
        Result b = compute(c, p, pred, target, 3);
        const double nested[] = {128.0 / 280, 64.0 / 216, r3, r2 + 0.45 * (r3 - r2), (96 + 48 * r2 + 8 * r3 + 56) / 208,
                                 tolerance >= 1 ? 152.0 / 208 : 0.0};
        for (int m = 0; m < SEGLOSS_NUM_METRICS; m++) require_metric(b.values.flat(3 * SEGLOSS_NUM_METRICS + m), nested[m], m);
        const double voxels[] = {0, 0, 5, 5, 5, 0};
        for (int m = 0; m < SEGLOSS_NUM_METRICS; m++) require_metric(b.values.flat(1 * SEGLOSS_NUM_METRICS + m), voxels[m], m);
        REQUIRE(b.cases.flat(2) == SEGLOSS_METRIC_BOTH_EMPTY);
        for (int m = 0; m < SEGLOSS_NUM_METRICS; m++) require_metric(b.values.flat(2 * SEGLOSS_NUM_METRICS + m), nan, m);
    }
}

TEST_CASE("metrics of one empty mask: Dice, IoU and NSD 0, distances +inf, flagged", "[metrics]") {
    HostTensor<uint8_t> target({1, 1, 5, 6}), pred({1, 1, 5, 6});  // N,1,H,W uint8
    for (int64_t i = 0; i < 30; i++) target.flat(i) = uint8_t(i % 5 == 0 ? 1 : i % 7 == 0 ? 2 : 0), pred.flat(i) = 0;
    pred.flat(3) = 2;  // class 2 in both, class 1 only in the target
    segloss_metric_params_t p;
    segloss_metric_params_init(&p);
    p.num_classes = 3;
    p.spatial_rank = 2;
    HostTensor<double> values({1, 2, SEGLOSS_NUM_METRICS});
    HostTensor<int32_t> cases({1, 2});
    Ctx c;
    DLTensor pd = pred.dl(), td = target.dl(), vd = values.dl(), cd = cases.dl();
    REQUIRE(segloss_metrics_compute(c.ctx, &p, &pd, &td, &vd, &cd) == SEGLOSS_STATUS_OK);
    REQUIRE(cases.flat(0) == SEGLOSS_METRIC_PRED_EMPTY);
    REQUIRE(cases.flat(1) == SEGLOSS_METRIC_BOTH_PRESENT);
    const double inf = std::numeric_limits<double>::infinity();
    const double want[] = {0, 0, inf, inf, inf, 0};
    for (int m = 0; m < SEGLOSS_NUM_METRICS; m++) require_metric(values.flat(m), want[m], m);
}

TEST_CASE("metrics reject bad input with a clear status and write nothing", "[metrics][bad-input]") {
    Ctx c;
    HostTensor<int32_t> target({2, 4, 5}), pred({2, 4, 5});
    for (int64_t i = 0; i < 40; i++) target.flat(i) = int32_t(i % 3), pred.flat(i) = int32_t((i / 2) % 3);
    HostTensor<double> values({2, 2, SEGLOSS_NUM_METRICS}, false, -7.0);
    segloss_metric_params_t ok;
    segloss_metric_params_init(&ok);
    ok.num_classes = 3;
    auto status = [&](segloss_metric_params_t p, HostTensor<int32_t> &pr, DLTensor *v) {
        DLTensor pd = pr.dl(), td = target.dl();
        return segloss_metrics_compute(c.ctx, &p, &pd, &td, v, nullptr);
    };
    DLTensor vd = values.dl();
    REQUIRE(status(ok, pred, &vd) == SEGLOSS_STATUS_OK);
    for (int64_t i = 0; i < values.numel(); i++) values.flat(i) = -7.0;

    HostTensor<int32_t> bad = pred;
    bad.flat(17) = 3;
    REQUIRE(status(ok, bad, &vd) == SEGLOSS_STATUS_INVALID_LABEL);
    REQUIRE(std::string(segloss_last_error(c.ctx)).find("predicted") != std::string::npos);
    HostTensor<int32_t> other({2, 4, 6});
    REQUIRE(status(ok, other, &vd) == SEGLOSS_STATUS_INVALID_SHAPE);
    segloss_metric_params_t p = ok;
    p.tolerance = -1;
    REQUIRE(status(p, pred, &vd) == SEGLOSS_STATUS_INVALID_ARGUMENT);
    p = ok;
    p.percentile = 101;
    REQUIRE(status(p, pred, &vd) == SEGLOSS_STATUS_INVALID_ARGUMENT);
    p = ok;
    p.struct_size = 8;
    REQUIRE(status(p, pred, &vd) == SEGLOSS_STATUS_INVALID_ARGUMENT);
    const double two[] = {1.0, 2.0, 3.0};
    p = ok;
    p.spacing = two;
    p.num_spacing = 3;  // 2 spatial axes
    REQUIRE(status(p, pred, &vd) == SEGLOSS_STATUS_INVALID_ARGUMENT);
    HostTensor<double> wrong({2, 3, SEGLOSS_NUM_METRICS});
    DLTensor wd = wrong.dl();
    REQUIRE(status(ok, pred, &wd) == SEGLOSS_STATUS_INVALID_SHAPE);
    HostTensor<float> as_float({2, 4, 5});
    DLTensor fd = as_float.dl(), td = target.dl();
    REQUIRE(segloss_metrics_compute(c.ctx, &ok, &fd, &td, &vd, nullptr) == SEGLOSS_STATUS_UNSUPPORTED);
    REQUIRE(segloss_metrics_compute(c.ctx, &ok, nullptr, &td, &vd, nullptr) != SEGLOSS_STATUS_OK);
    // cases overlapping values
    DLTensor alias = values.dl();
    alias.dtype = {kDLInt, 32, 1};
    int64_t ashape[] = {2, 2};
    alias.ndim = 2;
    alias.shape = ashape;
    alias.strides = nullptr;
    DLTensor pd = pred.dl();
    REQUIRE(segloss_metrics_compute(c.ctx, &ok, &pd, &td, &vd, &alias) == SEGLOSS_STATUS_INVALID_ARGUMENT);
    for (int64_t i = 0; i < values.numel(); i++) REQUIRE(values.flat(i) == -7.0);
}

TEST_CASE("metrics of two concentric spheres approach the continuous values", "[metrics]") {
    // Balls of radius 6 (target) and 10 (prediction) around the centre of a 32^3 volume: the
    // continuous surfaces are 4 apart everywhere, so HD, HD95 and ASSD are 4 up to the
    // voxelisation (within one voxel), NSD is 1 at a tolerance of 5 and 0 at 2; Dice is
    // 2 * 6^3 / (6^3 + 10^3) up to the voxel counts, which the test takes from the maps.
    const int64_t S = 32;
    HostTensor<int32_t> target({1, S, S, S}), pred({1, S, S, S});
    int64_t in_t = 0, in_p = 0;
    for (int64_t i = 0; i < S * S * S; i++) {
        const double x = double(i % S) - 15.5, y = double((i / S) % S) - 15.5, z = double(i / (S * S)) - 15.5;
        const double r = std::sqrt(x * x + y * y + z * z);
        target.flat(i) = r <= 6 ? 1 : 0;
        pred.flat(i) = r <= 10 ? 1 : 0;
        in_t += r <= 6, in_p += r <= 10;
    }
    Ctx c;
    for (double tolerance : {5.0, 2.0}) {
        segloss_metric_params_t p;
        segloss_metric_params_init(&p);
        p.tolerance = tolerance;
        Result r = compute(c, p, pred, target, 1);
        REQUIRE(r.values.flat(SEGLOSS_METRIC_DICE) == Approx(2.0 * double(in_t) / double(in_t + in_p)).epsilon(1e-12));
        for (int m : {SEGLOSS_METRIC_HD, SEGLOSS_METRIC_HD95, SEGLOSS_METRIC_ASSD}) {
            INFO(kMetricNames[m]);
            REQUIRE(std::fabs(r.values.flat(m) - 4.0) <= 1.0);
        }
        REQUIRE(r.values.flat(SEGLOSS_METRIC_HD95) <= r.values.flat(SEGLOSS_METRIC_HD));
        REQUIRE(r.values.flat(SEGLOSS_METRIC_NSD) == (tolerance == 5.0 ? 1.0 : 0.0));
    }
}
