// SPDX-License-Identifier: Apache-2.0
// Target expansion: index maps are compared with the class on the fly (never materialised as
// one-hot, never used as an index, so an out-of-range label cannot read out of bounds);
// dense maps are read as they are. The loss mask weighs every voxel after the activation.
#pragma once

#include "Halide.h"
#include "generators/common/layout.h"

namespace segloss::gen {

enum class TargetKind { I32, U8, F32 };

inline const std::map<std::string, TargetKind> kTargetKindNames = {
    {"i32", TargetKind::I32}, {"u8", TargetKind::U8}, {"f32", TargetKind::F32}};

struct Targets {
    Halide::Func g;        // g(x, y, z, c, n): target value of class c, float
    Halide::Expr counted;  // at (x, y, z, n): voxel takes part in the loss (not ignored, mask > 0)
    Halide::Expr invalid;  // at (x, y, z, n): counted, and label outside [0, C)
    Halide::Expr label;    // at (x, y, z, n): the label (index maps; undefined for dense)
    // at (x, y, z, n): the loss mask m in [0, 1] (1 without one). Every sum, count and gradient
    // of a counted voxel is multiplied by it.
    Halide::Expr weight;
    Halide::Expr bad_mask;  // at (x, y, z, n): m is NaN, infinite or outside [0, 1]
};

// labels: (x, y, z, n) for index maps, (x, y, z, c, n) for dense maps; mask: (x, y, z, n), all
// ones when the caller gave none (the runtime passes one line of ones with zero outer strides).
inline Targets expand_targets(Halide::Func labels, TargetKind kind, Halide::Expr num_classes,
                              Halide::Expr has_ignore, Halide::Expr ignore_index, Halide::Func mask,
                              const Vars &v) {
    using namespace Halide;
    Targets t;
    t.g = Func("g");
    Expr m = mask(v.x, v.y, v.z, v.n);
    t.weight = m;
    // From the bits (fast-math may fold NaN comparisons); a bad mask fails the call, so what
    // such a voxel computes does not matter.
    t.bad_mask = is_nonfinite(m) || m < 0.0f || m > 1.0f;
    if (kind == TargetKind::F32) {
        t.g(v.x, v.y, v.z, v.c, v.n) = labels(v.x, v.y, v.z, v.c, v.n);
        t.counted = m > 0.0f;
        t.invalid = Internal::const_false();
        return t;
    }
    Expr label = cast<int>(labels(v.x, v.y, v.z, v.n));
    t.label = label;
    t.counted = !(has_ignore != 0 && label == ignore_index) && m > 0.0f;
    t.invalid = !(has_ignore != 0 && label == ignore_index) && (label < 0 || label >= num_classes);
    t.g(v.x, v.y, v.z, v.c, v.n) = select(t.counted && label == v.c, 1.0f, 0.0f);
    return t;
}

}  // namespace segloss::gen
