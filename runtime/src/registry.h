// SPDX-License-Identifier: Apache-2.0
// The kernel registry: every kernel library of cmake/kernels.cmake (CPU, and the GPU set),
// found by stage, activation and target kind. Signatures are those of the generated headers.
#pragma once

#include "../devices/gpu.h"
#include "HalideRuntime.h"
#include "problem.h"

namespace segloss::rt {

enum class Stage {
    label_stats, pointwise_value, pointwise_grad, pointwise_map,
    region_stats, region_grad, region_epilogue, compound_stats, compound_grad,
    convert_f16_to_f32, convert_bf16_to_f32, convert_f32_to_f16, convert_f32_to_bf16, distance, dpce_weight, boundary_loss,
    value_store_f32, value_store_f64, pointwise_norm, pointwise_total, boundary_coef, boundary_total,
    topk_hist, topk_cut, topk_tie, topk_mark, topk_part_inverse, topk_part_weights,
    topk_part_total
};

using Buf = halide_buffer_t *;
using UC = const void *;
using LabelStatsFn = int (*)(UC, Buf labels, int num_classes, int has_ignore, int ignore_index, Buf loss_mask,
                             int class_sums, Buf rows, Buf class_rows);
// Every loss kernel starts (logits, labels, has_ignore, ignore_index, loss_mask):
// generators/common/loss_generator.h.
#define SEGLOSS_LOSS_ARGS Buf logits, Buf labels, int has_ignore, int ignore_index, Buf loss_mask
// Pointwise kernels go on (alpha_pos, alpha_neg, gamma, log_power, label_smoothing, grad_scale)
// and TopK's selection (key, cut_value, cut_index).
#define SEGLOSS_POINTWISE_ARGS                                                                                         \
    SEGLOSS_LOSS_ARGS, Buf alpha_pos, Buf alpha_neg, float gamma, float log_power, float smoothing, float grad_scale,  \
        Buf key, float cut_value, int cut_index
using PointwiseValueFn = int (*)(UC, SEGLOSS_POINTWISE_ARGS, Buf rows);
// norm_scale: one float multiplying grad_scale (1 on the CPU; 1 / normaliser from
// pointwise_norm on a device).
using PointwiseGradFn = int (*)(UC, SEGLOSS_POINTWISE_ARGS, Buf norm_scale, Buf rows, Buf grad);
using PointwiseMapFn = int (*)(UC, SEGLOSS_POINTWISE_ARGS, float key_threshold, float fill, Buf map);
#undef SEGLOSS_POINTWISE_ARGS
// squares = 0: the stats pass leaves the squared sums (P2, G2, SsPos, SsNeg) at 0.
using RegionStatsFn = int (*)(UC, SEGLOSS_LOSS_ARGS, int squares, Buf stats);
using RegionGradFn = int (*)(UC, SEGLOSS_LOSS_ARGS, Buf coef, Buf grad);
using RegionEpilogueFn = int (*)(UC, Buf stats, Buf weight, Buf options, Buf pw_alpha_pos, Buf pw_alpha_neg,
                                 float grad_scale, Buf group_loss, Buf total, Buf coef);
// Compound kernels add the pointwise part's (gamma, log_power, label_smoothing), and the
// gradient pass TopK's selection.
using CompoundStatsFn = int (*)(UC, SEGLOSS_LOSS_ARGS, int squares, float gamma, float log_power, float smoothing,
                                Buf stats);
using CompoundGradFn = int (*)(UC, SEGLOSS_LOSS_ARGS, Buf coef, float gamma, float log_power, float smoothing, Buf key,
                               float cut_value, int cut_index, Buf grad);
#undef SEGLOSS_LOSS_ARGS
// Half-precision conversions (generators/convert): in and out are 5-D, any strides.
using ConvertFn = int (*)(UC, Buf in, Buf out);

// Distance maps (generators/distance): the source is an index map (x, y, z, n) or a float32 map
// (x, y, z, c, n); voxel_weight (x, y, z, n) multiplies DPCE's collapsed weights; distance
// (x, y, z, k, n), flags (k, n), invalid (n).
using DistanceFn = int (*)(UC, Buf source, int num_classes, int first_class, int has_ignore, int ignore_index,
                           float spacing_x, float spacing_y, float spacing_z, int kind, int zero_degenerate,
                           Buf voxel_weight, Buf distance, Buf flags, Buf invalid);

// Boundary-based losses (generators/distance/boundary_loss_generator.cpp).
using BoundaryLossFn = int (*)(UC, Buf logits, Buf labels, int has_ignore, int ignore_index, Buf loss_mask,
                               int first_class, Buf map_a, Buf map_b, int formula, float alpha, Buf coef,
                               Buf region_coef, Buf rows, Buf grad);

struct Kernel {
    const char *name;
    void *fn;
    template <typename Fn>
    Fn as() const { return reinterpret_cast<Fn>(fn); }
};

// The kernel for (stage, activation, target kind), for the CPU or a GPU API; fails with
// UNSUPPORTED if none was built. The value stores write a device call's float32 / float64 value.
using ValueStoreFn = int (*)(UC, Buf total, Buf group_loss, int first, int per_group, Buf value);
// A device call's pointwise reductions (generators/pointwise/pointwise_reduce_generator.cpp).
using PointwiseNormFn = int (*)(UC, Buf label_rows, Buf class_rows, Buf alpha_pos, int norm_mode, int per_class,
                                int inverse, int labels_checked, Buf norm, Buf norm_scale, Buf weights);
using PointwiseTotalFn = int (*)(UC, Buf rows, Buf norm, Buf total);
// A device call's boundary-loss reductions (generators/distance/boundary_reduce_generator.cpp).
using BoundaryCoefFn = int (*)(UC, Buf label_rows, int num_maps, int batch, double scale, int labels_checked, Buf coef,
                               Buf group_voxels);
// TopK's device select (generators/pointwise/topk_select_generator.cpp).
using TopkHistFn = int (*)(UC, Buf keys, Buf state, int level, Buf hist);
using TopkCutFn = int (*)(UC, Buf hist, Buf state_in, int level, int threshold, double k_percent, int voxels, Buf state);
using TopkTieFn = int (*)(UC, Buf keys, Buf state_in, Buf state);
using TopkMarkFn = int (*)(UC, Buf keys, Buf state, Buf label_norm, int mean, Buf marked, Buf norm, Buf norm_scale);
using TopkPartInverseFn = int (*)(UC, Buf stats, Buf weights);
using TopkPartWeightsFn = int (*)(UC, Buf alpha_pos, Buf alpha_neg, Buf norm_scale, Buf pos, Buf neg);
using TopkPartTotalFn = int (*)(UC, Buf keys, Buf state, Buf norm, double lambda, Buf base, Buf total);
using BoundaryTotalFn = int (*)(UC, Buf rows, Buf group_voxels, int batch, int mean, double lambda, Buf base,
                                Buf groups, Buf total);
// num_classes: a CPU row built for exactly that many classes (cmake/kernels.cmake, CLASSES) is
// preferred; 0 (or a count without such a row) finds the row for any count.
Kernel find_kernel(Stage stage, Act act, TargetKind kind, GpuApi api = GpuApi::none, int64_t num_classes = 0);

// For tools/tune only (its driver, tools/tuner/time_candidate.cpp): from now on find_kernel
// returns `fn` where it would return the CPU kernel `name`: a candidate schedule of the same
// generator row, so the same signature. `fn` null restores the built-in kernel. Not part of the
// C ABI and not thread-safe: call it before any loss call. False if no CPU kernel has `name`.
// Once a row is named, rows built for one class count that were never named are not used (a
// tuner run times the row it names, with its built-in and its candidate schedule alike).
bool replace_cpu_kernel(const char *name, void *fn);

}  // namespace segloss::rt
