// SPDX-License-Identifier: Apache-2.0
// segloss_distance_compute against the brute-force float64 reference (every kind, every source
// type) and against SciPy's distance_transform_edt on larger masks.
#include <cmath>
#include <limits>
#include <random>
#include <string>
#include <vector>

#include <catch2/catch.hpp>

#include "reference/distance.h"
#include "reference/scipy.h"
#include "segloss/segloss.h"
#include "support/blobs.h"
#include "support/context.h"
#include "support/grid.h"
#include "support/host_tensor.h"

using segloss::ref::Mask;
using segloss::test::blob_labels;
using segloss::test::class_mask;
using segloss::test::concat;
using segloss::test::Ctx;
using segloss::test::HostTensor;
using segloss::test::xyz;
using segloss::test::xyz_spacing;

namespace {

void require_close(const std::vector<double> &want, const HostTensor<float> &got, int64_t offset) {
    for (size_t v = 0; v < want.size(); v++) {
        const double g = got.flat(offset + int64_t(v));
        INFO("voxel " << v << ": got " << g << ", want " << want[v]);
        if (std::isinf(want[v])) {
            REQUIRE(g == want[v]);
        } else {
            REQUIRE(std::fabs(g - want[v]) <= 2e-6 * std::max(1.0, std::fabs(want[v])));
        }
    }
}

const char *kKindNames[] = {"edt", "edt_complement", "signed", "boundary", "surface", "dpce"};

}  // namespace

TEST_CASE("distance maps of index labels match the brute-force reference", "[distance]") {
    const int64_t N = 2, C = 4;
    Ctx c;
    for (const segloss::test::Grid &s : segloss::test::distance_grids()) {
        const auto e = xyz(s.spatial);
        const auto sp = xyz_spacing(s.spacing);
        const std::vector<int32_t> lab = blob_labels(N, C, e, 11u + uint32_t(s.spatial.size()), true);
        HostTensor<int32_t> labels(concat({N}, s.spatial));
        for (int64_t i = 0; i < labels.numel(); i++) labels.flat(i) = lab[i];
        for (int kind = 0; kind < 6; kind++) {
            for (int background = 0; background < 2; background++) {
                INFO("spatial rank " << s.spatial.size() << ", kind " << kKindNames[kind] << ", background " << background);
                const int64_t Cp = C - (background ? 0 : 1);
                HostTensor<float> out(concat({N, Cp}, s.spatial), kind == 2);  // one strided output
                HostTensor<int32_t> flags({N, Cp});
                segloss_distance_params_t p;
                REQUIRE(segloss_distance_params_init(&p) == SEGLOSS_STATUS_OK);
                p.kind = segloss_distance_kind_t(kind);
                p.num_classes = C;
                p.include_background = background;
                p.has_ignore_index = 1;
                p.ignore_index = C;
                p.spacing = s.spacing.data();
                p.num_spacing = int64_t(s.spacing.size());
                DLTensor l = labels.dl(), o = out.dl(), f = flags.dl();
                REQUIRE(segloss_distance_compute(c.ctx, &p, &l, &o, &f) == SEGLOSS_STATUS_OK);
                const int64_t V = e[0] * e[1] * e[2];
                for (int64_t n = 0; n < N; n++) {
                    for (int64_t k = 0; k < Cp; k++) {
                        const int cls = int(k + (background ? 0 : 1));
                        INFO("image " << n << ", class " << cls);
                        const Mask m = class_mask(lab, n, e, cls);
                        int64_t members = 0;
                        for (uint8_t v : m.values) members += v;
                        const int want_flag = members == 0 ? SEGLOSS_MASK_EMPTY : members == V ? SEGLOSS_MASK_FULL : SEGLOSS_MASK_NORMAL;
                        REQUIRE(flags.flat(n * Cp + k) == want_flag);
                        require_close(segloss::ref::distance_map(m, sp, kind), out, (n * Cp + k) * V);
                    }
                }
            }
        }
    }
}

TEST_CASE("distance maps of empty and full masks: flags, zero signed and boundary fields, infinite EDT", "[distance]") {
    // Image 0 is all class 1 (class 1 full, class 2 empty); image 1 has both.
    const std::vector<int64_t> spatial{4, 5, 6};
    HostTensor<uint8_t> labels({2, 1, 4, 5, 6});  // N,1,spatial uint8
    for (int64_t i = 0; i < labels.numel(); i++) labels.flat(i) = i < 120 ? 1 : uint8_t(1 + (i % 7 == 0));
    Ctx c;
    for (int kind = 0; kind < 4; kind++) {
        INFO(kKindNames[kind]);
        HostTensor<float> out({2, 2, 4, 5, 6});
        HostTensor<int32_t> flags({2, 2});
        segloss_distance_params_t p;
        segloss_distance_params_init(&p);
        p.kind = segloss_distance_kind_t(kind);
        p.num_classes = 3;
        DLTensor l = labels.dl(), o = out.dl(), f = flags.dl();
        REQUIRE(segloss_distance_compute(c.ctx, &p, &l, &o, &f) == SEGLOSS_STATUS_OK);
        REQUIRE(flags.flat(0) == SEGLOSS_MASK_FULL);
        REQUIRE(flags.flat(1) == SEGLOSS_MASK_EMPTY);
        REQUIRE(flags.flat(2) == SEGLOSS_MASK_NORMAL);
        REQUIRE(flags.flat(3) == SEGLOSS_MASK_NORMAL);
        const float inf = std::numeric_limits<float>::infinity();
        const float full_want[] = {inf, 0, 0, 0}, empty_want[] = {0, inf, 0, 0};
        for (int64_t v = 0; v < 120; v++) {
            REQUIRE(out.flat(v) == full_want[kind]);
            REQUIRE(out.flat(120 + v) == empty_want[kind]);
        }
    }
}

