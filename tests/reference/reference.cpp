// SPDX-License-Identifier: Apache-2.0
#include "reference.h"

#include <algorithm>
#include <cmath>

namespace segloss::ref {

double weight_of(const segloss_loss_params_t &p, int64_t c) { return p.weight ? p.weight[c] : 1.0; }

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

Result loss(const Case &k, const segloss_loss_params_t &p, double grad_scale) {
    if (is_compound(p.loss)) return compound(k, p, grad_scale);
    return is_pointwise(p.loss) ? pointwise(k, p, grad_scale) : region(k, p, grad_scale);
}

}  // namespace segloss::ref
