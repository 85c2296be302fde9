// SPDX-License-Identifier: Apache-2.0
#include "reference/metrics.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <vector>

namespace segloss::ref {
namespace {

std::vector<std::array<double, 3>> surface_points(const Mask &m, const std::array<double, 3> &spacing) {
    const auto e = m.extents;
    const std::vector<uint8_t> s = surface_of(m);
    std::vector<std::array<double, 3>> pts;
    for (int64_t v = 0; v < int64_t(s.size()); v++) {
        if (s[v]) {
            pts.push_back({double(v % e[0]) * spacing[0], double((v / e[0]) % e[1]) * spacing[1],
                           double(v / (e[0] * e[1])) * spacing[2]});
        }
    }
    return pts;
}

// For every point of a, the distance to the nearest point of b.
std::vector<double> directed(const std::vector<std::array<double, 3>> &a, const std::vector<std::array<double, 3>> &b) {
    std::vector<double> d;
    for (const auto &p : a) {
        double best = std::numeric_limits<double>::infinity();
        for (const auto &q : b) {
            best = std::min(best, std::sqrt((p[0] - q[0]) * (p[0] - q[0]) + (p[1] - q[1]) * (p[1] - q[1]) +
                                            (p[2] - q[2]) * (p[2] - q[2])));
        }
        d.push_back(best);
    }
    return d;
}

// numpy.percentile(d, q) with its default linear interpolation.
double numpy_percentile(std::vector<double> d, double q) {
    std::sort(d.begin(), d.end());
    const double pos = q / 100.0 * double(d.size() - 1);
    const size_t lo = size_t(std::floor(pos)), hi = std::min(lo + 1, d.size() - 1);
    return d[lo] + (pos - double(lo)) * (d[hi] - d[lo]);
}

}  // namespace

Metrics metrics_brute_force(const Mask &pred, const Mask &target, const std::array<double, 3> &spacing,
                            double tolerance, double percentile) {
    Metrics m;
    double P = 0, T = 0, I = 0;
    for (size_t v = 0; v < pred.values.size(); v++) {
        P += pred.values[v] != 0;
        T += target.values[v] != 0;
        I += pred.values[v] != 0 && target.values[v] != 0;
    }
    m.empty_case = P == 0 && T == 0 ? 3 : P == 0 ? 1 : T == 0 ? 2 : 0;
    if (m.empty_case == 3) {
        m.values.fill(std::numeric_limits<double>::quiet_NaN());
        return m;
    }
    if (m.empty_case != 0) {
        m.values = {0, 0, INFINITY, INFINITY, INFINITY, 0};
        return m;
    }
    const auto sp = surface_points(pred, spacing), st = surface_points(target, spacing);
    const std::vector<double> a = directed(sp, st), b = directed(st, sp);
    double sum = 0, within = 0;
    for (double d : a) sum += d, within += d <= tolerance;
    for (double d : b) sum += d, within += d <= tolerance;
    const double surface = double(a.size() + b.size());
    m.values[0] = 2 * I / (P + T);
    m.values[1] = I / (P + T - I);
    m.values[2] = std::max(*std::max_element(a.begin(), a.end()), *std::max_element(b.begin(), b.end()));
    m.values[3] = std::max(numpy_percentile(a, percentile), numpy_percentile(b, percentile));
    m.values[4] = sum / surface;
    m.values[5] = within / surface;
    return m;
}

}  // namespace segloss::ref
