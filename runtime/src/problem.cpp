// SPDX-License-Identifier: Apache-2.0
#include "problem.h"

#include <climits>
#include <cstdint>
#include <cmath>

#include "context.h"
#include "enum_field.h"
#include "failure.h"
#include "losses.h"

namespace segloss::rt {

namespace {

void require_option(bool ok, const char *loss, const char *what) {
    if (!ok) fail(SEGLOSS_STATUS_INVALID_ARGUMENT, loss, ": ", what);
}

// Options of the region losses (LOSSES.md), checked whether the loss uses them or not only
// where a wrong value would silently change the result.
void check_region_options(const segloss_loss_params_t &p, const LossInfo &l) {
    const char *n = l.name;
    require_option(!p.squared_pred || p.loss == SEGLOSS_LOSS_DICE || p.loss == SEGLOSS_LOSS_LOG_COSH_DICE, n,
                   "squared_pred applies to dice and log_cosh_dice only");
    switch (p.loss) {
    case SEGLOSS_LOSS_TVERSKY:
    case SEGLOSS_LOSS_FOCAL_TVERSKY:
        require_option(std::isfinite(p.alpha) && std::isfinite(p.beta) && p.alpha >= 0 && p.beta >= 0, n,
                       "alpha and beta must be finite and >= 0");
        require_option(p.loss != SEGLOSS_LOSS_FOCAL_TVERSKY || (std::isfinite(p.gamma) && p.gamma > 0), n,
                       "gamma must be finite and > 0");
        break;
    case SEGLOSS_LOSS_ASYMMETRIC:
        require_option(std::isfinite(p.b) && p.b > 0, n, "b must be finite and > 0");
        break;
    case SEGLOSS_LOSS_SENSITIVITY_SPECIFICITY:
        require_option(p.r >= 0 && p.r <= 1, n, "r must be in [0, 1]");
        break;
    case SEGLOSS_LOSS_GENERALIZED_DICE:
    case SEGLOSS_LOSS_PENALTY_GENERALIZED_DICE:
        require_option(p.weight == nullptr, n, "the class weights are w_type's; weight does not apply");
        require_option(p.loss != SEGLOSS_LOSS_PENALTY_GENERALIZED_DICE || (std::isfinite(p.k) && p.k >= 0), n,
                       "k must be finite and >= 0");
        break;
    default: break;
    }
}

// Options of the pointwise losses (LOSSES.md); those that need C are checked in the family.
void check_pointwise_options(const segloss_loss_params_t &p, const LossInfo &l) {
    const char *n = l.name;
    const bool focal = p.loss == SEGLOSS_LOSS_FOCAL;
    require_option(p.label_smoothing >= 0 && p.label_smoothing <= 1, n, "label_smoothing must be in [0, 1]");
    require_option(p.class_weights == SEGLOSS_CLASS_WEIGHTS_GIVEN ||
                       (!focal && p.class_weights == SEGLOSS_CLASS_WEIGHTS_INVERSE_FREQUENCY),
                   n, "class_weights must be given or (ce, wce) inverse_frequency");
    require_option(p.class_weights == SEGLOSS_CLASS_WEIGHTS_GIVEN || p.weight == nullptr, n,
                   "weight and class_weights=inverse_frequency exclude each other");
    require_option(p.loss != SEGLOSS_LOSS_WCE || p.weight != nullptr ||
                       p.class_weights == SEGLOSS_CLASS_WEIGHTS_INVERSE_FREQUENCY,
                   n, "wce needs weight or class_weights=inverse_frequency");
    if (p.loss == SEGLOSS_LOSS_TOPK) {
        require_option(p.topk_mode != SEGLOSS_TOPK_PERCENT || (p.k > 0 && p.k <= 100), n, "k must be in (0, 100]");
        require_option(p.topk_mode != SEGLOSS_TOPK_THRESHOLD || (p.t > 0 && p.t <= 1), n, "t must be in (0, 1]");
    }
    if (focal) {
        require_option(std::isfinite(p.gamma) && p.gamma >= 0, n, "gamma must be finite and >= 0");
        require_option(p.weight == nullptr, n, "focal weighs classes by alpha (class_alpha), not weight");
        require_option(!p.has_alpha || p.class_alpha || (p.alpha >= 0 && p.alpha <= 1), n, "alpha must be in [0, 1]");
        require_option(p.class_alpha == nullptr || p.has_alpha, n, "class_alpha needs has_alpha");
    }
}

// A compound's own options; its parts' are checked when its plan is made.
void check_compound_options(const segloss_loss_params_t &p, const LossInfo &l) {
    const char *n = l.name;
    require_option(p.reduction != SEGLOSS_REDUCTION_NONE, n, "reduction=none does not apply to compound losses");
    require_option(p.weight == nullptr && p.include_background && !p.batch && !p.squared_pred &&
                       p.empty == SEGLOSS_EMPTY_SMOOTH,
                   n, "weight, include_background, batch, squared_pred and empty belong to the parts (region_part, "
                      "pointwise_part)");
    require_option(std::isfinite(p.lambda_region) && std::isfinite(p.lambda_pointwise) && p.lambda_region >= 0 &&
                       p.lambda_pointwise >= 0,
                   n, "the lambdas must be finite and >= 0");
    if (p.loss == SEGLOSS_LOSS_COMBO) {
        require_option(p.alpha >= 0 && p.alpha <= 1 && p.beta >= 0 && p.beta <= 1, n, "alpha and beta must be in [0, 1]");
    }
    if (p.loss == SEGLOSS_LOSS_EXP_LOG) {
        require_option(std::isfinite(p.gamma_d) && std::isfinite(p.gamma_ce) && p.gamma_d > 0 && p.gamma_ce > 0, n,
                       "gamma_d and gamma_ce must be finite and > 0");
    }
}

// Every enum field holds one of its enumerators, whether the loss uses it or not (the
// defaults do): later code reads them as their enum types.
void check_enum_fields(const segloss_loss_params_t &p) {
    const auto check = [](bool ok, const char *field, int value) {
        if (!ok) fail(SEGLOSS_STATUS_INVALID_ARGUMENT, "unknown ", field, " ", value);
    };
    check(enum_in(p.activation, SEGLOSS_ACTIVATION_SOFTMAX, SEGLOSS_ACTIVATION_NONE), "activation",
          enum_field(p.activation));
    check(enum_in(p.reduction, SEGLOSS_REDUCTION_MEAN, SEGLOSS_REDUCTION_NONE), "reduction", enum_field(p.reduction));
    check(enum_in(p.empty, SEGLOSS_EMPTY_SMOOTH, SEGLOSS_EMPTY_EXCLUDE), "empty policy", enum_field(p.empty));
    check(enum_in(p.w_type, SEGLOSS_GD_WEIGHT_SQUARE, SEGLOSS_GD_WEIGHT_UNIFORM), "w_type", enum_field(p.w_type));
    check(enum_in(p.weight_norm, SEGLOSS_WEIGHT_NORM_WEIGHTED, SEGLOSS_WEIGHT_NORM_COUNT), "weight_norm",
          enum_field(p.weight_norm));
    check(enum_in(p.class_weights, SEGLOSS_CLASS_WEIGHTS_GIVEN, SEGLOSS_CLASS_WEIGHTS_INVERSE_FREQUENCY),
          "class_weights", enum_field(p.class_weights));
    check(enum_in(p.topk_mode, SEGLOSS_TOPK_PERCENT, SEGLOSS_TOPK_THRESHOLD), "topk_mode", enum_field(p.topk_mode));
    check(enum_in(p.hd_variant, SEGLOSS_HD_TWO_SIDED, SEGLOSS_HD_ONE_SIDED), "variant", enum_field(p.hd_variant));
}

}  // namespace

void check_params(const segloss_loss_params_t *p) {
    if (!p) fail(SEGLOSS_STATUS_INVALID_ARGUMENT, "params is NULL");
    if (p->struct_size != sizeof(segloss_loss_params_t)) {
        fail(SEGLOSS_STATUS_INVALID_ARGUMENT, "params.struct_size is ", p->struct_size, ", expected ",
             sizeof(segloss_loss_params_t), " (call segloss_loss_params_init)");
    }
    const LossInfo *loss = find_loss(enum_field(p->loss));
    if (!loss) fail(SEGLOSS_STATUS_INVALID_ARGUMENT, "unknown loss kind ", enum_field(p->loss));
    check_enum_fields(*p);
    if (p->weight == nullptr && p->num_weights != 0) {
        fail(SEGLOSS_STATUS_INVALID_ARGUMENT, "weight is NULL but num_weights is ", p->num_weights);
    }
    if (!(std::isfinite(p->smooth_nr) && p->smooth_nr >= 0 && std::isfinite(p->smooth_dr) && p->smooth_dr >= 0)) {
        fail(SEGLOSS_STATUS_INVALID_ARGUMENT, "smooth_nr and smooth_dr must be finite and >= 0");
    }
    if (loss->family == Family::pointwise &&
        (!p->include_background || p->batch || p->squared_pred || p->empty != SEGLOSS_EMPTY_SMOOTH)) {
        // Region options would change a pointwise call's meaning silently; say so instead.
        fail(SEGLOSS_STATUS_INVALID_ARGUMENT, "include_background=false, batch, squared_pred and empty do not apply to ",
             loss->name, " (to leave background voxels out, set ignore_index=0)");
    }
    if (loss->family == Family::region) check_region_options(*p, *loss);
    if (loss->family == Family::pointwise) check_pointwise_options(*p, *loss);
    if (has_parts(*loss)) check_compound_options(*p, *loss);
    if (loss->family == Family::boundary && !has_parts(*loss)) {
        require_option(p->weight == nullptr && !p->squared_pred && p->empty == SEGLOSS_EMPTY_SMOOTH, loss->name,
                       "weight, squared_pred and empty do not apply");
        require_option(p->loss != SEGLOSS_LOSS_HAUSDORFF_DT || (std::isfinite(p->alpha) && p->alpha > 0), loss->name,
                       "alpha must be finite and > 0");
    }
    if (p->has_ignore_index && (p->ignore_index < INT32_MIN || p->ignore_index > INT32_MAX)) {
        fail(SEGLOSS_STATUS_INVALID_ARGUMENT, "ignore_index ", p->ignore_index, " does not fit in 32 bits");
    }
}

std::vector<float> read_weights(const segloss_loss_params_t &p, int64_t C) {
    if (!p.weight) return std::vector<float>(static_cast<size_t>(C), 1.0f);
    if (p.num_weights != C) fail(SEGLOSS_STATUS_INVALID_SHAPE, "weight has ", p.num_weights, " values for ", C, " classes");
    for (int64_t c = 0; c < C; c++) {
        if (!(std::isfinite(p.weight[c]) && p.weight[c] >= 0)) {
            fail(SEGLOSS_STATUS_INVALID_ARGUMENT, "weight[", c, "] = ", p.weight[c], " is not finite and >= 0");
        }
    }
    return std::vector<float>(p.weight, p.weight + C);
}

std::vector<int> spatial_axes(int first, int rank) {
    std::vector<int> a;
    for (int i = 0; i < 3; i++) a.push_back(i < rank ? first + rank - 1 - i : -1);
    return a;
}


std::vector<int> Problem::logits_axes() const {
    std::vector<int> a = spatial_axes(2, spatial_rank);
    a.push_back(1);
    a.push_back(0);
    return a;
}

std::vector<int> Problem::voxel_axes(int offset) const {
    std::vector<int> a = spatial_axes(1 + offset, spatial_rank);
    a.push_back(0);
    return a;
}

HalideView Problem::logits_view() const { return HalideView(kernel_logits, logits_axes()); }

Precision precision_of(const Tensor &t) {
    if (is_dtype(t, kDLFloat, 32)) return Precision::f32;
    if (is_dtype(t, kDLFloat, 16)) return Precision::f16;
    if (is_dtype(t, kDLBfloat, 16)) return Precision::bf16;
    fail(SEGLOSS_STATUS_UNSUPPORTED, t.what, " must be float32, float16 or bfloat16, got ", dtype_name(t.dtype));
}

std::vector<int> Problem::voxel_extents() const {
    std::vector<int> e;
    for (int i = 0; i < 3; i++) e.push_back(i < spatial_rank ? int(logits.shape[1 + spatial_rank - i]) : 1);
    e.push_back(int(N));
    return e;
}

HalideView Problem::mask_view() const {
    if (kernel_mask.ndim) return HalideView(kernel_mask, voxel_axes(kernel_mask.ndim == logits.ndim ? 1 : 0));
    if (ones_line.ndim) return HalideView(ones_line, voxel_axes(0));
    return HalideView::broadcast_line(ones->data(), voxel_extents());
}

HalideView Problem::zero_keys_view() const {
    if (zeros_line.ndim) return HalideView(zeros_line, voxel_axes(0));
    return HalideView::broadcast_line(zeros->data(), voxel_extents());
}

namespace {

// A device copy of a host x line, as an N,spatial tensor of the logits' voxels.
Tensor device_line(Call &call, const Problem &pb, const std::vector<float> &line, const char *what) {
    Tensor t;
    t.what = what;
    t.ndim = 1 + pb.spatial_rank;
    t.shape[0] = pb.N;
    for (int i = 0; i < pb.spatial_rank; i++) t.shape[1 + i] = pb.logits.shape[2 + i];
    t.strides[t.ndim - 1] = 1;  // the others stay 0
    t.dtype = DLDataType{kDLFloat, 32, 1};
    t.numel = pb.voxels;
    t.device = pb.logits.device;
    t.data = static_cast<char *>(call.device_copy(line.data(), line.size()));
    return t;
}

}  // namespace

void put_lines_on_device(Call &call, Problem &pb) {
    if (!pb.kernel_mask.ndim) pb.ones_line = device_line(call, pb, *pb.ones, "the mask's line of ones");
    pb.zeros_line = device_line(call, pb, *pb.zeros, "the keys' line of zeros");
}

// A compact row-major Tensor of t's shape over a host copy at `data` of type dt.
Tensor compact_copy(const Tensor &t, void *data, DLDataType dt) {
    Tensor k = t;
    k.dtype = dt;
    k.data = static_cast<char *>(data);
    for (int64_t d = k.ndim - 1, stride = 1; d >= 0; stride *= k.shape[d], d--) k.strides[d] = stride;
    k.lo = reinterpret_cast<uintptr_t>(data);
    k.hi = k.lo + dt.bits / 8 * static_cast<size_t>(t.numel);
    return k;
}

Tensor float_scratch(Call &call, const Tensor &t, Scratch which) {
    const size_t n = static_cast<size_t>(t.numel);
    if (!t.on_device()) return compact_copy(t, call.scratch(which, n), {kDLFloat, 32, 1});
    Tensor s = compact_copy(t, call.device_scratch(n), {kDLFloat, 32, 1});
    if (s.space) {  // OpenCL: byte offsets in the new cl_mem
        s.space = reinterpret_cast<uintptr_t>(s.data);
        s.lo = 0;
        s.hi = n * sizeof(float);
    }
    return s;
}

std::vector<const Tensor *> inputs_of(const Problem &pb) { return {&pb.logits, &pb.target, &pb.mask}; }

HalideView Problem::target_view() const {
    if (kind == TargetKind::f32) return HalideView(kernel_target, logits_axes());
    return HalideView(kernel_target, voxel_axes(kernel_target.ndim == logits.ndim ? 1 : 0));
}

namespace {

// An index target or a mask: N,spatial or N,1,spatial over the logits' voxels.
void check_voxel_shape(const Tensor &t, const Tensor &L) {
    const int off = t.ndim == L.ndim ? 1 : 0;
    if ((t.ndim != L.ndim && t.ndim != L.ndim - 1) || (off && t.shape[1] != 1)) {
        fail(SEGLOSS_STATUS_INVALID_SHAPE, t.what, " must be N,spatial or N,1,spatial for logits of ",
             L.ndim, " dimensions");
    }
    if (t.shape[0] != L.shape[0]) fail(SEGLOSS_STATUS_INVALID_SHAPE, t.what, " batch ", t.shape[0], " != logits batch ", L.shape[0]);
    for (int i = 0; i < L.ndim - 2; i++) {
        if (t.shape[1 + off + i] != L.shape[2 + i]) {
            fail(SEGLOSS_STATUS_INVALID_SHAPE, t.what, " spatial extent ", t.shape[1 + off + i], " != logits ",
                 L.shape[2 + i], " in spatial axis ", i);
        }
    }
}

}  // namespace

Tensor narrow_int64_labels(const Tensor &t, bool has_ignore, int64_t ignore_index,
                           std::shared_ptr<std::vector<int32_t>> &storage) {
    const int64_t ignore = has_ignore ? ignore_index : INT64_MIN;
    const int32_t invalid = ignore == INT32_MIN ? INT32_MAX : INT32_MIN;
    storage = std::make_shared<std::vector<int32_t>>(static_cast<size_t>(t.numel));
    int32_t *out = storage->data();
    const int64_t *in = reinterpret_cast<const int64_t *>(t.data);
    bool compact = true;
    for (int64_t d = t.ndim - 1, stride = 1; d >= 0; stride *= t.shape[d], d--) {
        compact = compact && (t.shape[d] == 1 || t.strides[d] == stride);
    }
    for (int64_t i = 0; i < t.numel; i++) {
        const int64_t v = in[compact ? i : element_offset(t, i)];
        out[i] = (v >= INT32_MIN && v <= INT32_MAX) ? static_cast<int32_t>(v) : invalid;
    }
    return compact_copy(t, out, {kDLInt, 32, 1});
}

namespace {

// The loss mask: N,spatial or N,1,spatial like an index target; float32 is read in place,
// uint8/bool become a float32 copy (nonzero = 1).
void read_mask(Problem &pb, const DLTensor *dl, bool allow_device) {
    pb.mask = read_tensor(dl, "loss_mask", allow_device);
    const Tensor &M = pb.mask;
    require_same_device(M, pb.logits);
    check_voxel_shape(M, pb.logits);
    pb.kernel_mask = M;
    if (is_dtype(M, kDLFloat, 32)) return;
    if (M.on_device()) fail(SEGLOSS_STATUS_UNSUPPORTED, "a loss_mask on a device must be float32");
    const bool boolean = M.dtype.code == 6 /* kDLBool, DLPack >= 0.8 */ && M.dtype.bits == 8;
    if (!is_dtype(M, kDLUInt, 8) && !boolean) {
        fail(SEGLOSS_STATUS_UNSUPPORTED, "loss_mask must be float32, uint8 or bool, got ", dtype_name(M.dtype));
    }
    pb.mask_copy = std::make_shared<std::vector<float>>(static_cast<size_t>(M.numel));
    float *out = pb.mask_copy->data();
    const uint8_t *in = reinterpret_cast<const uint8_t *>(M.data);
    for (int64_t i = 0; i < M.numel; i++) out[i] = in[element_offset(M, i)] ? 1.0f : 0.0f;
    pb.kernel_mask = compact_copy(M, out, {kDLFloat, 32, 1});
}

}  // namespace

Problem make_problem(const segloss_loss_params_t *p, const DLTensor *logits, const DLTensor *target,
                     bool allow_device) {
    check_params(p);
    Problem pb;
    pb.params = p;
    pb.logits = read_tensor(logits, "logits", allow_device);
    pb.target = read_tensor(target, "target", allow_device);
    const Tensor &L = pb.logits, &T = pb.target;
    require_same_device(T, L);
    pb.precision = precision_of(L);
    // What a device call runs on: no conversion on the host.
    if (L.on_device() && is_dtype(T, kDLInt, 64)) {
        fail(SEGLOSS_STATUS_UNSUPPORTED, "index targets on a device must be int32 or uint8, got int64");
    }
    pb.kernel_logits = L;
    if (L.ndim < 3) {
        fail(SEGLOSS_STATUS_INVALID_SHAPE, "logits must be N,C,spatial with 1 to 3 spatial axes; got ",
             L.ndim, " dimensions");
    }
    pb.N = L.shape[0];
    pb.C = L.shape[1];
    pb.spatial_rank = L.ndim - 2;
    pb.voxels = L.numel / pb.C;
    pb.act = p->activation == SEGLOSS_ACTIVATION_SIGMOID ? Act::sigmoid
             : p->activation == SEGLOSS_ACTIVATION_NONE  ? Act::identity
                                                         : Act::softmax;

    // Target: an index map N,spatial or N,1,spatial (int32/uint8/int64), or a dense map like the logits.
    pb.kernel_target = T;
    if (is_dtype(T, kDLInt, 32) || is_dtype(T, kDLUInt, 8) || is_dtype(T, kDLInt, 64)) {
        pb.kind = is_dtype(T, kDLUInt, 8) ? TargetKind::u8 : TargetKind::i32;
        check_voxel_shape(T, L);
        if (is_dtype(T, kDLInt, 64)) pb.kernel_target = narrow_int64_labels(T, p->has_ignore_index, p->ignore_index, pb.narrowed);
    } else if (is_dtype(T, kDLFloat, 32)) {
        pb.kind = TargetKind::f32;
        if (T.ndim != L.ndim) fail(SEGLOSS_STATUS_INVALID_SHAPE, "a dense target must have the logits' shape N,C,spatial");
        for (int i = 0; i < L.ndim; i++) {
            if (T.shape[i] != L.shape[i]) {
                fail(SEGLOSS_STATUS_INVALID_SHAPE, "dense target extent ", T.shape[i], " != logits ", L.shape[i],
                     " in dimension ", i);
            }
        }
        if (p->has_ignore_index) {
            fail(SEGLOSS_STATUS_INVALID_ARGUMENT, "ignore_index applies to index targets only, not dense maps");
        }
    } else {
        fail(SEGLOSS_STATUS_UNSUPPORTED, "target dtype ", dtype_name(T.dtype),
             " is not supported (int32, int64 or uint8 index maps, float32 dense maps)");
    }

    pb.weight = read_weights(*p, pb.C);
    pb.has_ignore = p->has_ignore_index ? 1 : 0;
    pb.ignore_index = static_cast<int>(p->ignore_index);
    // The views check that extents and strides fit 32 bits (before anything is allocated).
    (void)pb.logits_view();
    (void)pb.target_view();
    const size_t X = static_cast<size_t>(L.shape[L.ndim - 1]);
    pb.ones = std::make_shared<std::vector<float>>(X, 1.0f);
    pb.zeros = std::make_shared<std::vector<float>>(X, 0.0f);
    if (p->loss_mask) read_mask(pb, p->loss_mask, allow_device);
    (void)pb.mask_view();
    return pb;
}

Tensor check_grad(const Problem &pb, const DLTensor *grad) {
    Tensor g = read_tensor(grad, "grad", true);
    require_same_device(g, pb.logits);
    (void)precision_of(g);
    if (g.ndim != pb.logits.ndim) fail(SEGLOSS_STATUS_INVALID_SHAPE, "grad must have the logits' shape");
    for (int i = 0; i < g.ndim; i++) {
        if (g.shape[i] != pb.logits.shape[i]) fail(SEGLOSS_STATUS_INVALID_SHAPE, "grad must have the logits' shape");
    }
    require_distinct_elements(g);
    for (const Tensor *t : inputs_of(pb)) require_disjoint(g, *t);
    (void)HalideView(g, pb.logits_axes());
    return g;
}

}  // namespace segloss::rt
