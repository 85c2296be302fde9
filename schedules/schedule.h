// SPDX-License-Identifier: Apache-2.0
// The interface between generators and their per-target schedule parameters.
#pragma once

#include <string>

#include "Halide.h"

namespace segloss::schedules {

// The parameters a CPU schedule of one kernel reads (schedules/<target>/*.params).
struct CpuParams {
    int vector = 0;   // vector width in floats; 0 = the target's natural width
    int grain = 1;    // rows (x lines) per parallel task
    int helpers = 0;  // per-voxel helpers (softmax terms) computed 0: once per task, 1: once per line
    int class_vector = 0;  // vector width of the class-count kernels (schedules/cpu_classes.h); 0 = vector
};

// The sizes of every GPU schedule (schedules/gpu_lines.h), CUDA's and OpenCL's alike.
struct GpuParams {
    int tile_x = 32;      // threads of a voxel block along x (one warp)
    int tile_y = 8;       // ... and along y
    int line_block = 64;  // lines per block of a line kernel
    int lane_lines = 16;  // lines per block of a line sum whose lanes are threads
};

// Name of the schedules/ folder that describes `target` (e.g. "x86-64-avx512").
std::string data_key(const Halide::Target &target);

// Parameters of the kernel whose stage is `stage` ("pointwise_grad", "region_stats", ...) in
// `family` ("pointwise", "region") for `target`: the family's file, then the stage's tuned
// file over it, then the tuner's candidate (the environment variable SEGLOSS_TUNE_CANDIDATE,
// "key=value,...", set by tools/tune only; a generator run that reads it says so on stderr).
// Fails the generator run on an unknown key or a malformed candidate, so typos do not go
// unnoticed.
CpuParams cpu_params(const Halide::Target &target, const std::string &family, const std::string &stage);

// schedules/cuda/gpu.params (hand-set until a GPU tuning run), then the tuner's candidate.
const GpuParams &gpu_params();

}  // namespace segloss::schedules
