// SPDX-License-Identifier: Apache-2.0
// Whether this machine can run CUDA: the driver library and its devices, probed once per
// process, so that a CUDA tensor on a machine without a driver gets DEVICE_UNAVAILABLE with the
// reason instead of a failure deep inside a kernel.
#pragma once

#include <string>

namespace segloss::rt {

struct CudaProbe {
    int devices = 0;     // CUDA devices the driver reports; 0 when unavailable
    std::string reason;  // why none, for the message ("" when devices > 0)
};

// libcuda.so.1 loaded with dlopen, cuInit(0) and cuDeviceGetCount; the first call probes.
const CudaProbe &probe_cuda();

// The primary context of CUDA device `device` (retained once per process, never released):
// where segloss runs its CUDA kernels. Fails with DEVICE_UNAVAILABLE without a driver or for
// a device id the driver does not have.
void *cuda_primary_context(int device);

}  // namespace segloss::rt
