// SPDX-License-Identifier: Apache-2.0
// What the two GPU benches share: their shapes, the median timer and the printed row (a plain
// timer, not Google Benchmark: Debian's libbenchmark is a shared library, which the GPU machine
// does not have).
#pragma once

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <functional>
#include <vector>

namespace segloss::bench {

struct Shape {
    int N, C, D, H, W;
};

// The shapes of both benches (and of tools/gpu_torch_baseline.py); `small`: one tiny shape, to
// check a harness on pocl.
inline std::vector<Shape> gpu_bench_shapes(bool small) {
    if (small) return {{2, 4, 16, 16, 16}};
    return {{2, 4, 128, 128, 128}, {8, 4, 1, 256, 256}, {1, 14, 96, 96, 96}, {1, 4, 256, 256, 256}};
}

struct Timing {
    double median_ms, min_ms, max_ms;
};

// Median, min and max over `reps` runs of `body` then `wait` (the device's completion), after
// one warm-up run (kernel compilation, allocation caches).
inline Timing time_on_device(const std::function<void()> &body, const std::function<void()> &wait, int reps) {
    using Clock = std::chrono::steady_clock;
    body();
    wait();
    std::vector<double> ms;
    for (int r = 0; r < reps; r++) {
        const auto t0 = Clock::now();
        body();
        wait();
        ms.push_back(std::chrono::duration<double, std::milli>(Clock::now() - t0).count());
    }
    std::sort(ms.begin(), ms.end());
    return {ms[ms.size() / 2], ms.front(), ms.back()};
}

inline void print_header() {
    std::printf("%-12s %-22s %10s %10s %10s %9s %9s\n", "loss", "shape NxCxDxHxW", "median ms", "min ms", "max ms",
                "GB/s", "of copy");
}

// One row: the timing, GB/s of `bytes` at the median, and that rate over the copy rate.
inline void print_row(const char *name, const Shape &s, const Timing &t, double bytes, double copy_gbs) {
    char shape[64];
    std::snprintf(shape, sizeof shape, "%dx%dx%dx%dx%d", s.N, s.C, s.D, s.H, s.W);
    const double gbs = bytes / (t.median_ms * 1e6);
    std::printf("%-12s %-22s %10.3f %10.3f %10.3f %9.1f %9.2f\n", name, shape, t.median_ms, t.min_ms, t.max_ms, gbs,
                gbs / copy_gbs);
}

}  // namespace segloss::bench
