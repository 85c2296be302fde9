#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# The whole test suite: install what is missing, build what the tests need, run ctest on x86,
# the sanitizer build and the fuzzer on its kernels (tools/test-sanitize.sh), then the same
# suite cross-compiled for aarch64 under qemu (SEGLOSS_SKIP_AARCH64=1 skips it).
set -euo pipefail
cd "$(dirname "$0")/.."
# The GPU kernel sets: CUDA (run only where a GPU is), and OpenCL, whose test runs here on pocl
# (a CPU OpenCL) to check the GPU schedules without a GPU.
# x86 kernels: the rows that the ISA-level tests run (tests/api/test_cross_checks.cpp,
# test_half_logits.cpp: ce and dice, softmax, int32 labels; the half conversions) get all four
# levels; the others this machine's best level and the baseline, the levels the suite runs. The
# two levels between would take ~7 of the CI's 30 minutes for code no test runs.
cpu_levels=()
if [[ "$(uname -m)" == x86_64 ]]; then
    flags=" $(grep -m1 '^flags' /proc/cpuinfo | cut -d: -f2) "
    has() { local f; for f in "$@"; do [[ "$flags" == *" $f "* ]] || return 1; done; }
    best=""
    if has avx512f avx512cd avx512bw avx512dq avx512vl; then best="x86-64-linux-avx512_skylake;"
    elif has avx2 fma f16c; then best="x86-64-linux-avx2-fma-f16c;"
    elif has sse4_1; then best="x86-64-linux-sse41;"
    fi
    cpu_levels=("-DSEGLOSS_CPU_FEW_TARGETS=${best}x86-64-linux"
                "-DSEGLOSS_CPU_EVERY_LEVEL_ROWS=^(label_stats_i32|ce_softmax_i32_(value|grad)|region_(stats|grad)_softmax_i32|region_epilogue|convert_.*)\$")
fi
# Class-count kernels (cmake/kernels.cmake): 4 of the default 2;3;4, at the best level only
# (SeglossHalide.cmake; each count ~1 CI minute; the others are the same generators with another
# unroll count, and their counts run through the general kernels here).
tools/setup.sh build -DSEGLOSS_BUILD_TESTS=ON -DSEGLOSS_BUILD_BENCH=OFF "-DSEGLOSS_GPU_APIS=cuda;opencl" \
               -DSEGLOSS_CLASS_KERNELS=4 "${cpu_levels[@]}"
cmake --build build -j2
ctest --test-dir build --output-on-failure -j2 --timeout 900
# The runtime and unit tests again under AddressSanitizer and UndefinedBehaviorSanitizer, on the
# same kernels, and two minutes of the C ABI fuzzer (SEGLOSS_SKIP_SANITIZE=1 skips them).
if [[ "${SEGLOSS_SKIP_SANITIZE:-0}" != 1 ]]; then
    tools/test-sanitize.sh build build-sanitize
fi
if [[ "${SEGLOSS_SKIP_AARCH64:-0}" != 1 ]]; then
    tools/test-aarch64.sh build-aarch64
fi
