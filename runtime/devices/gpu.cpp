// SPDX-License-Identifier: Apache-2.0
#include "gpu.h"

#include <dlfcn.h>

#include <mutex>

#include "../src/failure.h"
#include "cuda_probe.h"
#ifdef SEGLOSS_HAVE_CUDA_KERNELS
#include "HalideRuntimeCuda.h"
#endif
#ifdef SEGLOSS_HAVE_OPENCL_KERNELS
#include "HalideRuntimeOpenCL.h"
#endif

namespace segloss::rt {
namespace {

// The native handles of the device call running on this thread (none outside a DeviceScope).
struct Active {
    GpuApi api = GpuApi::none;
    void *context = nullptr;  // CUcontext or cl_context
    void *stream = nullptr;   // CUstream or cl_command_queue
};
thread_local Active t_active;

#ifdef SEGLOSS_HAVE_CUDA_KERNELS
// Halide's CUDA hooks (installed once, through its setters). Outside a device call there is
// no context to give: a request to create one fails, a query gets none (Halide then has
// nothing to release).
int cuda_acquire(void *, void **ctx, bool create) {
    *ctx = t_active.api == GpuApi::cuda ? t_active.context : nullptr;
    return *ctx || !create ? 0 : halide_error_code_generic_error;
}
int cuda_release(void *) { return 0; }
int cuda_get_stream(void *, void *, void **stream) {
    *stream = t_active.api == GpuApi::cuda ? t_active.stream : nullptr;
    return 0;
}
#endif

// The cl_context of a command queue (clGetCommandQueueInfo, CL_QUEUE_CONTEXT), through the
// OpenCL library that the Halide runtime loads too; nullptr when it cannot be asked.
void *opencl_queue_context(void *queue) {
    using InfoFn = int (*)(void *, unsigned, size_t, void *, size_t *);
    static InfoFn info = [] {
        void *lib = dlopen("libOpenCL.so.1", RTLD_NOW | RTLD_LOCAL);
        if (!lib) lib = dlopen("libOpenCL.so", RTLD_NOW | RTLD_LOCAL);
        return lib ? reinterpret_cast<InfoFn>(dlsym(lib, "clGetCommandQueueInfo")) : nullptr;
    }();
    constexpr unsigned kQueueContext = 0x1090;  // CL_QUEUE_CONTEXT
    void *context = nullptr;
    if (!info || info(queue, kQueueContext, sizeof context, &context, nullptr) != 0) return nullptr;
    return context;
}

// Once per process: the CUDA hooks, and Halide's pool of device allocations (cuMemFree and
// clReleaseMemObject would synchronise every call; pooled blocks are reused by later calls on
// the same context and stream).
void install_hooks() {
    static std::once_flag once;
    std::call_once(once, [] {
#ifdef SEGLOSS_HAVE_CUDA_KERNELS
        halide_set_cuda_acquire_context(cuda_acquire);
        halide_set_cuda_release_context(cuda_release);
        halide_set_cuda_get_stream(cuda_get_stream);
#endif
        halide_reuse_device_allocations(nullptr, true);
    });
}

[[noreturn]] void mismatch(const StreamBinding &b, DLDevice device) {
    fail(SEGLOSS_STATUS_DEVICE_MISMATCH, "the tensors are on ", device_name(device.device_type), ":",
         device.device_id, " but the context's stream is on ", device_name(b.device.device_type), ":",
         b.device.device_id, " (segloss_context_set_stream)");
}

}  // namespace

GpuApi gpu_api_of(DLDeviceType type) {
    if (type == kDLCUDA || type == kDLCUDAManaged) return GpuApi::cuda;
    if (type == kDLOpenCL) return GpuApi::opencl;
    return GpuApi::none;
}

const char *device_name(DLDeviceType type) {
    switch (type) {
    case kDLCPU: return "cpu";
    case kDLCUDA: return "cuda";
    case kDLCUDAHost: return "cuda_host";
    case kDLCUDAManaged: return "cuda_managed";
    case kDLOpenCL: return "opencl";
    default: return "device";
    }
}

bool gpu_api_built(GpuApi api) {
#ifdef SEGLOSS_HAVE_CUDA_KERNELS
    if (api == GpuApi::cuda) return true;
#endif
#ifdef SEGLOSS_HAVE_OPENCL_KERNELS
    if (api == GpuApi::opencl) return true;
#endif
    return false;
}

const halide_device_interface_t *device_interface(GpuApi api) {
#ifdef SEGLOSS_HAVE_CUDA_KERNELS
    if (api == GpuApi::cuda) return halide_cuda_device_interface();
#endif
#ifdef SEGLOSS_HAVE_OPENCL_KERNELS
    if (api == GpuApi::opencl) return halide_opencl_device_interface();
#endif
    fail(SEGLOSS_STATUS_UNSUPPORTED, "this build of segloss has no kernels for the device (SEGLOSS_GPU_APIS)");
}

void *native_handle(GpuApi api, halide_buffer_t *buf) {
#ifdef SEGLOSS_HAVE_OPENCL_KERNELS
    if (api == GpuApi::opencl) return reinterpret_cast<void *>(halide_opencl_get_cl_mem(nullptr, buf));
#endif
    (void)api;
    return reinterpret_cast<void *>(static_cast<uintptr_t>(buf->device));
}

void check_binding(const StreamBinding &b) {
    const GpuApi api = gpu_api_of(b.device.device_type);
    if (api == GpuApi::none) {
        fail(SEGLOSS_STATUS_UNSUPPORTED, "streams are for cuda and opencl devices, not ", device_name(b.device.device_type));
    }
    if (!gpu_api_built(api)) {
        fail(SEGLOSS_STATUS_UNSUPPORTED, "this build of segloss has no ", device_name(b.device.device_type),
             " kernels (SEGLOSS_GPU_APIS)");
    }
    if (api == GpuApi::cuda) (void)cuda_primary_context(b.device.device_id);
    if (api == GpuApi::opencl && (!b.stream || !opencl_queue_context(b.stream))) {
        fail(SEGLOSS_STATUS_INVALID_ARGUMENT, "an opencl stream must be a valid cl_command_queue");
    }
}

DeviceScope::DeviceScope(const StreamBinding &b, DLDevice device) : api_(gpu_api_of(device.device_type)) {
    install_hooks();
    if (b.bound && (gpu_api_of(b.device.device_type) != api_ || b.device.device_id != device.device_id)) {
        mismatch(b, device);
    }
    Active a;
    a.api = api_;
    if (api_ == GpuApi::cuda) {
        a.context = cuda_primary_context(device.device_id);
        a.stream = b.bound ? b.stream : nullptr;
    } else {
        if (!b.bound) {
            fail(SEGLOSS_STATUS_INVALID_ARGUMENT, "tensors on opencl:", device.device_id,
                 " need the context bound to their command queue (segloss_context_set_stream)");
        }
        a.stream = b.stream;
        a.context = opencl_queue_context(b.stream);
    }
    t_active = a;
}

DeviceScope::~DeviceScope() { t_active = Active(); }

}  // namespace segloss::rt

#ifdef SEGLOSS_HAVE_OPENCL_KERNELS
// Halide 14 has no setters for its OpenCL context: these replace the runtime's weak default
// (which would make a context and queue of its own), as Halide's own tests do.
extern "C" int halide_acquire_cl_context(void *, void **ctx, void **queue, bool create) {
    using segloss::rt::GpuApi;
    const bool active = segloss::rt::t_active.api == GpuApi::opencl;
    *ctx = active ? segloss::rt::t_active.context : nullptr;
    *queue = active ? segloss::rt::t_active.stream : nullptr;
    return active || !create ? 0 : halide_error_code_generic_error;
}
extern "C" int halide_release_cl_context(void *) { return 0; }
#endif
