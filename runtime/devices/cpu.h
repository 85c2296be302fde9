// SPDX-License-Identifier: Apache-2.0
// Process-wide Halide hooks of the CPU device: error handler, thread count, CPU-feature cap,
// memory of the intermediate buffers (block_cache.h).
#pragma once

#include "segloss/segloss.h"

namespace segloss::rt {

// Installs the hooks once; every entry point calls it before the first kernel.
void ensure_cpu_runtime();
void set_num_threads(int n);
void set_max_cpu_isa(segloss_cpu_isa_t isa);

}  // namespace segloss::rt
