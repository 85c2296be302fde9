// SPDX-License-Identifier: Apache-2.0
#include "context.h"

#include <climits>
#include <new>

#include "HalideRuntime.h"
#include "failure.h"

namespace segloss::rt {

void Call::add_halide_message(const char *msg) {
    std::lock_guard<std::mutex> lock(mu_);
    if (!halide_messages_.empty()) halide_messages_ += "; ";
    halide_messages_ += msg;
    while (!halide_messages_.empty() && halide_messages_.back() == '\n') halide_messages_.pop_back();
}

float *Call::scratch(Scratch which, size_t n) {
    segloss_context::Buffer &b = ctx_->scratch[static_cast<int>(which)];
    if (b.size < n) {
        b.data.reset();
        b.size = 0;
        b.data.reset(new (std::nothrow) float[n]);
        if (!b.data) fail(SEGLOSS_STATUS_OUT_OF_MEMORY, "cannot allocate ", n * sizeof(float), " bytes of scratch");
        b.size = n;
    }
    return b.data.get();
}

void Call::use_device(DLDevice device) { device_ = std::make_unique<DeviceScope>(ctx_->stream, device); }

void Call::to_host(halide_buffer_t *buf) {
    if (!buf->device) return;
    if (int rc = halide_copy_to_host(this, buf)) kernel_failed("copy to host", rc);
}

void Call::copy_to_host(halide_buffer_t *device, halide_buffer_t *host) {
    if (int rc = halide_buffer_copy(this, device, nullptr, host)) kernel_failed("copy to host", rc);
}

Call::DeviceBlock::~DeviceBlock() {
    if (buf.device) (void)halide_device_free(nullptr, &buf);
}

void *Call::device_scratch(size_t n) {
    if (n > INT32_MAX) fail(SEGLOSS_STATUS_TOO_LARGE, "device scratch of ", n, " floats is beyond 32-bit extents");
    auto block = std::make_unique<DeviceBlock>();
    block->buf.type = halide_type_t(halide_type_float, 32);
    block->buf.dimensions = 1;
    block->buf.dim = &block->dim;
    block->dim = halide_dimension_t(0, static_cast<int32_t>(n), 1);
    if (int rc = halide_device_malloc(this, &block->buf, device_interface(api()))) kernel_failed("device_malloc", rc);
    void *native = native_handle(api(), &block->buf);
    device_blocks_.push_back(std::move(block));
    return native;
}

void *Call::device_copy(const float *host, size_t n) {
    void *native = device_scratch(n);
    halide_buffer_t &buf = device_blocks_.back()->buf;
    buf.host = reinterpret_cast<uint8_t *>(const_cast<float *>(host));
    buf.set_host_dirty(true);
    const int rc = halide_copy_to_device(this, &buf, device_interface(api()));
    buf.host = nullptr;  // the block owns only its device memory
    buf.set_host_dirty(false);
    if (rc) kernel_failed("copy to device", rc);
    return native;
}

void Call::kernel_failed(const char *name, int rc) {
    segloss_status_t status = SEGLOSS_STATUS_INTERNAL;
    switch (rc) {
    case halide_error_code_out_of_memory:
    case halide_error_code_device_malloc_failed:
        status = SEGLOSS_STATUS_OUT_OF_MEMORY;
        break;
    case halide_error_code_buffer_allocation_too_large:
    case halide_error_code_buffer_extents_too_large:
        status = SEGLOSS_STATUS_TOO_LARGE;
        break;
    default:
        break;
    }
    std::lock_guard<std::mutex> lock(mu_);
    fail(status, "kernel ", name, " failed with Halide error ", rc, ": ", halide_messages_);
}

}  // namespace segloss::rt
