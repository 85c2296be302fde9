#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# The whole test suite on aarch64: cross-compiles segloss (kernels for arm-64-linux from the
# generators of the host build in build/), and runs ctest under qemu-aarch64. Run tools/test.sh
# (or at least its build) first. Usage: tools/test-aarch64.sh [BUILD_DIR]
# Without the class-count kernels (cmake/kernels.cmake: CI time; the x86 suite tests them).
set -euo pipefail
cd "$(dirname "$0")/.."
BUILD_DIR="${1:-build-aarch64}"
HOST_BUILD="$(pwd)/build"

tools/install-missing.sh g++-aarch64-linux-gnu qemu-user
tools/aarch64-sysroot.sh "$BUILD_DIR/sysroot"

cmake -S . -B "$BUILD_DIR" -G Ninja -DCMAKE_BUILD_TYPE=Release \
      -DCMAKE_TOOLCHAIN_FILE=cmake/toolchains/aarch64-linux-gnu.cmake \
      -DSEGLOSS_AARCH64_SYSROOT="$(pwd)/$BUILD_DIR/sysroot" \
      -Dsegloss-halide_generators_ROOT="$HOST_BUILD" \
      -DSEGLOSS_BUILD_TESTS=ON -DSEGLOSS_BUILD_BENCH=OFF -DSEGLOSS_CLASS_KERNELS=
cmake --build "$BUILD_DIR" -j2
# The same cases as on x86: a test executable that cannot start under qemu lists no tests
# instead of failing, so count them (but the GPU kernel tests, label gpu: no GPU kernel set is
# cross-built; and the build machine's tools, label host: the generators and the tuner).
count() { ctest --test-dir "$1" -N -LE 'gpu|host' | sed -n 's/^Total Tests: //p'; }
host_tests="$(count "$HOST_BUILD" 2>/dev/null || true)"
if [[ -n "$host_tests" && "$host_tests" != 0 && "$(count "$BUILD_DIR")" != "$host_tests" ]]; then
    echo "segloss: the aarch64 build lists $(count "$BUILD_DIR") tests, the x86 build $host_tests" >&2
    exit 1
fi
start=$(date +%s)
ctest --test-dir "$BUILD_DIR" --output-on-failure -j2 --timeout 1800
echo "segloss: aarch64 suite (qemu-aarch64) ran in $(($(date +%s) - start)) s"
