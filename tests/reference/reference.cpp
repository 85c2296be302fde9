// SPDX-License-Identifier: Apache-2.0
#include "reference.h"

#include <algorithm>
#include <cmath>

namespace segloss::ref {
namespace {

double weight_of(const segloss_loss_params_t &p, int64_t c) { return p.weight ? p.weight[c] : 1.0; }

// dL/dx_c from a_c = dL/dp_c through the activation.
std::vector<double> chain(const segloss_loss_params_t &p, const std::vector<double> &prob,
                          const std::vector<double> &a) {
    const size_t C = prob.size();
    std::vector<double> d(C);
    if (p.activation == SEGLOSS_ACTIVATION_SOFTMAX) {
        double dot = 0;
        for (size_t k = 0; k < C; k++) dot += prob[k] * a[k];
        for (size_t c = 0; c < C; c++) d[c] = prob[c] * (a[c] - dot);
    } else if (p.activation == SEGLOSS_ACTIVATION_SIGMOID) {
        for (size_t c = 0; c < C; c++) d[c] = prob[c] * (1 - prob[c]) * a[c];
    } else {
        d = a;
    }
    return d;
}

}  // namespace

std::vector<double> activate(const Case &k, const segloss_loss_params_t &p, int64_t n, int64_t v) {
    std::vector<double> out(k.C);
    for (int64_t c = 0; c < k.C; c++) out[c] = k.x[(n * k.C + c) * k.V + v];
    if (p.activation == SEGLOSS_ACTIVATION_SOFTMAX) {
        double m = *std::max_element(out.begin(), out.end()), s = 0;
        for (double &e : out) s += std::exp(e - m);
        for (double &e : out) e = std::exp(e - m) / s;
    } else if (p.activation == SEGLOSS_ACTIVATION_SIGMOID) {
        for (double &e : out) e = 1 / (1 + std::exp(-e));
    }
    return out;
}

// LOSSES.md `ce`: -(1/W) sum_v w_{y_v} log p_{v,y_v}; soft targets -sum_c w_c g_c log p_c;
// sigmoid: binary CE per channel, mean over (voxel, channel).
Result cross_entropy(const Case &k, const segloss_loss_params_t &p, double grad_scale) {
    Result r;
    r.values.assign(k.N * k.V, 0.0);
    r.grad.assign(k.N * k.C * k.V, 0.0);
    double total = 0, norm = 0;
    std::vector<std::vector<double>> dvox(k.N * k.V);  // d loss_v / dx_c
    for (int64_t n = 0; n < k.N; n++) {
        for (int64_t v = 0; v < k.V; v++) {
            if (!k.counted(p, n, v)) continue;
            std::vector<double> x(k.C), prob = activate(k, p, n, v), d(k.C, 0.0);
            for (int64_t c = 0; c < k.C; c++) x[c] = k.x[(n * k.C + c) * k.V + v];
            double l = 0;
            if (p.activation == SEGLOSS_ACTIVATION_SIGMOID) {
                for (int64_t c = 0; c < k.C; c++) {
                    const double g = k.g(n, c, v), w = weight_of(p, c);
                    // -[g log s + (1-g) log(1-s)] = softplus(x) - g x, evaluated stably
                    l += w * (std::max(x[c], 0.0) + std::log1p(std::exp(-std::fabs(x[c]))) - g * x[c]);
                    d[c] = w * (prob[c] - g);
                }
                norm += k.C;
            } else {
                double m = *std::max_element(x.begin(), x.end()), s = 0;
                for (double e : x) s += std::exp(e - m);
                const double lse = m + std::log(s);
                std::vector<double> a(k.C, 0.0);  // dL/dp
                for (int64_t c = 0; c < k.C; c++) {
                    const double g = k.g(n, c, v), w = weight_of(p, c);
                    if (g == 0) continue;
                    const double logp = p.activation == SEGLOSS_ACTIVATION_SOFTMAX ? x[c] - lse : std::log(x[c]);
                    l -= w * g * logp;
                    a[c] = -w * g / prob[c];
                    if (!k.dense_target) norm += w;
                }
                if (k.dense_target) norm += 1;
                if (p.activation == SEGLOSS_ACTIVATION_SOFTMAX) {
                    // p_c (a_c - sum p a), written without dividing by p (p may underflow)
                    double wg = 0;
                    for (int64_t c = 0; c < k.C; c++) wg += weight_of(p, c) * k.g(n, c, v);
                    for (int64_t c = 0; c < k.C; c++) d[c] = prob[c] * wg - weight_of(p, c) * k.g(n, c, v);
                } else {
                    d = a;
                }
            }
            r.values[n * k.V + v] = l;
            total += l;
            dvox[n * k.V + v] = d;
        }
    }
    if (p.reduction != SEGLOSS_REDUCTION_MEAN) norm = 1;
    r.value = norm > 0 ? total / norm : 0.0;
    const double scale = norm > 0 ? grad_scale / norm : 0.0;
    for (int64_t n = 0; n < k.N; n++) {
        for (int64_t v = 0; v < k.V; v++) {
            const auto &d = dvox[n * k.V + v];
            if (d.empty()) continue;
            for (int64_t c = 0; c < k.C; c++) r.grad[(n * k.C + c) * k.V + v] = scale * d[c];
        }
    }
    return r;
}

// LOSSES.md `dice`: per group 1 - (2I + s_nr)/(P + G + s_dr) (P2 + G2 with squared_pred),
// weighted by w_c, reduced over the included groups.
Result dice(const Case &k, const segloss_loss_params_t &p, double grad_scale) {
    Result r;
    r.grad.assign(k.N * k.C * k.V, 0.0);
    const int64_t groups_n = p.batch ? 1 : k.N;
    const int64_t first = p.include_background ? 0 : 1;
    struct Sums { double I = 0, P = 0, G = 0, P2 = 0, G2 = 0; };
    std::vector<Sums> s(groups_n * k.C);
    for (int64_t n = 0; n < k.N; n++) {
        for (int64_t v = 0; v < k.V; v++) {
            if (!k.counted(p, n, v)) continue;
            std::vector<double> prob = activate(k, p, n, v);
            for (int64_t c = 0; c < k.C; c++) {
                Sums &g = s[(p.batch ? 0 : n) * k.C + c];
                const double gv = k.g(n, c, v);
                g.I += prob[c] * gv;
                g.P += prob[c];
                g.G += gv;
                g.P2 += prob[c] * prob[c];
                g.G2 += gv * gv;
            }
        }
    }
    const double groups = static_cast<double>(groups_n * (k.C - first));
    const double norm = p.reduction == SEGLOSS_REDUCTION_MEAN ? 1 / groups : 1;
    std::vector<double> dI(s.size()), dP(s.size()), dP2(s.size());
    double total = 0;
    for (int64_t gn = 0; gn < groups_n; gn++) {
        for (int64_t c = first; c < k.C; c++) {
            const Sums &g = s[gn * k.C + c];
            const double D = p.squared_pred ? g.P2 + g.G2 : g.P + g.G;
            const double num = 2 * g.I + p.smooth_nr, den = D + p.smooth_dr;
            const double l = weight_of(p, c) * (1 - num / den);
            r.values.push_back(l);
            total += l;
            const double f = grad_scale * weight_of(p, c) * norm;
            dI[gn * k.C + c] = f * (-2 / den);
            (p.squared_pred ? dP2 : dP)[gn * k.C + c] = f * num / (den * den);
        }
    }
    r.value = total * norm;
    for (int64_t n = 0; n < k.N; n++) {
        for (int64_t v = 0; v < k.V; v++) {
            if (!k.counted(p, n, v)) continue;
            std::vector<double> prob = activate(k, p, n, v), a(k.C);
            for (int64_t c = 0; c < k.C; c++) {
                const int64_t gi = (p.batch ? 0 : n) * k.C + c;
                a[c] = dI[gi] * k.g(n, c, v) + dP[gi] + 2 * dP2[gi] * prob[c];
            }
            std::vector<double> d = chain(p, prob, a);
            for (int64_t c = 0; c < k.C; c++) r.grad[(n * k.C + c) * k.V + v] = d[c];
        }
    }
    return r;
}

Result loss(const Case &k, const segloss_loss_params_t &p, double grad_scale) {
    return p.loss == SEGLOSS_LOSS_DICE ? dice(k, p, grad_scale) : cross_entropy(k, p, grad_scale);
}

}  // namespace segloss::ref
