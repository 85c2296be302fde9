// SPDX-License-Identifier: Apache-2.0
#include "cuda_probe.h"

#include <dlfcn.h>

#include <mutex>

namespace segloss::rt {

const CudaProbe &probe_cuda() {
    static CudaProbe probe;
    static std::once_flag once;
    std::call_once(once, [] {
        // The driver API's two entry points (CUresult is an int, 0 = CUDA_SUCCESS); the library
        // stays loaded, as the Halide runtime will load it again for the kernels.
        void *lib = dlopen("libcuda.so.1", RTLD_NOW | RTLD_LOCAL);
        if (!lib) {
            probe.reason = "no CUDA driver on this machine (libcuda.so.1 cannot be loaded)";
            return;
        }
        using InitFn = int (*)(unsigned);
        using CountFn = int (*)(int *);
        auto init = reinterpret_cast<InitFn>(dlsym(lib, "cuInit"));
        auto count = reinterpret_cast<CountFn>(dlsym(lib, "cuDeviceGetCount"));
        int n = 0, err = 0;
        if (!init || !count) {
            probe.reason = "libcuda.so.1 has no cuInit/cuDeviceGetCount";
        } else if ((err = init(0)) != 0) {
            probe.reason = "the CUDA driver failed to initialise (cuInit returned " + std::to_string(err) + ")";
        } else if ((err = count(&n)) != 0 || n == 0) {
            probe.reason = "the CUDA driver reports no device";
        } else {
            probe.devices = n;
        }
    });
    return probe;
}

}  // namespace segloss::rt
