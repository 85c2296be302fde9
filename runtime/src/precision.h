// SPDX-License-Identifier: Apache-2.0
// Half-precision logits and gradients (float16, bfloat16). The loss kernels compute and
// accumulate in float32: half logits are converted to a float32 copy before them, and a half
// gradient is written to float32 scratch and converted after them (generators/convert,
// rounding to nearest even). docs/design.md says why this is not a variant of every kernel.
#pragma once

#include <memory>
#include <vector>

#include "context.h"
#include "problem.h"

namespace segloss::rt {

// Makes pb.kernel_logits a float32 copy of half-precision logits (nothing for float32).
void prepare_logits(Call &call, Problem &pb);

// Where the kernels write the gradient: the caller's float32 tensor, or float32 scratch that
// finish() converts into the caller's float16/bfloat16 tensor (the context's grad scratch, or
// device scratch on a device call).
class GradOut {
public:
    GradOut(Call &call, const Problem &pb, const Tensor &grad);
    halide_buffer_t *get() { return view_.get(); }
    void finish(Call &call);

private:
    const Problem *pb_;
    Tensor grad_;
    Precision precision_;
    HalideView view_;
};

}  // namespace segloss::rt
