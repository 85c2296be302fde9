// SPDX-License-Identifier: Apache-2.0
// TopK's selection (DESIGN.md, selection family): a key pass writes every voxel's loss, the cut
// is found on the host by a radix select over the keys' bits, and the passes that follow read
// the keys back (generators/common/selection.h), so every pass keeps the same voxels. On a
// device call the cut is found on the device (select_topk_on_device: the same radix select in
// kernels, the selected voxels marked 1 and the passes run with the cut 0.5), or, when the call
// waits anyway, the keys are copied back for the host's cut.
#pragma once

#include <cstdint>
#include <memory>
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
struct DeviceCut;
struct TopkSelection {
    float *keys = nullptr;  // (x, y, z, n), dense: the context's key scratch
    Tensor device_keys;     // a device call's keys (N, spatial) in device scratch; ndim 0 otherwise
    TopkCut cut;            // the device select's: cut 0.5 and index 0 over its marked keys
    std::shared_ptr<DeviceCut> device_cut;
    SelectionArgs args(const Problem &pb);
    // The device select's normaliser (float64; NaN for a NaN key or a bad label) and 1 / K
    // (float32), device buffers for pointwise_total and the gradient pass.
    halide_buffer_t *norm() const;
    halide_buffer_t *norm_scale() const;
    // dice_topk's part after the device select (generators/pointwise/topk_part_generator.cpp):
    // the part's class weights times 1 / K into pos and neg (for the region epilogue, whose own
    // normaliser of the part is then 1), and total = base + lambda x the selected keys' mean.
    // (weights: the part's weights on the device, inverse frequency from topk_part_inverse, or
    // null: a's.)
    void scale_part_weights(Call &call, const PointwiseArgs &a, halide_buffer_t *pos, halide_buffer_t *neg,
                            halide_buffer_t *weights = nullptr) const;
    void part_total(Call &call, const Problem &pb, double lambda, halide_buffer_t *base, halide_buffer_t *total) const;
};
TopkSelection select_topk(Call &call, const Problem &pb, const segloss_loss_params_t &topk, const PointwiseArgs &a);
// The same selection with the cut found on the call's device (no wait). label_norm: the device
// pre-pass's normaliser (NaN for a bad label: the loss and gradient become NaN), or a 0.
// weights: the class weights on the device (inverse frequency from the pre-pass), or null: a's.
TopkSelection select_topk_on_device(Call &call, const Problem &pb, const segloss_loss_params_t &topk,
                                    const PointwiseArgs &a, halide_buffer_t *label_norm,
                                    halide_buffer_t *weights = nullptr);

}  // namespace segloss::rt
