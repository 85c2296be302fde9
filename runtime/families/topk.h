// SPDX-License-Identifier: Apache-2.0
// TopK's selection (DESIGN.md, selection family): a key pass writes every voxel's loss, the cut
// is found on the host by a radix select over the keys' bits, and the passes that follow read
// the keys back (generators/common/selection.h), so every pass keeps the same voxels. On a
// device call the keys are written to device scratch and copied back for the cut (the call
// waits there: the device select is the next step, docs/design.md).
#pragma once

#include <cstdint>
#include <vector>

#include "../src/context.h"
#include "../src/problem.h"
#include "pointwise_args.h"

namespace segloss::rt {

// What a kernel needs to select voxels: keys (x, y, z, n) and the cut. select_all() keeps every
// voxel (a line of zero keys and cut_value -1).
struct SelectionArgs {
    HalideView key;
    float cut_value = -1.0f;
    int cut_index = 0;
};
SelectionArgs select_all(const Problem &pb);

// The cut over a dense key map in linear order. Keys >= 0 are candidates, -1 marks voxels that
// cannot be selected, NaN non-finite voxels.
struct TopkCut {
    int64_t candidates = 0;  // M
    int64_t selected = 0;    // K
    float cut_value = -1.0f; // selected: key > cut_value, or key == cut_value and index < cut_index
    int64_t cut_index = 0;
    double sum = 0;          // sum of the selected keys, float64
    int64_t nonfinite = 0;
};
// Percent mode: the max(1, floor(M k / 100)) largest keys (none when M = 0); ties at the cut go
// to the lowest indices. Threshold mode (the key pass already left out the voxels below the
// threshold): every candidate.
TopkCut find_topk_cut(const float *keys, int64_t n, segloss_topk_mode_t mode, double k_percent);

// The key pass and the cut for the topk params `topk` (topk itself or dice_topk's part).
struct TopkSelection {
    float *keys = nullptr;  // (x, y, z, n), dense: the context's key scratch
    Tensor device_keys;     // a device call's keys (N, spatial) in device scratch; ndim 0 otherwise
    TopkCut cut;
    SelectionArgs args(const Problem &pb);
};
TopkSelection select_topk(Call &call, const Problem &pb, const segloss_loss_params_t &topk, const PointwiseArgs &a);

}  // namespace segloss::rt
