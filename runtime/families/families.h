// SPDX-License-Identifier: Apache-2.0
// Families sequence their kernel stages and size their scratch.
#pragma once

#include "../src/context.h"
#include "../src/problem.h"

namespace segloss::rt {

// Pointwise losses (CE): label pre-pass (index maps), then one fused pass.
void run_pointwise(Call &call, const Problem &pb, const DLTensor *value, const DLTensor *grad,
                   float grad_scale);

// Region losses (Dice): stats, epilogue, gradient.
void run_region(Call &call, const Problem &pb, const DLTensor *value, const DLTensor *grad,
                float grad_scale);

// Boundary-based losses (boundary, hausdorff_dt): the distance maps (computed, or the caller's
// precomputed target map), then one pass for the loss and its gradient.
void run_boundary(Call &call, const Problem &pb, const DLTensor *value, const DLTensor *grad, float grad_scale);

// The region stages on their own (segloss_region_*).
void region_stats(Call &call, const Problem &pb, const DLTensor *stats);
void region_epilogue(Call &call, const segloss_loss_params_t *params, const DLTensor *stats,
                     const DLTensor *value, const DLTensor *coef, float grad_scale);
void region_grad(Call &call, const Problem &pb, const DLTensor *coef, const DLTensor *grad);

}  // namespace segloss::rt
