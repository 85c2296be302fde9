// SPDX-License-Identifier: Apache-2.0
// The mean's normaliser of a pointwise loss (LOSSES.md `ce`) and the class weights that come
// from the targets (inverse frequency), from the target pre-pass's sums: on the host (CPU
// calls; device calls that check their inputs, or whose normaliser does not depend on the
// data), or on the device (the pointwise_norm kernel), where a call that does not wait needs it.
#pragma once

#include <vector>

#include "../src/context.h"
#include "../src/problem.h"
#include "pointwise_args.h"
#include "target_sums.h"

namespace segloss::rt {

// abi::PwNorm of the mean, or -1 for a normaliser of 1 (reduction sum or none).
int normaliser_mode(const segloss_loss_params_t &p, const Problem &pb);

// From the host's sums; `per_class`: the weighted normaliser sums w_c M_c (unequal weights).
double host_normaliser(int mode, const Problem &pb, const PointwiseArgs &args, const TargetSums &sums, bool per_class);

// The pre-pass and pointwise_norm on the device; the results stay there. A bad label (index
// targets) or mask value makes the normaliser, and so the loss and the gradient, NaN.
class DeviceNormaliser {
public:
    DeviceNormaliser(Call &call, const Problem &pb, const PointwiseArgs &args, int mode, bool per_class);
    halide_buffer_t *norm() { return norm_v_.get(); }        // float64, extent 1
    halide_buffer_t *scale() { return scale_v_.get(); }      // float32, extent 1: 1 / norm
    halide_buffer_t *weights() { return weights_v_.get(); }  // float32 (c): the class weights

private:
    LabelRows labels_;
    std::vector<float> scale_, weights_;
    double norm_ = 0;
    HalideView norm_v_, scale_v_, weights_v_;
};

}  // namespace segloss::rt
