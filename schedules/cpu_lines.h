// SPDX-License-Identifier: Apache-2.0
// CPU schedule shared by every family: the unit of work is one x line (fixed y, z, n). Lines
// are grouped into parallel tasks of `grain` lines; per-voxel helpers (softmax terms) are
// computed once per task, and each line's partial sums in its line loop.
#pragma once

#include <vector>

#include "Halide.h"
#include "generators/common/layout.h"
#include "schedules/schedule.h"

namespace segloss::schedules {

struct LineLoops {
    Halide::Var yo{"yo"}, yi{"yi"};
};

// Reorders f so that its x (and class) loops sit inside the y loop, then splits y into chunks
// of `grain` lines that run in parallel (nested in parallel z slices). y, z and n are never
// fused: Halide's bounds inference loses the one-line extent of per-line intermediates
// through a fused loop and would compute whole planes per line.
inline void split_lines(Halide::Func f, const std::vector<Halide::VarOrRVar> &inner,
                        const gen::Vars &v, const LineLoops &l, int grain) {
    using namespace Halide;
    std::vector<VarOrRVar> order(inner);
    order.insert(order.end(), {v.y, v.z, v.n});
    f.reorder(order);
    f.split(v.y, l.yo, l.yi, grain, TailStrategy::GuardWithIf).parallel(l.yo).parallel(v.z);
}

// Computes per-voxel helpers once per parallel task (`at`, a task of `grain` lines), vectorised
// over x (every stage), before the task's line loop. One stage over the task's lines, not one
// per line: per-line stages cost their loop set-up and bounds arithmetic for every stage of
// every line, which made a CE gradient pass ~10% slower (A/B in one process,
// docs/performance.md); a task's helpers still fit in L2.
inline void compute_per_task(const std::vector<Halide::Func> &funcs, Halide::LoopLevel at,
                             const gen::Vars &v, int vec) {
    using namespace Halide;
    for (Func f : funcs) {
        f.compute_at(at).vectorize(v.x, vec, TailStrategy::GuardWithIf);
        for (int i = 0; i < f.num_update_definitions(); i++) {
            f.update(i).vectorize(v.x, vec, TailStrategy::GuardWithIf);
        }
    }
}

// Where a kernel's per-voxel helpers are computed (CpuParams::helpers): once per parallel task
// of `lead` (before the task's line loop), or once per line inside it.
inline Halide::LoopLevel helper_level(Halide::Func lead, const LineLoops &l, const CpuParams &p) {
    return p.helpers ? Halide::LoopLevel(lead, l.yi) : Halide::LoopLevel(lead, l.yo);
}

inline int vector_width(const Halide::Target &t, const CpuParams &p) {
    return p.vector > 0 ? p.vector : t.natural_vector_size<float>();
}

// The vector width of a kernel built for a fixed class count: its stages live in registers,
// so a narrower vector than the general kernel's can avoid spills (docs/tuning.md).
inline int class_vector_width(const Halide::Target &t, const CpuParams &p) {
    return p.class_vector > 0 ? p.class_vector : vector_width(t, p);
}

}  // namespace segloss::schedules
