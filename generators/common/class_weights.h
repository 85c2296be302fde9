// SPDX-License-Identifier: Apache-2.0
// Inverse-frequency class weights, w_c = M / (K M_c) (M: the counted voxels, K: the classes
// present, M_c: class c's voxels; 0 for an absent class), in float64 then rounded to float32:
// the host's runtime/families/pointwise_args.cpp, inverse_frequency_weights, for the kernels
// that derive them on a device.
#pragma once

#include <string>

#include "Halide.h"

namespace segloss::gen {

// The weights (c) of the per-class counts Mc (c) of C classes; `totals` (M, K) is a Func of its
// own, for the schedule to compute once.
struct InverseFrequency {
    Halide::Func totals, weight;
    InverseFrequency(const Halide::Func &Mc, Halide::Expr C, const std::string &name)
        : totals(name + "_totals"), weight(name + "_weight") {
        using namespace Halide;
        Var i("i"), c("c");
        RDom rc(0, C, name + "_rc");
        totals(i) = {cast<double>(0), cast<double>(0)};
        totals(i) = {totals(i)[0] + Mc(rc), totals(i)[1] + select(Mc(rc) > 0, cast<double>(1), cast<double>(0))};
        Expr M = totals(0)[0], K = totals(0)[1];
        weight(c) = select(Mc(c) > 0, cast<float>(M / (K * Mc(c))), 0.0f);
    }
};

}  // namespace segloss::gen
