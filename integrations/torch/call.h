// SPDX-License-Identifier: Apache-2.0
// What every segloss operator does around its library call: the options parsed into LossParams,
// the calling thread's context bound to the tensors' device and stream, PyTorch's thread count,
// and segloss's errors turned into PyTorch's (c10::Error, a RuntimeError in Python).
#pragma once

#include <ATen/ATen.h>

#include <string>
#include <vector>

#include "segloss/segloss.hpp"
#include "tensor_view.h"

namespace segloss::torch_op {

// The loss `loss` with "name=value" options (LOSSES.md's names, runtime/options).
LossParams make_params(const std::string &loss, const std::vector<std::string> &options);

// The calling thread's context (one per thread: a context serves one thread at a time, and
// keeps its scratch between calls), bound to `on`'s device and, on CUDA, to `stream`; segloss's
// thread count set to torch.get_num_threads().
Context &context_for(const at::Tensor &on, int64_t stream);

// A loss mask (or none) set on params for one call; its view lives as long as this object.
class BoundMask {
public:
    BoundMask(LossParams &params, const c10::optional<at::Tensor> &mask) {
        if (mask && mask->defined()) {
            view_ = dl_view(*mask, "loss_mask");
            params.loss_mask(&view_);
        }
    }
    BoundMask(const BoundMask &) = delete;
    BoundMask &operator=(const BoundMask &) = delete;

private:
    DLTensor view_{};
};

// Runs a library call, rethrowing segloss::Error as a c10::Error naming the loss.
template <typename F>
void run(const LossParams &params, F &&call) {
    try {
        call();
    } catch (const Error &e) {
        TORCH_CHECK(false, "segloss: ", segloss_loss_name(params.get()->loss), ": ", e.what());
    }
}

}  // namespace segloss::torch_op
