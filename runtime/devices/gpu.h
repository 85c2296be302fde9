// SPDX-License-Identifier: Apache-2.0
// Device calls: the GPU API of a DLPack device, the stream a context is bound to, and the
// Halide runtime hooks through which every kernel, copy and allocation of a call runs in the
// caller's context and stream (docs/design.md, "Device calls").
#pragma once

#include "HalideRuntime.h"
#include "segloss/segloss.h"

namespace segloss::rt {

enum class GpuApi { none, cuda, opencl };

// kDLCUDA and kDLCUDAManaged: cuda; kDLOpenCL: opencl; any other device: none.
GpuApi gpu_api_of(DLDeviceType type);
// "cpu", "cuda", "opencl", ... for messages.
const char *device_name(DLDeviceType type);
// Whether this build has the API's kernels (SEGLOSS_GPU_APIS).
bool gpu_api_built(GpuApi api);
const halide_device_interface_t *device_interface(GpuApi api);
// The native handle of a Halide device allocation: the CUdeviceptr, or the cl_mem.
void *native_handle(GpuApi api, halide_buffer_t *buf);

// What segloss_context_set_stream recorded on a context.
struct StreamBinding {
    bool bound = false;
    DLDevice device{kDLCPU, 0};
    void *stream = nullptr;  // CUstream (NULL: the default stream) or cl_command_queue
};

// Checks a binding when it is made: the device type has kernels here, the device exists
// (CUDA), a command queue is given (OpenCL).
void check_binding(const StreamBinding &binding);

// The native context and stream of one device call, current on the calling thread while the
// scope lives (Halide's context hooks read them). CUDA: the device's primary context (the
// CUDA runtime's and PyTorch's) and the bound stream, or the default stream when the context
// has none. OpenCL: the bound queue and its context. Fails with DEVICE_MISMATCH when the
// context is bound to another device, INVALID_ARGUMENT for OpenCL without a queue.
class DeviceScope {
public:
    DeviceScope(const StreamBinding &binding, DLDevice device);
    ~DeviceScope();
    DeviceScope(const DeviceScope &) = delete;
    DeviceScope &operator=(const DeviceScope &) = delete;
    GpuApi api() const { return api_; }

private:
    GpuApi api_ = GpuApi::none;
};

}  // namespace segloss::rt
