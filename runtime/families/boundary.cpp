// SPDX-License-Identifier: Apache-2.0
// Boundary-based losses (boundary, hausdorff_dt): the target pre-pass (labels, mask, counted
// voxels per image), the distance maps of the target (or the caller's precomputed one) and, for
// hausdorff_dt, of the prediction S = {p > 0.5}, then one pass that writes the gradient and the
// per-class line sums. Each group (n, class), or (class) with batch, is (1/V) sum_v term over
// its V counted voxels; mean and sum reduce the groups, none returns them.
// dice_boundary and dice_hausdorff run their Dice part's pass 1 and epilogue first; the
// boundary pass then writes both parts' gradient (the Dice part's from its coefficients).
// A device call runs every step on the device, the counts and the reductions in small kernels
// (boundary_coef, boundary_total, which adds a compound's region part), and does not wait.
#include <cmath>
#include <limits>
#include <memory>

#include "../../generators/common/abi.h"
#include "../src/failure.h"
#include "../src/losses.h"
#include "../src/precision.h"
#include "../src/registry.h"
#include "../src/value.h"
#include "distance.h"
#include "families.h"
#include "line_rows.h"
#include "target_sums.h"

namespace segloss::rt {
namespace {

// The caller's precomputed target map: float32 N,K,spatial on the logits' device, overlapping
// no output.
HalideView precomputed_map(const Problem &pb, const DLTensor *dl, int64_t K) {
    Tensor t = read_tensor(dl, "target_distance", true);
    require_same_device(t, pb.logits);
    if (!is_dtype(t, kDLFloat, 32)) fail(SEGLOSS_STATUS_UNSUPPORTED, "target_distance must be float32, got ", dtype_name(t.dtype));
    bool ok = t.ndim == pb.logits.ndim && t.shape[0] == pb.N && t.shape[1] == K;
    for (int i = 0; ok && i < pb.spatial_rank; i++) ok = t.shape[2 + i] == pb.logits.shape[2 + i];
    if (!ok) fail(SEGLOSS_STATUS_INVALID_SHAPE, "target_distance must be N,C',spatial with C' = ", K, " maps");
    return HalideView(t, pb.logits_axes());
}

// Float32 scratch shaped N,channels,spatial like the logits (on their device), as a view.
HalideView logits_like_scratch(Call &call, const Problem &pb, int64_t channels, Scratch which) {
    Tensor t = pb.logits;
    t.what = "boundary scratch";
    t.dtype = {kDLFloat, 32, 1};
    t.shape[1] = channels;
    t.numel = channels * pb.voxels;
    return HalideView(float_scratch(call, t, which), pb.logits_axes());
}

// A device call's counted voxels and gradient coefficients, on the device (boundary_coef): the
// target pre-pass's line sums stay there; a bad label or mask value makes them NaN.
struct DeviceCounts {
    LabelRows labels;
    std::vector<float> coef;
    std::vector<double> group_voxels;
    HalideView coef_v, voxels_v;
    DeviceCounts(Call &call, const Problem &pb, int64_t K, int64_t groups_n, bool batch, double scale)
        : labels(call, pb, false), coef(static_cast<size_t>(K * pb.N)), group_voxels(static_cast<size_t>(groups_n)) {
        coef_v = HalideView::dense(coef.data(), {int(K), int(pb.N)});
        voxels_v = HalideView::dense(group_voxels.data(), {int(groups_n)});
        const int labels_checked = pb.kind != TargetKind::f32 ? 1 : 0;
        Kernel k = find_kernel(Stage::boundary_coef, Act::identity, TargetKind::f32, call.api());
        call.run(k.name, k.as<BoundaryCoefFn>(), labels.rows(), int(K), batch ? 1 : 0, scale, labels_checked,
                 coef_v.get(), voxels_v.get());
    }
};

// A compound's boundary part: its params, with the compound's spacing and precomputed map when
// the compound sets them.
segloss_loss_params_t boundary_part(const segloss_loss_params_t &compound) {
    segloss_loss_params_t part =
        part_params(compound.pointwise_part, find_loss(compound.loss)->pointwise_part, compound, "pointwise_part");
    if (compound.spacing) {
        part.spacing = compound.spacing;
        part.num_spacing = compound.num_spacing;
    }
    if (compound.target_distance) part.target_distance = compound.target_distance;
    return part;
}

}  // namespace

void run_boundary(Call &call, const Problem &pb, const DLTensor *value_dl, const DLTensor *grad_dl, float grad_scale) {
    const segloss_loss_params_t &given = *pb.params;
    const bool compound = has_parts(*find_loss(given.loss));
    const segloss_loss_params_t boundary = compound ? boundary_part(given) : given;
    const segloss_loss_params_t &p = boundary;
    const bool hausdorff = p.loss == SEGLOSS_LOSS_HAUSDORFF_DT;
    const int first = p.include_background ? 0 : 1;
    const int64_t K = pb.C - first;
    if (K < 1) fail(SEGLOSS_STATUS_INVALID_ARGUMENT, "include_background=0 leaves no class of ", pb.C);
    const int64_t groups_n = p.batch ? 1 : pb.N;
    Tensor value = read_value(value_dl, p.reduction, {groups_n, K}, inputs_of(pb));
    Tensor grad;
    if (grad_dl) {
        grad = check_grad(pb, grad_dl);
        require_disjoint(grad, value);
    }
    const std::array<float, 3> spacing = read_spacing(p.spacing, p.num_spacing, pb.spatial_rank);
    const GpuApi api = call.api();

    // Counted voxels per image (and the labels' and mask's validation) before anything is written:
    // a compound's Dice pass 1 has them (with its coefficients, zeros alone, and its value),
    // otherwise the target pre-pass.
    std::vector<float> region_coef(static_cast<size_t>(abi::kNumRegionCoefs * pb.C * pb.N), 0.0f);
    RegionPart region;
    const float lambda = compound ? given.lambda_pointwise : 1.0f;
    std::vector<double> counted(static_cast<size_t>(pb.N), static_cast<double>(pb.voxels / pb.N));
    if (compound) {
        RegionPlan plan = make_region_plan(part_params(given.region_part, SEGLOSS_LOSS_DICE, given, "region_part"),
                                           pb.C, pb.act, pb.kind);
        plan.options[abi::kOptLambdaRegion] = given.lambda_region;
        region = region_part(call, pb, plan, region_coef, grad_scale);
        if (api == GpuApi::none) counted = region.per_image;
    } else if (api == GpuApi::none && (pb.kind != TargetKind::f32 || p.check_inputs || pb.kernel_mask.ndim)) {
        counted = target_sums(call, pb, false).per_image;
    } else if (p.check_inputs) {
        (void)target_sums(call, pb, false);  // a device call's statuses: reads the counts back (waits)
    }

    // Distance maps, zero for empty and full masks.
    const int map_kind = !hausdorff ? abi::kDistanceSigned
                         : p.hd_variant == SEGLOSS_HD_ONE_SIDED ? abi::kDistanceEdt
                                                                : abi::kDistanceBoundary;
    DistanceRequest r;
    r.num_classes = static_cast<int>(pb.C);
    r.first_class = first;
    r.has_ignore = pb.has_ignore;
    r.ignore_index = pb.ignore_index;
    r.spatial_rank = pb.spatial_rank;
    r.spacing = spacing;
    r.map_kind = map_kind;
    r.zero_degenerate = true;
    r.check_labels = false;  // the target pre-pass checked them (a device call: NaN counts)
    HalideView target_map;
    if (p.target_distance) {
        target_map = precomputed_map(pb, p.target_distance, K);
    } else {
        target_map = logits_like_scratch(call, pb, K, Scratch::target_distance);
        r.source = pb.kernel_target;
        r.kind = pb.kind;
        r.act = Act::identity;
        distance_maps(call, r, target_map.get());
    }
    HalideView prediction_map;
    if (hausdorff) {
        prediction_map = logits_like_scratch(call, pb, K, Scratch::prediction_distance);
        r.source = pb.kernel_logits;
        r.kind = TargetKind::f32;
        r.act = pb.act;
        distance_maps(call, r, prediction_map.get());
    }

    // dL/d(group sum): the group's 1/V, the reduction's 1/groups, the upstream gradient.
    const int64_t G = groups_n * K;
    std::vector<double> group_voxels(static_cast<size_t>(groups_n), 0.0);
    for (int64_t n = 0; n < pb.N; n++) group_voxels[p.batch ? 0 : n] += counted[n];
    const double reduce = (p.reduction == SEGLOSS_REDUCTION_MEAN ? 1.0 / double(G) : 1.0) * lambda;
    std::vector<float> coef(static_cast<size_t>(K * pb.N));
    for (int64_t n = 0; n < pb.N; n++) {
        const double V = group_voxels[p.batch ? 0 : n];
        for (int64_t k = 0; k < K; k++) coef[n * K + k] = V > 0 ? static_cast<float>(grad_scale * reduce / V) : 0.0f;
    }
    std::unique_ptr<DeviceCounts> device_counts;
    if (api != GpuApi::none) {
        device_counts = std::make_unique<DeviceCounts>(call, pb, K, groups_n, p.batch != 0, grad_scale * reduce);
    }

    Kernel kern = find_kernel(Stage::boundary_loss, pb.act, pb.kind, api);
    HalideView logits = pb.logits_view(), target = pb.target_view(), mask = pb.mask_view();
    HalideView host_coef = HalideView::per_image(coef.data(), {int(K), int(pb.N)});
    halide_buffer_t *coef_v = device_counts ? device_counts->coef_v.get() : host_coef.get();
    host_coef.get()->set_host_dirty();
    HalideView region_v = HalideView::per_image(region_coef.data(), {abi::kNumRegionCoefs, int(pb.C), int(pb.N)});
    region_v.get()->set_host_dirty();
    // A device call's compound: the region part's coefficients where its epilogue left them.
    halide_buffer_t *region_b = compound && api != GpuApi::none ? region.coef() : region_v.get();
    std::vector<float> rows;
    HalideView rows_v = line_rows_view(rows, int(K) + 1, pb);
    // Without a gradient the pass still runs whole (its line sums are the value) into scratch.
    std::unique_ptr<GradOut> grad_out;
    HalideView scratch_grad;
    if (grad_dl) {
        grad_out = std::make_unique<GradOut>(call, pb, grad);
    } else {
        scratch_grad = logits_like_scratch(call, pb, pb.C, Scratch::grad);
    }
    const int formula = hausdorff ? abi::kFormulaHausdorff : abi::kFormulaBoundary;
    halide_buffer_t *map_b = hausdorff ? prediction_map.get() : target_map.get();
    call.run(kern.name, kern.as<BoundaryLossFn>(), logits.get(), target.get(), pb.has_ignore, pb.ignore_index,
             mask.get(), first, target_map.get(), map_b, formula, p.alpha, coef_v, region_b, rows_v.get(),
             grad_out ? grad_out->get() : scratch_grad.get());
    if (grad_out) grad_out->finish(call);

    if (device_counts) {
        // The groups and their reduction on the device, into the caller's value.
        std::vector<double> groups(static_cast<size_t>(G)), total(1), zero(1, 0.0);
        HalideView groups_v = HalideView::dense(groups.data(), {int(K), int(groups_n)});
        HalideView total_v = HalideView::dense(total.data(), {1}), zero_v = HalideView::dense(zero.data(), {1});
        zero_v.get()->set_host_dirty();
        Kernel k = find_kernel(Stage::boundary_total, Act::identity, TargetKind::f32, api);
        call.run(k.name, k.as<BoundaryTotalFn>(), rows_v.get(), device_counts->voxels_v.get(), p.batch ? 1 : 0,
                 p.reduction == SEGLOSS_REDUCTION_MEAN ? 1 : 0, double(lambda), compound ? region.total() : zero_v.get(),
                 groups_v.get(), total_v.get());
        const bool none = p.reduction == SEGLOSS_REDUCTION_NONE;
        store_on_device(call, value, total_v.get(), none ? groups_v.get() : nullptr, 0);
        if (p.check_finite) {
            call.to_host(groups_v.get());
            call.to_host(total_v.get());
            bool finite = std::isfinite(total[0]);
            for (double g : groups) finite = finite && std::isfinite(g);
            if (!finite) fail(SEGLOSS_STATUS_NONFINITE, "the loss is not finite (non-finite inputs)");
        }
        return;
    }

    // Group values from the line sums.
    const std::vector<double> images = sum_lines_per_image(rows, int(K) + 1, pb.N);
    std::vector<double> sums(static_cast<size_t>(G), 0.0);
    double nonfinite = 0;
    for (int64_t n = 0; n < pb.N; n++) {
        for (int64_t k = 0; k < K; k++) sums[(p.batch ? 0 : n) * K + k] += images[n * (K + 1) + k];
        nonfinite += images[n * (K + 1) + K];
    }
    std::vector<double> group(static_cast<size_t>(G));
    double total = 0;
    for (int64_t g = 0; g < G; g++) {
        const double V = group_voxels[g / K];
        group[g] = nonfinite > 0 ? std::numeric_limits<double>::quiet_NaN() : V > 0 ? sums[g] / V : 0.0;
        total += group[g];
    }
    if (p.reduction == SEGLOSS_REDUCTION_NONE) {
        write_elements(value, group);
    } else {
        const double part = p.reduction == SEGLOSS_REDUCTION_MEAN ? total / double(G) : total;
        write_scalar(value, compound ? region.value + lambda * part : part);
    }
    if (p.check_finite && (nonfinite > 0 || !std::isfinite(total))) {
        fail(SEGLOSS_STATUS_NONFINITE, "the loss is not finite (", static_cast<int64_t>(nonfinite),
             " voxels have a non-finite logit)");
    }
}

}  // namespace segloss::rt
