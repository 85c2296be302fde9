// SPDX-License-Identifier: Apache-2.0
// Families sequence their kernel stages and size their scratch.
#pragma once

#include <memory>
#include <vector>

#include "../src/context.h"
#include "../src/problem.h"
#include "region_plan.h"

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

// dice_boundary / dice_hausdorff's region part: pass 1 (labels and mask checked) and the
// epilogue of its plan (its lambda in the plan's options); fills coef (abi::RegionCoef, c, n).
// On a device call (unless check_inputs) nothing is read back: value and per_image stay
// unset, and the part's value and coefficients are the device buffers total() and coef().
struct EpilogueOut;
struct RegionPart {
    double value = 0;                // the part's reduced value, lambda included
    std::vector<double> per_image;   // counted voxels of each image (sums of their mask values)
    std::shared_ptr<EpilogueOut> out;
    halide_buffer_t *total() const;  // float64, extent 1
    halide_buffer_t *coef() const;   // float32 (abi::RegionCoef, c, n), over `coef`'s memory
};
RegionPart region_part(Call &call, const Problem &pb, const RegionPlan &plan, std::vector<float> &coef,
                       float grad_scale);

// The region stages on their own (segloss_region_*).
void region_stats(Call &call, const Problem &pb, const DLTensor *stats);
void region_epilogue(Call &call, const segloss_loss_params_t *params, const DLTensor *stats,
                     const DLTensor *value, const DLTensor *coef, float grad_scale);
void region_grad(Call &call, const Problem &pb, const DLTensor *coef, const DLTensor *grad);

}  // namespace segloss::rt
