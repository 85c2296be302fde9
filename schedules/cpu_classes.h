// SPDX-License-Identifier: Apache-2.0
// CPU schedule of a kernel built for a fixed class count (the `classes` GeneratorParam): a
// vector of voxels at a time, every class loop unrolled, so the per-voxel stages (softmax
// terms, per-class sums) live in registers instead of per-task buffers in L2.
#pragma once

#include <vector>

#include "Halide.h"
#include "generators/common/layout.h"

namespace segloss::schedules {

// Computes `helpers` (per-voxel stages, 4-D, or 5-D over classes) at `at`, a loop over
// vectors of `vec` voxels, with their class loops and class reductions unrolled: with a fixed
// class count every index is a constant, and the stages stay in registers.
inline void compute_helpers_per_vector(const std::vector<Halide::Func> &helpers, Halide::LoopLevel at,
                                       const gen::Vars &v, int vec) {
    using namespace Halide;
    for (Func f : helpers) {
        const bool per_class = f.dimensions() == 5;
        f.compute_at(at).vectorize(v.x, vec, TailStrategy::GuardWithIf);
        if (per_class) f.unroll(v.c);
        for (int i = 0; i < f.num_update_definitions(); i++) {
            Stage s = f.update(i);
            s.vectorize(v.x, vec, TailStrategy::GuardWithIf);
            if (per_class) s.unroll(v.c);
            for (const Internal::ReductionVariable &r : f.function().update(i).schedule().rvars()) s.unroll(RVar(r.var));
        }
    }
}

// `outputs` (x, y, z, n): the Tuple of a voxel's results, computed per line at `at` (its
// consumers, the kernel's outputs, read it back from L1) and stored at `store` (once per
// parallel task: a line's extent is not known, so storage per line would be a heap allocation
// per line), `vec` voxels at a time, with `helpers` inside that vector loop.
inline void compute_per_vector(Halide::Func outputs, const std::vector<Halide::Func> &helpers,
                               Halide::LoopLevel at, Halide::LoopLevel store, const gen::Vars &v, int vec) {
    using namespace Halide;
    Var xo("xo"), xi("xi");
    outputs.compute_at(at).store_at(store).split(v.x, xo, xi, vec, TailStrategy::GuardWithIf).vectorize(xi);
    compute_helpers_per_vector(helpers, LoopLevel(outputs, xo), v, vec);
}

// A single output f (x, y, z, c, n), laid out by split_lines: its x loop split into vectors,
// the class loop unrolled inside the vector loop, and `helpers` computed once per vector.
inline void vectors_of_every_class(Halide::Func f, const std::vector<Halide::Func> &helpers, const gen::Vars &v,
                                   int vec) {
    using namespace Halide;
    Var xo("xo"), xi("xi");
    f.split(v.x, xo, xi, vec, TailStrategy::GuardWithIf).reorder(xi, v.c, xo).vectorize(xi).unroll(v.c);
    compute_helpers_per_vector(helpers, LoopLevel(f, xo), v, vec);
}

}  // namespace segloss::schedules
