// SPDX-License-Identifier: Apache-2.0
// float64 references written plainly from LOSSES.md, one loop per formula, no shortcuts
// shared with the kernels. Their gradients are checked against central finite differences
// (tests/reference/test_reference.cpp) before they are used to judge the kernels.
#pragma once

#include <cstdint>
#include <vector>

#include "segloss/segloss.h"

namespace segloss::ref {

// A problem in plain row-major arrays: logits x[n][c][v], index labels label[n][v] or dense
// targets dense[n][c][v] (V = voxels per image).
struct Case {
    int64_t N = 0, C = 0, V = 0;
    std::vector<double> x;
    bool dense_target = false;
    std::vector<int64_t> label;
    std::vector<double> dense;
    std::vector<double> mask;  // loss_mask m[n][v] in [0, 1]; empty: none (all 1)
    double g(int64_t n, int64_t c, int64_t v) const {
        return dense_target ? dense[(n * C + c) * V + v] : (label[n * V + v] == c ? 1.0 : 0.0);
    }
    double m(int64_t n, int64_t v) const { return mask.empty() ? 1.0 : mask[n * V + v]; }
    // Not ignored and not masked out; every sum and gradient of a counted voxel is weighed by m.
    bool counted(const segloss_loss_params_t &p, int64_t n, int64_t v) const {
        return m(n, v) > 0 && (dense_target || !(p.has_ignore_index && label[n * V + v] == p.ignore_index));
    }
};

struct Result {
    double value = 0;            // mean or sum
    std::vector<double> values;  // reduction none: per voxel [n][v] (ce) or per group (dice)
    std::vector<double> grad;    // d(value or sum of values)/dx [n][c][v], times grad_scale
};

// ce, wce, focal and topk, with label smoothing, weight_norm and inverse-frequency weights.
Result pointwise(const Case &k, const segloss_loss_params_t &p, double grad_scale);
// dice_ce, dice_focal, dice_topk, generalized_dice_focal, combo, exp_log.
Result compound(const Case &k, const segloss_loss_params_t &p, double grad_scale);
// Every region loss (dice, iou, tversky, ..., generalized_dice).
Result region(const Case &k, const segloss_loss_params_t &p, double grad_scale);
Result loss(const Case &k, const segloss_loss_params_t &p, double grad_scale);

// Probabilities of one voxel from its logits under the params' activation.
std::vector<double> activate(const Case &k, const segloss_loss_params_t &p, int64_t n, int64_t v);
// dL/dx_c from a_c = dL/dp_c through the params' activation.
std::vector<double> chain(const segloss_loss_params_t &p, const std::vector<double> &prob, const std::vector<double> &a);
// ce, wce, focal and topk (one value per voxel for reduction none).
inline bool is_pointwise(segloss_loss_kind_t k) {
    return k == SEGLOSS_LOSS_CE || k == SEGLOSS_LOSS_WCE || k == SEGLOSS_LOSS_FOCAL || k == SEGLOSS_LOSS_TOPK;
}
inline bool is_compound(segloss_loss_kind_t k) {
    return (k >= SEGLOSS_LOSS_DICE_CE && k <= SEGLOSS_LOSS_EXP_LOG) || k == SEGLOSS_LOSS_DICE_TOPK;
}
// Class weight c of the params (1 without weights).
double weight_of(const segloss_loss_params_t &p, int64_t c);

}  // namespace segloss::ref
