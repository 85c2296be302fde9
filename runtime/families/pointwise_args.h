// SPDX-License-Identifier: Apache-2.0
// What a pointwise loss (ce, wce, focal, topk; alone or as a compound's part) passes to the kernels of
// formulas.h besides the tensors: class weights, exponents, label smoothing.
#pragma once

#include <vector>

#include "../src/problem.h"

namespace segloss::rt {

struct PointwiseArgs {
    std::vector<float> alpha_pos, alpha_neg;  // C class weights each
    float gamma = 0, log_power = 1, smoothing = 0;
    bool inverse_frequency = false;  // the class weights come from the targets (alpha_* are ones)
};

// From a pointwise loss's params: ce/wce weigh by `weight` (or inverse frequency, which the
// caller derives from the targets); focal by its alpha (segloss.h). Fails on a bad class_alpha.
PointwiseArgs pointwise_args(const segloss_loss_params_t &p, int64_t C, Act act);

// Inverse-frequency class weights w_c = M / (K M_c) from the per-class target sums M_c
// (segloss.h), 0 for an absent class. (The compound epilogue derives the same on its own.)
std::vector<float> inverse_frequency_weights(const std::vector<double> &per_class);

// The mean's normaliser mode of a pointwise loss (abi::PwNorm).
int pointwise_norm(const segloss_loss_params_t &p, Act act, TargetKind kind);

}  // namespace segloss::rt
