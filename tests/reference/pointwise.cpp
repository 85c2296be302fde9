// SPDX-License-Identifier: Apache-2.0
// float64 references of the pointwise losses (LOSSES.md `ce`, `wce`, `focal`, `topk`): each
// voxel's loss is a plain function of its logits; its gradient is a central difference of it.
// TopK keeps the voxels it selects by sorting them.
#include <algorithm>
#include <cmath>

#include "reference.h"

namespace segloss::ref {
namespace {

struct ClassWeights {
    std::vector<double> pos, neg;  // sigmoid: weight of a channel's loss = pos g + neg (1 - g)
};

// Sums of each class's targets over the counted voxels.
std::vector<double> class_sums(const Case &k, const segloss_loss_params_t &p) {
    std::vector<double> m(k.C, 0.0);
    for (int64_t n = 0; n < k.N; n++) {
        for (int64_t v = 0; v < k.V; v++) {
            if (!k.counted(p, n, v)) continue;
            for (int64_t c = 0; c < k.C; c++) m[c] += k.m(n, v) * k.g(n, c, v);
        }
    }
    return m;
}

ClassWeights class_weights(const Case &k, const segloss_loss_params_t &p) {
    ClassWeights w{std::vector<double>(k.C, 1.0), std::vector<double>(k.C, 1.0)};
    if (p.loss == SEGLOSS_LOSS_EXP_LOG) {
        // Wong et al.: w_l = (sum_k f_k / f_l)^0.5 from the label frequencies of the batch.
        std::vector<double> m = class_sums(k, p);
        double M = 0;
        for (double x : m) M += x;
        for (int64_t c = 0; c < k.C; c++) w.pos[c] = w.neg[c] = m[c] > 0 ? std::sqrt(M / m[c]) : 0.0;
    } else if (p.loss == SEGLOSS_LOSS_FOCAL) {
        if (!p.has_alpha) return w;
        for (int64_t c = 0; c < k.C; c++) {
            if (p.class_alpha) {
                w.pos[c] = w.neg[c] = p.class_alpha[c];
            } else if (p.activation == SEGLOSS_ACTIVATION_SIGMOID) {
                w.pos[c] = p.alpha;  // alpha on the foreground of each channel (MONAI)
                w.neg[c] = 1 - p.alpha;
            } else {
                w.pos[c] = w.neg[c] = c == 0 ? 1 - p.alpha : p.alpha;  // MONAI's softmax focal
            }
        }
    } else if (p.class_weights == SEGLOSS_CLASS_WEIGHTS_INVERSE_FREQUENCY) {
        // w_c = M / (K M_c): K classes present, M_c their target sums, M = sum of M_c.
        std::vector<double> m = class_sums(k, p);
        double M = 0, K = 0;
        for (double x : m) {
            M += x;
            K += x > 0;
        }
        for (int64_t c = 0; c < k.C; c++) w.pos[c] = w.neg[c] = m[c] > 0 ? M / (K * m[c]) : 0.0;
    } else {
        for (int64_t c = 0; c < k.C; c++) w.pos[c] = w.neg[c] = weight_of(p, c);
    }
    return w;
}

// The loss of one voxel with logits x and targets g (already smoothed).
double voxel_loss(const segloss_loss_params_t &p, const ClassWeights &w, const std::vector<double> &x,
                  const std::vector<double> &g) {
    const double gamma = p.loss == SEGLOSS_LOSS_FOCAL ? p.gamma : 0.0;
    const size_t C = x.size();
    double l = 0;
    if (p.activation == SEGLOSS_ACTIVATION_SIGMOID) {
        // MONAI's sigmoid focal: (alpha-weighted) sigmoid(-x (2g - 1))^gamma times binary CE.
        for (size_t c = 0; c < C; c++) {
            const double bce = std::max(x[c], 0.0) + std::log1p(std::exp(-std::fabs(x[c]))) - g[c] * x[c];
            const double m = std::pow(1 / (1 + std::exp(x[c] * (2 * g[c] - 1))), gamma);
            l += (w.pos[c] * g[c] + w.neg[c] * (1 - g[c])) * m * bce;
        }
        return l;
    }
    // Softmax (log-softmax from the logits) or probabilities as given.
    std::vector<double> logp(C), prob(C);
    // log sum exp = max + log1p(the other classes' sum), so that log p of a confident class
    // keeps its tiny value (1 + 1e-20 is 1 in float64).
    const size_t top = std::max_element(x.begin(), x.end()) - x.begin();
    const double mx = x[top];
    double rest = 0;
    for (size_t c = 0; c < C; c++) rest += c == top ? 0.0 : std::exp(x[c] - mx);
    for (size_t c = 0; c < C; c++) {
        logp[c] = p.activation == SEGLOSS_ACTIVATION_SOFTMAX ? x[c] - mx - std::log1p(rest) : std::log(x[c]);
        prob[c] = p.activation == SEGLOSS_ACTIVATION_SOFTMAX ? std::exp(logp[c]) : x[c];
    }
    for (size_t c = 0; c < C; c++) {
        if (g[c] == 0) continue;
        if (p.loss == SEGLOSS_LOSS_EXP_LOG) {
            // exp_log's CE term: (-ln p)^gamma_ce.
            l += w.pos[c] * g[c] * std::pow(std::max(-logp[c], 0.0), double(p.gamma_ce));
        } else {
            l -= w.pos[c] * g[c] * std::pow(1 - prob[c], gamma) * logp[c];
        }
    }
    return l;
}

// TopK's selection (LOSSES.md `topk`) among the counted voxels, as flags [n][v]: percent mode
// the max(1, floor(M k / 100)) largest losses m w ce (ties: the lower index n * V + v first),
// threshold mode those whose unweighted ce exceeds -log t.
std::vector<bool> topk_selection(const Case &k, const segloss_loss_params_t &p, const std::vector<double> &loss,
                                 const std::vector<double> &unweighted) {
    std::vector<bool> sel(k.N * k.V, false);
    std::vector<int64_t> candidates;
    for (int64_t i = 0; i < k.N * k.V; i++) {
        if (!k.counted(p, i / k.V, i % k.V)) continue;
        if (p.topk_mode == SEGLOSS_TOPK_THRESHOLD && !(unweighted[i] > -std::log(double(p.t)))) continue;
        candidates.push_back(i);
    }
    size_t K = candidates.size();
    if (p.topk_mode == SEGLOSS_TOPK_PERCENT && !candidates.empty()) {
        K = std::max<size_t>(1, static_cast<size_t>(std::floor(double(candidates.size()) * p.k / 100.0)));
        std::stable_sort(candidates.begin(), candidates.end(),
                         [&](int64_t a, int64_t b) { return loss[a] > loss[b]; });
    }
    for (size_t j = 0; j < K; j++) sel[candidates[j]] = true;
    return sel;
}

}  // namespace

Result pointwise(const Case &k, const segloss_loss_params_t &p, double grad_scale) {
    Result r;
    r.values.assign(k.N * k.V, 0.0);
    r.grad.assign(k.N * k.C * k.V, 0.0);
    const ClassWeights w = class_weights(k, p);
    const ClassWeights ones{std::vector<double>(k.C, 1.0), std::vector<double>(k.C, 1.0)};
    const bool sigmoid = p.activation == SEGLOSS_ACTIVATION_SIGMOID;
    const bool topk = p.loss == SEGLOSS_LOSS_TOPK;
    const double eps = p.label_smoothing, K = sigmoid ? 2.0 : double(k.C);
    auto inputs = [&](int64_t n, int64_t v, std::vector<double> &x, std::vector<double> &g) {
        for (int64_t c = 0; c < k.C; c++) {
            x[c] = k.x[(n * k.C + c) * k.V + v];
            g[c] = (1 - eps) * k.g(n, c, v) + eps / K;
        }
    };

    // Every counted voxel's loss m l_v (TopK's keys) and its unweighted loss.
    std::vector<double> loss(k.N * k.V, 0.0), unweighted(k.N * k.V, 0.0);
    std::vector<bool> kept(k.N * k.V, false);
    for (int64_t n = 0; n < k.N; n++) {
        for (int64_t v = 0; v < k.V; v++) {
            if (!k.counted(p, n, v)) continue;
            std::vector<double> x(k.C), g(k.C);
            inputs(n, v, x, g);
            loss[n * k.V + v] = k.m(n, v) * voxel_loss(p, w, x, g);
            unweighted[n * k.V + v] = voxel_loss(p, ones, x, g);
            kept[n * k.V + v] = true;
        }
    }
    if (topk) kept = topk_selection(k, p, loss, unweighted);

    // Normaliser of the mean: TopK: the selected voxels; sigmoid: (voxel, channel) elements;
    // dense targets: voxels; index targets: sum of the counted voxels' class weights
    // (weight_norm=weighted) or their count. Each voxel counts with its mask value.
    double norm = 0, total = 0;
    for (int64_t n = 0; n < k.N; n++) {
        for (int64_t v = 0; v < k.V; v++) {
            if (!kept[n * k.V + v]) continue;
            const double m = k.m(n, v);
            if (topk) norm += 1;
            else if (sigmoid) norm += m * k.C;
            else if (k.dense_target || p.weight_norm == SEGLOSS_WEIGHT_NORM_COUNT) norm += m;
            else norm += m * w.pos[k.label[n * k.V + v]];
        }
    }
    if (p.reduction != SEGLOSS_REDUCTION_MEAN) norm = 1;
    const double scale = norm > 0 ? grad_scale / norm : 0.0;

    for (int64_t n = 0; n < k.N; n++) {
        for (int64_t v = 0; v < k.V; v++) {
            if (!kept[n * k.V + v]) continue;
            std::vector<double> x(k.C), g(k.C);
            inputs(n, v, x, g);
            const double m = k.m(n, v);
            r.values[n * k.V + v] = loss[n * k.V + v];
            total += loss[n * k.V + v];
            for (int64_t c = 0; c < k.C; c++) {
                // Probabilities (none) step relative to their distance from 0 and 1 (both are
                // singular: log p, and (1 - p)^gamma for gamma < 1).
                const double x0 = x[c];
                const double h = 1e-5 * (p.activation == SEGLOSS_ACTIVATION_NONE ? std::min(x0, 1 - x0)
                                                                                 : std::max(1.0, std::fabs(x0)));
                double d;
                if (h > 0) {
                    x[c] = x0 + h;
                    const double up = voxel_loss(p, w, x, g);
                    x[c] = x0 - h;
                    d = (up - voxel_loss(p, w, x, g)) / (2 * h);
                } else {
                    // A probability of exactly 1: d/dp of -w g (1 - p)^gamma log p there is -w g
                    // for gamma = 0 and 0 for gamma > 0.
                    const double gamma = p.loss == SEGLOSS_LOSS_FOCAL ? p.gamma : 0.0;
                    d = gamma == 0 ? -w.pos[c] * g[c] : 0.0;
                }
                x[c] = x0;
                r.grad[(n * k.C + c) * k.V + v] = scale * m * d;
            }
        }
    }
    r.value = norm > 0 ? total / norm : 0.0;
    return r;
}

}  // namespace segloss::ref
