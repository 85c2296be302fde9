// SPDX-License-Identifier: Apache-2.0
// Which kernels a call runs: the class counts this build has kernels of its own for
// (SEGLOSS_CLASS_KERNELS, passed by tests/CMakeLists.txt), the suffix of their names, and the
// kernels of one call through the API.
#pragma once

#include <algorithm>
#include <cstdint>
#include <string>
#include <vector>

#include "loss_tester.h"

namespace segloss::test {

inline const std::vector<int> &class_kernel_counts() {
    static const std::vector<int> built = {SEGLOSS_CLASS_KERNELS_LIST};
    return built;
}

// "_c<K>" where the softmax/int32 gradient passes have a kernel for `classes`, else "".
inline std::string class_kernel_suffix(int64_t classes) {
    const std::vector<int> &b = class_kernel_counts();
    return std::find(b.begin(), b.end(), classes) != b.end() ? "_c" + std::to_string(classes) : "";
}

// The kernels (segloss_last_kernel: names separated by commas) of a call of `params` with the
// gradient on the tester's inputs (make_inputs() first).
inline std::string call_kernels(LossTester &t, const LossParams &params) {
    Context ctx;
    HostTensor<double> value({1});
    HostTensor<float> grad(t.logits().shape());
    DLTensor l = t.logits().dl(), tg = t.target_dl(), v = value.dl(), g = grad.dl();
    ctx.compute(params, l, tg, v, &g);
    return ctx.last_kernel();
}

}  // namespace segloss::test
