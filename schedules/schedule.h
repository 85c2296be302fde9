// SPDX-License-Identifier: Apache-2.0
// The interface between generators and their per-target schedule parameters.
#pragma once

#include <string>

#include "Halide.h"

namespace segloss::schedules {

// The parameters a CPU schedule of one kernel family reads.
struct CpuParams {
    int vector = 0;  // vector width in floats; 0 = the target's natural width
    int grain = 1;   // rows (x lines) per parallel task
    int unroll = 1;  // unroll factor of the class loop where a family has one
};

// Name of the schedules/data file that describes `target` (e.g. "x86-64-avx512").
std::string data_key(const Halide::Target &target);

// Parameters of `family` ("pointwise", "region", ...) for `target`; defaults where the data
// file has no entry. Fails the generator run on an unknown key, so typos do not go unnoticed.
CpuParams cpu_params(const Halide::Target &target, const std::string &family);

}  // namespace segloss::schedules
