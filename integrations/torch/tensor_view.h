// SPDX-License-Identifier: Apache-2.0
// A torch tensor as segloss sees it: a DLTensor view of the same memory (data pointer, sizes and
// strides in elements, device, dtype), no copy. Valid while the tensor lives.
#pragma once

#include <ATen/ATen.h>

#include "segloss/segloss.h"

namespace segloss::torch_op {

// Throws c10::Error (a Python RuntimeError) for a dtype or device that DLPack/segloss cannot
// name; what segloss then accepts (dtypes per argument, strides) it checks itself.
DLTensor dl_view(const at::Tensor &t, const char *what);

}  // namespace segloss::torch_op
