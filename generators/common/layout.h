// SPDX-License-Identifier: Apache-2.0
// Dimension names and stride contracts shared by every generator.
//
// A PyTorch N,C,[D,]H,W tensor is Halide (x, y, z, c, n): dimension 0 is innermost. The runtime
// pads 1-D and 2-D grids with extent-1 axes, so one kernel serves every rank.
#pragma once

#include <limits>

#include "Halide.h"

namespace segloss::gen {

struct Vars {
    Halide::Var x{"x"}, y{"y"}, z{"z"}, c{"c"}, n{"n"}, lane{"lane"}, k{"k"};
};

// Lets dimension 0 of a buffer have any stride (strided views, channels-last). Kernels
// specialise on `innermost_dense` for the vectorised fast path.
template <typename Buf>
void allow_any_stride(Buf &b) {
    b.dim(0).set_stride(Halide::Expr());
}

template <typename Buf>
Halide::Expr innermost_dense(const Buf &b) {
    return b.dim(0).stride() == 1;
}

// True for NaN and +-Inf, from the bits: Halide compiles with fast-math flags under which
// LLVM may assume that no float is NaN and fold is_nan()/is_finite() away; integer tests stay.
inline Halide::Expr is_nonfinite(Halide::Expr x) {
    Halide::Expr exponent = Halide::Internal::make_const(Halide::UInt(32), uint64_t(0x7f800000u));
    return (Halide::reinterpret(Halide::UInt(32), x) & exponent) == exponent;
}

// log(1 + u), accurate for small u (Goldberg's trick). Strict, so that (1 + u) - 1 is not
// reassociated into u.
inline Halide::Expr log1p_accurate(Halide::Expr u) {
    Halide::Expr w = 1.0f + u;
    return Halide::strict_float(Halide::select(w == 1.0f, u, Halide::log(w) * (u / (w - 1.0f))));
}

// A float64 constant (Halide has no implicit conversion from double).
inline Halide::Expr f64(double v) {
    return Halide::Internal::make_const(Halide::Float(64), v);
}

// NaN where `cond` holds, in value's type; strict, so that Halide's fast-math code generation
// (which assumes there are no NaNs) cannot fold it away.
inline Halide::Expr nan_if(Halide::Expr cond, Halide::Expr value) {
    Halide::Expr nan = Halide::Internal::make_const(value.type(), std::numeric_limits<double>::quiet_NaN());
    return Halide::strict_float(Halide::select(cond, nan, value));
}

}  // namespace segloss::gen
