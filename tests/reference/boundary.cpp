// SPDX-License-Identifier: Apache-2.0
#include "reference/boundary.h"

#include <algorithm>
#include <cmath>

#include "reference/distance.h"

namespace segloss::ref {

BoundaryMaps boundary_maps(const Case &k, const segloss_loss_params_t &p, const std::array<int64_t, 3> &extents,
                           const std::array<double, 3> &spacing) {
    const bool hausdorff = p.loss == SEGLOSS_LOSS_HAUSDORFF_DT;
    const int kind = !hausdorff ? 2 : p.hd_variant == SEGLOSS_HD_ONE_SIDED ? 0 : 3;
    const int64_t first = p.include_background ? 0 : 1, K = k.C - first;
    BoundaryMaps maps;
    auto map_of = [&](const Mask &m, std::vector<double> &out) {
        int64_t inside = 0;
        for (uint8_t b : m.values) inside += b;
        const bool degenerate = inside == 0 || inside == k.V;
        std::vector<double> d = distance_map(m, spacing, kind);
        for (double v : d) out.push_back(degenerate ? 0.0 : v);
    };
    for (int64_t n = 0; n < k.N; n++) {
        for (int64_t c = first; c < k.C; c++) {
            Mask target{extents, std::vector<uint8_t>(static_cast<size_t>(k.V))};
            Mask predicted = target;
            for (int64_t v = 0; v < k.V; v++) {
                const bool ignored = !k.dense_target && p.has_ignore_index && k.label[n * k.V + v] == p.ignore_index;
                target.values[v] = !ignored && k.g(n, c, v) > 0.5 ? 1 : 0;
                predicted.values[v] = activate(k, p, n, v)[c] > 0.5 ? 1 : 0;
            }
            map_of(target, maps.target);
            if (hausdorff) map_of(predicted, maps.prediction);
        }
    }
    (void)K;
    return maps;
}

Result boundary(const Case &k, const segloss_loss_params_t &p, const BoundaryMaps &maps, double grad_scale) {
    const bool hausdorff = p.loss == SEGLOSS_LOSS_HAUSDORFF_DT;
    const int64_t first = p.include_background ? 0 : 1, K = k.C - first;
    const int64_t GN = p.batch ? 1 : k.N, G = GN * K;
    std::vector<double> voxels(static_cast<size_t>(GN), 0.0), sums(static_cast<size_t>(G), 0.0);
    for (int64_t n = 0; n < k.N; n++) {
        for (int64_t v = 0; v < k.V; v++) {
            if (k.counted(p, n, v)) voxels[p.batch ? 0 : n] += k.m(n, v);
        }
    }
    auto weight_of_map = [&](int64_t n, int64_t kk, int64_t v) {
        const size_t i = static_cast<size_t>((n * K + kk) * k.V + v);
        if (!hausdorff) return maps.target[i];
        return std::pow(maps.target[i], double(p.alpha)) + std::pow(maps.prediction[i], double(p.alpha));
    };
    const double reduce = p.reduction == SEGLOSS_REDUCTION_MEAN ? 1.0 / double(G) : 1.0;
    Result r;
    r.grad.assign(static_cast<size_t>(k.N * k.C * k.V), 0.0);
    for (int64_t n = 0; n < k.N; n++) {
        const int64_t gn = p.batch ? 0 : n;
        for (int64_t v = 0; v < k.V; v++) {
            if (!k.counted(p, n, v)) continue;
            const std::vector<double> prob = activate(k, p, n, v);
            std::vector<double> a(static_cast<size_t>(k.C), 0.0);
            for (int64_t kk = 0; kk < K; kk++) {
                const int64_t c = first + kk;
                const double w = weight_of_map(n, kk, v), g = k.g(n, c, v), pc = prob[c];
                const double term = hausdorff ? (pc - g) * (pc - g) * w : w * pc;
                const double dterm = hausdorff ? 2 * (pc - g) * w : w;
                sums[gn * K + kk] += k.m(n, v) * term;
                a[c] = voxels[gn] > 0 ? grad_scale * reduce * k.m(n, v) * dterm / voxels[gn] : 0.0;
            }
            const std::vector<double> d = chain(p, prob, a);
            for (int64_t c = 0; c < k.C; c++) r.grad[(n * k.C + c) * k.V + v] = d[c];
        }
    }
    double total = 0;
    for (int64_t g = 0; g < G; g++) {
        const double V = voxels[g / K];
        r.values.push_back(V > 0 ? sums[g] / V : 0.0);
        total += r.values.back();
    }
    r.value = p.reduction == SEGLOSS_REDUCTION_MEAN ? total / double(G) : total;
    return r;
}

std::vector<double> dpce_map(const Case &k, const segloss_loss_params_t &p, const std::array<int64_t, 3> &extents,
                             const std::array<double, 3> &spacing) {
    std::vector<double> D(static_cast<size_t>(k.N * k.V), 0.0);
    for (int64_t n = 0; n < k.N; n++) {
        for (int64_t c = 0; c < k.C; c++) {
            Mask region{extents, std::vector<uint8_t>(static_cast<size_t>(k.V))};
            int64_t inside = 0;
            for (int64_t v = 0; v < k.V; v++) {
                region.values[v] = k.label[n * k.V + v] == c ? 1 : 0;
                inside += region.values[v];
            }
            if (inside == 0 || inside == k.V) continue;  // no boundary: D = 0
            const std::vector<double> E = *edt_brute_force(region, spacing);
            double m = 0;
            for (int64_t v = 0; v < k.V; v++) m = std::max(m, region.values[v] ? E[v] : 0.0);
            for (int64_t v = 0; v < k.V; v++) {
                if (region.values[v]) D[n * k.V + v] = (m - E[v]) / m;
            }
        }
    }
    (void)p;
    return D;
}

Result dpce(const Case &k, const segloss_loss_params_t &p, const std::vector<double> &D, double grad_scale) {
    double W = 0, sum = 0;
    for (int64_t n = 0; n < k.N; n++) {
        for (int64_t v = 0; v < k.V; v++) {
            if (k.counted(p, n, v)) W += k.m(n, v) * weight_of(p, k.label[n * k.V + v]);
        }
    }
    const double norm = p.reduction == SEGLOSS_REDUCTION_MEAN ? W : 1.0;
    Result r;
    r.grad.assign(static_cast<size_t>(k.N * k.C * k.V), 0.0);
    for (int64_t n = 0; n < k.N; n++) {
        for (int64_t v = 0; v < k.V; v++) {
            if (!k.counted(p, n, v)) {
                r.values.push_back(0.0);
                continue;
            }
            const int64_t y = k.label[n * k.V + v];
            const double w = k.m(n, v) * (1 + D[n * k.V + v]) * weight_of(p, y);
            const std::vector<double> prob = activate(k, p, n, v);
            const double term = -w * std::log(prob[y]);
            r.values.push_back(term);
            sum += term;
            std::vector<double> a(static_cast<size_t>(k.C), 0.0);
            a[y] = norm > 0 ? -grad_scale * w / prob[y] / norm : 0.0;
            const std::vector<double> d = chain(p, prob, a);
            for (int64_t c = 0; c < k.C; c++) r.grad[(n * k.C + c) * k.V + v] = d[c];
        }
    }
    r.value = norm > 0 ? sum / norm : 0.0;
    return r;
}

}  // namespace segloss::ref
