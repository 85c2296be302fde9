// SPDX-License-Identifier: Apache-2.0
#include "pointwise_args.h"

#include <cmath>

#include "../../generators/common/abi.h"
#include "../src/failure.h"

namespace segloss::rt {
namespace {

// focal's alpha: none (all ones), a scalar (softmax: 1 - alpha on class 0, alpha on the others;
// sigmoid: alpha on targets 1, 1 - alpha on targets 0, as MONAI) or one per class.
void focal_alpha(const segloss_loss_params_t &p, int64_t C, Act act, PointwiseArgs &a) {
    const size_t n = static_cast<size_t>(C);
    if (!p.has_alpha) return;
    if (p.class_alpha) {
        if (p.num_class_alpha != C) {
            fail(SEGLOSS_STATUS_INVALID_SHAPE, "class_alpha has ", p.num_class_alpha, " values for ", C, " classes");
        }
        for (size_t c = 0; c < n; c++) {
            if (!(std::isfinite(p.class_alpha[c]) && p.class_alpha[c] >= 0)) {
                fail(SEGLOSS_STATUS_INVALID_ARGUMENT, "class_alpha[", c, "] = ", p.class_alpha[c], " is not finite and >= 0");
            }
        }
        a.alpha_pos.assign(p.class_alpha, p.class_alpha + n);
        a.alpha_neg = a.alpha_pos;
    } else if (act == Act::sigmoid) {
        a.alpha_pos.assign(n, p.alpha);
        a.alpha_neg.assign(n, 1.0f - p.alpha);
    } else {
        a.alpha_pos.assign(n, p.alpha);
        a.alpha_pos[0] = 1.0f - p.alpha;
    }
}

}  // namespace

PointwiseArgs pointwise_args(const segloss_loss_params_t &p, int64_t C, Act act) {
    PointwiseArgs a;
    a.alpha_pos.assign(static_cast<size_t>(C), 1.0f);
    a.alpha_neg = a.alpha_pos;
    a.smoothing = p.label_smoothing;
    if (p.loss == SEGLOSS_LOSS_FOCAL) {
        focal_alpha(p, C, act, a);
        a.gamma = p.gamma;
    } else if (p.class_weights == SEGLOSS_CLASS_WEIGHTS_INVERSE_FREQUENCY) {
        a.inverse_frequency = true;
    } else {
        a.alpha_pos = read_weights(p, C);
        a.alpha_neg = a.alpha_pos;
    }
    return a;
}

std::vector<float> inverse_frequency_weights(const std::vector<double> &per_class) {
    double M = 0, K = 0;
    for (double m : per_class) {
        M += m;
        K += m > 0 ? 1 : 0;
    }
    std::vector<float> w;
    for (double m : per_class) w.push_back(m > 0 ? static_cast<float>(M / (K * m)) : 0.0f);
    return w;
}

int pointwise_norm(const segloss_loss_params_t &p, Act act, TargetKind kind) {
    if (act == Act::sigmoid) return abi::kPwNormElements;
    if (kind == TargetKind::f32 || p.weight_norm == SEGLOSS_WEIGHT_NORM_COUNT) return abi::kPwNormCount;
    return abi::kPwNormWeighted;
}

}  // namespace segloss::rt
