// SPDX-License-Identifier: Apache-2.0
// TopK's selection (DESIGN.md, selection family). A key pass writes every voxel's loss (its
// key); the runtime finds the cut; the passes that follow read the key map back, so that every
// pass agrees on the selected voxels bit for bit (recomputing the loss in another loop nest
// could round differently at the cut).
#pragma once

#include "Halide.h"
#include "generators/common/layout.h"
#include "generators/common/targets.h"

namespace segloss::gen {

// A voxel is selected when its key is above cut_value, or equal to it and before cut_index in
// the batch's linear order (x fastest, then y, z, n): ties at the cut go to the first voxels,
// so the selection is deterministic. Losses without a selection pass a key of zeros and a
// cut_value of -1: every voxel is selected.
inline Halide::Expr is_selected(Halide::Func key, Halide::Expr cut_value, Halide::Expr cut_index,
                                Halide::Expr X, Halide::Expr Y, Halide::Expr Z, const Vars &v) {
    using namespace Halide;
    Expr k = key(v.x, v.y, v.z, v.n);
    Expr linear = v.x + X * (v.y + Y * (v.z + Z * v.n));
    return k > cut_value || (k == cut_value && linear < cut_index);
}

// The weight of each voxel in a pass that selects: the mask m where the voxel counts and is
// selected, 0 elsewhere (so "counted and selected" is weight > 0: counting needs m > 0). A Func,
// for the schedule to compute once per voxel: inlined, the key load and the linear index were
// evaluated once per class and cost ~25% of a CE gradient pass.
inline Halide::Func selected_weight(const Targets &t, Halide::Func key, Halide::Expr cut_value,
                                    Halide::Expr cut_index, Halide::Expr X, Halide::Expr Y,
                                    Halide::Expr Z, const Vars &v) {
    Halide::Func w("selected_weight");
    w(v.x, v.y, v.z, v.n) =
        Halide::select(t.counted && is_selected(key, cut_value, cut_index, X, Y, Z, v), t.weight, 0.0f);
    return w;
}

}  // namespace segloss::gen
