#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# Installs segloss's build dependencies from Debian 12 (only what is missing) and configures
# the build folder. Usage: tools/setup.sh [BUILD_DIR] [extra cmake args...]
set -euo pipefail
cd "$(dirname "$0")/.."
BUILD_DIR="${1:-build}"
shift || true

PACKAGES=(cmake ninja-build g++ binutils libhalide14-0-dev catch2 libbenchmark-dev libdlpack-dev libnifti2-dev)
# The tests' oracle for the distance transforms (SciPy, run under Debian's /usr/bin/python3);
# pkg-config: the installed-package test builds a consumer with it.
# libtorch-dev and python3-torch: the PyTorch extension and its tests (integrations/torch);
# libopenmpi-dev and openmpi-bin: the MPI example's 2-process test (examples/distributed).
[[ " $* " == *" -DSEGLOSS_BUILD_TESTS=ON "* ]] &&
    PACKAGES+=(python3-scipy pkg-config libtorch-dev python3-torch libopenmpi-dev openmpi-bin)
# OpenCL kernels run on pocl, a CPU OpenCL (ocl-icd-opencl-dev: the libOpenCL.so that Halide loads).
[[ " $* " == *"SEGLOSS_GPU_APIS="*"opencl"* ]] && PACKAGES+=(pocl-opencl-icd ocl-icd-opencl-dev)
tools/install-missing.sh "${PACKAGES[@]}"

# Every configure starts from the product's CPU levels (all four for every kernel) and class
# counts: the test build's cut (tools/test.sh passes it again) must not stay in a cached build
# folder.
cmake -S . -B "$BUILD_DIR" -G Ninja -DCMAKE_BUILD_TYPE=Release -DSEGLOSS_CPU_FEW_TARGETS= \
      "-DSEGLOSS_CPU_EVERY_LEVEL_ROWS=.*" "-DSEGLOSS_CLASS_KERNELS=2;3;4" "$@"
