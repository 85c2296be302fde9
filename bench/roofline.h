// SPDX-License-Identifier: Apache-2.0
// This machine's memory bandwidth, measured in the benchmark binary itself (STREAM-like copy
// and read kernels on arrays far larger than the caches), so each loss benchmark can report
// its fraction of the roofline measured in the same run.
#pragma once

namespace segloss::bench {

struct Bandwidth {
    double copy_gbs;  // bytes read + bytes written per second, a[i] = b[i]
    double read_gbs;  // bytes read per second, sum of a[i]
};

// The best of `reps` runs with `threads` threads over 2 x 256 MiB arrays.
Bandwidth measure_bandwidth(int threads, int reps = 7);

}  // namespace segloss::bench
