// SPDX-License-Identifier: Apache-2.0
#include "torch_losses.h"

#include <cmath>
#include <functional>
#include <map>

namespace segloss::bench {
namespace {

namespace F = torch::nn::functional;
using torch::Tensor;

const double kSmooth = 1e-5;  // LOSSES.md's smooth_nr and smooth_dr

// The per-(n, c) sums of a region loss, from softmax probabilities and one-hot targets.
struct Region {
    Tensor p, g, I, P, G;
};

Region region(const Tensor &logits, const Tensor &labels) {
    Region r;
    r.p = torch::softmax(logits, 1);
    std::vector<int64_t> order{0, logits.dim() - 1};
    for (int64_t d = 1; d < logits.dim() - 1; d++) order.push_back(d);
    r.g = F::one_hot(labels, logits.size(1)).permute(order).to(torch::kFloat);
    std::vector<int64_t> spatial;
    for (int64_t d = 2; d < logits.dim(); d++) spatial.push_back(d);
    r.I = (r.p * r.g).sum(spatial);
    r.P = r.p.sum(spatial);
    r.G = r.g.sum(spatial);
    return r;
}

Tensor dice(const Region &r) { return (1 - (2 * r.I + kSmooth) / (r.P + r.G + kSmooth)).mean(); }

Tensor tversky_index(const Region &r, double a, double b) {
    return (r.I + kSmooth) / (r.I + a * (r.P - r.I) + b * (r.G - r.I) + kSmooth);
}

// Generalized Dice per image, weights 1 / G^2 (an absent class's infinite weight replaced by
// the largest finite one, as MONAI), constants for the gradient.
Tensor generalized_dice(const Region &r) {
    Tensor w = 1 / (r.G * r.G);
    const Tensor inf = torch::isinf(w);
    w = torch::where(inf, torch::zeros_like(w), w);
    w = torch::where(inf, w.amax(1, true).expand_as(w), w).detach();
    return (1 - (2 * (w * r.I).sum(1) + kSmooth) / ((w * (r.P + r.G)).sum(1) + kSmooth)).mean();
}

Tensor focal(const Tensor &logits, const Tensor &labels) {
    const Tensor logpt = torch::log_softmax(logits, 1).gather(1, labels.unsqueeze(1));
    return -((1 - logpt.exp()).pow(2) * logpt).mean();
}

// nnU-Net's TopKLoss: the 10% largest per-voxel CE values, averaged.
Tensor topk(const Tensor &logits, const Tensor &labels) {
    const Tensor ce = F::cross_entropy(logits, labels, F::CrossEntropyFuncOptions().reduction(torch::kNone)).flatten();
    return std::get<0>(ce.topk(std::max<int64_t>(1, ce.numel() / 10))).mean();
}

Tensor inverse_frequency_ce(const Tensor &logits, const Tensor &labels) {
    const Tensor counts = torch::bincount(labels.flatten(), {}, logits.size(1)).to(torch::kFloat);
    const Tensor w = counts.sum() / (counts.clamp_min(1) * double(logits.size(1)));
    return F::cross_entropy(logits, labels, F::CrossEntropyFuncOptions().weight(w));
}

using LossFn = std::function<Tensor(const Tensor &, const Tensor &)>;

const std::map<std::string, LossFn> &table() {
    static const std::map<std::string, LossFn> t = {
        {"ce", [](const Tensor &x, const Tensor &y) { return F::cross_entropy(x, y); }},
        {"wce", inverse_frequency_ce},
        {"focal", focal},
        {"dice", [](const Tensor &x, const Tensor &y) { return dice(region(x, y)); }},
        {"iou",
         [](const Tensor &x, const Tensor &y) {
             const Region r = region(x, y);
             return (1 - (r.I + kSmooth) / (r.P + r.G - r.I + kSmooth)).mean();
         }},
        {"tversky", [](const Tensor &x, const Tensor &y) { return (1 - tversky_index(region(x, y), 0.3, 0.7)).mean(); }},
        {"focal_tversky",
         [](const Tensor &x, const Tensor &y) {
             return (1 - tversky_index(region(x, y), 0.3, 0.7)).clamp_min(1e-7).pow(0.75).mean();
         }},
        {"asymmetric",
         [](const Tensor &x, const Tensor &y) {
             const Region r = region(x, y);
             const double b2 = 1.5 * 1.5;
             return (1 - ((1 + b2) * r.I + kSmooth) / ((1 + b2) * r.I + b2 * (r.G - r.I) + (r.P - r.I) + kSmooth))
                 .mean();
         }},
        {"sensitivity_specificity",
         [](const Tensor &x, const Tensor &y) {
             const Region r = region(x, y);
             std::vector<int64_t> spatial;
             for (int64_t d = 2; d < x.dim(); d++) spatial.push_back(d);
             const Tensor sq = (r.g - r.p).pow(2);
             const double V = double(x.numel() / (x.size(0) * x.size(1)));
             const Tensor sens = (sq * r.g).sum(spatial) / (r.G + kSmooth);
             const Tensor spec = (sq * (1 - r.g)).sum(spatial) / (V - r.G + kSmooth);
             return (0.05 * sens + 0.95 * spec).mean();
         }},
        {"generalized_dice", [](const Tensor &x, const Tensor &y) { return generalized_dice(region(x, y)); }},
        {"penalty_generalized_dice",
         [](const Tensor &x, const Tensor &y) {
             const Tensor L = generalized_dice(region(x, y));
             return L / (1 + 2.5 * (1 - L));
         }},
        {"log_cosh_dice", [](const Tensor &x, const Tensor &y) { return torch::log(torch::cosh(dice(region(x, y)))); }},
        {"dice_ce", [](const Tensor &x, const Tensor &y) { return dice(region(x, y)) + F::cross_entropy(x, y); }},
        {"dice_focal", [](const Tensor &x, const Tensor &y) { return dice(region(x, y)) + focal(x, y); }},
        {"generalized_dice_focal",
         [](const Tensor &x, const Tensor &y) { return generalized_dice(region(x, y)) + focal(x, y); }},
        {"combo",
         [](const Tensor &x, const Tensor &y) {
             const Region r = region(x, y);
             const Tensor p = r.p.clamp(1e-7, 1 - 1e-7);
             const Tensor mce = -(0.5 * r.g * p.log() + 0.5 * (1 - r.g) * (1 - p).log()).mean();
             return 0.5 * mce + 0.5 * dice(r);
         }},
        {"exp_log",
         [](const Tensor &x, const Tensor &y) {
             const Region r = region(x, y);
             const Tensor d = ((2 * r.I + kSmooth) / (r.P + r.G + kSmooth)).clamp_min(1e-7);
             const Tensor f = r.G.sum(0);
             const Tensor w = (f.sum() / f.clamp_min(1)).pow(0.5).detach();
             const Tensor logpt = torch::log_softmax(x, 1).gather(1, y.unsqueeze(1)).squeeze(1);
             const Tensor wce = (w.index({y}) * (-logpt).clamp_min(1e-7).pow(0.3)).mean();
             return 0.8 * (-d.log()).pow(0.3).mean() + 0.2 * wce;
         }},
        {"topk", topk},
        {"dice_topk", [](const Tensor &x, const Tensor &y) { return dice(region(x, y)) + topk(x, y); }},
    };
    return t;
}

}  // namespace

const std::vector<std::string> &torch_losses() {
    static const std::vector<std::string> names = [] {
        std::vector<std::string> n;
        for (const auto &[name, fn] : table()) n.push_back(name);
        return n;
    }();
    return names;
}

TorchProblem::TorchProblem(Problem &p, int threads) {
    torch::set_num_threads(threads);
    logits_ = torch::from_blob(p.logits.data(), p.shape, torch::kFloat);
    labels_ = torch::from_blob(p.labels.data(), p.tshape, torch::kInt).to(torch::kLong);
}

double TorchProblem::run(const std::string &loss, bool backward) {
    if (!backward) {
        torch::NoGradGuard no_grad;
        return table().at(loss)(logits_, labels_).item<double>();
    }
    const Tensor x = logits_.detach().requires_grad_(true);
    const Tensor value = table().at(loss)(x, labels_);
    value.backward();
    return value.item<double>();
}

}  // namespace segloss::bench
