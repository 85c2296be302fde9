#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# The whole test suite: install what is missing, build what the tests need, run ctest.
set -euo pipefail
cd "$(dirname "$0")/.."
tools/setup.sh build -DSEGLOSS_BUILD_TESTS=ON -DSEGLOSS_BUILD_BENCH=OFF
cmake --build build -j2
ctest --test-dir build --output-on-failure -j2 --timeout 900
