// SPDX-License-Identifier: Apache-2.0
// segloss C++ API: RAII and exceptions over the C ABI (header-only; the ABI stays C).
#pragma once

#include <memory>
#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

#include "segloss/segloss.h"

namespace segloss {

// Thrown for every status other than SEGLOSS_STATUS_OK.
class Error : public std::runtime_error {
public:
    Error(segloss_status_t status, const std::string &message)
        : std::runtime_error(std::string(segloss_status_string(status)) + ": " + message), status_(status) {}
    segloss_status_t status() const noexcept { return status_; }

private:
    segloss_status_t status_;
};

inline void check(segloss_status_t s, const char *message = "") {
    if (s != SEGLOSS_STATUS_OK) throw Error(s, message);
}

// Loss options with LOSSES.md's defaults; setters chain.
class LossParams {
public:
    explicit LossParams(segloss_loss_kind_t loss = SEGLOSS_LOSS_CE) { check(segloss_loss_params_init(&p_, loss)); }
    explicit LossParams(const std::string &name) {
        segloss_loss_kind_t k;
        if (segloss_loss_from_name(name.c_str(), &k) != SEGLOSS_STATUS_OK) {
            throw Error(SEGLOSS_STATUS_INVALID_ARGUMENT, "unknown loss '" + name + "'");
        }
        check(segloss_loss_params_init(&p_, k));
    }
    LossParams &activation(segloss_activation_t a) { p_.activation = a; return *this; }
    LossParams &include_background(bool b) { p_.include_background = b; return *this; }
    LossParams &batch(bool b) { p_.batch = b; return *this; }
    LossParams &reduction(segloss_reduction_t r) { p_.reduction = r; return *this; }
    LossParams &weight(std::vector<float> w) {
        weight_ = std::move(w);
        p_.weight = weight_.empty() ? nullptr : weight_.data();
        p_.num_weights = static_cast<int64_t>(weight_.size());
        return *this;
    }
    LossParams &ignore_index(int64_t i) { p_.has_ignore_index = 1; p_.ignore_index = i; return *this; }
    LossParams &smooth(float nr, float dr) { p_.smooth_nr = nr; p_.smooth_dr = dr; return *this; }
    LossParams &squared_pred(bool b) { p_.squared_pred = b; return *this; }
    LossParams &check_finite(bool b) { p_.check_finite = b; return *this; }
    LossParams &empty(segloss_empty_t e) { p_.empty = e; return *this; }
    LossParams &alpha(float a) { p_.alpha = a; return *this; }
    LossParams &beta(float b) { p_.beta = b; return *this; }
    LossParams &gamma(float g) { p_.gamma = g; return *this; }
    LossParams &b(float b) { p_.b = b; return *this; }
    LossParams &r(float r) { p_.r = r; return *this; }
    LossParams &k(float k) { p_.k = k; return *this; }
    LossParams &w_type(segloss_gd_weight_t w) { p_.w_type = w; return *this; }
    LossParams &weight_norm(segloss_weight_norm_t w) { p_.weight_norm = w; return *this; }
    LossParams &class_weights(segloss_class_weights_t w) { p_.class_weights = w; return *this; }
    LossParams &label_smoothing(float e) { p_.label_smoothing = e; return *this; }
    LossParams &check_inputs(bool b) { p_.check_inputs = b; return *this; }
    // focal: alpha as a scalar, or one per class.
    LossParams &focal_alpha(float a) { p_.has_alpha = 1; p_.alpha = a; return class_alpha_({}); }
    LossParams &focal_alpha(std::vector<float> a) { p_.has_alpha = 1; return class_alpha_(std::move(a)); }

    // Compound losses: the options of each part (copied) and the lambdas.
    LossParams &region_part(const LossParams &part) { return part_(region_part_, part, p_.region_part); }
    LossParams &pointwise_part(const LossParams &part) { return part_(pointwise_part_, part, p_.pointwise_part); }
    LossParams &lambdas(float region, float pointwise) {
        p_.lambda_region = region;
        p_.lambda_pointwise = pointwise;
        return *this;
    }
    // The parts set so far (nullptr before region_part() / pointwise_part()), to change in place.
    LossParams *region_part_params() { return region_part_.get(); }
    LossParams *pointwise_part_params() { return pointwise_part_.get(); }
    const LossParams *region_part_params() const { return region_part_.get(); }
    const LossParams *pointwise_part_params() const { return pointwise_part_.get(); }
    LossParams &gamma_d(float g) { p_.gamma_d = g; return *this; }
    // topk: percent mode keeps k percent of the voxels, threshold mode those with p_y < t.
    LossParams &topk_percent(float k) { p_.topk_mode = SEGLOSS_TOPK_PERCENT; p_.k = k; return *this; }
    LossParams &topk_threshold(float t) { p_.topk_mode = SEGLOSS_TOPK_THRESHOLD; p_.t = t; return *this; }
    // Voxel weights in [0, 1] (segloss.h). The descriptor is not copied: it (and its shape
    // array) must outlive every call with these params; nullptr removes the mask.
    LossParams &loss_mask(const DLTensor *mask) { p_.loss_mask = mask; return *this; }
    LossParams &gamma_ce(float g) { p_.gamma_ce = g; return *this; }
    // Boundary-based losses: the voxel size per spatial axis (D, H, W), copied; empty: all 1.
    LossParams &spacing(std::vector<double> s) {
        spacing_ = std::move(s);
        p_.spacing = spacing_.empty() ? nullptr : spacing_.data();
        p_.num_spacing = static_cast<int64_t>(spacing_.size());
        return *this;
    }
    LossParams &hd_variant(segloss_hd_variant_t v) { p_.hd_variant = v; return *this; }
    // A precomputed target map (segloss.h); not copied, as loss_mask.
    LossParams &target_distance(const DLTensor *map) { p_.target_distance = map; return *this; }

