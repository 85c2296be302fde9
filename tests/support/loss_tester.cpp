// SPDX-License-Identifier: Apache-2.0
#include "loss_tester.h"

#include <algorithm>
#include <cmath>

#include <catch2/catch.hpp>

namespace segloss::test {

void require_close(double got, double want, double rel, const char *what) {
    INFO(what << ": got " << got << ", want " << want);
    if (std::isnan(want)) {
        REQUIRE(std::isnan(got));
        return;
    }
    REQUIRE(std::fabs(got - want) <= rel * std::fabs(want) + 1e-6);
}

void require_close_all(const std::vector<double> &got, const std::vector<double> &want, double rel,
                       const char *what, double abs) {
    REQUIRE(got.size() == want.size());
    double scale = 0;
    for (double w : want) scale = std::max(scale, std::fabs(w));
    size_t worst = 0;
    double worst_excess = -1;
    for (size_t i = 0; i < got.size(); i++) {
        const double tol = rel * (std::fabs(want[i]) + scale) + abs;
        const double excess = std::isnan(want[i]) ? (std::isnan(got[i]) ? -1 : 1) : std::fabs(got[i] - want[i]) - tol;
        if (!(excess <= worst_excess)) {
            worst_excess = std::isnan(excess) ? 1 : excess;
            worst = i;
        }
    }
    INFO(what << ": worst element " << worst << " got " << got[worst] << ", want " << want[worst]
              << " (max |want| " << scale << ")");
    REQUIRE(worst_excess <= 0);
}

// The loss mask, N,spatial (N,1,spatial for uint8), in the same layout as the other inputs.
void LossTester::make_mask(std::mt19937 &rng) {
    params_.loss_mask(nullptr);
    if (mask_kind_ == Mask::None) return;
    std::uniform_real_distribution<double> u01(0, 1);
    std::vector<int64_t> mshape = shape_;
    if (mask_kind_ == Mask::U8Channel) mshape[1] = 1;
    else mshape.erase(mshape.begin() + 1);
    const int64_t NV = case_.N * case_.V;
    for (int64_t i = 0; i < NV; i++) {
        double m = u01(rng) < mask_zero_fraction_ ? 0.0 : 1.0;
        // Fractional weights, float32-exact so that the reference sees what the kernel reads.
        if (m > 0 && mask_kind_ == Mask::Fractional) m = static_cast<float>(0.05 + 0.95 * u01(rng));
        case_.mask.push_back(m);
    }
    if (mask_kind_ == Mask::U8Channel) {
        mask_u8_ = HostTensor<uint8_t>(mshape, strided_, 99);
        for (int64_t i = 0; i < NV; i++) mask_u8_.flat(i) = case_.mask[i] > 0 ? 1 : 0;
        mask_dl_ = mask_u8_.dl();
    } else {
        mask_f32_ = HostTensor<float>(mshape, strided_, NAN);
        for (int64_t i = 0; i < NV; i++) mask_f32_.flat(i) = static_cast<float>(case_.mask[i]);
        mask_dl_ = mask_f32_.dl();
    }
    params_.loss_mask(&mask_dl_);
}

void LossTester::make_inputs() {
    std::mt19937 rng(seed_);
    const int64_t N = shape_[0], C = shape_[1];
    int64_t V = 1;
    for (size_t i = 2; i < shape_.size(); i++) V *= shape_[i];
    const int64_t X = shape_.back();
    case_ = ref::Case{};
    case_.N = N;
    case_.C = C;
    case_.V = V;
    const segloss_loss_params_t &p = *params_.get();

    // Logits in +-range; probabilities (a softmax of them) for activation=none.
    std::uniform_real_distribution<float> logit(-logit_range_, logit_range_);
    logits_ = HostTensor<float>(shape_, strided_, NAN);
    std::vector<float> xs(N * C * V);
    for (float &x : xs) x = logit(rng);
    if (p.activation == SEGLOSS_ACTIVATION_NONE) {
        for (int64_t n = 0; n < N; n++) {
            for (int64_t v = 0; v < V; v++) {
                double m = -1e30, s = 0;
                for (int64_t c = 0; c < C; c++) m = std::max(m, double(xs[(n * C + c) * V + v]));
                for (int64_t c = 0; c < C; c++) s += std::exp(xs[(n * C + c) * V + v] - m);
                for (int64_t c = 0; c < C; c++) {
                    float &x = xs[(n * C + c) * V + v];
                    x = std::max(1e-6f, float(std::exp(x - m) / s));
                }
            }
        }
    }

    // Labels: each image uses a random subset of the classes (so some are absent), plus a thin
    // one-voxel line of the last class along x in image 0, plus ignored voxels.
    std::vector<int64_t> labels(N * V);
    for (int64_t n = 0; n < N; n++) {
        std::vector<int64_t> present;
        for (int64_t c = 0; c < C; c++) {
            if (rng() % 3 != 0) present.push_back(c);
        }
        if (present.empty()) present.push_back(rng() % C);
        for (int64_t v = 0; v < V; v++) labels[n * V + v] = present[rng() % present.size()];
    }
    for (int64_t v = 0; v < std::min(X, V); v++) labels[v] = C - 1;
    if (perfect_) {
        for (int64_t n = 0; n < N; n++) {
            for (int64_t v = 0; v < V; v++) {
                int64_t best = 0;
                for (int64_t c = 1; c < C; c++) {
                    if (xs[(n * C + c) * V + v] > xs[(n * C + best) * V + v]) best = c;
                }
                labels[n * V + v] = best;
            }
        }
    }
    if (absent_class_ >= 0) {
        for (int64_t &l : labels) {
            if (l == absent_class_) l = (absent_class_ + 1) % C;
        }
    }
    std::uniform_real_distribution<double> u01(0, 1);
    if (p.has_ignore_index) {
        for (int64_t &l : labels) {
            if (u01(rng) < ignore_fraction_) l = p.ignore_index;
        }
    }

    for (int64_t i = 0; i < N * C * V; i++) {
        logits_.flat(i) = xs[i];
        case_.x.push_back(xs[i]);
    }
    make_mask(rng);
    if (target_ == Target::F32) {
        case_.dense_target = true;
        dense_ = HostTensor<float>(shape_, strided_, NAN);
        for (int64_t n = 0; n < N; n++) {
            for (int64_t v = 0; v < V; v++) {
                // Half one-hot, half soft (random positive weights that sum to 1).
                std::vector<double> g(C, 0.0);
                if (rng() % 2) {
                    g[labels[n * V + v] % C] = 1;
                } else {
                    double s = 0;
                    for (double &e : g) s += (e = u01(rng));
                    for (double &e : g) e /= s;
                }
                if (absent_class_ >= 0) {
                    g[(absent_class_ + 1) % C] += g[absent_class_];
                    g[absent_class_] = 0;
                }
                for (int64_t c = 0; c < C; c++) {
                    const float gf = static_cast<float>(g[c]);
                    dense_.flat((n * C + c) * V + v) = gf;
                }
            }
        }
        for (int64_t i = 0; i < N * C * V; i++) case_.dense.push_back(dense_.flat(i));
    } else {
        case_.label = labels;
        std::vector<int64_t> tshape = shape_;
        if (target_ == Target::I32_CHANNEL) tshape[1] = 1;
        else tshape.erase(tshape.begin() + 1);
        if (target_ == Target::U8) {
            labels_u8_ = HostTensor<uint8_t>(tshape, strided_, 77);
            for (int64_t i = 0; i < N * V; i++) labels_u8_.flat(i) = static_cast<uint8_t>(labels[i]);
        } else if (target_ == Target::I64) {
            labels_i64_ = HostTensor<int64_t>(tshape, strided_, -77);
            for (int64_t i = 0; i < N * V; i++) labels_i64_.flat(i) = labels[i];
        } else {
            labels_i32_ = HostTensor<int32_t>(tshape, strided_, -77);
            for (int64_t i = 0; i < N * V; i++) labels_i32_.flat(i) = static_cast<int32_t>(labels[i]);
        }
    }
}

DLTensor LossTester::target_dl() {
    if (target_ == Target::F32) return dense_.dl();
    if (target_ == Target::U8) return labels_u8_.dl();
    if (target_ == Target::I64) return labels_i64_.dl();
    return labels_i32_.dl();
}

Outcome LossTester::run() {
    make_inputs();
    const segloss_loss_params_t &p = *params_.get();
    Outcome o;
    o.ref = ref::loss(case_, p, grad_scale_);

    std::vector<int64_t> vshape{1};
    if (p.reduction == SEGLOSS_REDUCTION_NONE) {
        if (ref::is_pointwise(p.loss)) {
            vshape = shape_;
            vshape.erase(vshape.begin() + 1);
        } else if (p.loss == SEGLOSS_LOSS_GENERALIZED_DICE || p.loss == SEGLOSS_LOSS_PENALTY_GENERALIZED_DICE) {
            vshape = {p.batch ? 1 : shape_[0], 1};
        } else {
            vshape = {p.batch ? 1 : shape_[0], p.include_background ? shape_[1] : shape_[1] - 1};
        }
    }
    HostTensor<float> value(vshape, strided_, NAN);
    HostTensor<float> grad(shape_, strided_, NAN);
    DLTensor l = logits_.dl(), t = target_dl(), v = value.dl(), g = grad.dl();
    segloss_context_t ctx;
    REQUIRE(segloss_context_create(&ctx) == SEGLOSS_STATUS_OK);
    o.status = segloss_loss_compute(ctx, &p, &l, &t, &v, with_grad_ ? &g : nullptr, grad_scale_);
    o.error = segloss_last_error(ctx);
    segloss_context_destroy(ctx);
    // Nothing outside the outputs' views may be written (the gaps of strided views hold NaN).
    auto is_nan = [](float x) { return std::isnan(x); };
    o.gaps_untouched = value.gaps_all(is_nan) && grad.gaps_all(is_nan);
    if (!with_grad_) o.gaps_untouched = o.gaps_untouched && grad.gaps_all(is_nan) && std::isnan(grad.flat(0));
    for (int64_t i = 0; i < value.numel(); i++) o.values.push_back(value.flat(i));
    if (with_grad_) {
        for (int64_t i = 0; i < grad.numel(); i++) o.grad.push_back(grad.flat(i));
    }
    return o;
}

void LossTester::check() {
    const segloss_loss_params_t &pp = *params_.get();
    std::string shape;
    for (int64_t e : shape_) shape += std::to_string(e) + " ";
    INFO("case: loss " << segloss_loss_name(pp.loss) << ", shape [ " << shape << "], target " << int(target_)
                       << ", activation " << int(pp.activation) << ", reduction " << int(pp.reduction)
                       << ", strided " << strided_ << ", batch " << pp.batch << ", include_background "
                       << pp.include_background << ", squared_pred " << pp.squared_pred << ", empty "
                       << pp.empty << ", alpha " << pp.alpha << ", beta " << pp.beta << ", gamma " << pp.gamma
                       << ", r " << pp.r << ", k " << pp.k << ", w_type " << pp.w_type << ", weight_norm "
                       << pp.weight_norm << ", class_weights " << pp.class_weights << ", label_smoothing "
                       << pp.label_smoothing << ", has_alpha " << pp.has_alpha << " per class "
                       << (pp.class_alpha != nullptr) << ", weighted "
                       << (pp.weight != nullptr) << ", ignore " << pp.has_ignore_index << ", mask "
                       << int(mask_kind_) << ", topk_mode " << pp.topk_mode << ", t " << pp.t);
    Outcome o = run();
    INFO("status " << segloss_status_string(o.status) << ": " << o.error);
    REQUIRE(o.status == SEGLOSS_STATUS_OK);
    REQUIRE(o.gaps_untouched);
    const segloss_loss_params_t &p = *params_.get();
    if (p.reduction == SEGLOSS_REDUCTION_NONE) {
        require_close_all(o.values, o.ref.values, tolerance_, "values");
    } else {
        require_close(o.values[0], o.ref.value, tolerance_, "value");
    }
    // Gradients: relative to the largest element, and 5e-8 absolute (float32 cancellation in the
    // softmax chain p (a - sum p a) when every element is tiny, e.g. a single voxel).
    if (with_grad_) require_close_all(o.grad, o.ref.grad, tolerance_, "gradient", 5e-8);
}

}  // namespace segloss::test
