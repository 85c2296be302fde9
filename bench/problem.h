// SPDX-License-Identifier: Apache-2.0
// One benchmark problem: realistic float32 logits (uniform in [-10, 10)), int32 labels drawn
// uniformly from the C classes, and a gradient buffer, with DLTensor views of them. Shared by
// the benches (bench/) and the tuner's timing driver (tools/tuner/), so that a schedule is
// tuned on the data it is benchmarked on.
#pragma once

#include <cstdint>
#include <random>
#include <string>
#include <vector>

#include <dlpack/dlpack.h>

#include "segloss/segloss.hpp"

namespace segloss::bench {

struct Problem {
    std::vector<int64_t> shape, tshape;  // logits (N, C, spatial...), labels (N, spatial...)
    std::vector<float> logits, grad;
    std::vector<int32_t> labels;
    int64_t N = 0, C = 0, V = 0;  // V = voxels per image

    explicit Problem(const std::vector<int64_t> &s) : shape(s), tshape(s), N(s[0]), C(s[1]), V(1) {
        tshape.erase(tshape.begin() + 1);
        for (size_t i = 2; i < s.size(); i++) V *= s[i];
        std::mt19937 rng(1);
        std::uniform_real_distribution<float> u(-10, 10);
        logits.resize(size_t(N * C * V));
        for (float &x : logits) x = u(rng);
        labels.resize(size_t(N * V));
        for (int32_t &l : labels) l = static_cast<int32_t>(rng() % uint32_t(C));
        grad.assign(logits.size(), 0.0f);
    }

    // Bytes of one read of the inputs (logits and labels) and of one gradient write.
    double input_bytes() const { return 4.0 * double(logits.size()) + 4.0 * double(labels.size()); }
    double grad_bytes() const { return 4.0 * double(logits.size()); }
};

inline DLTensor view(void *data, DLDataType type, std::vector<int64_t> &shape) {
    DLTensor v{};
    v.data = data;
    v.device = {kDLCPU, 0};
    v.ndim = int(shape.size());
    v.dtype = type;
    v.shape = shape.data();
    return v;
}

// A loss's options in the benches and the tuner: its defaults, and wce's inverse-frequency
// weights (wce has no default weights).
inline LossParams bench_params(const std::string &loss) {
    LossParams p(loss);
    if (loss == "wce") p.class_weights(SEGLOSS_CLASS_WEIGHTS_INVERSE_FREQUENCY);
    return p;
}

// The tensors of a loss call on a Problem: float32 logits and gradient, int32 labels, a float64
// value. Not copyable (value's shape points into it).
struct CallViews {
    std::vector<int64_t> one{1};
    DLTensor logits, labels, value, grad;
    CallViews(Problem &p, double *v)
        : logits(view(p.logits.data(), {kDLFloat, 32, 1}, p.shape)),
          labels(view(p.labels.data(), {kDLInt, 32, 1}, p.tshape)),
          value(view(v, {kDLFloat, 64, 1}, one)),
          grad(view(p.grad.data(), {kDLFloat, 32, 1}, p.shape)) {}
    CallViews(const CallViews &) = delete;
    CallViews &operator=(const CallViews &) = delete;
};

// "8x4x1x256x256": a shape as benchmark names spell it (N x C x D x H x W; 2D has D = 1).
inline std::string shape_name(const std::vector<int64_t> &s) {
    std::vector<int64_t> five(s);
    if (five.size() == 4) five.insert(five.begin() + 2, 1);
    std::string name;
    for (int64_t e : five) name += (name.empty() ? "" : "x") + std::to_string(e);
    return name;
}

}  // namespace segloss::bench
