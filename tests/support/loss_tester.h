// SPDX-License-Identifier: Apache-2.0
// Builder-style tester: one line per case, e.g.
//   LossTester(SEGLOSS_LOSS_DICE).shape({3, 4, 7, 33}).target(Target::U8).ignore(255).strided().check();
// It draws random inputs (logits in +-10, absent classes, a thin structure, ignored voxels),
// runs the public API and compares value and gradient with the float64 reference.
#pragma once

#include <cstdint>
#include <random>
#include <vector>

#include "host_tensor.h"
#include "reference/reference.h"
#include "segloss/segloss.hpp"

namespace segloss::test {

enum class Target { I32, U8, I32_CHANNEL, F32, I64 };
// loss_mask kinds: none, binary float32 (0/1), fractional float32 (0 or in (0, 1]), uint8 0/1
// shaped N,1,spatial.
enum class Mask { None, Binary, Fractional, U8Channel };

struct Outcome {
    segloss_status_t status = SEGLOSS_STATUS_OK;
    std::string error;
    std::vector<double> values;  // the value tensor (1 element, or the none map / groups)
    std::vector<double> grad;    // [n][c][v]
    bool gaps_untouched = true;  // nothing written outside the output views
    ref::Result ref;
};

class LossTester {
public:
    explicit LossTester(segloss_loss_kind_t loss) : params_(loss) {}
    explicit LossTester(const LossParams &params) : params_(params) {}
    LossTester &shape(std::vector<int64_t> s) { shape_ = std::move(s); return *this; }
    LossTester &target(Target t) { target_ = t; return *this; }
    LossTester &strided(bool s = true) { strided_ = s; return *this; }
    LossTester &seed(uint32_t s) { seed_ = s; return *this; }
    LossTester &ignore(int64_t index, double fraction = 0.1) {
        params_.ignore_index(index);
        ignore_fraction_ = fraction;
        return *this;
    }
    LossTester &grad_scale(float s) { grad_scale_ = s; return *this; }
    // A loss mask with `zero_fraction` of the voxels 0 (ignored).
    LossTester &mask(Mask kind, double zero_fraction = 0.2) {
        mask_kind_ = kind;
        mask_zero_fraction_ = zero_fraction;
        return *this;
    }
    LossTester &with_grad(bool g) { with_grad_ = g; return *this; }
    LossTester &logit_range(float r) { logit_range_ = r; return *this; }
    // Relative tolerance of value and gradient (2e-5 unless the loss is ill-conditioned).
    LossTester &tolerance(double rel) { tolerance_ = rel; return *this; }
    // Target equals the prediction: labels are the argmax of the logits (index maps) or the
    // probabilities themselves (dense).
    LossTester &perfect(bool p = true) { perfect_ = p; return *this; }
    // No voxel of any image has this class (index maps relabel it, dense maps move its mass).
    LossTester &absent_class(int64_t c) { absent_class_ = c; return *this; }
    LossTester &params(const LossParams &p) { params_ = p; return *this; }
    LossParams &params() { return params_; }

    // Runs the kernel and the reference on the same random inputs.
    Outcome run();
    // run() and REQUIREs agreement within float32 tolerances.
    void check();

    // Inputs of the last run (for cross-checks that call the API themselves).
    ref::Case &reference_case() { return case_; }
    HostTensor<float> &logits() { return logits_; }
    HostTensor<int32_t> &labels_i32() { return labels_i32_; }
    HostTensor<uint8_t> &labels_u8() { return labels_u8_; }
    HostTensor<int64_t> &labels_i64() { return labels_i64_; }
    HostTensor<float> &dense() { return dense_; }
    DLTensor target_dl();
    void make_inputs();

private:
    void make_mask(std::mt19937 &rng);
    LossParams params_;
    std::vector<int64_t> shape_{2, 3, 5, 7};
    Target target_ = Target::I32;
    bool strided_ = false, with_grad_ = true, perfect_ = false;
    uint32_t seed_ = 1;
    double ignore_fraction_ = 0;
    Mask mask_kind_ = Mask::None;
    double mask_zero_fraction_ = 0;
    HostTensor<float> mask_f32_;
    HostTensor<uint8_t> mask_u8_;
    DLTensor mask_dl_{};
    int64_t absent_class_ = -1;
    float grad_scale_ = 1.0f, logit_range_ = 10.0f;
    double tolerance_ = 2e-5;
    ref::Case case_;
    HostTensor<float> logits_, dense_;
    HostTensor<int32_t> labels_i32_;
    HostTensor<uint8_t> labels_u8_;
    HostTensor<int64_t> labels_i64_;
};

// Tolerance check helpers (shared with the cross-check tests).
void require_close(double got, double want, double rel, const char *what);
void require_close_all(const std::vector<double> &got, const std::vector<double> &want, double rel,
                       const char *what, double abs = 1e-9);

}  // namespace segloss::test