TEST_CASE("distance maps of dense maps and of logits threshold p > 0.5; non-finite logits are in no mask", "[distance]") {
    const int64_t N = 2, C = 3;
    const std::vector<int64_t> spatial{6, 7, 9};
    const auto e = xyz(spatial);
    const int64_t V = e[0] * e[1] * e[2];
    const std::vector<double> spacing{1.5, 1.0, 0.75};
    std::mt19937 rng(5);
    std::normal_distribution<float> noise(0.0f, 3.0f);
    HostTensor<float> source({N, C, 6, 7, 9}, true);
    for (int64_t i = 0; i < source.numel(); i++) source.flat(i) = noise(rng);
    // Non-finite values: with an activation, the voxel is in no class's mask; a dense map's
    // value compares as it is (NaN > 0.5 is false, +inf > 0.5 true).
    const float specials[] = {NAN, NAN, NAN, INFINITY, INFINITY, -INFINITY, -INFINITY};
    for (float f : specials) source.flat(int64_t(rng() % uint32_t(source.numel()))) = f;
    Ctx c;
    for (segloss_activation_t act : {SEGLOSS_ACTIVATION_NONE, SEGLOSS_ACTIVATION_SOFTMAX, SEGLOSS_ACTIVATION_SIGMOID}) {
        INFO("activation " << int(act));
        HostTensor<float> out({N, C, 6, 7, 9});
        segloss_distance_params_t p;
        segloss_distance_params_init(&p);
        p.kind = SEGLOSS_DISTANCE_BOUNDARY;
        p.include_background = 1;
        p.activation = act;
        p.spacing = spacing.data();
        p.num_spacing = 3;
        DLTensor s = source.dl(), o = out.dl();
        const segloss_status_t st = segloss_distance_compute(c.ctx, &p, &s, &o, nullptr);
        INFO(segloss_last_error(c.ctx));
        REQUIRE(st == SEGLOSS_STATUS_OK);
        for (int64_t n = 0; n < N; n++) {
            for (int64_t k = 0; k < C; k++) {
                Mask m{e, std::vector<uint8_t>(static_cast<size_t>(V))};
                for (int64_t v = 0; v < V; v++) {
                    const double x = source.flat((n * C + k) * V + v);
                    bool finite = true;
                    for (int64_t j = 0; j < C; j++) finite = finite && std::isfinite(source.flat((n * C + j) * V + v));
                    if (act != SEGLOSS_ACTIVATION_NONE && !finite) {
                        m.values[v] = 0;
                        continue;
                    }
                    double prob = x;
                    if (act == SEGLOSS_ACTIVATION_SIGMOID) prob = 1.0 / (1.0 + std::exp(-x));
                    if (act == SEGLOSS_ACTIVATION_SOFTMAX) {
                        double se = 0;
                        for (int64_t j = 0; j < C; j++) se += std::exp(double(source.flat((n * C + j) * V + v)) - x);
                        prob = 1.0 / se;
                    }
                    m.values[v] = prob > 0.5 ? 1 : 0;
                }
                require_close(segloss::ref::distance_map(m, xyz_spacing(spacing), SEGLOSS_DISTANCE_BOUNDARY), out,
                              (n * C + k) * V);
            }
        }
    }
}

