// SPDX-License-Identifier: Apache-2.0
// Evaluation metrics (segloss_metrics_compute): Dice and IoU from label counts, the surface
// distances (hd, hd95, assd, nsd) from two SEGLOSS_DISTANCE_SURFACE maps per class.
#pragma once

#include "../src/context.h"
#include "segloss/segloss.h"

namespace segloss::rt {

void default_metric_params(segloss_metric_params_t &p);

void run_metrics(Call &call, const segloss_metric_params_t *p, const DLTensor *prediction, const DLTensor *target,
                 const DLTensor *values, const DLTensor *cases);

}  // namespace segloss::rt
