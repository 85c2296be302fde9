// SPDX-License-Identifier: Apache-2.0
#include "topk.h"

#include <algorithm>
#include <climits>
#include <cmath>
#include <cstring>
#include <limits>

#include "HalideRuntime.h"
#include "../../generators/common/topk_state.h"
#include "../src/failure.h"
#include "../src/registry.h"

namespace segloss::rt {
namespace {

constexpr int kBins = 1 << 16;

// The bits of a key, with -0 (-log 1 of the identity activation) as +0: both compare equal in
// the kernels, so they must fall in the same bin here.
uint32_t bits_of(float f) {
    uint32_t b;
    std::memcpy(&b, &f, sizeof(b));
    return b == 0x80000000u ? 0u : b;
}

bool is_nan_bits(uint32_t b) { return (b & 0x7f800000u) == 0x7f800000u && (b & 0x007fffffu) != 0; }

// Walks bins from the top until the next one would reach `wanted`: adds the skipped bins to
// above / above_sum and returns the bin that holds the cut.
int bin_of_cut(const std::vector<int64_t> &count, const std::vector<double> &sum, int64_t wanted, int64_t &above,
               double &above_sum) {
    int b = kBins - 1;
    for (; b > 0 && above + count[b] < wanted; b--) {
        above += count[b];
        above_sum += sum[b];
    }
    return b;
}

// Bin counts and float64 bin sums of the keys, filled in parallel over chunks whose bounds depend
// on n only (not on the thread count) and merged in chunk order: the sums, and so the loss, are
// the same for any number of threads. Keys that are NaN are counted apart; negative keys (the
// -1 marks) are skipped. top < 0: bins of the top 16 bits; else: bins of the low 16 bits of the
// keys whose top 16 bits are `top`.
struct Histogram {
    std::vector<int64_t> count = std::vector<int64_t>(kBins, 0);
    std::vector<double> sum = std::vector<double>(kBins, 0.0);
    int64_t nonfinite = 0;
};

struct HistogramTask {
    const float *keys;
    int64_t n, chunk;
    int top;
    std::vector<Histogram> *parts;
};

int histogram_chunk(void *, int i, uint8_t *closure) {
    const HistogramTask &t = *reinterpret_cast<const HistogramTask *>(closure);
    Histogram &h = (*t.parts)[static_cast<size_t>(i)];
    const int64_t end = std::min(t.n, (i + 1) * t.chunk);
    for (int64_t j = i * t.chunk; j < end; j++) {
        const uint32_t b = bits_of(t.keys[j]);
        if (is_nan_bits(b)) {
            h.nonfinite++;
        } else if (!(b >> 31) && (t.top < 0 || int(b >> 16) == t.top)) {
            const uint32_t bin = t.top < 0 ? b >> 16 : b & 0xffffu;
            h.count[bin]++;
            h.sum[bin] += t.keys[j];
        }
    }
    return 0;
}

Histogram histogram(const float *keys, int64_t n, int top) {
    const int64_t chunks = std::clamp<int64_t>((n + (1 << 20) - 1) >> 20, 1, 16);
    HistogramTask t{keys, n, (n + chunks - 1) / chunks, top, nullptr};
    std::vector<Histogram> parts(static_cast<size_t>(chunks));
    t.parts = &parts;
    // Through Halide's pool (and the context's thread count): the chunk function cannot fail.
    (void)halide_do_par_for(nullptr, histogram_chunk, 0, static_cast<int>(chunks), reinterpret_cast<uint8_t *>(&t));
    Histogram h = std::move(parts[0]);
    for (size_t i = 1; i < parts.size(); i++) {
        for (int b = 0; b < kBins; b++) {
            h.count[b] += parts[i].count[b];
            h.sum[b] += parts[i].sum[b];
        }
        h.nonfinite += parts[i].nonfinite;
    }
    return h;
}

}  // namespace

SelectionArgs select_all(const Problem &pb) { return {pb.zero_keys_view(), -1.0f, 0}; }

TopkCut find_topk_cut(const float *keys, int64_t n, segloss_topk_mode_t mode, double k_percent) {
    // Non-negative floats order as their bits do: a radix select on the top 16 bits, then on
    // the low 16 bits inside the bin of the cut, then the ties in index order.
    TopkCut c;
    const Histogram top = histogram(keys, n, -1);
    const std::vector<int64_t> &count = top.count;
    const std::vector<double> &sum = top.sum;
    c.nonfinite = top.nonfinite;
    for (int b = 0; b < kBins; b++) c.candidates += count[b];
    if (mode == SEGLOSS_TOPK_THRESHOLD) {
        c.selected = c.candidates;
        for (int b = kBins - 1; b >= 0; b--) c.sum += sum[b];
        c.cut_value = -0.5f;  // every candidate (keys >= 0), none of the -1 marks
        return c;
    }
    if (c.candidates == 0) {
        c.cut_value = std::numeric_limits<float>::infinity();  // nothing selected
        return c;
    }
    const int64_t K = std::max<int64_t>(1, static_cast<int64_t>(std::floor(double(c.candidates) * k_percent / 100.0)));
    c.selected = K;
    int64_t above = 0;
    double above_sum = 0;
    const int hi = bin_of_cut(count, sum, K, above, above_sum);

    const Histogram low = histogram(keys, n, hi);
    const std::vector<int64_t> &low_count = low.count;
    const std::vector<double> &low_sum = low.sum;
    const int lo = bin_of_cut(low_count, low_sum, K, above, above_sum);
    const uint32_t cut_bits = (uint32_t(hi) << 16) | uint32_t(lo);
    std::memcpy(&c.cut_value, &cut_bits, sizeof(cut_bits));

    // The keys equal to the cut: the first `ties` of them in index order.
    const int64_t ties = K - above;
    c.cut_index = n;
    if (ties < low_count[lo]) {
        int64_t seen = 0;
        for (int64_t i = 0; i < n; i++) {
            if (bits_of(keys[i]) == cut_bits && ++seen == ties) {
                c.cut_index = i + 1;
                break;
            }
        }
    }
    c.sum = above_sum + double(ties) * c.cut_value;
    return c;
}

SelectionArgs TopkSelection::args(const Problem &pb) {
    if (device_keys.ndim) return {HalideView(device_keys, pb.voxel_axes(0)), cut.cut_value, static_cast<int>(cut.cut_index)};
    return {HalideView::per_image(keys, pb.voxel_extents()), cut.cut_value, static_cast<int>(cut.cut_index)};
}

// The device select's buffers (host-backed views whose data stay on the device).
struct DeviceCut {
    std::vector<int32_t> zero_state = std::vector<int32_t>(abi::kTopkStateSize, 0);
    std::vector<int32_t> hist = std::vector<int32_t>(abi::kTopkHistSize, 0);
    std::vector<int32_t> state[3];
    double norm = 0;
    float scale = 0;
    HalideView zero_v, hist_v, state_v[3], norm_v, scale_v;
    Tensor keys;  // the key pass's (the voxels' losses), before marking
    DeviceCut() {
        zero_v = HalideView::dense(zero_state.data(), {abi::kTopkStateSize});
        zero_v.get()->set_host_dirty();
        hist_v = HalideView::dense(hist.data(), {abi::kTopkHistSize});
        for (int i = 0; i < 3; i++) {
            state[i].assign(abi::kTopkStateSize, 0);
            state_v[i] = HalideView::dense(state[i].data(), {abi::kTopkStateSize});
        }
        norm_v = HalideView::dense(&norm, {1});
        scale_v = HalideView::dense(&scale, {1});
    }
    DeviceCut(const DeviceCut &) = delete;
    DeviceCut &operator=(const DeviceCut &) = delete;
};

halide_buffer_t *TopkSelection::norm() const { return device_cut->norm_v.get(); }
halide_buffer_t *TopkSelection::norm_scale() const { return device_cut->scale_v.get(); }

void TopkSelection::scale_part_weights(Call &call, const PointwiseArgs &a, halide_buffer_t *pos, halide_buffer_t *neg,
                                       halide_buffer_t *weights) const {
    HalideView ap = HalideView::dense(const_cast<float *>(a.alpha_pos.data()), {static_cast<int>(a.alpha_pos.size())});
    HalideView an = HalideView::dense(const_cast<float *>(a.alpha_neg.data()), {static_cast<int>(a.alpha_neg.size())});
    ap.get()->set_host_dirty();
    an.get()->set_host_dirty();
    Kernel k = find_kernel(Stage::topk_part_weights, Act::identity, TargetKind::f32, call.api());
    call.run(k.name, k.as<TopkPartWeightsFn>(), weights ? weights : ap.get(), weights ? weights : an.get(),
             device_cut->scale_v.get(), pos, neg);
}

void TopkSelection::part_total(Call &call, const Problem &pb, double lambda, halide_buffer_t *base,
                               halide_buffer_t *total) const {
    HalideView keys(device_cut->keys, pb.voxel_axes(0));
    Kernel k = find_kernel(Stage::topk_part_total, Act::identity, TargetKind::f32, call.api());
    call.run(k.name, k.as<TopkPartTotalFn>(), keys.get(), device_cut->state_v[2].get(), device_cut->norm_v.get(),
             lambda, base, total);
}

namespace {

// The key pass: every voxel's loss (-1 where it cannot be selected) into s.keys, or on a device
// call into device scratch (s.device_keys), copied back to s.keys when `copy_back`.
void key_pass(Call &call, const Problem &pb, const segloss_loss_params_t &topk, const PointwiseArgs &a,
              TopkSelection &s, bool copy_back, halide_buffer_t *weights = nullptr) {
    // The kernels' linear voxel index is 32-bit.
    if (pb.voxels > INT32_MAX) {
        fail(SEGLOSS_STATUS_TOO_LARGE, "topk selects among at most 2^31 - 1 voxels per call (", pb.voxels,
             "); split the batch");
    }
    const bool device = call.api() != GpuApi::none;
    if (!device || copy_back) s.keys = call.scratch(Scratch::keys, static_cast<size_t>(pb.voxels));
    HalideView host_keys = HalideView::per_image(s.keys, pb.voxel_extents()), keys;
    if (device) {
        Tensor t = pb.logits;  // N,spatial on the logits' device
        t.what = "topk keys";
        t.ndim = 1 + pb.spatial_rank;
        for (int i = 0; i < pb.spatial_rank; i++) t.shape[1 + i] = pb.logits.shape[2 + i];
        t.numel = pb.voxels;
        s.device_keys = float_scratch(call, t, Scratch::keys);
        keys = HalideView(s.device_keys, pb.voxel_axes(0));
    }
    halide_buffer_t *keys_out = s.device_keys.ndim ? keys.get() : host_keys.get();
    HalideView logits = pb.logits_view(), target = pb.target_view(), mask = pb.mask_view();
    HalideView ap = HalideView::dense(const_cast<float *>(a.alpha_pos.data()), {int(pb.C)});
    HalideView an = HalideView::dense(const_cast<float *>(a.alpha_neg.data()), {int(pb.C)});
    SelectionArgs all = select_all(pb);
    // Threshold mode: p < t is -log p > -log t; the key pass marks the others -1.
    const bool threshold = topk.topk_mode == SEGLOSS_TOPK_THRESHOLD;
    const float key_threshold = threshold ? static_cast<float>(-std::log(static_cast<double>(topk.t))) : -1.0f;
    ap.get()->set_host_dirty();
    an.get()->set_host_dirty();
    halide_buffer_t *alpha_pos = weights ? weights : ap.get(), *alpha_neg = weights ? weights : an.get();
    Kernel k = find_kernel(Stage::pointwise_map, pb.act, pb.kind, call.api());
    call.run(k.name, k.as<PointwiseMapFn>(), logits.get(), target.get(), pb.has_ignore, pb.ignore_index, mask.get(),
             alpha_pos, alpha_neg, a.gamma, a.log_power, a.smoothing, 1.0f, all.key.get(), all.cut_value,
             all.cut_index, key_threshold, -1.0f, keys_out);
    if (s.device_keys.ndim && copy_back) call.copy_to_host(keys.get(), host_keys.get());  // the call waits here
}

}  // namespace

TopkSelection select_topk(Call &call, const Problem &pb, const segloss_loss_params_t &topk, const PointwiseArgs &a) {
    TopkSelection s;
    key_pass(call, pb, topk, a, s, true);
    s.cut = find_topk_cut(s.keys, pb.voxels, topk.topk_mode, topk.k);
    return s;
}

TopkSelection select_topk_on_device(Call &call, const Problem &pb, const segloss_loss_params_t &topk,
                                    const PointwiseArgs &a, halide_buffer_t *label_norm, halide_buffer_t *weights) {
    TopkSelection s;
    key_pass(call, pb, topk, a, s, false, weights);
    auto d = std::make_shared<DeviceCut>();
    const GpuApi api = call.api();
    HalideView keys(s.device_keys, pb.voxel_axes(0));
    const int threshold = topk.topk_mode == SEGLOSS_TOPK_THRESHOLD ? 1 : 0, V = static_cast<int>(pb.voxels);
    Kernel hist = find_kernel(Stage::topk_hist, Act::identity, TargetKind::f32, api);
    Kernel cut = find_kernel(Stage::topk_cut, Act::identity, TargetKind::f32, api);
    // The top 16 bits' bin of the cut, then its low 16 bits, then the index of its last tie.
    call.run(hist.name, hist.as<TopkHistFn>(), keys.get(), d->zero_v.get(), 0, d->hist_v.get());
    call.run(cut.name, cut.as<TopkCutFn>(), d->hist_v.get(), d->zero_v.get(), 0, threshold, double(topk.k), V,
             d->state_v[0].get());
    call.run(hist.name, hist.as<TopkHistFn>(), keys.get(), d->state_v[0].get(), 1, d->hist_v.get());
    call.run(cut.name, cut.as<TopkCutFn>(), d->hist_v.get(), d->state_v[0].get(), 1, threshold, double(topk.k), V,
             d->state_v[1].get());
    Kernel tie = find_kernel(Stage::topk_tie, Act::identity, TargetKind::f32, api);
    call.run(tie.name, tie.as<TopkTieFn>(), keys.get(), d->state_v[1].get(), d->state_v[2].get());
    // The selected voxels marked 1 (in new scratch), the passes' cut 0.5.
    Tensor marked = float_scratch(call, s.device_keys, Scratch::keys);
    HalideView marked_v(marked, pb.voxel_axes(0));
    Kernel mark = find_kernel(Stage::topk_mark, Act::identity, TargetKind::f32, api);
    const int mean = topk.reduction == SEGLOSS_REDUCTION_MEAN ? 1 : 0;
    call.run(mark.name, mark.as<TopkMarkFn>(), keys.get(), d->state_v[2].get(), label_norm, mean, marked_v.get(),
             d->norm_v.get(), d->scale_v.get());
    d->keys = s.device_keys;
    s.device_keys = marked;
    s.cut.cut_value = 0.5f;
    s.cut.cut_index = 0;
    s.device_cut = d;
    return s;
}

}  // namespace segloss::rt
