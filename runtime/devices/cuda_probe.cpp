// SPDX-License-Identifier: Apache-2.0
#include "cuda_probe.h"

#include <dlfcn.h>

#include <map>
#include <mutex>

#include "../src/failure.h"

namespace segloss::rt {

namespace {
void *g_libcuda = nullptr;
}  // namespace

const CudaProbe &probe_cuda() {
    static CudaProbe probe;
    static std::once_flag once;
    std::call_once(once, [] {
        // The driver API's two entry points (CUresult is an int, 0 = CUDA_SUCCESS); the library
        // stays loaded, as the Halide runtime will load it again for the kernels.
        void *lib = g_libcuda = dlopen("libcuda.so.1", RTLD_NOW | RTLD_LOCAL);
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

void *cuda_primary_context(int device) {
    const CudaProbe &cuda = probe_cuda();
    if (cuda.devices == 0) fail(SEGLOSS_STATUS_DEVICE_UNAVAILABLE, "cuda:", device, " cannot be used: ", cuda.reason);
    if (device < 0 || device >= cuda.devices) {
        fail(SEGLOSS_STATUS_DEVICE_UNAVAILABLE, "cuda:", device, " does not exist: the driver reports ", cuda.devices,
             " device(s)");
    }
    static std::mutex mu;
    static std::map<int, void *> contexts;
    std::lock_guard<std::mutex> lock(mu);
    void *&ctx = contexts[device];
    if (!ctx) {
        using GetFn = int (*)(int *, int);
        using RetainFn = int (*)(void **, int);
        auto get = reinterpret_cast<GetFn>(dlsym(g_libcuda, "cuDeviceGet"));
        auto retain = reinterpret_cast<RetainFn>(dlsym(g_libcuda, "cuDevicePrimaryCtxRetain"));
        int handle = 0, err = -1;
        if (!get || !retain || (err = get(&handle, device)) != 0 || (err = retain(&ctx, handle)) != 0) {
            ctx = nullptr;
            fail(SEGLOSS_STATUS_DEVICE_UNAVAILABLE, "the primary context of cuda:", device,
                 " cannot be retained (CUDA error ", err, ")");
        }
    }
    return ctx;
}

}  // namespace segloss::rt