    LossParams(const LossParams &o) : p_(o.p_) { copy_owned(o); }
    LossParams &operator=(const LossParams &o) {
        p_ = o.p_;
        return copy_owned(o);
    }

    const segloss_loss_params_t *get() const { return &p_; }
    segloss_loss_params_t *get() { return &p_; }

private:
    LossParams &part_(std::shared_ptr<LossParams> &slot, const LossParams &part,
                      const segloss_loss_params_t *&field) {
        slot = std::make_shared<LossParams>(part);
        field = slot->get();
        return *this;
    }
    // Re-points the params at this object's own copies of the arrays and parts.
    LossParams &copy_owned(const LossParams &o) {
        weight(o.weight_).class_alpha_(o.class_alpha_storage_).spacing(o.spacing_);
        if (o.region_part_) part_(region_part_, *o.region_part_, p_.region_part);
        if (o.pointwise_part_) part_(pointwise_part_, *o.pointwise_part_, p_.pointwise_part);
        return *this;
    }
    LossParams &class_alpha_(std::vector<float> a) {
        class_alpha_storage_ = std::move(a);
        p_.class_alpha = class_alpha_storage_.empty() ? nullptr : class_alpha_storage_.data();
        p_.num_class_alpha = static_cast<int64_t>(class_alpha_storage_.size());
        return *this;
    }
    segloss_loss_params_t p_{};
    std::vector<float> weight_, class_alpha_storage_;
    std::vector<double> spacing_;
    std::shared_ptr<LossParams> region_part_, pointwise_part_;
};

// Owns a segloss_context_t. Not copyable; one thread at a time.
class Context {
public:
    Context() { check(segloss_context_create(&ctx_), "cannot create a context"); }
    ~Context() { segloss_context_destroy(ctx_); }
    Context(const Context &) = delete;
    Context &operator=(const Context &) = delete;
    Context(Context &&o) noexcept : ctx_(std::exchange(o.ctx_, nullptr)) {}

    // Binds the context to a GPU and its stream, as segloss_context_set_stream ({kDLCPU, 0}
    // unbinds).
    void set_stream(DLDevice device, void *stream) { raise(segloss_context_set_stream(ctx_, device, stream)); }
    // Runs the CPU kernels of calls on this context on the caller's pool, as
    // segloss_context_set_thread_pool (nullptr: segloss's own pool).
    void set_thread_pool(segloss_parallel_for_fn parallel_for, void *pool) {
        raise(segloss_context_set_thread_pool(ctx_, parallel_for, pool));
    }
    // Loss value (and gradient when grad != nullptr) as segloss_loss_compute.
    void compute(const LossParams &params, const DLTensor &logits, const DLTensor &target, DLTensor &value,
                 DLTensor *grad = nullptr, float grad_scale = 1.0f) {
        raise(segloss_loss_compute(ctx_, params.get(), &logits, &target, &value, grad, grad_scale));
    }
    // Distance maps (and each mask's segloss_mask_flag_t when flags != nullptr) as
    // segloss_distance_compute.
    void distance(const segloss_distance_params_t &params, const DLTensor &source, DLTensor &distance,
                  DLTensor *flags = nullptr) {
        raise(segloss_distance_compute(ctx_, &params, &source, &distance, flags));
    }
    // Evaluation metrics (values: float64 N,C',SEGLOSS_NUM_METRICS; cases: int32 N,C') as
    // segloss_metrics_compute.
    void metrics(const segloss_metric_params_t &params, const DLTensor &prediction, const DLTensor &target,
                 DLTensor &values, DLTensor *cases = nullptr) {
        raise(segloss_metrics_compute(ctx_, &params, &prediction, &target, &values, cases));
    }
    void region_stats(const LossParams &p, const DLTensor &logits, const DLTensor &target, DLTensor &stats) {
        raise(segloss_region_stats(ctx_, p.get(), &logits, &target, &stats));
    }
    void region_epilogue(const LossParams &p, const DLTensor &stats, DLTensor &value, DLTensor *coef,
                         float grad_scale = 1.0f) {
        raise(segloss_region_epilogue(ctx_, p.get(), &stats, &value, coef, grad_scale));
    }
    void region_grad(const LossParams &p, const DLTensor &logits, const DLTensor &target, const DLTensor &coef,
                     DLTensor &grad) {
        raise(segloss_region_grad(ctx_, p.get(), &logits, &target, &coef, &grad));
    }

    std::string last_kernel() const { return segloss_last_kernel(ctx_); }
    segloss_context_t get() const { return ctx_; }

private:
    void raise(segloss_status_t s) {
        if (s != SEGLOSS_STATUS_OK) throw Error(s, segloss_last_error(ctx_));
    }
    segloss_context_t ctx_ = nullptr;
};

}  // namespace segloss