TEST_CASE("distance EDT matches SciPy's distance_transform_edt", "[distance][scipy]") {
    if (!segloss::ref::scipy_available()) {
        WARN("SKIPPED: /usr/bin/python3 cannot import scipy.ndimage (Debian package python3-scipy)");
        return;
    }
    struct Example {
        const char *what;
        std::vector<int64_t> spatial;
        std::vector<double> spacing;
        std::vector<uint8_t> mask;  // 1 = inside
    };
    std::vector<Example> examples;
    {
        // Random blobs touching the borders, 3-D anisotropic and 2-D.
        const std::vector<int64_t> s3{23, 40, 37}, s2{61, 45};
        const auto l3 = blob_labels(1, 2, xyz(s3), 3, false), l2 = blob_labels(1, 2, xyz(s2), 4, false);
        examples.push_back({"3-D blobs, anisotropic", s3, {2.0, 0.8, 0.8}, std::vector<uint8_t>(l3.begin(), l3.end())});
        examples.push_back({"2-D blobs", s2, {0.6, 1.3}, std::vector<uint8_t>(l2.begin(), l2.end())});
        // Everything inside but one voxel; a thin plane of zeros.
        std::vector<uint8_t> single(20 * 21 * 22, 1);
        single[4321] = 0;
        examples.push_back({"single zero voxel", {20, 21, 22}, {1.0, 1.0, 3.0}, single});
        std::vector<uint8_t> plane(16 * 17 * 18, 1);
        for (int y = 0; y < 17; y++) {
            for (int x = 0; x < 18; x++) plane[(7 * 17 + y) * 18 + x] = 0;
        }
        examples.push_back({"thin plane", {16, 17, 18}, {0.9, 1.1, 1.0}, plane});
    }
    Ctx c;
    for (const Example &ex : examples) {
        INFO(ex.what);
        HostTensor<uint8_t> labels(concat({1}, ex.spatial));
        for (int64_t i = 0; i < labels.numel(); i++) labels.flat(i) = ex.mask[i];
        HostTensor<float> out(concat({1, 1}, ex.spatial));
        segloss_distance_params_t p;
        segloss_distance_params_init(&p);
        p.spacing = ex.spacing.data();
        p.num_spacing = int64_t(ex.spacing.size());
        DLTensor l = labels.dl(), o = out.dl();
        REQUIRE(segloss_distance_compute(c.ctx, &p, &l, &o, nullptr) == SEGLOSS_STATUS_OK);
        const std::vector<double> want = segloss::ref::scipy_edt(Mask{xyz(ex.spatial), ex.mask}, xyz_spacing(ex.spacing));
        require_close(want, out, 0);
    }
}

TEST_CASE("distance: bad input is a clear status", "[distance][bad_input]") {
    Ctx c;
    HostTensor<int32_t> labels({1, 4, 5});
    HostTensor<float> out({1, 1, 4, 5});
    segloss_distance_params_t p;
    segloss_distance_params_init(&p);
    DLTensor l = labels.dl(), o = out.dl();
    SECTION("a label outside [0, C)") {
        labels.flat(7) = 2;
        for (int64_t i = 0; i < out.numel(); i++) out.flat(i) = -7.0f;
        REQUIRE(segloss_distance_compute(c.ctx, &p, &l, &o, nullptr) == SEGLOSS_STATUS_INVALID_LABEL);
        REQUIRE(std::string(segloss_last_error(c.ctx)).find("outside [0, 2)") != std::string::npos);
        for (int64_t i = 0; i < out.numel(); i++) REQUIRE(out.flat(i) == -7.0f);  // found before any write
        p.has_ignore_index = 1;
        p.ignore_index = 2;
        REQUIRE(segloss_distance_compute(c.ctx, &p, &l, &o, nullptr) == SEGLOSS_STATUS_OK);
    }
    SECTION("spacing") {
        const double bad[] = {1.0, 0.0};
        p.spacing = bad;
        p.num_spacing = 2;
        REQUIRE(segloss_distance_compute(c.ctx, &p, &l, &o, nullptr) == SEGLOSS_STATUS_INVALID_ARGUMENT);
        const double three[] = {1.0, 1.0, 1.0};
        p.spacing = three;
        p.num_spacing = 3;
        REQUIRE(segloss_distance_compute(c.ctx, &p, &l, &o, nullptr) == SEGLOSS_STATUS_INVALID_ARGUMENT);
    }
    SECTION("shapes and dtypes") {
        HostTensor<float> wrong({1, 2, 4, 5});  // two maps for one class
        DLTensor w = wrong.dl();
        REQUIRE(segloss_distance_compute(c.ctx, &p, &l, &w, nullptr) == SEGLOSS_STATUS_INVALID_SHAPE);
        HostTensor<double> f64({1, 1, 4, 5});
        DLTensor d = f64.dl();
        REQUIRE(segloss_distance_compute(c.ctx, &p, &l, &d, nullptr) == SEGLOSS_STATUS_UNSUPPORTED);
        p.activation = SEGLOSS_ACTIVATION_SOFTMAX;
        REQUIRE(segloss_distance_compute(c.ctx, &p, &l, &o, nullptr) == SEGLOSS_STATUS_INVALID_ARGUMENT);
    }
    SECTION("params") {
        REQUIRE(segloss_distance_compute(c.ctx, nullptr, &l, &o, nullptr) == SEGLOSS_STATUS_INVALID_ARGUMENT);
        p.kind = segloss_distance_kind_t(9);
        REQUIRE(segloss_distance_compute(c.ctx, &p, &l, &o, nullptr) == SEGLOSS_STATUS_INVALID_ARGUMENT);
        REQUIRE(segloss_distance_compute(c.ctx, &p, nullptr, &o, nullptr) == SEGLOSS_STATUS_INVALID_ARGUMENT);
    }
    SECTION("flags overlapping the output") {
        DLTensor f = o;
        f.dtype = {kDLInt, 32, 1};
        int64_t fshape[] = {1, 1};
        f.ndim = 2;
        f.shape = fshape;
        f.strides = nullptr;
        REQUIRE(segloss_distance_compute(c.ctx, &p, &l, &o, &f) == SEGLOSS_STATUS_INVALID_ARGUMENT);
    }
}
