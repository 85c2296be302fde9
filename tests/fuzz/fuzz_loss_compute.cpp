// SPDX-License-Identifier: Apache-2.0
// libFuzzer target over the C ABI (tests/sanitize builds it with AddressSanitizer and
// UndefinedBehaviorSanitizer). Each input becomes one call: segloss_loss_compute, the region
// stages, or segloss_distance_compute, on tensors and options read from the input: ranks,
// extents (zeros included), dtypes, strides (compact, permuted, negative, zero, overlapping,
// byte_offset), null data, labels inside and outside [0, C), NaN and Inf logits, masks, class
// weights, spacing, enum fields with values no enumerator has, outputs that alias inputs.
//
// Every tensor's memory covers exactly what its shape and strides address, and every array's
// length is what the params say, so a read or write beyond them is the library's. The harness also checks the contract itself and aborts (a
// finding) when a call writes to an input, or writes an output when it fails with a status
// that promises nothing was written.
#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <limits>
#include <memory>
#include <vector>

#include <fuzzer/FuzzedDataProvider.h>

#include "segloss/segloss.h"

namespace {

constexpr int64_t kMaxElements = 2048;  // per tensor: many calls per second

// One tensor and the memory it addresses.
struct Tensor {
    std::vector<int64_t> shape, strides;
    std::vector<unsigned char> memory;
    DLTensor dl{};
    bool output = false;
    std::vector<unsigned char> before;  // the memory as it was before the call
};

using Tensors = std::vector<std::unique_ptr<Tensor>>;

DLDataType dtype_of(int pick) {
    switch (pick) {
    case 0: return {kDLFloat, 32, 1};
    case 1: return {kDLFloat, 16, 1};
    case 2: return {kDLBfloat, 16, 1};
    case 3: return {kDLFloat, 64, 1};
    case 4: return {kDLInt, 32, 1};
    case 5: return {kDLInt, 64, 1};
    case 6: return {kDLUInt, 8, 1};
    case 7: return {6, 8, 1};  // kDLBool (DLPack >= 0.8; Debian 12 has 0.6)
    default: return {kDLFloat, 32, 2};  // lanes: not a tensor segloss takes
    }
}

int64_t numel(const std::vector<int64_t> &shape) {
    int64_t n = 1;
    for (int64_t e : shape) n *= e;
    return n;
}

// A tensor of `shape` and `dt` whose layout the input picks, filled with values it picks.
// labels_below: index labels are drawn from [-2, labels_below + 2), mostly [0, labels_below).
Tensor &make_tensor(Tensors &all, FuzzedDataProvider &in, std::vector<int64_t> shape, DLDataType dt,
                    int labels_below = 2) {
    all.push_back(std::make_unique<Tensor>());
    Tensor &t = *all.back();
    t.shape = std::move(shape);
    const int rank = static_cast<int>(t.shape.size());
    t.strides.assign(rank, 0);
    int64_t s = 1;
    for (int i = rank - 1; i >= 0; i--) {
        t.strides[i] = s;
        s *= t.shape[i] > 0 ? t.shape[i] : 1;
    }
    const int layout = in.ConsumeIntegralInRange(0, 9);
    if (rank >= 2 && layout == 1) {  // channels last: axis 1 innermost
        int64_t st = 1;
        t.strides[1] = st;
        st *= std::max<int64_t>(t.shape[1], 1);
        for (int i = rank - 1; i >= 0; i--) {
            if (i == 1) continue;
            t.strides[i] = st;
            st *= std::max<int64_t>(t.shape[i], 1);
        }
    } else if (rank >= 1 && layout == 2) {
        t.strides[in.ConsumeIntegralInRange(0, rank - 1)] *= -1;
    } else if (rank >= 1 && layout == 3) {
        t.strides[in.ConsumeIntegralInRange(0, rank - 1)] = 0;
    } else if (rank >= 1 && layout == 4) {
        for (int64_t &st : t.strides) st = in.ConsumeIntegralInRange<int64_t>(-3, 9);
    } else if (rank >= 2 && layout == 5) {  // padded rows
        for (int i = 0; i < rank - 1; i++) t.strides[i] *= 2;
    }
    // The element offsets the strides reach, and memory for exactly them.
    int64_t lo = 0, hi = 0;
    const bool empty = numel(t.shape) == 0;
    for (int i = 0; i < rank && !empty; i++) {
        const int64_t reach = (t.shape[i] - 1) * t.strides[i];
        (reach < 0 ? lo : hi) += reach;
    }
    const int64_t bytes_per = (dt.bits * dt.lanes + 7) / 8;
    const int64_t count = empty ? 0 : hi - lo + 1;
    const int64_t offset_pad = in.ConsumeBool() ? 16 : 0;  // exercise byte_offset
    t.memory.assign(static_cast<size_t>(count * bytes_per + offset_pad + 1), 0);
    unsigned char *base = t.memory.data();
    for (int64_t i = 0; i < count; i++) {
        unsigned char *p = base + offset_pad + i * bytes_per;
        if (dt.code == kDLFloat && dt.bits == 32) {
            const int kind = in.ConsumeIntegralInRange(0, 40);
            float v = kind == 0   ? std::numeric_limits<float>::quiet_NaN()
                      : kind == 1 ? std::numeric_limits<float>::infinity()
                      : kind == 2 ? -std::numeric_limits<float>::infinity()
                      : kind == 3 ? 1e30f
                                  : in.ConsumeFloatingPointInRange(-12.0f, 12.0f);
            if (labels_below < 0) v = in.ConsumeFloatingPointInRange(-0.2f, 1.2f);  // dense targets, masks
            std::memcpy(p, &v, 4);
        } else if (dt.code == kDLInt || dt.code == kDLUInt || dt.code == 6) {
            int64_t v = in.ConsumeIntegralInRange(0, 15) == 0 ? in.ConsumeIntegralInRange<int64_t>(-2, labels_below + 2)
                                                                : in.ConsumeIntegralInRange<int64_t>(0, std::max(labels_below - 1, 0));
            std::memcpy(p, &v, static_cast<size_t>(bytes_per));  // little endian: the low bytes
        } else {
            for (int64_t b = 0; b < bytes_per; b++) p[b] = in.ConsumeIntegral<unsigned char>();
        }
    }
    t.dl.data = in.ConsumeIntegralInRange(0, 40) == 0 ? nullptr : base + (offset_pad ? 0 : (-lo) * bytes_per);
    t.dl.byte_offset = offset_pad ? static_cast<uint64_t>(offset_pad + (-lo) * bytes_per) : 0;
    t.dl.device = {kDLCPU, 0};
    if (in.ConsumeIntegralInRange(0, 60) == 0) t.dl.device = {kDLCUDA, 0};  // no driver here
    t.dl.ndim = rank;
    t.dl.dtype = dt;
    t.dl.shape = t.shape.data();
    t.dl.strides = in.ConsumeIntegralInRange(0, 10) == 0 && layout == 0 ? nullptr : t.strides.data();
    return t;
}

std::vector<int64_t> voxel_shape(const std::vector<int64_t> &logits_shape) {
    std::vector<int64_t> s{logits_shape[0]};
    s.insert(s.end(), logits_shape.begin() + 2, logits_shape.end());
    return s;
}

// A value the input picks for a float option: in and out of every documented range.
float option_value(FuzzedDataProvider &in) {
    static const float kValues[] = {-1.0f, 0.0f, 1e-5f, 0.3f, 0.5f, 1.0f, 1.5f, 2.0f, 10.0f, 100.0f, 101.0f,
                                    std::numeric_limits<float>::quiet_NaN(), std::numeric_limits<float>::infinity()};
    return in.PickValueInArray(kValues);
}

// An enum field set to a value the input picks, possibly one no enumerator has (as C allows).
template <typename E>
void set_enum(E &field, FuzzedDataProvider &in) {
    const int v = in.ConsumeIntegralInRange(-2, 30);
    std::memcpy(&field, &v, sizeof v);
}

// Options: the loss's defaults, then a few fields changed.
void mutate_params(segloss_loss_params_t &p, FuzzedDataProvider &in, std::vector<float> &weights,
                   std::vector<double> &spacing, int64_t C, int spatial_rank) {
    const int changes = in.ConsumeIntegralInRange(0, 4);
    for (int i = 0; i < changes; i++) {
        switch (in.ConsumeIntegralInRange(0, 24)) {
        case 0: set_enum(p.activation, in); break;
        case 1: set_enum(p.reduction, in); break;
        case 2: p.include_background = in.ConsumeBool(); break;
        case 3: p.batch = in.ConsumeBool(); break;
        case 4: p.has_ignore_index = 1; p.ignore_index = in.ConsumeIntegralInRange<int64_t>(-1, C + 1); break;
        case 5: p.squared_pred = in.ConsumeBool(); break;
        case 6: p.check_finite = in.ConsumeBool(); break;
        case 7: set_enum(p.empty, in); break;
        case 8: p.alpha = option_value(in); break;
        case 9: p.beta = option_value(in); break;
        case 10: p.gamma = option_value(in); break;
        case 11: p.k = option_value(in); break;
        case 12: set_enum(p.w_type, in); break;
        case 13: set_enum(p.weight_norm, in); break;
        case 14: set_enum(p.class_weights, in); break;
        case 15: p.label_smoothing = option_value(in); break;
        case 16: p.check_inputs = in.ConsumeBool(); break;
        case 17: set_enum(p.topk_mode, in); break;
        case 18: p.t = option_value(in); break;
        case 19: p.smooth_nr = option_value(in); p.smooth_dr = option_value(in); break;
        case 20:
            weights.assign(static_cast<size_t>(in.ConsumeIntegralInRange<int64_t>(0, C + 1)), 1.0f);
            for (float &w : weights) w = option_value(in);
            p.weight = weights.data();
            p.num_weights = static_cast<int64_t>(weights.size());  // the array's true length, C or not
            break;
        case 21:
            spacing.assign(static_cast<size_t>(in.ConsumeIntegralInRange(0, spatial_rank + 1)), 1.0);
            for (double &s : spacing) s = option_value(in);
            p.spacing = spacing.data();
            p.num_spacing = static_cast<int64_t>(spacing.size());
            break;
        case 22: set_enum(p.hd_variant, in); break;
        case 23: p.has_alpha = in.ConsumeBool(); break;
        default: p.struct_size = in.ConsumeBool() ? p.struct_size - 8 : p.struct_size; break;
        }
    }
}

void snapshot(Tensors &all) {
    for (auto &t : all) t->before = t->memory;
}

// Inputs never change; outputs keep their contents when the call failed before writing.
void check_contract(const Tensors &all, segloss_status_t status, segloss_context_t ctx) {
    const bool nothing_written = status != SEGLOSS_STATUS_OK && status != SEGLOSS_STATUS_NONFINITE &&
                                 status != SEGLOSS_STATUS_INTERNAL;
    for (const auto &t : all) {
        if ((!t->output || nothing_written) && t->memory != t->before) {
            std::fprintf(stderr, "contract broken: an %s changed (status %s: %s; kernels %s)\n",
                         t->output ? "output" : "input", segloss_status_string(status), segloss_last_error(ctx),
                         segloss_last_kernel(ctx));
            std::abort();
        }
    }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    static segloss_context_t ctx = [] {
        segloss_context_t c = nullptr;
        if (segloss_context_create(&c) != SEGLOSS_STATUS_OK) std::abort();
        segloss_set_num_threads(1);
        return c;
    }();
    FuzzedDataProvider in(data, size);
    const int entry = in.ConsumeIntegralInRange(0, 5);  // 0-3 loss_compute, 4 region stages, 5 distance

    // Logits N,C,spatial: rank 3-5 mostly, sometimes 2 or 6; extents 0-6.
    const int rank = in.ConsumeIntegralInRange(0, 12) == 0 ? in.PickValueInArray({1, 2, 6}) : in.ConsumeIntegralInRange(3, 5);
    std::vector<int64_t> shape(static_cast<size_t>(rank));
    for (int64_t &e : shape) e = in.ConsumeIntegralInRange(0, 20) == 0 ? 0 : in.ConsumeIntegralInRange(1, 6);
    if (numel(shape) > kMaxElements || rank < 2) shape.assign({1, 2, 3});
    const int64_t C = shape[1];
    const int spatial_rank = static_cast<int>(shape.size()) - 2;
    Tensors all;
    Tensor &logits = make_tensor(all, in, shape, dtype_of(in.ConsumeIntegralInRange(0, 12) == 0 ? in.ConsumeIntegralInRange(0, 8) : 0));

    // Target: index labels (int32, int64, uint8; N,spatial or N,1,spatial) or a dense map.
    const int target_kind = in.ConsumeIntegralInRange(0, 5);
    std::vector<int64_t> tshape = voxel_shape(shape);
    if (target_kind == 4) tshape = shape;
    if (target_kind == 3) tshape.insert(tshape.begin() + 1, 1);
    if (in.ConsumeIntegralInRange(0, 15) == 0 && !tshape.empty()) tshape.back() += 1;  // mismatched
    const DLDataType tdt = target_kind == 4 ? DLDataType{kDLFloat, 32, 1}
                           : target_kind == 5 ? dtype_of(in.ConsumeIntegralInRange(0, 8))
                                              : dtype_of(in.PickValueInArray({4, 5, 6}));
    Tensor &target = make_tensor(all, in, tshape, tdt, target_kind == 4 ? -1 : static_cast<int>(C));

    segloss_status_t status;
    if (entry == 5) {
        segloss_distance_params_t dp;
        segloss_distance_params_init(&dp);
        if (in.ConsumeBool()) set_enum(dp.kind, in);
        if (in.ConsumeBool()) set_enum(dp.activation, in);
        dp.num_classes = in.ConsumeIntegralInRange<int64_t>(-1, 5);
        dp.include_background = in.ConsumeBool();
        std::vector<double> spacing(static_cast<size_t>(std::max(0, spatial_rank + in.ConsumeIntegralInRange(-1, 1))), 1.0);
        if (in.ConsumeBool()) {
            for (double &s : spacing) s = option_value(in);
            dp.spacing = spacing.data();
            dp.num_spacing = static_cast<int64_t>(spacing.size());
        }
        std::vector<int64_t> dshape = shape;
        dshape[1] = std::max<int64_t>(dp.num_classes - (dp.include_background ? 0 : 1), 0) + in.ConsumeIntegralInRange(0, 1);
        if (numel(dshape) > kMaxElements) dshape[1] = 1;
        Tensor &distance = make_tensor(all, in, dshape, dtype_of(in.ConsumeIntegralInRange(0, 3) == 0 ? 3 : 0));
        distance.output = true;
        Tensor &flags = make_tensor(all, in, {shape[0], dshape[1]}, dtype_of(4));
        flags.output = true;
        snapshot(all);
        status = segloss_distance_compute(ctx, &dp, &target.dl, &distance.dl, in.ConsumeBool() ? &flags.dl : nullptr);
        check_contract(all, status, ctx);
        return 0;
    }

    // Options: a loss (sometimes a kind no loss has), its defaults, a few fields changed; a mask.
    segloss_loss_params_t p, region_part, pointwise_part;
    // (Only valid kinds pass through a C++ enum parameter here: loading any other through the
    // enum type is undefined in C++, not in C; the others go into the field as a C caller's.)
    const int kind = in.ConsumeIntegralInRange(-1, 25);
    const bool known = kind >= SEGLOSS_LOSS_CE && kind <= SEGLOSS_LOSS_DICE_HAUSDORFF;
    segloss_loss_params_init(&p, known ? static_cast<segloss_loss_kind_t>(kind) : SEGLOSS_LOSS_CE);
    if (!known) std::memcpy(&p.loss, &kind, sizeof kind);
    std::vector<float> weights, part_weights;
    std::vector<double> spacing, part_spacing;
    mutate_params(p, in, weights, spacing, C, spatial_rank);
    segloss_loss_kind_t rp, pp;
    if (known && segloss_loss_parts(p.loss, &rp, &pp) == SEGLOSS_STATUS_OK && in.ConsumeBool()) {
        segloss_loss_params_init(&region_part, rp);
        segloss_loss_params_init(&pointwise_part, pp);
        mutate_params(in.ConsumeBool() ? region_part : pointwise_part, in, part_weights, part_spacing, C, spatial_rank);
        p.region_part = &region_part;
        p.pointwise_part = &pointwise_part;
    }
    if (in.ConsumeIntegralInRange(0, 3) == 0) {
        std::vector<int64_t> mshape = voxel_shape(shape);
        if (in.ConsumeBool()) mshape.insert(mshape.begin() + 1, 1);
        Tensor &mask = make_tensor(all, in, mshape, dtype_of(in.PickValueInArray({0, 6, 7, 4})), -1);
        p.loss_mask = &mask.dl;
    }

    if (entry == 4) {  // the region stages, each on the previous one's output
        const int64_t N = shape[0];
        Tensor &stats = make_tensor(all, in, {N, C, SEGLOSS_REGION_NUM_STATS}, dtype_of(in.ConsumeIntegralInRange(0, 4) == 0 ? 0 : 3));
        stats.output = true;
        Tensor &value = make_tensor(all, in, {1}, dtype_of(3));
        value.output = true;
        Tensor &coef = make_tensor(all, in, {N, C, SEGLOSS_REGION_NUM_COEFS}, dtype_of(0));
        coef.output = true;
        Tensor &grad = make_tensor(all, in, shape, dtype_of(0));
        grad.output = true;
        snapshot(all);
        status = segloss_region_stats(ctx, &p, &logits.dl, &target.dl, &stats.dl);
        if (status == SEGLOSS_STATUS_OK) status = segloss_region_epilogue(ctx, &p, &stats.dl, &value.dl, &coef.dl, 1.0f);
        if (status == SEGLOSS_STATUS_OK) status = segloss_region_grad(ctx, &p, &logits.dl, &target.dl, &coef.dl, &grad.dl);
        if (status == SEGLOSS_STATUS_OK) check_contract(all, status, ctx);  // a later stage's failure follows writes
        return 0;
    }

    // Outputs: the value (a scalar, or a per-voxel or per-class map), and maybe a gradient that
    // is compact, strided, half precision, or the logits' own memory.
    std::vector<int64_t> vshape{1};
    const int vpick = in.ConsumeIntegralInRange(0, 4);
    if (vpick == 1) vshape = voxel_shape(shape);
    if (vpick == 2) vshape = {shape[0], C};
    if (vpick == 3) vshape = {};
    Tensor &value = make_tensor(all, in, vshape, dtype_of(in.PickValueInArray({0, 3, 3, 4})));
    value.output = true;
    DLTensor *grad = nullptr;
    const int gpick = in.ConsumeIntegralInRange(0, 6);
    if (gpick >= 1 && gpick <= 4) {
        Tensor &g = make_tensor(all, in, shape, dtype_of(in.PickValueInArray({0, 0, 1, 2, 3})));
        g.output = true;
        grad = &g.dl;
    } else if (gpick == 5) {
        grad = &logits.dl;  // aliases an input: INVALID_ARGUMENT
    } else if (gpick == 6) {
        grad = &value.dl;  // aliases the value
    }
    const float grad_scale = in.ConsumeBool() ? 1.0f : option_value(in);
    snapshot(all);
    status = segloss_loss_compute(ctx, &p, &logits.dl, &target.dl, &value.dl, grad, grad_scale);
    if (status == SEGLOSS_STATUS_OK && gpick == 5) {
        std::fprintf(stderr, "a gradient over the logits' memory was accepted\n");
        std::abort();
    }
    if (gpick == 5) logits.output = true;  // refused above; compared as an output below
    check_contract(all, status, ctx);
    return 0;
}
