// SPDX-License-Identifier: Apache-2.0
// Distance family: exact EDT maps of class masks (generators/distance), for segloss_distance_compute
// and for the boundary-based losses, which read the maps as constants.
#pragma once

#include <array>
#include <cstdint>
#include <vector>

#include "../src/context.h"
#include "../src/problem.h"

namespace segloss::rt {

// One distance kernel call, validated: the masks of classes first_class.. of `source`.
struct DistanceRequest {
    Tensor source;                  // what the kernel reads (int64 labels narrowed to int32)
    TargetKind kind = TargetKind::i32;
    Act act = Act::identity;        // float32 sources: thresholded after this activation
    int num_classes = 2;            // index maps
    int first_class = 1;
    int has_ignore = 0, ignore_index = 0;
    int spatial_rank = 0;
    std::array<float, 3> spacing{1, 1, 1};  // Halide x, y, z (the tensor's last spatial axis is x)
    int map_kind = 0;               // abi::DistanceKind
    bool zero_degenerate = false;   // every kind zero for empty and full masks (the losses)
    bool collapse = false;          // one channel: 1 + the sum of the classes' maps (DPCE)
    bool check_labels = true;       // read the invalid-label count back and fail on any
};

// Halide axes (x, y, z[, c], n) of a tensor N[,C or 1],spatial whose spatial axes start at `first`.
std::vector<int> spatial_view_axes(int first, int spatial_rank, bool with_channel);

// The spacing of `rank` spatial axes in tensor order (NULL: all 1) as Halide (x, y, z); fails
// with INVALID_ARGUMENT unless there is one finite value > 0 per axis.
std::array<float, 3> read_spacing(const double *spacing, int64_t num_spacing, int rank);

// Runs the kernel (the call's device's, or the CPU's) into `out` (x, y, z, k, n) and the mask
// flags (abi::MaskFlag) into `flags` (k, n), if not NULL; a collapsed request's weights are
// multiplied by `voxel_weight` (x, y, z, n), if not NULL. With check_labels, fails with
// INVALID_LABEL on an index label outside [0, num_classes) that is not ignore_index (after the
// kernel: `out` is written; a device call waits for the count).
void distance_maps(Call &call, const DistanceRequest &r, halide_buffer_t *out, halide_buffer_t *flags = nullptr,
                   halide_buffer_t *voxel_weight = nullptr);

// DPCE's weight of every voxel, (1 + D_v) times its loss mask value (map kind abi::kDistanceDpce
// of every class, collapsed), as a float32 N,spatial tensor in the context's scratch (a device
// call's: device scratch); the pointwise pass reads it as its mask. Index-map targets only;
// the labels are not checked here (the target pre-pass does).
Tensor dpce_weights(Call &call, const Problem &pb);

void default_distance_params(segloss_distance_params_t &p);

// segloss_distance_compute: validation, the kernel, the flags.
void run_distance(Call &call, const segloss_distance_params_t *p, const DLTensor *source, const DLTensor *distance,
                  const DLTensor *flags);

}  // namespace segloss::rt
