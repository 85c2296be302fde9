// SPDX-License-Identifier: Apache-2.0
// Metrics: one host pass over both label maps validates them, counts |P|, |T| and |P and T| per
// (n, class) and writes int32 copies with the target's ignored voxels in no mask; the distance
// kernel maps each class's distance to the other mask's surface (0 exactly on a mask's own
// surface); a host pass per (n, class) gathers the two directed distance sets from the maps:
// at the surface voxels of P (where P's map is 0) the distances to T's surface, and back.
#include "metrics.h"

#include <algorithm>
#include <array>
#include <climits>
#include <cmath>
#include <limits>
#include <vector>

#include "../../generators/common/abi.h"
#include "../src/failure.h"
#include "../src/problem.h"
#include "distance.h"

namespace segloss::rt {
namespace {

constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();
constexpr double kInf = std::numeric_limits<double>::infinity();

void check_metric_params(const segloss_metric_params_t *p) {
    if (!p) fail(SEGLOSS_STATUS_INVALID_ARGUMENT, "params is NULL");
    if (p->struct_size != sizeof(segloss_metric_params_t)) {
        fail(SEGLOSS_STATUS_INVALID_ARGUMENT, "params.struct_size is ", p->struct_size, ", expected ",
             sizeof(segloss_metric_params_t), " (call segloss_metric_params_init)");
    }
    if (p->num_classes < 1 || p->num_classes > INT32_MAX) {
        fail(SEGLOSS_STATUS_INVALID_ARGUMENT, "num_classes ", p->num_classes, " must be in [1, 2^31)");
    }
    if (!p->include_background && p->num_classes < 2) {
        fail(SEGLOSS_STATUS_INVALID_ARGUMENT, "include_background=0 leaves no class of ", p->num_classes);
    }
    if (!(std::isfinite(p->tolerance) && p->tolerance >= 0)) {
        fail(SEGLOSS_STATUS_INVALID_ARGUMENT, "tolerance ", p->tolerance, " must be finite and >= 0");
    }
    if (!(p->percentile >= 0 && p->percentile <= 100)) {
        fail(SEGLOSS_STATUS_INVALID_ARGUMENT, "percentile ", p->percentile, " must be in [0, 100]");
    }
    if (p->spatial_rank < 0 || p->spatial_rank > 3) {
        fail(SEGLOSS_STATUS_INVALID_ARGUMENT, "spatial_rank ", p->spatial_rank, " must be 0 (from the shape) or 1 to 3");
    }
}

// An integer label map N,spatial (or N,1,spatial with an explicit rank); returns its spatial rank.
int read_label_map(const Tensor &t, int rank) {
    if (!is_dtype(t, kDLInt, 32) && !is_dtype(t, kDLInt, 64) && !is_dtype(t, kDLUInt, 8)) {
        fail(SEGLOSS_STATUS_UNSUPPORTED, t.what, " must be an int32, int64 or uint8 label map, got ", dtype_name(t.dtype));
    }
    if (rank == 0) rank = t.ndim - 1;
    const bool channel = t.ndim == rank + 2;
    if (rank < 1 || rank > 3 || (t.ndim != rank + 1 && !channel) || (channel && t.shape[1] != 1)) {
        fail(SEGLOSS_STATUS_INVALID_SHAPE, t.what, " must be N,spatial (1 to 3 spatial axes)",
             rank ? " or N,1,spatial" : "", "; got ", t.ndim, " dimensions");
    }
    return rank;
}

// Calls f(i, label) for every element of a tensor of T in row-major order.
template <typename T, typename F>
void for_each_element(const Tensor &t, F &f) {
    const T *data = reinterpret_cast<const T *>(t.data);
    int64_t idx[kMaxRank] = {}, off = 0;
    for (int64_t i = 0; i < t.numel; i++) {
        f(i, static_cast<int64_t>(data[off]));
        for (int d = t.ndim - 1; d >= 0; d--) {  // odometer
            off += t.strides[d];
            if (++idx[d] < t.shape[d]) break;
            off -= t.strides[d] * t.shape[d];
            idx[d] = 0;
        }
    }
}

// The same for an int32, int64 or uint8 label map (the dtype dispatched once).
template <typename F>
void for_each_label(const Tensor &t, F f) {
    if (is_dtype(t, kDLInt, 32)) for_each_element<int32_t>(t, f);
    else if (is_dtype(t, kDLInt, 64)) for_each_element<int64_t>(t, f);
    else for_each_element<uint8_t>(t, f);
}

// The labels as the distance kernel reads them (int32, -1 = in no mask) and the overlap counts
// per (n, class).
struct Labels {
    std::vector<int32_t> pred, target;
    std::vector<int64_t> P, T, I;  // (n, c), c fastest
};

Labels read_labels(const Tensor &pred, const Tensor &target, const segloss_metric_params_t &p, int64_t N) {
    const int64_t C = p.num_classes, V = target.numel / N;
    Labels l;
    l.target.resize(static_cast<size_t>(target.numel));
    l.pred.resize(static_cast<size_t>(pred.numel));
    l.P.assign(static_cast<size_t>(N * C), 0);
    l.T = l.I = l.P;
    int64_t bad_target = 0, bad_pred = 0;
    for_each_label(target, [&](int64_t i, int64_t v) {
        if (p.has_ignore_index && v == p.ignore_index) v = -1;
        else if (v < 0 || v >= C) bad_target++, v = -1;
        l.target[i] = static_cast<int32_t>(v);
    });
    if (bad_target > 0) {
        fail(SEGLOSS_STATUS_INVALID_LABEL, bad_target, " target labels are outside [0, ", C, ")",
             p.has_ignore_index ? " and are not ignore_index" : "");
    }
    int64_t n = -1, image_end = 0;  // the image of element i, without a division per element
    for_each_label(pred, [&](int64_t i, int64_t v) {
        if (v < 0 || v >= C) bad_pred++;
        const int32_t t = l.target[i];
        const int32_t c = v < 0 || v >= C || t < 0 ? -1 : static_cast<int32_t>(v);
        l.pred[i] = c;
        if (i == image_end) n++, image_end += V;
        if (c >= 0) l.P[n * C + c]++;
        if (t >= 0) l.T[n * C + t]++;
        if (c >= 0 && c == t) l.I[n * C + c]++;
    });
    if (bad_pred > 0) fail(SEGLOSS_STATUS_INVALID_LABEL, bad_pred, " predicted labels are outside [0, ", C, ")");
    return l;
}

// Linear interpolation between order statistics (numpy's default percentile); reorders d.
double percentile(std::vector<float> &d, double q) {
    const double pos = q / 100.0 * static_cast<double>(d.size() - 1);
    const size_t lo = static_cast<size_t>(std::floor(pos));
    std::nth_element(d.begin(), d.begin() + static_cast<std::ptrdiff_t>(lo), d.end());
    const double v_lo = d[lo];
    if (lo + 1 >= d.size() || pos == static_cast<double>(lo)) return v_lo;
    const double v_hi = *std::min_element(d.begin() + static_cast<std::ptrdiff_t>(lo) + 1, d.end());
    return v_lo + (pos - static_cast<double>(lo)) * (v_hi - v_lo);
}

struct Directed {
    double max = 0, quantile = 0, sum = 0;
    int64_t within = 0, count = 0;
};

Directed summarize(std::vector<float> &d, const segloss_metric_params_t &p) {
    Directed s;
    s.count = static_cast<int64_t>(d.size());
    for (float v : d) {
        s.max = std::max(s.max, double(v));
        s.sum += v;
        s.within += double(v) <= p.tolerance ? 1 : 0;
    }
    s.quantile = percentile(d, p.percentile);
    return s;
}

// The metrics of one (n, class) in segloss_metric_t order.
std::array<double, SEGLOSS_NUM_METRICS> metrics_of(int64_t P, int64_t T, int64_t I, const float *dp, const float *dt,
                                                   int64_t V, const segloss_metric_params_t &p,
                                                   segloss_metric_case_t &mcase) {
    std::array<double, SEGLOSS_NUM_METRICS> m;
    mcase = P == 0 && T == 0 ? SEGLOSS_METRIC_BOTH_EMPTY
            : P == 0         ? SEGLOSS_METRIC_PRED_EMPTY
            : T == 0         ? SEGLOSS_METRIC_TARGET_EMPTY
                             : SEGLOSS_METRIC_BOTH_PRESENT;
    if (mcase == SEGLOSS_METRIC_BOTH_EMPTY) {
        m.fill(kNaN);
        return m;
    }
    if (mcase != SEGLOSS_METRIC_BOTH_PRESENT) {
        m.fill(kInf);
        m[SEGLOSS_METRIC_DICE] = m[SEGLOSS_METRIC_IOU] = m[SEGLOSS_METRIC_NSD] = 0;
        return m;
    }
    m[SEGLOSS_METRIC_DICE] = 2.0 * double(I) / double(P + T);
    m[SEGLOSS_METRIC_IOU] = double(I) / double(P + T - I);
    // Each map is exactly 0 on its own mask's surface and > 0 elsewhere.
    std::vector<float> p_to_t, t_to_p;
    for (int64_t i = 0; i < V; i++) {
        if (dp[i] == 0.0f) p_to_t.push_back(dt[i]);
        if (dt[i] == 0.0f) t_to_p.push_back(dp[i]);
    }
    const Directed a = summarize(p_to_t, p), b = summarize(t_to_p, p);
    const double surface = double(a.count + b.count);
    m[SEGLOSS_METRIC_HD] = std::max(a.max, b.max);
    m[SEGLOSS_METRIC_HD95] = std::max(a.quantile, b.quantile);
    m[SEGLOSS_METRIC_ASSD] = (a.sum + b.sum) / surface;
    m[SEGLOSS_METRIC_NSD] = double(a.within + b.within) / surface;
    return m;
}

// A float64 or int32 output of shape N,C'[,slots], checked against the inputs.
Tensor read_output(const DLTensor *dl, const char *what, uint8_t code, int bits, std::vector<int64_t> shape,
                   const std::vector<const Tensor *> &inputs) {
    Tensor t = read_tensor(dl, what);
    require_distinct_elements(t);
    if (!is_dtype(t, code, bits)) fail(SEGLOSS_STATUS_UNSUPPORTED, what, " must be ", code == kDLFloat ? "float" : "int", bits);
    bool ok = t.ndim == static_cast<int>(shape.size());
    for (int d = 0; ok && d < t.ndim; d++) ok = t.shape[d] == shape[d];
    if (!ok) {
        fail(SEGLOSS_STATUS_INVALID_SHAPE, what, " must have shape [", shape[0], ", ", shape[1],
             shape.size() > 2 ? ", SEGLOSS_NUM_METRICS" : "", "]");
    }
    for (const Tensor *in : inputs) require_disjoint(t, *in);
    return t;
}

}  // namespace

void default_metric_params(segloss_metric_params_t &p) {
    p = segloss_metric_params_t{};
    p.struct_size = sizeof(segloss_metric_params_t);
    p.num_classes = 2;
    p.tolerance = 1.0;
    p.percentile = 95.0;
}

void run_metrics(Call &call, const segloss_metric_params_t *params, const DLTensor *pred_dl, const DLTensor *target_dl,
                 const DLTensor *values_dl, const DLTensor *cases_dl) {
    check_metric_params(params);
    const segloss_metric_params_t &p = *params;
    const Tensor pred = read_tensor(pred_dl, "prediction"), target = read_tensor(target_dl, "target");
    const int rank = read_label_map(target, p.spatial_rank);
    read_label_map(pred, p.spatial_rank);
    bool same = pred.ndim == target.ndim;
    for (int d = 0; same && d < pred.ndim; d++) same = pred.shape[d] == target.shape[d];
    if (!same) fail(SEGLOSS_STATUS_INVALID_SHAPE, "prediction and target must have the same shape");
    const int64_t N = target.shape[0], C = p.num_classes, first = p.include_background ? 0 : 1, K = C - first;
    const int64_t V = target.numel / N;
    const std::array<float, 3> spacing = read_spacing(p.spacing, p.num_spacing, rank);
    Tensor values = read_output(values_dl, "values", kDLFloat, 64, {N, K, SEGLOSS_NUM_METRICS}, {&pred, &target});
    Tensor cases;
    if (cases_dl) {
        cases = read_output(cases_dl, "cases", kDLInt, 32, {N, K}, {&pred, &target});
        require_disjoint(cases, values);
    }

    Labels l = read_labels(pred, target, p, N);
    DistanceRequest r;
    r.kind = TargetKind::i32;
    r.num_classes = static_cast<int>(C);
    r.first_class = static_cast<int>(first);
    r.has_ignore = 1;  // the copies mark "in no mask" with -1
    r.ignore_index = -1;
    r.spatial_rank = rank;
    r.spacing = spacing;
    r.map_kind = abi::kDistanceSurface;
    std::vector<int> extents(3, 1);
    for (int i = 0; i < rank; i++) extents[i] = static_cast<int>(target.shape[target.ndim - 1 - i]);
    extents.push_back(static_cast<int>(K));
    extents.push_back(static_cast<int>(N));
    const size_t map_size = static_cast<size_t>(K) * static_cast<size_t>(target.numel);
    float *maps[2] = {call.scratch(Scratch::prediction_distance, map_size), call.scratch(Scratch::target_distance, map_size)};
    std::vector<int32_t> *labels[2] = {&l.pred, &l.target};
    for (int i = 0; i < 2; i++) {
        r.source = compact_copy(target, labels[i]->data(), {kDLInt, 32, 1});
        HalideView out = HalideView::per_image(maps[i], extents);
        distance_maps(call, r, out.get());
    }

    for (int64_t n = 0; n < N; n++) {
        for (int64_t k = 0; k < K; k++) {
            const int64_t g = n * C + first + k;
            const size_t at = static_cast<size_t>((n * K + k) * V);
            segloss_metric_case_t mcase;
            const auto m = metrics_of(l.P[g], l.T[g], l.I[g], maps[0] + at, maps[1] + at, V, p, mcase);
            double *v = reinterpret_cast<double *>(values.data) + n * values.strides[0] + k * values.strides[1];
            for (int i = 0; i < SEGLOSS_NUM_METRICS; i++) v[i * values.strides[2]] = m[i];
            if (cases_dl) reinterpret_cast<int32_t *>(cases.data)[n * cases.strides[0] + k * cases.strides[1]] = mcase;
        }
    }
}

}  // namespace segloss::rt
