// SPDX-License-Identifier: Apache-2.0
// The context: per-caller state (last error, last kernels). Kernels receive a Call as their
// Halide user_context, so errors raised inside a kernel (on any worker thread) reach the
// context that made the call.
#pragma once

#include <cstddef>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "../devices/gpu.h"
#include "batch_split.h"
#include "segloss/segloss.h"

// Large float32 scratch a call needs (half-precision copies, TopK's keys), kept by the context
// between calls: reallocating it every call costs page faults comparable to the kernels.
enum class Scratch { logits, grad, keys, target_distance, prediction_distance, count };

struct segloss_context {
    std::string last_error;
    std::string last_kernel;
    struct Buffer {
        std::unique_ptr<float[]> data;  // uninitialised
        size_t size = 0;
    };
    Buffer scratch[static_cast<int>(Scratch::count)];
    segloss::rt::StreamBinding stream;  // segloss_context_set_stream
    segloss_parallel_for_fn parallel_for = nullptr;  // segloss_context_set_thread_pool
    void *pool = nullptr;
    // Calls on one context take turns (its scratch, stream and messages are the call's).
    std::mutex calls;
};

namespace segloss::rt {

class Call {
public:
    explicit Call(segloss_context *ctx) : ctx_(ctx) { ctx_->last_kernel.clear(); }
    // Runs one Halide kernel: records its name, turns a non-zero result into a Failure.
    // A kernel whose per-image buffers hold a batch stride beyond 32 bits runs once per image
    // (batch_split.h).
    template <typename Fn, typename... Args>
    void run(const char *name, Fn fn, Args... args) {
        if (!ctx_->last_kernel.empty()) ctx_->last_kernel += ",";
        ctx_->last_kernel += name;
        halide_buffer_t *const bufs[] = {buffer_or_null(args)..., nullptr};
        BatchSplit split(bufs, sizeof...(Args));
        for (int64_t n = 0; n < split.images(); n++) {
            split.select(n);
            int rc = fn(static_cast<const void *>(this), args...);
            if (rc != 0) kernel_failed(name, rc);
        }
    }
    // The context's scratch buffer `which`, at least n floats, contents unspecified. Valid until
    // the next call on the context (it grows, and stays, at the largest size used).
    float *scratch(Scratch which, size_t n);
    const segloss_context &context() const { return *ctx_; }
    // Called by the Halide error handler, possibly from a worker thread.
    void add_halide_message(const char *msg);
    // Makes the call a device call on `device` (a CUDA or OpenCL device): its kernels, copies
    // and allocations use the context's stream (DeviceScope) until the Call ends.
    void use_device(DLDevice device);
    // The GPU API of the call (GpuApi::none: a CPU call).
    GpuApi api() const { return device_ ? device_->api() : GpuApi::none; }
    // Brings a kernel's output back to its host buffer (a device call waits for it here).
    void to_host(halide_buffer_t *buf);
    // Copies device memory (a view of the caller's) into a host buffer of the same extents.
    void copy_to_host(halide_buffer_t *device, halide_buffer_t *host);
    // A device call's float32 scratch of n elements on its device (Halide's pool), given back
    // when the Call ends; returns its native handle (CUdeviceptr or cl_mem).
    void *device_scratch(size_t n);
    // device_scratch holding a copy of n host floats (one contiguous upload).
    void *device_copy(const float *host, size_t n);

private:
    static halide_buffer_t *buffer_or_null(halide_buffer_t *b) { return b; }
    template <typename T>
    static halide_buffer_t *buffer_or_null(const T &) { return nullptr; }
    [[noreturn]] void kernel_failed(const char *name, int rc);
    segloss_context *ctx_;
    std::unique_ptr<DeviceScope> device_;
    // Declared after device_: given back while the scope still names the stream.
    struct DeviceBlock {
        halide_buffer_t buf{};
        halide_dimension_t dim{};
        ~DeviceBlock();
    };
    std::vector<std::unique_ptr<DeviceBlock>> device_blocks_;
    std::mutex mu_;
    std::string halide_messages_;
};

}  // namespace segloss::rt
