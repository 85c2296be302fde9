// SPDX-License-Identifier: Apache-2.0
// The exact EDT's three axis passes as plain Halide reductions, for GPU targets, where the CPU
// kernels' extern passes (extern/edt_passes.h: a lower envelope per line, sequential C++) cannot
// run.
//
// Each pass is the definition of the separable transform, evaluated by brute force: along an
// axis, d'(q) = min over the line's samples q' of (q' a source for q ? 0 : d(q')) + w (q - q')^2,
// with d = +inf before the x pass. That is O(n) per voxel instead of the envelope's O(1), but
// every voxel is a thread of its own, reads of the line are coalesced (adjacent threads read
// adjacent x) and the minimum of the same candidates is the same number in any order: the
// result is exact (squared distances of a voxel grid, to float32 rounding) and deterministic.
// A parallel-banding pass (linear work on a GPU) is a candidate for the tuning issue.
//
// Sources: a sample q' is a source for voxel q when its mask differs from what q keeps,
// `keep(q)`: 1 for EDT(M) (the distance to the outside), 0 for EDT(not M) and the surface
// distance (the distance to the inside or the surface), and q's own mask value for the
// two-sided transform (the distance to the other side, edt_passes.h). In the two-sided
// transform, a sample of q's own side brings its distance to the other side so far, one of the
// other side is itself a source (0); in the one-sided ones a source's own distance is 0 anyway.
//
// "No source on any line searched so far" is kEdtFar, a finite number above every squared
// distance, not +inf: Halide compiles with LLVM's no-infinities flags, under which a visible
// infinity constant may be folded away. The caller turns kEdtFar into +inf after the square
// root, from the bits.
#pragma once

#include <vector>

#include "Halide.h"
#include "generators/common/layout.h"

namespace segloss::gen {

constexpr float kEdtFar = 1e38f;

struct BruteEdt {
    Halide::Func dx, dy, dz;  // squared distances in physical units after the x, y, z passes
    Halide::RDom rx, ry, rz;  // the line each pass's update runs over
};

// +inf where cond holds, else value (float32), chosen on the bits: under fast-math flags a
// float select of an infinity constant may be folded to its other operand.
inline Halide::Expr inf_if(Halide::Expr cond, Halide::Expr value) {
    using namespace Halide;
    Expr inf_bits = Internal::make_const(UInt(32), uint64_t(0x7f800000u));
    return reinterpret(Float(32), select(cond, inf_bits, reinterpret(UInt(32), value)));
}

// edt_mask: uint8 (x, y, z, c, n), 0 or 1. side0: 0, 1 or 2 (two-sided), as in edt_passes.h.
// wx, wy, wz: the squared spacings. Extents X, Y, Z of the volume.
inline BruteEdt brute_edt(Halide::Func edt_mask, Halide::Expr side0, Halide::Expr X, Halide::Expr Y, Halide::Expr Z,
                          Halide::Expr wx, Halide::Expr wy, Halide::Expr wz, const Vars &v) {
    using namespace Halide;
    const Var &x = v.x, &y = v.y, &z = v.z, &c = v.c, &n = v.n;
    const Expr far = kEdtFar;
    Expr own = edt_mask(x, y, z, c, n);
    Expr keep = select(side0 == 0, cast<uint8_t>(1), side0 == 1, cast<uint8_t>(0), own);
    // w (q - q')^2: the integer square is exact, so one rounding (the CPU x pass's figure).
    auto parabola = [](Expr w, Expr q, Expr r) { return w * cast<float>((q - r) * (q - r)); };

    BruteEdt e{Func("edt_x"), Func("edt_y"), Func("edt_z"), RDom(0, X, "edt_rx"), RDom(0, Y, "edt_ry"),
               RDom(0, Z, "edt_rz")};
    const RDom &rx = e.rx, &ry = e.ry, &rz = e.rz;
    // far + a parabola stays finite (and is clamped back to far) for any realistic spacing.
    e.dx(x, y, z, c, n) = far;
    e.dx(x, y, z, c, n) = min(e.dx(x, y, z, c, n), select(edt_mask(rx, y, z, c, n) != keep, parabola(wx, x, rx), far));
    e.dy(x, y, z, c, n) = far;
    e.dy(x, y, z, c, n) = min(e.dy(x, y, z, c, n), select(edt_mask(x, ry, z, c, n) != keep, 0.0f, e.dx(x, ry, z, c, n)) +
                                                       parabola(wy, y, ry));
    e.dz(x, y, z, c, n) = far;
    e.dz(x, y, z, c, n) = min(e.dz(x, y, z, c, n), select(edt_mask(x, y, rz, c, n) != keep, 0.0f, e.dy(x, y, rz, c, n)) +
                                                       parabola(wz, z, rz));
    return e;
}

}  // namespace segloss::gen
