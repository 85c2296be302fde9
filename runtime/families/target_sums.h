// SPDX-License-Identifier: Apache-2.0
// The target pre-pass (label_stats kernel): validates the targets and sums them per class.
// Pointwise losses take their normaliser and inverse-frequency weights from it; any loss runs
// it on dense targets when check_inputs asks for their values to be checked.
#pragma once

#include <vector>

#include "../src/context.h"
#include "../src/problem.h"

namespace segloss::rt {

struct TargetSums {
    double counted = 0;             // counted voxels (the sum of their mask values)
    std::vector<double> per_class;  // C sums of m g_c over counted voxels (voxels per label); zeros unless asked for
    std::vector<double> per_image;  // N: the counted voxels of each image
};

// The pass's per-line sums (slots abi::LabelSlot, and the per-class sums when asked: they cost
// about half of the pass), left where the kernel wrote them: a device call's stay on the device,
// for the device reductions that read them (pointwise_norm, boundary_coef). Not movable: the
// views point into the object.
class LabelRows {
public:
    LabelRows(Call &call, const Problem &pb, bool class_sums);
    LabelRows(const LabelRows &) = delete;
    LabelRows &operator=(const LabelRows &) = delete;
    halide_buffer_t *rows() { return rows_v_.get(); }
    halide_buffer_t *class_rows() { return class_v_.get(); }
    // The host copies (a device call's after Call::to_host of the views).
    const std::vector<float> &host_rows() const { return rows_; }
    const std::vector<float> &host_class_rows() const { return class_rows_; }

private:
    std::vector<float> rows_, class_rows_;
    HalideView rows_v_, class_v_;
};

// Runs the pass; fails with INVALID_LABEL on a label outside [0, C) that is not ignore_index, or
// (dense targets, with check_inputs) a value outside [0, 1], and with INVALID_ARGUMENT on a mask
// value outside [0, 1]. Nothing is written before it returns. The per-class sums are computed
// only with `per_class` (they cost about half of the pass).
TargetSums target_sums(Call &call, const Problem &pb, bool per_class);

// Fails with INVALID_ARGUMENT when a pass counted mask values outside [0, 1] (NaN included).
void check_mask(double bad_mask_values);

}  // namespace segloss::rt
