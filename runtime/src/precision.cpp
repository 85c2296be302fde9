// SPDX-License-Identifier: Apache-2.0
#include "precision.h"

#include "failure.h"
#include "registry.h"

namespace segloss::rt {
namespace {

// The caller's half tensor as the uint16 bits the conversion kernels read and write.
HalideView half_bits_view(const Problem &pb, const Tensor &t) {
    Tensor bits = t;
    bits.dtype = {kDLUInt, 16, 1};
    return HalideView(bits, pb.logits_axes());
}

}  // namespace

void prepare_logits(Call &call, Problem &pb) {
    if (pb.precision == Precision::f32) return;
    pb.kernel_logits = float_scratch(call, pb.logits, Scratch::logits);
    HalideView in = half_bits_view(pb, pb.logits), out = pb.logits_view();
    Kernel k = find_kernel(pb.precision == Precision::f16 ? Stage::convert_f16_to_f32 : Stage::convert_bf16_to_f32,
                           Act::identity, TargetKind::f32, call.api());
    call.run(k.name, k.as<ConvertFn>(), in.get(), out.get());
}

GradOut::GradOut(Call &call, const Problem &pb, const Tensor &grad)
    : pb_(&pb), grad_(grad), precision_(precision_of(grad)) {
    if (precision_ == Precision::f32) {
        view_ = HalideView(grad_, pb.logits_axes());
    } else {
        view_ = HalideView(float_scratch(call, grad_, Scratch::grad), pb.logits_axes());
    }
}

void GradOut::finish(Call &call) {
    if (precision_ == Precision::f32) return;
    HalideView out = half_bits_view(*pb_, grad_);
    Kernel k = find_kernel(precision_ == Precision::f16 ? Stage::convert_f32_to_f16 : Stage::convert_f32_to_bf16,
                           Act::identity, TargetKind::f32, call.api());
    call.run(k.name, k.as<ConvertFn>(), view_.get(), out.get());
}

}  // namespace segloss::rt
