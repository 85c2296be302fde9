// SPDX-License-Identifier: Apache-2.0
// Pointwise family (ce, wce, focal, topk: one formula): a target pre-pass (validates the
// targets and the mask and sums them per class, for the mean's normaliser and
// inverse-frequency weights, so nothing is written for bad labels), TopK's key pass and cut,
// then one fused pass that writes the gradient (and the per-voxel map for reduction=none) and
// per-line partial sums.
#include <algorithm>
#include <cmath>
#include <limits>
#include <memory>

#include "../../generators/common/abi.h"
#include "../src/failure.h"
#include "../src/precision.h"
#include "../src/registry.h"
#include "../src/value.h"
#include "distance.h"
#include "families.h"
#include "line_rows.h"
#include "pointwise_args.h"
#include "pointwise_norm.h"
#include "target_sums.h"
#include "topk.h"

namespace segloss::rt {

void run_pointwise(Call &call, const Problem &pb, const DLTensor *value_dl, const DLTensor *grad_dl,
                   float grad_scale) {
    const segloss_loss_params_t &p = *pb.params;
    const bool none = p.reduction == SEGLOSS_REDUCTION_NONE;
    const bool topk = p.loss == SEGLOSS_LOSS_TOPK;
    std::vector<int64_t> map_shape{pb.N};
    for (int i = 0; i < pb.spatial_rank; i++) map_shape.push_back(pb.logits.shape[2 + i]);
    Tensor value = read_value(value_dl, p.reduction, map_shape, inputs_of(pb));
    if (none && !is_dtype(value, kDLFloat, 32)) fail(SEGLOSS_STATUS_UNSUPPORTED, "the per-voxel value map must be float32");
    Tensor grad;
    if (grad_dl) {
        grad = check_grad(pb, grad_dl);
        require_disjoint(grad, value);
    }

    // The target pre-pass validates index labels (always), masks and dense values
    // (check_inputs), and sums the targets per class. Dense maps skip it unless something needs
    // those sums or a mask needs checking.
    const bool inverse = p.class_weights == SEGLOSS_CLASS_WEIGHTS_INVERSE_FREQUENCY;
    PointwiseArgs args = pointwise_args(p, pb.C, pb.act);
    // The per-class sums serve inverse-frequency weights and the weighted mean's normaliser
    // sum_c w_c M_c; with equal class weights that normaliser is w M (M: the counted voxels).
    const int mode = normaliser_mode(p, pb);
    const bool uniform = std::all_of(args.alpha_pos.begin(), args.alpha_pos.end(),
                                     [&](float w) { return w == args.alpha_pos[0]; });
    const bool per_class = inverse || (!topk && mode == abi::kPwNormWeighted && !uniform);
    const bool prepass = pb.kind != TargetKind::f32 || inverse || p.check_inputs || pb.kernel_mask.ndim;
    // A device call that does not check its inputs leaves the sums, the normaliser and the
    // weights on the device (pointwise_norm), where a bad label makes the loss NaN; everything
    // else derives them on the host. (reduction=none always checks: a bad label would only
    // leave a 0 in its per-voxel map.)
    std::unique_ptr<DeviceNormaliser> on_device;
    TargetSums sums;
    sums.counted = static_cast<double>(pb.voxels);
    // TopK on a device selects its cut there (with inverse-frequency weights, the key pass takes
    // the device pre-pass's), unless the call waits anyway (check_inputs, reduction none); then
    // its keys are copied back and its pre-pass reads back too.
    const bool device_select = topk && call.api() != GpuApi::none && !p.check_inputs && !none;
    if (prepass && call.api() != GpuApi::none && !p.check_inputs && !none && (!topk || device_select)) {
        on_device = std::make_unique<DeviceNormaliser>(call, pb, args, mode, per_class);
    } else if (prepass) {
        sums = target_sums(call, pb, per_class);
    }
    if (args.inverse_frequency && !on_device) {
        args.alpha_pos = args.alpha_neg = inverse_frequency_weights(sums.per_class);
    }

    // TopK's key pass and cut; every other loss keeps every voxel.
    TopkSelection topk_keys;
    SelectionArgs sel = select_all(pb);
    double zero = 0;
    HalideView zero_v = HalideView::dense(&zero, {1});
    zero_v.get()->set_host_dirty();
    if (device_select) {
        topk_keys = select_topk_on_device(call, pb, p, args, on_device ? on_device->norm() : zero_v.get(),
                                          on_device && args.inverse_frequency ? on_device->weights() : nullptr);
        sel = topk_keys.args(pb);
    } else if (topk) {
        topk_keys = select_topk(call, pb, p, args);
        sel = topk_keys.args(pb);
    }

    // Normaliser of the mean (pointwise_norm.h); TopK's is the selected voxels (nnU-Net).
    const double norm = on_device || device_select ? 0.0  // on the device
                        : topk && mode != -1 ? static_cast<double>(topk_keys.cut.selected)
                                             : host_normaliser(mode, pb, args, sums, per_class);
    // A mean over nothing (every voxel ignored) is 0 with a zero gradient, never NaN. On the
    // device the kernel multiplies grad_scale by pointwise_norm's 1 / normaliser.
    const float scale = on_device || device_select ? grad_scale
                        : norm > 0                 ? static_cast<float>(grad_scale / norm)
                                                   : 0.0f;
    float one = 1.0f;
    double host_norm = norm;
    HalideView ones = HalideView::dense(&one, {1}), norm_v = HalideView::dense(&host_norm, {1});
    ones.get()->set_host_dirty();
    norm_v.get()->set_host_dirty();
    halide_buffer_t *norm_scale = device_select ? topk_keys.norm_scale() : on_device ? on_device->scale() : ones.get();

    // DPCE is CE whose voxels weigh 1 + D_v: the weights take the mask's place in the pass
    // (the normaliser above stays CE's).
    Problem weighted;
    if (p.loss == SEGLOSS_LOSS_DPCE) {
        weighted = pb;
        weighted.kernel_mask = dpce_weights(call, pb);
    }
    const Problem &run = p.loss == SEGLOSS_LOSS_DPCE ? weighted : pb;
    HalideView logits = pb.logits_view(), target = pb.target_view(), mask = run.mask_view();
    HalideView ap = HalideView::dense(args.alpha_pos.data(), {int(pb.C)});
    HalideView an = HalideView::dense(args.alpha_neg.data(), {int(pb.C)});
    ap.get()->set_host_dirty();
    an.get()->set_host_dirty();
    halide_buffer_t *alpha_pos = ap.get(), *alpha_neg = an.get();
    if (on_device && args.inverse_frequency) alpha_pos = alpha_neg = on_device->weights();
    const int hi = pb.has_ignore, ii = pb.ignore_index;
    const GpuApi api = call.api();
    std::vector<float> rows;
    HalideView out_rows = line_rows_view(rows, abi::kNumPointwiseSlots, pb);
    if (grad_dl) {
        // One pass: gradient and line sums.
        Kernel k = find_kernel(Stage::pointwise_grad, pb.act, pb.kind, api, pb.C);
        GradOut grad_v(call, pb, grad);
        call.run(k.name, k.as<PointwiseGradFn>(), logits.get(), target.get(), hi, ii, mask.get(), alpha_pos, alpha_neg,
                 args.gamma, args.log_power, args.smoothing, scale, sel.key.get(), sel.cut_value, sel.cut_index,
                 norm_scale, out_rows.get(), grad_v.get());
        grad_v.finish(call);
    } else if (!none && !topk) {
        Kernel k = find_kernel(Stage::pointwise_value, pb.act, pb.kind, api);
        call.run(k.name, k.as<PointwiseValueFn>(), logits.get(), target.get(), hi, ii, mask.get(), alpha_pos,
                 alpha_neg, args.gamma, args.log_power, args.smoothing, scale, sel.key.get(), sel.cut_value,
                 sel.cut_index, out_rows.get());
    }
    if (none) {
        // The per-voxel map is its own pass (a second read of the inputs when the gradient is
        // also wanted); non-finite voxels are NaN in it, voxels not counted or not selected 0.
        Kernel k = find_kernel(Stage::pointwise_map, pb.act, pb.kind, api);
        HalideView map_v(value, pb.voxel_axes(0));
        call.run(k.name, k.as<PointwiseMapFn>(), logits.get(), target.get(), hi, ii, mask.get(), alpha_pos, alpha_neg,
                 args.gamma, args.log_power, args.smoothing, scale, sel.key.get(), sel.cut_value, sel.cut_index, -1.0f,
                 0.0f, map_v.get());
        if (p.check_finite) {
            const std::vector<float> map = read_back(call, value, map_v.get());
            for (size_t i = 0; i < map.size(); i++) {
                if (!std::isfinite(map[i])) fail(SEGLOSS_STATUS_NONFINITE, "the loss is not finite at voxel ", i);
            }
        }
        return;
    }

    if (api != GpuApi::none && (!topk || device_select)) {
        // The loss from the line sums, on the device, into the caller's value.
        std::vector<double> total(1);
        HalideView total_v = HalideView::dense(total.data(), {1});
        Kernel k = find_kernel(Stage::pointwise_total, Act::identity, TargetKind::f32, api);
        halide_buffer_t *device_norm = device_select ? topk_keys.norm() : on_device ? on_device->norm() : norm_v.get();
        call.run(k.name, k.as<PointwiseTotalFn>(), out_rows.get(), device_norm, total_v.get());
        store_on_device(call, value, total_v.get(), nullptr, 0);
        if (p.check_finite) {
            call.to_host(total_v.get());
            if (!std::isfinite(total[0])) fail(SEGLOSS_STATUS_NONFINITE, "the loss is not finite (non-finite inputs)");
        }
        return;
    }

    // TopK's value is the sum of the selected keys (the same voxels as its gradient's).
    // (A device call's rows stay on the device: topk's value comes from its cut.)
    std::vector<double> s = topk ? std::vector<double>(abi::kNumPointwiseSlots, 0.0)
                                 : sum_lines(rows, abi::kNumPointwiseSlots);
    const double loss_sum = topk ? topk_keys.cut.sum : s[abi::kLossSum];
    const double nonfinite = topk ? static_cast<double>(topk_keys.cut.nonfinite) : s[abi::kNonfinite];
    double total = nonfinite > 0 ? std::numeric_limits<double>::quiet_NaN() : (norm > 0 ? loss_sum / norm : 0.0);
    if (value.on_device()) {
        HalideView total_v = HalideView::dense(&total, {1});
        total_v.get()->set_host_dirty();
        store_on_device(call, value, total_v.get(), nullptr, 0);
    } else {
        write_scalar(value, total);
    }
    if (p.check_finite && (nonfinite > 0 || !std::isfinite(loss_sum))) {
        fail(SEGLOSS_STATUS_NONFINITE, "the loss is not finite (", static_cast<int64_t>(nonfinite),
             " voxels have a non-finite input)");
    }
}

}  // namespace segloss::rt
