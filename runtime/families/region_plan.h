// SPDX-License-Identifier: Apache-2.0
// What the region passes and the epilogue need, from a region loss's params or a compound
// loss's (its region part, its pointwise part, the lambdas).
#pragma once

#include <vector>

#include "../src/problem.h"
#include "pointwise_args.h"

namespace segloss::rt {

struct RegionPlan {
    segloss_loss_params_t region{};  // the region loss (a compound's region part, with its shared options)
    bool compound = false;
    std::vector<float> options;      // abi::RegionOption
    std::vector<float> weight;       // the region loss's class weights (C)
    PointwiseArgs pointwise;         // a compound's pointwise part (class weights of ones otherwise)
    bool topk = false;               // the pointwise part is topk (dice_topk)
    segloss_loss_params_t topk_part{};  // its params
    // The epilogue reads the squared sums (squared_pred Dice, sensitivity-specificity); without
    // them the stats pass skips them.
    bool squares = false;
};

// A compound's part: the caller's params for it (`given`, or the part's defaults) with the
// compound's shared options (activation, reduction, ignore_index, checks, loss_mask).
segloss_loss_params_t part_params(const segloss_loss_params_t *given, segloss_loss_kind_t kind,
                                  const segloss_loss_params_t &compound, const char *which);

// Checks everything that needs C and builds the plan. Compound losses need the activation and
// the target kind (the pointwise part's normaliser depends on them).
RegionPlan make_region_plan(const segloss_loss_params_t &p, int64_t C, Act act, TargetKind kind);

}  // namespace segloss::rt
