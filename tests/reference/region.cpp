// SPDX-License-Identifier: Apache-2.0
// float64 references of the region losses (LOSSES.md, region-based table).
#include <algorithm>
#include <cmath>

#include "reference.h"

namespace segloss::ref {

namespace {

// One group's sums over its counted voxels, each written as in LOSSES.md and weighed by the
// voxel's mask value (V: the sum of the mask).
struct Sums {
    double I = 0, P = 0, G = 0, P2 = 0, G2 = 0, FP = 0, FN = 0, SsPos = 0, SsNeg = 0, V = 0;
};
// The sums that depend on the logits, and d(sum)/dp_v for each (g: the voxel's target).
double Sums::*const kLogitSums[] = {&Sums::I, &Sums::P, &Sums::P2, &Sums::FP, &Sums::FN, &Sums::SsPos, &Sums::SsNeg};
double dsum_dp(int which, double p, double g) {
    const double d[] = {g, 1, 2 * p, 1 - g, -g, -2 * (g - p) * g, -2 * (g - p) * (1 - g)};
    return d[which];
}

// A class-wise region loss of one group (LOSSES.md, region-based table), before its weight.
double class_loss(const segloss_loss_params_t &p, const Sums &s) {
    const double nr = p.smooth_nr, dr = p.smooth_dr;
    switch (p.loss) {
    case SEGLOSS_LOSS_DICE:
    case SEGLOSS_LOSS_LOG_COSH_DICE: {
        const double D = p.squared_pred ? s.P2 + s.G2 : s.P + s.G;
        const double dice = 1 - (2 * s.I + nr) / (D + dr);
        return p.loss == SEGLOSS_LOSS_DICE ? dice : std::log(std::cosh(dice));
    }
    case SEGLOSS_LOSS_IOU: return 1 - (s.I + nr) / (s.P + s.G - s.I + dr);
    case SEGLOSS_LOSS_TVERSKY:
    case SEGLOSS_LOSS_FOCAL_TVERSKY: {
        const double T = (s.I + nr) / (s.I + p.alpha * s.FP + p.beta * s.FN + dr);
        return p.loss == SEGLOSS_LOSS_TVERSKY ? 1 - T : std::pow(std::max(1 - T, 0.0), 1 / double(p.gamma));
    }
    case SEGLOSS_LOSS_ASYMMETRIC: {
        // 1 - (1+b^2) I / ((1+b^2) I + b^2 FN + FP), smoothed as the Tversky index it equals.
        const double b2 = double(p.b) * p.b;
        return 1 - ((1 + b2) * s.I + (1 + b2) * nr) / ((1 + b2) * s.I + b2 * s.FN + s.FP + (1 + b2) * dr);
    }
    case SEGLOSS_LOSS_SENSITIVITY_SPECIFICITY:
        return p.r * s.SsPos / (s.G + dr) + (1 - p.r) * s.SsNeg / (s.V - s.G + dr);
    case SEGLOSS_LOSS_EXP_LOG: {  // exp_log's Dice term: (-ln Dice)^gamma_d
        const double dice = (2 * s.I + nr) / (s.P + s.G + dr);
        return std::pow(std::max(-std::log(dice), 0.0), double(p.gamma_d));
    }
    default: return NAN;
    }
}

bool generalized(const segloss_loss_params_t &p) {
    return p.loss == SEGLOSS_LOSS_GENERALIZED_DICE || p.loss == SEGLOSS_LOSS_PENALTY_GENERALIZED_DICE;
}

// The generalized Dice loss of one image (or of the batch): classes first..C-1 of `s`.
double generalized_dice(const segloss_loss_params_t &p, const Sums *s, int64_t first, int64_t C) {
    std::vector<double> w(C, 0.0);
    double largest = 0;
    for (int64_t c = first; c < C; c++) {
        const double G = s[c].G;
        w[c] = p.w_type == SEGLOSS_GD_WEIGHT_UNIFORM ? 1 : p.w_type == SEGLOSS_GD_WEIGHT_SIMPLE ? 1 / G : 1 / (G * G);
        if (std::isfinite(w[c])) largest = std::max(largest, w[c]);
    }
    double num = 0, den = 0;
    for (int64_t c = first; c < C; c++) {
        if (!std::isfinite(w[c])) w[c] = largest;  // an absent class (MONAI)
        num += w[c] * s[c].I;
        den += w[c] * (s[c].P + s[c].G);
    }
    const double L = 1 - (2 * num + p.smooth_nr) / (den + p.smooth_dr);
    return p.loss == SEGLOSS_LOSS_GENERALIZED_DICE ? L : L / (1 + p.k * (1 - L));
}

// The reduced loss from all groups' sums; `values` gets the per-group values (reduction none).
double reduce_groups(const segloss_loss_params_t &p, const std::vector<Sums> &s, int64_t groups_n, int64_t C,
                     std::vector<double> *values) {
    const int64_t first = p.include_background ? 0 : 1;
    const bool exclude = p.empty == SEGLOSS_EMPTY_EXCLUDE;
    double total = 0;
    int64_t kept = 0;
    auto add = [&](double value, double G) {
        const bool dropped = exclude && G == 0;
        if (values) values->push_back(dropped ? 0.0 : value);
        if (dropped) return;
        total += value;
        kept++;
    };
    for (int64_t gn = 0; gn < groups_n; gn++) {
        if (generalized(p)) {
            double G = 0;
            for (int64_t c = first; c < C; c++) G += s[gn * C + c].G;
            add(generalized_dice(p, &s[gn * C], first, C), G);
        } else {
            for (int64_t c = first; c < C; c++) add(weight_of(p, c) * class_loss(p, s[gn * C + c]), s[gn * C + c].G);
        }
    }
    if (p.reduction == SEGLOSS_REDUCTION_MEAN) return kept > 0 ? total / kept : 0.0;
    return total;
}

}  // namespace

// LOSSES.md region losses: the loss is written as a plain function of the group sums; its
// derivatives w.r.t. the sums are central differences of that function in float64 (the sums
// are smooth in the logits), chained to the voxels through d(sum)/dp and the activation.
Result region(const Case &k, const segloss_loss_params_t &p, double grad_scale) {
    Result r;
    r.grad.assign(k.N * k.C * k.V, 0.0);
    const int64_t groups_n = p.batch ? 1 : k.N;
    std::vector<Sums> s(groups_n * k.C);
    for (int64_t n = 0; n < k.N; n++) {
        for (int64_t v = 0; v < k.V; v++) {
            if (!k.counted(p, n, v)) continue;
            std::vector<double> prob = activate(k, p, n, v);
            for (int64_t c = 0; c < k.C; c++) {
                Sums &g = s[(p.batch ? 0 : n) * k.C + c];
                const double pv = prob[c], gv = k.g(n, c, v), m = k.m(n, v);
                g.I += m * pv * gv;
                g.P += m * pv;
                g.G += m * gv;
                g.P2 += m * pv * pv;
                g.G2 += m * gv * gv;
                g.FP += m * pv * (1 - gv);
                g.FN += m * (1 - pv) * gv;
                g.SsPos += m * (gv - pv) * (gv - pv) * gv;
                g.SsNeg += m * (gv - pv) * (gv - pv) * (1 - gv);
                g.V += m;
            }
        }
    }
    r.value = reduce_groups(p, s, groups_n, k.C, &r.values);

    // The objective whose gradient is returned: the value, or the sum of the values (none).
    auto objective = [&](const std::vector<Sums> &t) {
        std::vector<double> vals;
        const double reduced = reduce_groups(p, t, groups_n, k.C, &vals);
        if (p.reduction != SEGLOSS_REDUCTION_NONE) return reduced;
        double sum = 0;
        for (double x : vals) sum += x;
        return sum;
    };
    const int kNumLogitSums = sizeof(kLogitSums) / sizeof(kLogitSums[0]);
    std::vector<double> d(s.size() * kNumLogitSums);
    std::vector<Sums> t = s;
    for (size_t gi = 0; gi < s.size(); gi++) {
        for (int j = 0; j < kNumLogitSums; j++) {
            double &x = t[gi].*kLogitSums[j];
            const double x0 = x, h = 1e-6 * std::max(1.0, std::fabs(x0));
            x = x0 + h;
            const double up = objective(t);
            x = x0 - h;
            const double down = objective(t);
            x = x0;
            d[gi * kNumLogitSums + j] = (up - down) / (2 * h);
        }
    }
    for (int64_t n = 0; n < k.N; n++) {
        for (int64_t v = 0; v < k.V; v++) {
            if (!k.counted(p, n, v)) continue;
            std::vector<double> prob = activate(k, p, n, v), a(k.C, 0.0);
            for (int64_t c = 0; c < k.C; c++) {
                const size_t gi = (p.batch ? 0 : n) * k.C + c;
                for (int j = 0; j < kNumLogitSums; j++) {
                    a[c] += k.m(n, v) * d[gi * kNumLogitSums + j] * dsum_dp(j, prob[c], k.g(n, c, v));
                }
            }
            std::vector<double> dx = chain(p, prob, a);
            for (int64_t c = 0; c < k.C; c++) r.grad[(n * k.C + c) * k.V + v] = grad_scale * dx[c];
        }
    }
    return r;
}

}  // namespace segloss::ref
