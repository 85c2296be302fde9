// SPDX-License-Identifier: Apache-2.0
// Region family: pass 1 (group sums), the epilogue (loss and per-group coefficients), pass 2
// (gradient). Bad labels are found in pass 1, before the gradient is written.
#include <algorithm>
#include <climits>
#include <cmath>
#include <memory>

#include "../../generators/common/abi.h"
#include "../src/failure.h"
#include "../src/precision.h"
#include "../src/losses.h"
#include "../src/registry.h"
#include "../src/value.h"
#include "families.h"
#include "region_plan.h"
#include "target_sums.h"
#include "topk.h"

namespace segloss::rt {
// The epilogue's outputs: the loss of every group (c, n), the reduced loss, the coefficients
// (slot, c, n), over host memory (on a device call, in the views' device copies until
// Call::to_host). coef: the caller's memory, or the struct's own.
struct EpilogueOut {
    EpilogueOut(int64_t N, int64_t C, float *coef = nullptr)
        : group_loss(static_cast<size_t>(N * C), 0.0), own_coef(coef ? 0 : abi::kNumRegionCoefs * N * C) {
        group_loss_v = HalideView::per_image(group_loss.data(), {int(C), int(N)});
        total_v = HalideView::dense(&total, {1});
        coef_v = HalideView::per_image(coef ? coef : own_coef.data(), {abi::kNumRegionCoefs, int(C), int(N)});
    }
    EpilogueOut(EpilogueOut &&) = delete;  // the views point into the struct
    std::vector<double> group_loss;
    double total = 0;
    std::vector<float> own_coef;
    HalideView group_loss_v, total_v, coef_v;
};

namespace {

static_assert(SEGLOSS_REGION_NUM_STATS == abi::kNumRegionStats, "segloss.h and abi.h disagree");
static_assert(SEGLOSS_REGION_NUM_COEFS == abi::kNumRegionCoefs, "segloss.h and abi.h disagree");
static_assert(int(SEGLOSS_REGION_STAT_SS_NEG) == abi::kStatSsNeg && int(SEGLOSS_REGION_STAT_COUNT) == abi::kStatCount &&
                  int(SEGLOSS_REGION_STAT_NONFINITE) == abi::kStatNonfinite,
              "segloss.h and abi.h disagree");

bool is_generalized_dice(const segloss_loss_params_t &p) {
    return find_loss(p.loss)->region_base == abi::kBaseGeneralizedDice;
}

// Shape of the value for reduction=none: N,C' (or 1,C' with batch); N,1 for the generalized Dice.
std::vector<int64_t> none_shape(const segloss_loss_params_t &p, int64_t N, int64_t C) {
    if (is_generalized_dice(p)) return {p.batch ? 1 : N, 1};
    return {p.batch ? 1 : N, p.include_background ? C : C - 1};
}

// Labels and mask values are counted per image (in class 0's slots); checked before any output.
void check_invalid(const std::vector<double> &stats, int64_t N, int64_t C) {
    double invalid = 0, bad_mask = 0;
    for (int64_t n = 0; n < N; n++) {
        invalid += stats[(n * C) * abi::kNumRegionStats + abi::kStatInvalid];
        bad_mask += stats[(n * C) * abi::kNumRegionStats + abi::kStatBadMask];
    }
    check_mask(bad_mask);
    if (invalid > 0) {
        fail(SEGLOSS_STATUS_INVALID_LABEL, static_cast<int64_t>(invalid), " target labels are outside [0, ", C,
             ") and are not ignore_index");
    }
}

// The group sums (slot, c, n) of N images of C classes over host memory (a device call's
// kernels keep them in the view's device copy until Call::to_host).
HalideView stats_view(double *stats, int64_t N, int64_t C) {
    return HalideView::per_image(stats, {abi::kNumRegionStats, int(C), int(N)});
}

// all_sums: every stat (the public segloss_region_stats), not only those the plan's epilogue reads.
void run_stats(Call &call, const Problem &pb, const RegionPlan &plan, HalideView &out, bool all_sums) {
    const int squares = all_sums || plan.squares ? 1 : 0;
    // Dense values are checked by the target pre-pass (index labels by the stats themselves).
    if (pb.kind == TargetKind::f32 && pb.params->check_inputs) (void)target_sums(call, pb, false);
    HalideView logits = pb.logits_view(), target = pb.target_view(), mask = pb.mask_view();
    // dice_topk's pointwise part comes from TopK's keys, not from class sums.
    if (plan.compound && !plan.topk) {
        const PointwiseArgs &a = plan.pointwise;
        Kernel k = find_kernel(Stage::compound_stats, pb.act, pb.kind, call.api());
        call.run(k.name, k.as<CompoundStatsFn>(), logits.get(), target.get(), pb.has_ignore, pb.ignore_index,
                 mask.get(), squares, a.gamma, a.log_power, a.smoothing, out.get());
    } else {
        Kernel k = find_kernel(Stage::region_stats, pb.act, pb.kind, call.api());
        call.run(k.name, k.as<RegionStatsFn>(), logits.get(), target.get(), pb.has_ignore, pb.ignore_index, mask.get(),
                 squares, out.get());
    }
}

// dice_topk's part on a device (no wait): its inverse-frequency weights (when asked), the class
// weights times 1 / K, which the epilogue takes in place of the plan's, and the epilogue's total
// before the part's value is added, in device memory behind host-backed views.
struct DeviceTopkPart {
    explicit DeviceTopkPart(int64_t C)
        : pos(static_cast<size_t>(C)), neg(static_cast<size_t>(C)), inverse(static_cast<size_t>(C)) {
        pos_v = HalideView::dense(pos.data(), {int(C)});
        neg_v = HalideView::dense(neg.data(), {int(C)});
        inverse_v = HalideView::dense(inverse.data(), {int(C)});
        zero_v = HalideView::dense(&zero, {1});
        zero_v.get()->set_host_dirty();
        region_total_v = HalideView::dense(&region_total, {1});
    }
    DeviceTopkPart(const DeviceTopkPart &) = delete;  // the views point into the struct
    DeviceTopkPart &operator=(const DeviceTopkPart &) = delete;
    std::vector<float> pos, neg, inverse;  // inverse: inverse-frequency weights, when asked
    double zero = 0, region_total = 0;
    HalideView pos_v, neg_v, inverse_v, zero_v, region_total_v;
};

void run_epilogue(Call &call, const RegionPlan &plan, halide_buffer_t *stats, EpilogueOut &o, float grad_scale,
                  DeviceTopkPart *topk = nullptr) {
    Kernel k = find_kernel(Stage::region_epilogue, Act::identity, TargetKind::f32, call.api());
    // Inputs from the host (the epilogue also reads the options there, to skip stages).
    auto vec = [](const std::vector<float> &v) {
        HalideView view = HalideView::dense(const_cast<float *>(v.data()), {static_cast<int>(v.size())});
        view.get()->set_host_dirty();
        return view;
    };
    HalideView w = vec(plan.weight), opt = vec(plan.options);
    HalideView ap = vec(plan.pointwise.alpha_pos), an = vec(plan.pointwise.alpha_neg);
    call.run(k.name, k.as<RegionEpilogueFn>(), stats, w.get(), opt.get(), topk ? topk->pos_v.get() : ap.get(),
             topk ? topk->neg_v.get() : an.get(), grad_scale, o.group_loss_v.get(),
             topk ? topk->region_total_v.get() : o.total_v.get(), o.coef_v.get());
}

void write_value(Call &call, const segloss_loss_params_t &p, const Tensor &value, EpilogueOut &o, int64_t N,
                 int64_t C) {
    if (value.on_device()) {
        const bool none = p.reduction == SEGLOSS_REDUCTION_NONE;
        store_on_device(call, value, o.total_v.get(), none ? o.group_loss_v.get() : nullptr,
                        p.include_background ? 0 : 1);
    } else if (p.reduction != SEGLOSS_REDUCTION_NONE) {
        write_scalar(value, o.total);
    } else {
        // The generalized Dice keeps an image's loss at its first included class.
        std::vector<double> v;
        const int64_t first = p.include_background ? 0 : 1;
        const int64_t last = is_generalized_dice(p) ? first + 1 : C;
        for (int64_t n = 0; n < (p.batch ? 1 : N); n++) {
            for (int64_t c = first; c < last; c++) v.push_back(o.group_loss[n * C + c]);
        }
        write_elements(value, v);
    }
    if (p.check_finite) {
        // A device call waits for its value here.
        call.to_host(o.total_v.get());
        call.to_host(o.group_loss_v.get());
        bool finite = std::isfinite(o.total);
        for (double g : o.group_loss) finite = finite && std::isfinite(g);
        if (!finite) fail(SEGLOSS_STATUS_NONFINITE, "the loss is not finite (non-finite inputs)");
    }
}

void run_grad(Call &call, const Problem &pb, const RegionPlan &plan, halide_buffer_t *coef, SelectionArgs &sel,
              const Tensor &grad) {
    HalideView logits = pb.logits_view(), target = pb.target_view(), mask = pb.mask_view();
    GradOut g(call, pb, grad);
    if (plan.compound) {
        const PointwiseArgs &a = plan.pointwise;
        Kernel k = find_kernel(Stage::compound_grad, pb.act, pb.kind, call.api(), pb.C);
        call.run(k.name, k.as<CompoundGradFn>(), logits.get(), target.get(), pb.has_ignore, pb.ignore_index, mask.get(),
                 coef, a.gamma, a.log_power, a.smoothing, sel.key.get(), sel.cut_value, sel.cut_index, g.get());
    } else {
        Kernel k = find_kernel(Stage::region_grad, pb.act, pb.kind, call.api(), pb.C);
        call.run(k.name, k.as<RegionGradFn>(), logits.get(), target.get(), pb.has_ignore, pb.ignore_index, mask.get(),
                 coef, g.get());
    }
    g.finish(call);
}

// The staged API serves the region losses; a compound's epilogue needs the target kind.
void require_region_only(const RegionPlan &plan) {
    if (plan.compound) {
        fail(SEGLOSS_STATUS_UNSUPPORTED, "compound losses run as one call (segloss_loss_compute); their stages are not exposed");
    }
}

// A caller's dense float tensor of the given C-order shape (N, C, slots), in host or device memory.
Tensor read_group_tensor(const DLTensor *dl, const char *what, int bits, int64_t N, int64_t C, int slots) {
    Tensor t = read_tensor(dl, what, true);
    if (!is_dtype(t, kDLFloat, bits)) fail(SEGLOSS_STATUS_UNSUPPORTED, what, " must be float", bits);
    if (t.ndim != 3 || (N > 0 && t.shape[0] != N) || (C > 0 && t.shape[1] != C) || t.shape[2] != slots) {
        fail(SEGLOSS_STATUS_INVALID_SHAPE, what, " must have shape [N, C, ", slots, "]");
    }
    if (t.strides[2] != 1 || t.strides[1] != slots || t.strides[0] != slots * t.shape[1]) {
        fail(SEGLOSS_STATUS_INVALID_SHAPE, what, " must be contiguous");
    }
    return t;
}

// The Halide view (slot, c, n) of a read_group_tensor.
HalideView group_view(const Tensor &t) { return HalideView(t, {2, 1, 0}); }

// dice_topk's part: its class weights (inverse frequency from pass 1's G), TopK's key pass and
// cut, the part's normaliser in the epilogue's options; returns the part's value.
double select_topk_part(Call &call, const Problem &pb, const std::vector<double> &stats, RegionPlan &plan,
                        TopkSelection &keys) {
    if (plan.pointwise.inverse_frequency) {
        std::vector<double> G(static_cast<size_t>(pb.C), 0.0);
        for (int64_t n = 0; n < pb.N; n++) {
            for (int64_t c = 0; c < pb.C; c++) G[c] += stats[(n * pb.C + c) * abi::kNumRegionStats + abi::kStatG];
        }
        plan.pointwise.alpha_pos = plan.pointwise.alpha_neg = inverse_frequency_weights(G);
        plan.options[abi::kOptPwClassWeights] = static_cast<float>(abi::kPwWeightsGiven);
    }
    keys = select_topk(call, pb, plan.topk_part, plan.pointwise);
    const TopkCut &cut = keys.cut;
    const double norm = pb.params->reduction == SEGLOSS_REDUCTION_MEAN ? double(cut.selected) : 1.0;
    plan.options[abi::kOptPwNormValue] = static_cast<float>(norm);
    if (cut.nonfinite > 0) return std::nan("");
    return cut.selected > 0 ? cut.sum / norm : 0.0;
}

}  // namespace

void run_region(Call &call, const Problem &pb, const DLTensor *value_dl, const DLTensor *grad_dl, float grad_scale) {
    RegionPlan plan = make_region_plan(*pb.params, pb.C, pb.act, pb.kind);
    const segloss_loss_params_t &p = plan.region;
    Tensor value = read_value(value_dl, p.reduction, none_shape(p, pb.N, pb.C), inputs_of(pb));
    Tensor grad;
    if (grad_dl) {
        grad = check_grad(pb, grad_dl);
        require_disjoint(grad, value);
    }
    std::vector<double> stats(static_cast<size_t>(abi::kNumRegionStats * pb.C * pb.N));
    HalideView stats_v = stats_view(stats.data(), pb.N, pb.C);
    run_stats(call, pb, plan, stats_v, false);
    // A device call reads its labels' and mask's counts back only when asked (check_inputs);
    // otherwise the epilogue makes the images that have bad ones NaN.
    const bool device = call.api() != GpuApi::none;
    if (!device || p.check_inputs) {
        call.to_host(stats_v.get());
        check_invalid(stats, pb.N, pb.C);
    }
    // dice_topk: TopK's keys and cut. On the host (or a device call that waits: check_inputs)
    // the epilogue takes the part's normaliser among its options and the part's value is added
    // here; on a device the part's weights carry 1 / K and a kernel adds the value to the
    // epilogue's total.
    const bool device_topk = plan.topk && device && !p.check_inputs;
    TopkSelection topk_keys;
    SelectionArgs sel = select_all(pb);
    double topk_value = 0;
    std::unique_ptr<DeviceTopkPart> part;
    const double lambda_pw = plan.options[abi::kOptLambdaPointwise];
    if (device_topk) {
        part = std::make_unique<DeviceTopkPart>(pb.C);
        // Inverse-frequency weights from pass 1's G, on the device (the host's select_topk_part
        // derives the same from the stats it reads back); the epilogue then takes them as given.
        halide_buffer_t *weights = nullptr;
        if (plan.pointwise.inverse_frequency) {
            Kernel k = find_kernel(Stage::topk_part_inverse, Act::identity, TargetKind::f32, call.api());
            call.run(k.name, k.as<TopkPartInverseFn>(), stats_v.get(), part->inverse_v.get());
            weights = part->inverse_v.get();
            plan.options[abi::kOptPwClassWeights] = static_cast<float>(abi::kPwWeightsGiven);
        }
        topk_keys = select_topk_on_device(call, pb, plan.topk_part, plan.pointwise, part->zero_v.get(), weights);
        sel = topk_keys.args(pb);
        plan.options[abi::kOptPwNormValue] = 1.0f;
        topk_keys.scale_part_weights(call, plan.pointwise, part->pos_v.get(), part->neg_v.get(), weights);
    } else if (plan.topk) {
        topk_value = select_topk_part(call, pb, stats, plan, topk_keys);
        sel = topk_keys.args(pb);
    }
    EpilogueOut o(pb.N, pb.C);
    run_epilogue(call, plan, stats_v.get(), o, grad_scale, part.get());
    if (part) {
        topk_keys.part_total(call, pb, lambda_pw, part->region_total_v.get(), o.total_v.get());
    } else if (plan.topk && lambda_pw != 0) {
        call.to_host(o.total_v.get());
        o.total += lambda_pw * topk_value;
        o.total_v.get()->set_host_dirty();
    }
    if (grad_dl) run_grad(call, pb, plan, o.coef_v.get(), sel, grad);
    write_value(call, p, value, o, pb.N, pb.C);
}

halide_buffer_t *RegionPart::total() const { return out->total_v.get(); }
halide_buffer_t *RegionPart::coef() const { return out->coef_v.get(); }

RegionPart region_part(Call &call, const Problem &pb, const RegionPlan &plan, std::vector<float> &coef,
                       float grad_scale) {
    std::vector<double> stats(static_cast<size_t>(abi::kNumRegionStats * pb.C * pb.N));
    coef.assign(static_cast<size_t>(abi::kNumRegionCoefs * pb.C * pb.N), 0.0f);
    HalideView stats_v = stats_view(stats.data(), pb.N, pb.C);
    run_stats(call, pb, plan, stats_v, false);
    // A device call reads the counts back only when asked (run_region's policy).
    const bool on_host = call.api() == GpuApi::none;
    if (on_host || pb.params->check_inputs) {
        call.to_host(stats_v.get());
        check_invalid(stats, pb.N, pb.C);
    }
    RegionPart part;
    part.out = std::make_shared<EpilogueOut>(pb.N, pb.C, coef.data());
    run_epilogue(call, plan, stats_v.get(), *part.out, grad_scale);
    if (!on_host) return part;
    part.value = part.out->total;
    // Every class of an image counts the same voxels: class 0's count is the image's.
    for (int64_t n = 0; n < pb.N; n++) part.per_image.push_back(stats[(n * pb.C) * abi::kNumRegionStats + abi::kStatCount]);
    return part;
}

void region_stats(Call &call, const Problem &pb, const DLTensor *stats_dl) {
    const RegionPlan plan = make_region_plan(*pb.params, pb.C, pb.act, pb.kind);
    require_region_only(plan);
    Tensor stats = read_group_tensor(stats_dl, "stats", 64, pb.N, pb.C, abi::kNumRegionStats);
    require_same_device(stats, pb.logits);
    for (const Tensor *t : inputs_of(pb)) require_disjoint(stats, *t);
    HalideView out = group_view(stats);
    run_stats(call, pb, plan, out, true);
}

void region_epilogue(Call &call, const segloss_loss_params_t *params, const DLTensor *stats_dl,
                     const DLTensor *value_dl, const DLTensor *coef_dl, float grad_scale) {
    check_params(params);
    Tensor stats = read_group_tensor(stats_dl, "stats", 64, 0, 0, abi::kNumRegionStats);
    const int64_t N = stats.shape[0], C = stats.shape[1];
    if (N > INT32_MAX || C > INT32_MAX) fail(SEGLOSS_STATUS_TOO_LARGE, "stats is too large");
    const RegionPlan plan = make_region_plan(*params, C, Act::softmax, TargetKind::i32);
    require_region_only(plan);
    const segloss_loss_params_t &p = plan.region;
    Tensor value = read_value(value_dl, p.reduction, none_shape(p, N, C), {&stats});
    Tensor coef_t;
    if (coef_dl) {
        coef_t = read_group_tensor(coef_dl, "coef", 32, N, C, abi::kNumRegionCoefs);
        require_same_device(coef_t, stats);
        require_disjoint(coef_t, value);
        require_disjoint(coef_t, stats);
    }
    EpilogueOut o(N, C);
    HalideView stats_v;
    std::vector<double> s(static_cast<size_t>(stats.numel));
    if (stats.on_device()) {
        // Statistics on a device (e.g. all-reduced there) stay there: the epilogue reads them
        // and writes coef and value on the device; only check_inputs reads them back, as the
        // one-shot device call does (otherwise the images with bad counts get a NaN loss).
        call.use_device(stats.device);
        stats_v = group_view(stats);
        if (p.check_inputs) {
            HalideView host = stats_view(s.data(), N, C);
            call.copy_to_host(stats_v.get(), host.get());
            check_invalid(s, N, C);
        }
        if (coef_dl) o.coef_v = group_view(coef_t);
    } else {
        std::copy_n(reinterpret_cast<double *>(stats.data), stats.numel, s.data());
        check_invalid(s, N, C);
        stats_v = stats_view(s.data(), N, C);
    }
    run_epilogue(call, plan, stats_v.get(), o, grad_scale);
    if (coef_dl && !coef_t.on_device()) {
        std::copy(o.own_coef.begin(), o.own_coef.end(), reinterpret_cast<float *>(coef_t.data));
    }
    write_value(call, p, value, o, N, C);
}

void region_grad(Call &call, const Problem &pb, const DLTensor *coef_dl, const DLTensor *grad_dl) {
    const RegionPlan plan = make_region_plan(*pb.params, pb.C, pb.act, pb.kind);
    require_region_only(plan);
    Tensor coef = read_group_tensor(coef_dl, "coef", 32, pb.N, pb.C, abi::kNumRegionCoefs);
    require_same_device(coef, pb.logits);
    Tensor grad = check_grad(pb, grad_dl);
    require_disjoint(grad, coef);
    SelectionArgs all = select_all(pb);
    HalideView cf = group_view(coef);
    run_grad(call, pb, plan, cf.get(), all, grad);
}

}  // namespace segloss::rt
