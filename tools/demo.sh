#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# The main job: install what is missing, build the command-line tool, run `segloss demo`.
set -euo pipefail
cd "$(dirname "$0")/.."
tools/setup.sh build -DSEGLOSS_BUILD_TESTS=OFF -DSEGLOSS_BUILD_BENCH=OFF
cmake --build build --target segloss_cli -j2
build/segloss demo
