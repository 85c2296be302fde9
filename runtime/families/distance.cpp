// SPDX-License-Identifier: Apache-2.0
#include "distance.h"

#include <climits>
#include <cmath>
#include <memory>

#include "../../generators/common/abi.h"
#include "../src/enum_field.h"
#include "../src/failure.h"
#include "../src/registry.h"
#include "../src/value.h"

namespace segloss::rt {

std::vector<int> spatial_view_axes(int first, int spatial_rank, bool with_channel) {
    std::vector<int> a = spatial_axes(first, spatial_rank);
    if (with_channel) a.push_back(1);
    a.push_back(0);
    return a;
}

std::array<float, 3> read_spacing(const double *spacing, int64_t num_spacing, int rank) {
    std::array<float, 3> s{1, 1, 1};
    if (!spacing) {
        if (num_spacing != 0) fail(SEGLOSS_STATUS_INVALID_ARGUMENT, "spacing is NULL but num_spacing is ", num_spacing);
        return s;
    }
    if (num_spacing != rank) {
        fail(SEGLOSS_STATUS_INVALID_ARGUMENT, "spacing has ", num_spacing, " values for ", rank, " spatial axes");
    }
    for (int i = 0; i < rank; i++) {
        const double v = spacing[i];
        if (!(std::isfinite(v) && v > 0 && v < 1e18)) {
            fail(SEGLOSS_STATUS_INVALID_ARGUMENT, "spacing[", i, "] = ", v, " is not finite and > 0");
        }
        s[rank - 1 - i] = static_cast<float>(v);
    }
    return s;
}

namespace {

// Index labels outside [0, C) that are not ignore_index, counted by the losses' target pre-pass
// (label_stats: it reads the labels only). The distance kernel counts them too, but only as it
// writes the maps, and INVALID_LABEL promises nothing written.
int64_t count_invalid_labels(Call &call, const DistanceRequest &r, HalideView &labels) {
    const halide_dimension_t *d = labels.get()->dim;
    const int X = d[0].extent, Y = d[1].extent, Z = d[2].extent, N = d[3].extent;
    std::vector<float> ones(static_cast<size_t>(X), 1.0f), rows, class_rows;
    HalideView mask = HalideView::broadcast_line(ones.data(), {X, Y, Z, N});
    rows.assign(static_cast<size_t>(abi::kNumLabelSlots) * Y * Z * N, 0.0f);
    class_rows.assign(static_cast<size_t>(r.num_classes) * Y * Z * N, 0.0f);  // (not summed: zeros)
    HalideView rows_v = HalideView::per_image(rows.data(), {abi::kNumLabelSlots, Y, Z, N});
    HalideView class_v = HalideView::per_image(class_rows.data(), {r.num_classes, Y, Z, N});
    Kernel k = find_kernel(Stage::label_stats, Act::identity, r.kind, call.api());
    call.run(k.name, k.as<LabelStatsFn>(), labels.get(), r.num_classes, r.has_ignore, r.ignore_index, mask.get(), 0,
             rows_v.get(), class_v.get());
    return static_cast<int64_t>(sum_lines(rows, abi::kNumLabelSlots)[abi::kInvalid]);
}

void fail_invalid_labels(const DistanceRequest &r, int64_t bad) {
    fail(SEGLOSS_STATUS_INVALID_LABEL, bad, " labels are outside [0, ", r.num_classes, ")",
         r.has_ignore ? " and are not ignore_index" : "");
}

}  // namespace

void distance_maps(Call &call, const DistanceRequest &r, halide_buffer_t *out, halide_buffer_t *flags,
                   halide_buffer_t *voxel_weight) {
    const bool index = r.kind != TargetKind::f32;
    const int first = index && r.source.ndim == r.spatial_rank + 1 ? 1 : 2;  // N,spatial or N,1|C,spatial
    HalideView src(r.source, spatial_view_axes(first, r.spatial_rank, !index));
    if (r.check_labels && index && call.api() == GpuApi::none) {
        if (const int64_t bad = count_invalid_labels(call, r, src)) fail_invalid_labels(r, bad);
    }
    Kernel k = find_kernel(r.collapse ? Stage::dpce_weight : Stage::distance, index ? Act::identity : r.act, r.kind,
                           call.api());
    const int C = out->dim[3].extent, N = out->dim[4].extent;
    std::vector<int32_t> own_flags(flags ? 0 : static_cast<size_t>(C) * N), invalid(static_cast<size_t>(N));
    HalideView fl = HalideView::per_image(own_flags.data(), {C, N}), inv = HalideView::per_image(invalid.data(), {N});
    std::vector<float> ones(voxel_weight ? 0 : static_cast<size_t>(out->dim[0].extent), 1.0f);
    HalideView no_weight = HalideView::broadcast_line(ones.data(), {out->dim[0].extent, out->dim[1].extent,
                                                                    out->dim[2].extent, N});
    call.run(k.name, k.as<DistanceFn>(), src.get(), r.num_classes, r.first_class, r.has_ignore, r.ignore_index,
             r.spacing[0], r.spacing[1], r.spacing[2], r.map_kind, r.zero_degenerate ? 1 : 0,
             voxel_weight ? voxel_weight : no_weight.get(), out, flags ? flags : fl.get(), inv.get());
    if (!r.check_labels) return;
    call.to_host(inv.get());  // a device call waits for its label check here
    int64_t bad = 0;
    for (int32_t v : invalid) bad += v;
    if (bad > 0) fail_invalid_labels(r, bad);
}

Tensor dpce_weights(Call &call, const Problem &pb) {
    const segloss_loss_params_t &p = *pb.params;
    if (pb.kind == TargetKind::f32) {
        fail(SEGLOSS_STATUS_UNSUPPORTED, "dpce needs an index-map target: its regions are the labels");
    }
    DistanceRequest r;
    r.source = pb.kernel_target;
    r.kind = pb.kind;
    r.num_classes = static_cast<int>(pb.C);
    r.first_class = 0;  // every label's region, the background's too
    r.has_ignore = pb.has_ignore;
    r.ignore_index = pb.ignore_index;
    r.spatial_rank = pb.spatial_rank;
    r.spacing = read_spacing(p.spacing, p.num_spacing, pb.spatial_rank);
    r.map_kind = abi::kDistanceDpce;
    r.zero_degenerate = true;
    r.collapse = true;
    // The loss's target pre-pass checks the labels (on a device without check_inputs, a bad
    // label makes the loss NaN): no read-back here, so a device call does not wait.
    r.check_labels = false;
    // N,spatial on the logits' device (a copy of the logits' descriptor keeps the device).
    Tensor t = pb.logits;
    t.what = "dpce weights";
    t.ndim = 1 + pb.spatial_rank;
    for (int i = 0; i < pb.spatial_rank; i++) t.shape[1 + i] = pb.logits.shape[2 + i];
    t.numel = pb.voxels;
    t = float_scratch(call, t, Scratch::target_distance);
    std::vector<int> axes = spatial_axes(1, pb.spatial_rank);
    axes.insert(axes.end(), {-1, 0});  // one channel, then n
    HalideView out(t, axes), mask = pb.mask_view();
    distance_maps(call, r, out.get(), nullptr, mask.get());
    return t;
}

void default_distance_params(segloss_distance_params_t &p) {
    p = segloss_distance_params_t{};
    p.struct_size = sizeof(segloss_distance_params_t);
    p.kind = SEGLOSS_DISTANCE_EDT;
    p.num_classes = 2;
    p.include_background = 0;
    p.activation = SEGLOSS_ACTIVATION_NONE;
}

namespace {

void check_distance_params(const segloss_distance_params_t *p) {
    if (!p) fail(SEGLOSS_STATUS_INVALID_ARGUMENT, "params is NULL");
    if (p->struct_size != sizeof(segloss_distance_params_t)) {
        fail(SEGLOSS_STATUS_INVALID_ARGUMENT, "params.struct_size is ", p->struct_size, ", expected ",
             sizeof(segloss_distance_params_t), " (call segloss_distance_params_init)");
    }
    if (!enum_in(p->kind, SEGLOSS_DISTANCE_EDT, SEGLOSS_DISTANCE_DPCE)) {
        fail(SEGLOSS_STATUS_INVALID_ARGUMENT, "unknown distance kind ", enum_field(p->kind));
    }
    if (!enum_in(p->activation, SEGLOSS_ACTIVATION_SOFTMAX, SEGLOSS_ACTIVATION_NONE)) {
        fail(SEGLOSS_STATUS_INVALID_ARGUMENT, "unknown activation ", enum_field(p->activation));
    }
    if (p->has_ignore_index && (p->ignore_index < INT32_MIN || p->ignore_index > INT32_MAX)) {
        fail(SEGLOSS_STATUS_INVALID_ARGUMENT, "ignore_index ", p->ignore_index, " does not fit in 32 bits");
    }
}

// The source against the distance tensor (N, C', spatial); fills the request's source fields
// and returns the caller's tensor.
Tensor read_source(DistanceRequest &r, const segloss_distance_params_t &p, const DLTensor *dl, const Tensor &D,
                   std::shared_ptr<std::vector<int32_t>> &narrowed) {
    Tensor S = read_tensor(dl, "source", true);
    require_same_device(S, D);
    if (S.on_device() && is_dtype(S, kDLInt, 64)) {
        fail(SEGLOSS_STATUS_UNSUPPORTED, "index maps on a device must be int32 or uint8, got int64");
    }
    const int rank = D.ndim - 2;
    r.spatial_rank = rank;
    const bool index = is_dtype(S, kDLInt, 32) || is_dtype(S, kDLInt, 64) || is_dtype(S, kDLUInt, 8);
    if (!index && !is_dtype(S, kDLFloat, 32)) {
        fail(SEGLOSS_STATUS_UNSUPPORTED, "source must be int32, int64 or uint8 (index map) or float32, got ",
             dtype_name(S.dtype));
    }
    const int off = index ? (S.ndim == D.ndim ? 1 : 0) : 1;
    if (index ? (S.ndim != D.ndim && S.ndim != D.ndim - 1) || (off && S.shape[1] != 1) : S.ndim != D.ndim) {
        fail(SEGLOSS_STATUS_INVALID_SHAPE, "source must be ",
             index ? "N,spatial or N,1,spatial" : "N,C,spatial", " for a distance tensor of ", D.ndim, " dimensions");
    }
    if (S.shape[0] != D.shape[0]) fail(SEGLOSS_STATUS_INVALID_SHAPE, "source batch ", S.shape[0], " != distance batch ", D.shape[0]);
    for (int i = 0; i < rank; i++) {
        if (S.shape[1 + off + i] != D.shape[2 + i]) {
            fail(SEGLOSS_STATUS_INVALID_SHAPE, "source spatial extent ", S.shape[1 + off + i], " != distance ",
                 D.shape[2 + i], " in spatial axis ", i);
        }
    }
    r.first_class = p.include_background ? 0 : 1;
    int64_t C = 0;
    if (index) {
        if (p.activation != SEGLOSS_ACTIVATION_NONE) {
            fail(SEGLOSS_STATUS_INVALID_ARGUMENT, "activation applies to float32 sources, not to index maps");
        }
        if (p.num_classes < 1 || p.num_classes > INT32_MAX) {
            fail(SEGLOSS_STATUS_INVALID_ARGUMENT, "num_classes ", p.num_classes, " must be in [1, 2^31)");
        }
        C = p.num_classes;
        r.kind = is_dtype(S, kDLUInt, 8) ? TargetKind::u8 : TargetKind::i32;
        r.source = is_dtype(S, kDLInt, 64) ? narrow_int64_labels(S, p.has_ignore_index, p.ignore_index, narrowed) : S;
        r.num_classes = static_cast<int>(C);
        r.has_ignore = p.has_ignore_index ? 1 : 0;
        r.ignore_index = static_cast<int>(p.ignore_index);
    } else {
        C = S.shape[1];
        r.kind = TargetKind::f32;
        r.source = S;
        r.act = p.activation == SEGLOSS_ACTIVATION_SOFTMAX   ? Act::softmax
                : p.activation == SEGLOSS_ACTIVATION_SIGMOID ? Act::sigmoid
                                                             : Act::identity;
    }
    if (D.shape[1] != C - r.first_class) {
        fail(SEGLOSS_STATUS_INVALID_SHAPE, "distance has ", D.shape[1], " channels; the source has ", C,
             " classes, so ", C - r.first_class, " maps", p.include_background ? "" : " without the background");
    }
    return S;
}

}  // namespace

void run_distance(Call &call, const segloss_distance_params_t *p, const DLTensor *source_dl,
                  const DLTensor *distance_dl, const DLTensor *flags_dl) {
    check_distance_params(p);
    Tensor D = read_tensor(distance_dl, "distance", true);
    require_distinct_elements(D);
    if (!is_dtype(D, kDLFloat, 32)) fail(SEGLOSS_STATUS_UNSUPPORTED, "distance must be float32, got ", dtype_name(D.dtype));
    if (D.ndim < 3) {
        fail(SEGLOSS_STATUS_INVALID_SHAPE, "distance must be N,C,spatial with 1 to 3 spatial axes; got ", D.ndim,
             " dimensions");
    }
    DistanceRequest r;
    std::shared_ptr<std::vector<int32_t>> narrowed;
    const Tensor S = read_source(r, *p, source_dl, D, narrowed);
    require_disjoint(D, S);
    r.spacing = read_spacing(p->spacing, p->num_spacing, r.spatial_rank);
    r.map_kind = static_cast<int>(p->kind);
    Tensor F;
    if (flags_dl) {
        F = read_tensor(flags_dl, "flags", true);
        require_distinct_elements(F);
        require_same_device(F, D);
        if (!is_dtype(F, kDLInt, 32)) fail(SEGLOSS_STATUS_UNSUPPORTED, "flags must be int32, got ", dtype_name(F.dtype));
        if (F.ndim != 2 || F.shape[0] != D.shape[0] || F.shape[1] != D.shape[1]) {
            fail(SEGLOSS_STATUS_INVALID_SHAPE, "flags must be N,C' = ", D.shape[0], ",", D.shape[1]);
        }
        require_disjoint(F, D);
        require_disjoint(F, S);
    }
    // Tensors on a device: the GPU kernels on the caller's memory and stream.
    if (D.on_device()) call.use_device(D.device);
    HalideView out(D, spatial_view_axes(2, r.spatial_rank, true));
    HalideView fl;
    if (flags_dl) fl = HalideView(F, {1, 0});
    distance_maps(call, r, out.get(), flags_dl ? fl.get() : nullptr);
}

}  // namespace segloss::rt
