// SPDX-License-Identifier: Apache-2.0
// Pointwise family: an optional label pre-pass (validates index labels and sums the weighted
// count that normalises a mean, so nothing is written for bad labels), then one fused pass
// that writes the gradient (and the per-voxel map for reduction=none) and per-line partial sums.
#include <cmath>
#include <limits>

#include "../../generators/common/abi.h"
#include "../src/failure.h"
#include "../src/registry.h"
#include "../src/value.h"
#include "families.h"

namespace segloss::rt {
namespace {

// A dense (slot, y, z, n) buffer for per-line partial sums, lines shaped like the logits'.
HalideView rows_view(std::vector<float> &rows, int slots, const Problem &pb) {
    HalideView lv = pb.logits_view();
    const halide_dimension_t *d = lv.get()->dim;
    const int Y = d[1].extent, Z = d[2].extent, N = d[4].extent;
    rows.assign(static_cast<size_t>(slots) * Y * Z * N, 0.0f);
    return HalideView::dense(rows.data(), {slots, Y, Z, N});
}

struct Normaliser {
    double weighted = 0;  // sum of w_{y_v} over counted voxels
    double counted = 0;   // counted voxels
};

Normaliser label_pass(Call &call, const Problem &pb) {
    Kernel k = find_kernel(Stage::label_stats, pb.act, pb.kind);
    std::vector<float> rows;
    HalideView out = rows_view(rows, abi::kNumLabelSlots, pb);
    HalideView labels = pb.target_view();
    HalideView weight = HalideView::dense(const_cast<float *>(pb.weight.data()), {int(pb.C)});
    call.run(k.name, k.as<LabelStatsFn>(), labels.get(), weight.get(), pb.has_ignore, pb.ignore_index, out.get());
    std::vector<double> s = sum_lines(rows, abi::kNumLabelSlots);
    if (s[abi::kInvalid] > 0) {
        fail(SEGLOSS_STATUS_INVALID_LABEL, static_cast<int64_t>(s[abi::kInvalid]),
             " target labels are outside [0, ", pb.C, ")", pb.has_ignore ? " and are not ignore_index" : "");
    }
    return {s[abi::kWeightSum], s[abi::kCounted]};
}

}  // namespace

void run_pointwise(Call &call, const Problem &pb, const DLTensor *value_dl, const DLTensor *grad_dl,
                   float grad_scale) {
    const segloss_loss_params_t &p = *pb.params;
    const bool none = p.reduction == SEGLOSS_REDUCTION_NONE;
    std::vector<int64_t> map_shape{pb.N};
    for (int i = 0; i < pb.spatial_rank; i++) map_shape.push_back(pb.logits.shape[2 + i]);
    Tensor value = read_value(value_dl, p.reduction, map_shape, {&pb.logits, &pb.target});
    if (none && !is_dtype(value, kDLFloat, 32)) fail(SEGLOSS_STATUS_UNSUPPORTED, "the per-voxel value map must be float32");
    Tensor grad;
    if (grad_dl) {
        grad = check_grad(pb, grad_dl);
        require_disjoint(grad, value);
    }

    // Normaliser of the mean (LOSSES.md `ce`): the weighted count of counted voxels for index
    // maps; every voxel for dense maps (PyTorch's probability targets); every (voxel, class)
    // element for the sigmoid (binary CE per channel).
    Normaliser nz{static_cast<double>(pb.voxels), static_cast<double>(pb.voxels)};
    if (pb.kind != TargetKind::f32) nz = label_pass(call, pb);
    double norm = 1;
    if (p.reduction == SEGLOSS_REDUCTION_MEAN) {
        norm = pb.act == Act::sigmoid ? nz.counted * pb.C : nz.weighted;
    }
    // A mean over nothing (every voxel ignored) is 0 with a zero gradient, never NaN.
    const float scale = norm > 0 ? static_cast<float>(grad_scale / norm) : 0.0f;

    HalideView logits = pb.logits_view(), target = pb.target_view();
    HalideView weight = HalideView::dense(const_cast<float *>(pb.weight.data()), {int(pb.C)});
    const int hi = pb.has_ignore, ii = pb.ignore_index;
    std::vector<float> rows;
    HalideView out_rows = rows_view(rows, abi::kNumPointwiseSlots, pb);
    if (grad_dl) {
        // One pass: gradient and line sums.
        Kernel k = find_kernel(Stage::pointwise_grad, pb.act, pb.kind);
        HalideView grad_v(grad, pb.logits_axes());
        call.run(k.name, k.as<PointwiseGradFn>(), logits.get(), target.get(), hi, ii, weight.get(), scale,
                 out_rows.get(), grad_v.get());
    } else if (!none) {
        Kernel k = find_kernel(Stage::pointwise_value, pb.act, pb.kind);
        call.run(k.name, k.as<PointwiseValueFn>(), logits.get(), target.get(), hi, ii, weight.get(), scale,
                 out_rows.get());
    }
    if (none) {
        // The per-voxel map is its own pass (a second read of the inputs when the gradient is
        // also wanted); non-finite voxels are NaN in it.
        Kernel k = find_kernel(Stage::pointwise_map, pb.act, pb.kind);
        HalideView map_v(value, pb.voxel_axes(0));
        call.run(k.name, k.as<PointwiseMapFn>(), logits.get(), target.get(), hi, ii, weight.get(), scale, map_v.get());
        if (p.check_finite) {
            for (int64_t i = 0; i < value.numel; i++) {
                if (!std::isfinite(reinterpret_cast<const float *>(value.data)[element_offset(value, i)])) {
                    fail(SEGLOSS_STATUS_NONFINITE, "the loss is not finite at voxel ", i);
                }
            }
        }
        return;
    }

    std::vector<double> s = sum_lines(rows, abi::kNumPointwiseSlots);
    const bool nonfinite = s[abi::kNonfinite] > 0 || !std::isfinite(s[abi::kLossSum]);
    write_scalar(value, s[abi::kNonfinite] > 0 ? std::numeric_limits<double>::quiet_NaN()
                                               : (norm > 0 ? s[abi::kLossSum] / norm : 0.0));
    if (p.check_finite && nonfinite) {
        fail(SEGLOSS_STATUS_NONFINITE, "the loss is not finite (", static_cast<int64_t>(s[abi::kNonfinite]),
             " voxels have a non-finite input)");
    }
}

}  // namespace segloss::rt
