// SPDX-License-Identifier: Apache-2.0
// The GPU kernel test and bench drive the kernels through Halide's own device interfaces:
// which ones this build has (SEGLOSS_TEST_CUDA / SEGLOSS_TEST_OPENCL, one per API of
// SEGLOSS_GPU_APIS), and device-only views, as the runtime makes of DLPack tensors in GPU memory.
#pragma once

#include <cstdint>
#include <string>

#include "HalideRuntime.h"
#include "HalideRuntimeCuda.h"
#include "HalideRuntimeOpenCL.h"

namespace segloss::test {

// The API's interface, or nullptr when this build has no kernels for it.
inline const halide_device_interface_t *device_interface_of(const std::string &api) {
#ifdef SEGLOSS_TEST_CUDA
    if (api == "cuda") return halide_cuda_device_interface();
#endif
#ifdef SEGLOSS_TEST_OPENCL
    if (api == "opencl") return halide_opencl_device_interface();
#endif
    (void)api;
    return nullptr;
}

// A view of b's device allocation (made with itf) with no host pointer, wrapping the native
// handle (halide_device_wrap_native, as halide_cuda_wrap_device_ptr does): a kernel given it
// can neither copy nor touch host memory. Release it with halide_device_detach_native.
// Returns non-zero on failure.
inline int wrap_device_view(halide_buffer_t *b, const halide_device_interface_t *itf, halide_buffer_t *view) {
    *view = *b;
    view->host = nullptr;
    view->device = 0;
    view->device_interface = nullptr;
    view->flags = 0;
    uint64_t native = b->device;
#ifdef SEGLOSS_TEST_OPENCL
    if (itf == halide_opencl_device_interface()) native = uint64_t(halide_opencl_get_cl_mem(nullptr, b));
#endif
    return halide_device_wrap_native(nullptr, view, native, itf);
}

}  // namespace segloss::test
