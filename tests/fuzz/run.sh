#!/bin/sh
# SPDX-License-Identifier: Apache-2.0
# A bounded fuzz run (ctest fuzz_loss_compute_bounded): FUZZER SEEDS WORK SECONDS. New inputs go
# to WORK/corpus (the seeds stay as checked in); a crash, leak, sanitizer report or broken
# contract leaves its input in WORK/artifacts and fails the run.
set -eu
fuzzer=$1 seeds=$2 work=$3 seconds=$4
rm -rf "$work"
mkdir -p "$work/corpus" "$work/artifacts"
exec "$fuzzer" -max_total_time="$seconds" -timeout=60 -rss_limit_mb=4096 -max_len=4096 -print_final_stats=1 \
    -artifact_prefix="$work/artifacts/" "$work/corpus" "$seeds"
