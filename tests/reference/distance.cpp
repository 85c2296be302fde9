// SPDX-License-Identifier: Apache-2.0
#include "reference/distance.h"

#include <algorithm>
#include <cmath>
#include <limits>

namespace segloss::ref {

std::optional<std::vector<double>> edt_brute_force(const Mask &mask, const std::array<double, 3> &spacing) {
    const auto [X, Y, Z] = mask.extents;
    const int64_t V = X * Y * Z;
    // Coordinates of the zero voxels, in physical units.
    std::vector<std::array<double, 3>> zeros;
    for (int64_t v = 0; v < V; v++) {
        if (mask.values[v] == 0) {
            zeros.push_back({double(v % X) * spacing[0], double((v / X) % Y) * spacing[1], double(v / (X * Y)) * spacing[2]});
        }
    }
    if (zeros.empty()) return std::nullopt;
    std::vector<double> d(static_cast<size_t>(V));
    for (int64_t v = 0; v < V; v++) {
        const std::array<double, 3> p{double(v % X) * spacing[0], double((v / X) % Y) * spacing[1],
                                      double(v / (X * Y)) * spacing[2]};
        double best = std::numeric_limits<double>::infinity();
        for (const auto &q : zeros) {
            const double dx = p[0] - q[0], dy = p[1] - q[1], dz = p[2] - q[2];
            best = std::min(best, dx * dx + dy * dy + dz * dz);
        }
        d[static_cast<size_t>(v)] = std::sqrt(best);
    }
    return d;
}

std::vector<double> distance_map(const Mask &mask, const std::array<double, 3> &spacing, int kind) {
    const double inf = std::numeric_limits<double>::infinity();
    const size_t V = mask.values.size();
    Mask outside = mask;
    for (uint8_t &v : outside.values) v = v ? 0 : 1;
    const std::vector<double> none(V, inf);
    if (kind == 4) {
        Mask not_surface = mask;
        const std::vector<uint8_t> s = surface_of(mask);
        for (size_t v = 0; v < V; v++) not_surface.values[v] = s[v] ? 0 : 1;
        return edt_brute_force(not_surface, spacing).value_or(none);
    }
    const auto inner = edt_brute_force(mask, spacing);      // EDT(M): nullopt when M is full
    const auto outer = edt_brute_force(outside, spacing);   // EDT(not M): nullopt when M is empty
    if (kind == 5) {
        std::vector<double> d(V, 0.0);
        if (!inner || !outer) return d;
        double m = 0;
        for (size_t v = 0; v < V; v++) m = std::max(m, mask.values[v] ? (*inner)[v] : 0.0);
        for (size_t v = 0; v < V; v++) d[v] = mask.values[v] ? (m - (*inner)[v]) / m : 0.0;
        return d;
    }
    if (kind == 0) return inner.value_or(none);
    if (kind == 1) return outer.value_or(none);
    if (!inner || !outer) return std::vector<double>(V, 0.0);
    double h = inf;
    for (int a = 0; a < 3; a++) {
        if (mask.extents[a] > 1) h = std::min(h, spacing[a]);
    }
    if (h == inf) h = spacing[0];
    std::vector<double> d(V);
    for (size_t v = 0; v < V; v++) {
        d[v] = kind == 3 ? (*inner)[v] + (*outer)[v] : mask.values[v] ? h - (*inner)[v] : (*outer)[v];
    }
    return d;
}

std::vector<uint8_t> surface_of(const Mask &mask) {
    const auto e = mask.extents;
    const int64_t V = e[0] * e[1] * e[2];
    const bool one_voxel = V == 1;
    std::vector<uint8_t> s(static_cast<size_t>(V), 0);
    for (int64_t v = 0; v < V; v++) {
        if (!mask.values[v]) continue;
        const int64_t at[3] = {v % e[0], (v / e[0]) % e[1], v / (e[0] * e[1])};
        bool surface = one_voxel;
        for (int a = 0; a < 3 && !surface; a++) {
            if (e[a] == 1) continue;
            for (int step : {-1, 1}) {
                int64_t q[3] = {at[0], at[1], at[2]};
                q[a] += step;
                if (q[a] < 0 || q[a] >= e[a] || !mask.values[(q[2] * e[1] + q[1]) * e[0] + q[0]]) surface = true;
            }
        }
        s[v] = surface ? 1 : 0;
    }
    return s;
}

}  // namespace segloss::ref
