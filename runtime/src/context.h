// SPDX-License-Identifier: Apache-2.0
// The context: per-caller state (last error, last kernels). Kernels receive a Call as their
// Halide user_context, so errors raised inside a kernel (on any worker thread) reach the
// context that made the call.
#pragma once

#include <mutex>
#include <string>

#include "segloss/segloss.h"

struct segloss_context {
    std::string last_error;
    std::string last_kernel;
};

namespace segloss::rt {

class Call {
public:
    explicit Call(segloss_context *ctx) : ctx_(ctx) { ctx_->last_kernel.clear(); }
    // Runs one Halide kernel: records its name, turns a non-zero result into a Failure.
    template <typename Fn, typename... Args>
    void run(const char *name, Fn fn, Args... args) {
        if (!ctx_->last_kernel.empty()) ctx_->last_kernel += ",";
        ctx_->last_kernel += name;
        int rc = fn(static_cast<const void *>(this), args...);
        if (rc != 0) kernel_failed(name, rc);
    }
    // Called by the Halide error handler, possibly from a worker thread.
    void add_halide_message(const char *msg);

private:
    [[noreturn]] void kernel_failed(const char *name, int rc);
    segloss_context *ctx_;
    std::mutex mu_;
    std::string halide_messages_;
};

}  // namespace segloss::rt
