#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# The sanitizer build (tests/sanitize) on the kernels of a built segloss tree: the runtime and
# the unit tests compiled by clang with AddressSanitizer and UndefinedBehaviorSanitizer, and a
# bounded run of the C ABI fuzzer (SEGLOSS_FUZZ_SECONDS, default 120).
# Usage: tools/test-sanitize.sh [BUILD_DIR] [SANITIZE_BUILD_DIR]
set -euo pipefail
cd "$(dirname "$0")/.."
BUILD_DIR="${1:-build}"
OUT_DIR="${2:-build-sanitize}"
tools/install-missing.sh clang-14 libclang-rt-14-dev
cmake -S tests/sanitize -B "$OUT_DIR" -G Ninja -DSEGLOSS_BUILD="$BUILD_DIR" -DCMAKE_C_COMPILER=clang-14 \
      -DCMAKE_CXX_COMPILER=clang++-14 "-DSEGLOSS_FUZZ_SECONDS=${SEGLOSS_FUZZ_SECONDS:-120}"
cmake --build "$OUT_DIR" -j2
ctest --test-dir "$OUT_DIR" --output-on-failure -j2 --timeout 900
