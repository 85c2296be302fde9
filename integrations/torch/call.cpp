// SPDX-License-Identifier: Apache-2.0
#include "call.h"

#include <ATen/Parallel.h>

#include <atomic>
#include <exception>

#include "options/loss_options.h"

namespace segloss::torch_op {

LossParams make_params(const std::string &loss, const std::vector<std::string> &options) {
    try {
        LossParams p(loss);
        for (const std::string &o : options) options::apply_option(p, o);
        return p;
    } catch (const std::exception &e) {
        TORCH_CHECK(false, "segloss: ", e.what());
    }
}

Context &context_for(const at::Tensor &on, int64_t stream) {
    static std::atomic<int> threads{-1};
    const int want = at::get_num_threads();
    if (threads.exchange(want) != want) segloss_set_num_threads(want);
    thread_local Context ctx;
    try {
        if (on.is_cuda()) {
            ctx.set_stream({kDLCUDA, on.device().index()}, reinterpret_cast<void *>(stream));
        } else {
            ctx.set_stream({kDLCPU, 0}, nullptr);
        }
    } catch (const Error &e) {
        TORCH_CHECK(false, "segloss: ", e.what());
    }
    return ctx;
}

}  // namespace segloss::torch_op
