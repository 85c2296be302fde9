// SPDX-License-Identifier: Apache-2.0
// The loss catalogue: each loss kind's LOSSES.md name, family and defaults, in one table.
#pragma once

#include "segloss/segloss.h"

namespace segloss::rt {

enum class Family { pointwise, region, compound, boundary };

struct LossInfo {
    segloss_loss_kind_t kind;
    const char *name;  // LOSSES.md name (the command line's and segloss_loss_from_name's)
    Family family;
    int region_base;       // abi::RegionBase (region family)
    int region_transform;  // abi::RegionTransform (region family)
    // Compound losses: the kinds of their parts.
    segloss_loss_kind_t region_part, pointwise_part;
};

// The entry of a loss kind, or nullptr for a value outside the enum.
// kind: the value a caller stored (enum_field.h); nullptr for one that is no loss.
const LossInfo *find_loss(int kind);
const LossInfo *find_loss(const char *name);

// Losses made of a region part and a pointwise or boundary part (segloss_loss_parts): the
// compound family, and dice_boundary / dice_hausdorff (boundary family).
bool has_parts(const LossInfo &l);

// Fills params with the loss's LOSSES.md defaults.
void default_params(segloss_loss_params_t &p, segloss_loss_kind_t kind);

}  // namespace segloss::rt
