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
        for (const std::string &o : options) {
            const size_t eq = o.find('=');
            TORCH_CHECK(eq != std::string::npos && eq > 0, "segloss: option '", o, "' is not name=value");
            options::apply_option(p, o.substr(0, eq), o.substr(eq + 1));
        }
        return p;
    } catch (const c10::Error &) {
        throw;
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
