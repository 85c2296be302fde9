// SPDX-License-Identifier: Apache-2.0
// The peers of segloss's losses in PyTorch (Debian's libtorch 1.13, C++ API): each loss as a
// user of PyTorch writes it (F::cross_entropy; MONAI-style soft Dice and its relatives from
// softmax, one-hot targets and sums over the spatial axes; nnU-Net's TopK), forward and
// backward through autograd. Built only with SEGLOSS_BENCH_TORCH (bench/CMakeLists.txt).
#pragma once

#include <string>
#include <vector>

#include <torch/torch.h>

#include "problem.h"

namespace segloss::bench {

// The losses this file implements (segloss names: ce, dice, dice_ce, ...).
const std::vector<std::string> &torch_losses();

// A Problem's data as PyTorch tensors (the logits shared, the labels as int64, as PyTorch's
// losses want them), on `threads` intra-op threads.
class TorchProblem {
public:
    TorchProblem(Problem &p, int threads);
    // One forward (and backward: the gradient w.r.t. the logits) of `loss`; returns the value.
    double run(const std::string &loss, bool backward);

private:
    torch::Tensor logits_, labels_;
};

}  // namespace segloss::bench
