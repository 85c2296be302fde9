#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# The whole test suite: install what is missing, build what the tests need, run ctest on x86,
# then the same suite cross-compiled for aarch64 under qemu (SEGLOSS_SKIP_AARCH64=1 skips it).
set -euo pipefail
cd "$(dirname "$0")/.."
# The GPU kernel sets: CUDA (run only where a GPU is), and OpenCL, whose test runs here on pocl
# (a CPU OpenCL) to check the GPU schedules without a GPU.
tools/setup.sh build -DSEGLOSS_BUILD_TESTS=ON -DSEGLOSS_BUILD_BENCH=OFF "-DSEGLOSS_GPU_APIS=cuda;opencl"
cmake --build build -j2
ctest --test-dir build --output-on-failure -j2 --timeout 900
if [[ "${SEGLOSS_SKIP_AARCH64:-0}" != 1 ]]; then
    tools/test-aarch64.sh build-aarch64
fi
