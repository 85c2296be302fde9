// SPDX-License-Identifier: Apache-2.0
// GPU schedules shared by every family (CUDA, and OpenCL for the CI's CPU-only check of the
// same schedules, docs/design.md). Two shapes of kernel:
//  - voxel kernels (gradients, per-voxel maps): one thread per voxel, 2-D thread blocks over
//    (x, y), z the third block dimension, one launch per image n; the class loop runs inside
//    the thread;
//  - line kernels (fixed-order line sums, generators/common/sums.h): the line's interleaved
//    lanes as threads, in shared memory, then one thread per line adding them in order
//    (gpu_line_lane_threads); or one thread per x line, the lanes in the thread (gpu_lines and
//    gpu_line_lanes: a thread's lanes x arity accumulators spill to local memory, so only for
//    small sums).
// Never a fused (z, n) block dimension: Halide's bounds inference loses the one-point extent of
// per-thread stages through the fused variable (as on the CPU, cpu_lines.h), and a per-thread
// allocation of run-time size cannot live in registers.
// Per-voxel stages are computed by the thread that needs them; stages with a class dimension and
// no update are inlined (a per-thread array of C values would have a run-time size, which
// Halide cannot place in GPU registers). No atomics: every sum is the sums.h fixed order.
// The sizes are data (schedules/cuda/gpu.params, gpu_params()): hand-set, first measured on an
// H200 (docs/performance.md).
#pragma once

#include <vector>

#include "Halide.h"
#include "generators/common/layout.h"
#include "generators/common/sums.h"
#include "schedules/schedule.h"

namespace segloss::schedules {

struct GpuLoops {
    Halide::Var xo{"gxo"}, yo{"gyo"}, xi{"gxi"}, yi{"gyi"};
};

inline bool is_gpu(const Halide::Target &t) { return t.has_gpu_feature(); }

// f(x, y, z, [inner...,] n): one thread per (x, y), `inner` (e.g. the class) looped inside the
// thread, in the order given.
inline void gpu_voxels(Halide::Func f, const std::vector<Halide::VarOrRVar> &inner, const gen::Vars &v,
                       const GpuLoops &g) {
    using namespace Halide;
    std::vector<VarOrRVar> order(inner);
    order.insert(order.end(), {v.x, v.y, v.z, v.n});
    f.reorder(order);
    f.gpu_tile(v.x, v.y, g.xo, g.yo, g.xi, g.yi, gpu_params().tile_x, gpu_params().tile_y, TailStrategy::GuardWithIf);
    f.gpu_blocks(v.z);
}

// f(inner..., y, z, n), one value per line: one thread per line, `inner` inside the thread.
inline void gpu_lines(Halide::Func f, const std::vector<Halide::VarOrRVar> &inner, const gen::Vars &v,
                      const GpuLoops &g) {
    using namespace Halide;
    std::vector<VarOrRVar> order(inner);
    order.insert(order.end(), {v.y, v.z, v.n});
    f.reorder(order);
    f.split(v.y, g.yo, g.yi, gpu_params().line_block, TailStrategy::GuardWithIf);
    f.gpu_blocks(g.yo, v.z, v.n).gpu_threads(g.yi);
}

// Computes per-voxel stages at `at` (a thread's voxel); stages with a class dimension and no
// update are left inline.
inline void compute_per_thread(const std::vector<Halide::Func> &funcs, Halide::LoopLevel at) {
    for (Halide::Func f : funcs) {
        if (f.dimensions() == 5 && !f.has_update_definition()) continue;
        f.compute_at(at);
    }
}

// The lanes of a one_update line sum in the registers of the thread of `at` (one line), and the
// per-voxel stages of its summand at each voxel of its update.
inline void gpu_line_lanes(gen::LineSum &s, Halide::LoopLevel at, const std::vector<Halide::Func> &per_voxel) {
    s.lanes.compute_at(at);
    compute_per_thread(per_voxel, Halide::LoopLevel(s.lanes, s.r.x));
}

// A line sum per (y, z, [c,] n) whose lanes are threads: blocks of lane_lines lines of one
// (z[, c]), one launch per image n; in a block, thread (lane, line) adds every abi::kSumLanes-th
// voxel of its line into shared memory (adjacent threads read adjacent voxels), then one thread
// per line adds the lanes in order: the same float32 additions as a thread per line, without a
// thread's kSumLanes x arity accumulators (which spill to local memory).
inline void gpu_line_lane_threads(gen::LineSum &s, const gen::Vars &v, const std::vector<Halide::Func> &per_voxel,
                                  bool per_class) {
    using namespace Halide;
    Var yo("gyo"), yi("gyi");
    s.line.compute_root();
    if (per_class) {
        s.line.reorder(v.y, v.z, v.c, v.n);
    } else {
        s.line.reorder(v.y, v.z, v.n);
    }
    s.line.split(v.y, yo, yi, gpu_params().lane_lines, TailStrategy::GuardWithIf).gpu_threads(yi);
    if (per_class) {
        s.line.gpu_blocks(yo, v.z, v.c);
    } else {
        s.line.gpu_blocks(yo, v.z);
    }
    s.lanes.compute_at(s.line, yo).gpu_threads(v.lane, v.y);
    s.lanes.update(0).gpu_threads(v.lane, v.y);
    compute_per_thread(per_voxel, Halide::LoopLevel(s.lanes, s.r.x));
}

// One thread per class c (and image *n, if given) of f's pure definition and updates, in
// blocks of 32 classes: the epilogue's per-group and per-class stages.
inline void gpu_per_class(Halide::Func f, const Halide::Var &c, const Halide::Var *n = nullptr) {
    using namespace Halide;
    Var co("gco"), ci("gci");
    auto tile = [&](Stage s) {
        s.split(c, co, ci, 32, TailStrategy::GuardWithIf).gpu_threads(ci);
        if (n) {
            s.gpu_blocks(co, *n);
        } else {
            s.gpu_blocks(co);
        }
    };
    tile(f);
    for (int i = 0; i < f.num_update_definitions(); i++) tile(f.update(i));
}

// Every stage of f as one GPU thread (the tiny, shape-independent epilogues).
inline void gpu_single_thread(Halide::Func f) {
    f.gpu_single_thread();
    for (int i = 0; i < f.num_update_definitions(); i++) f.update(i).gpu_single_thread();
}

}  // namespace segloss::schedules
