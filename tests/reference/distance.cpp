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

}  // namespace segloss::ref
