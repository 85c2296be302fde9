// SPDX-License-Identifier: Apache-2.0
// Target expansion: index maps are compared with the class on the fly (never materialised as
// one-hot, never used as an index, so an out-of-range label cannot read out of bounds);
// dense maps are read as they are.
#pragma once

#include "Halide.h"
#include "generators/common/layout.h"

namespace segloss::gen {

enum class TargetKind { I32, U8, F32 };

inline const std::map<std::string, TargetKind> kTargetKindNames = {
    {"i32", TargetKind::I32}, {"u8", TargetKind::U8}, {"f32", TargetKind::F32}};

struct Targets {
    Halide::Func g;        // g(x, y, z, c, n): target value of class c, float
    Halide::Expr counted;  // at (x, y, z, n): voxel takes part in the loss
    Halide::Expr invalid;  // at (x, y, z, n): counted, and label outside [0, C)
    Halide::Expr label;    // at (x, y, z, n): the label (index maps; undefined for dense)
};

// labels: (x, y, z, n) for index maps, (x, y, z, c, n) for dense maps.
inline Targets expand_targets(Halide::Func labels, TargetKind kind, Halide::Expr num_classes,
                              Halide::Expr has_ignore, Halide::Expr ignore_index, const Vars &v) {
    using namespace Halide;
    Targets t;
    t.g = Func("g");
    if (kind == TargetKind::F32) {
        t.g(v.x, v.y, v.z, v.c, v.n) = labels(v.x, v.y, v.z, v.c, v.n);
        t.counted = Internal::const_true();
        t.invalid = Internal::const_false();
        return t;
    }
    Expr label = cast<int>(labels(v.x, v.y, v.z, v.n));
    t.label = label;
    t.counted = !(has_ignore != 0 && label == ignore_index);
    t.invalid = t.counted && (label < 0 || label >= num_classes);
    t.g(v.x, v.y, v.z, v.c, v.n) = select(t.counted && label == v.c, 1.0f, 0.0f);
    return t;
}

}  // namespace segloss::gen
