// SPDX-License-Identifier: Apache-2.0
// The brute-force distance reference against distances worked out by hand, and against SciPy.
#include <cmath>
#include <random>
#include <string>

#include <catch2/catch.hpp>

#include "reference/distance.h"
#include "reference/scipy.h"

using segloss::ref::edt_brute_force;
using segloss::ref::Mask;
using segloss::ref::scipy_available;
using segloss::ref::scipy_edt;

TEST_CASE("edt reference: a line of voxels", "[reference][distance]") {
    Mask m{{7, 1, 1}, {1, 1, 0, 1, 1, 1, 0}};
    auto d = edt_brute_force(m, {1, 1, 1});
    REQUIRE(d);
    const std::vector<double> want{2, 1, 0, 1, 2, 1, 0};
    REQUIRE(*d == want);
    // Spacing scales the distances along its axis.
    auto d3 = edt_brute_force(m, {3, 1, 1});
    REQUIRE(d3);
    for (size_t i = 0; i < want.size(); i++) REQUIRE((*d3)[i] == 3 * want[i]);
}

TEST_CASE("edt reference: one zero voxel, anisotropic spacing", "[reference][distance]") {
    const int64_t X = 5, Y = 4, Z = 3;
    const std::array<double, 3> s{1.0, 2.0, 0.5};
    Mask m{{X, Y, Z}, std::vector<uint8_t>(X * Y * Z, 1)};
    const int64_t zx = 1, zy = 2, zz = 0;
    m.values[(zz * Y + zy) * X + zx] = 0;
    auto d = edt_brute_force(m, s);
    REQUIRE(d);
    for (int64_t z = 0; z < Z; z++) {
        for (int64_t y = 0; y < Y; y++) {
            for (int64_t x = 0; x < X; x++) {
                const double want = std::hypot((x - zx) * s[0], (y - zy) * s[1], (z - zz) * s[2]);
                REQUIRE((*d)[(z * Y + y) * X + x] == Approx(want).epsilon(1e-15));
            }
        }
    }
}

TEST_CASE("edt reference: the nearer of two zero voxels in a 2-D plane", "[reference][distance]") {
    // Zeros at (0, 0) and (5, 3) of a 6 x 4 plane: (3, 1) is sqrt(10) from the first and
    // sqrt(8) from the second.
    Mask m{{6, 4, 1}, std::vector<uint8_t>(24, 1)};
    m.values[0] = 0;
    m.values[3 * 6 + 5] = 0;
    auto d = edt_brute_force(m, {1, 1, 1});
    REQUIRE(d);
    REQUIRE((*d)[1 * 6 + 3] == Approx(std::sqrt(8.0)).epsilon(1e-15));
    REQUIRE((*d)[0 * 6 + 1] == 1.0);
    REQUIRE((*d)[3 * 6 + 0] == 3.0);
}

TEST_CASE("edt reference: no zero voxel gives no distance, all zeros give all 0", "[reference][distance]") {
    REQUIRE_FALSE(edt_brute_force(Mask{{3, 2, 2}, std::vector<uint8_t>(12, 1)}, {1, 1, 1}));
    auto d = edt_brute_force(Mask{{3, 2, 2}, std::vector<uint8_t>(12, 0)}, {1, 2, 3});
    REQUIRE(d);
    for (double v : *d) REQUIRE(v == 0.0);
}

namespace {

Mask random_mask(std::array<int64_t, 3> e, double zero_fraction, uint32_t seed) {
    std::mt19937 rng(seed);
    std::bernoulli_distribution zero(zero_fraction);
    Mask m{e, std::vector<uint8_t>(static_cast<size_t>(e[0] * e[1] * e[2]))};
    for (uint8_t &v : m.values) v = zero(rng) ? 0 : 1;
    return m;
}

}  // namespace

TEST_CASE("edt reference matches SciPy's distance_transform_edt", "[reference][distance][scipy]") {
    if (!scipy_available()) {
        WARN("SKIPPED: /usr/bin/python3 cannot import scipy.ndimage (Debian package python3-scipy)");
        return;
    }
    struct Example {
        const char *what;
        Mask mask;
        std::array<double, 3> spacing;
    };
    std::vector<Example> examples = {
        {"3-D, sparse zeros, anisotropic", random_mask({9, 7, 5}, 0.03, 1), {0.7, 1.3, 2.0}},
        {"3-D, dense zeros", random_mask({6, 8, 4}, 0.4, 2), {1.0, 1.0, 1.0}},
        {"2-D, sparse zeros, anisotropic", random_mask({17, 11, 1}, 0.05, 3), {0.5, 1.5, 1.0}},
        {"1-D", random_mask({40, 1, 1}, 0.1, 4), {2.5, 1.0, 1.0}},
    };
    Mask corner{{8, 6, 5}, std::vector<uint8_t>(240, 1)};
    corner.values[239] = 0;  // one zero voxel, in the far corner
    examples.push_back({"single zero voxel in a corner", corner, {1.0, 0.8, 1.7}});
    Mask line{{7, 9, 6}, std::vector<uint8_t>(378, 1)};
    for (int64_t y = 0; y < 9; y++) line.values[(3 * 9 + y) * 7 + 2] = 0;  // a thin line along y
    examples.push_back({"thin line of zeros", line, {1.2, 1.0, 0.9}});
    for (const Example &e : examples) {
        INFO(e.what);
        auto ref = edt_brute_force(e.mask, e.spacing);
        REQUIRE(ref);
        const std::vector<double> want = scipy_edt(e.mask, e.spacing);
        for (size_t i = 0; i < want.size(); i++) {
            INFO("voxel " << i);
            REQUIRE(std::fabs((*ref)[i] - want[i]) <= 1e-12 * std::max(1.0, want[i]));
        }
    }
}
