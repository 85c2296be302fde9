// SPDX-License-Identifier: Apache-2.0
#include "reference/distance.h"

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
    const auto inner = edt_brute_force(mask, spacing);      // EDT(M): nullopt when M is full
    const auto outer = edt_brute_force(outside, spacing);   // EDT(not M): nullopt when M is empty
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

}  // namespace segloss::ref
