// SPDX-License-Identifier: Apache-2.0
// A device call's pointwise reductions, so that the call never waits for the host (the CPU
// runtime does the same arithmetic in C++: runtime/families/pointwise.cpp):
//  pointwise_norm   the target pre-pass's line sums -> the mean's normaliser, the gradient's
//                   factor 1 / normaliser, and the class weights (inverse frequency, or the
//                   given ones); NaN when a label or a mask value is bad (the call cannot
//                   return a status without waiting)
//  pointwise_total  the pass's line sums -> the loss (sum / normaliser; NaN for a non-finite
//                   logit)
// Both add the lines in float64 in a fixed order (over y in one thread per (z, n), then the
// (z, n) partials in one thread), so a device repeats its bits.
#include <limits>

#include "Halide.h"
#include "generators/common/abi.h"
#include "generators/common/class_weights.h"
#include "generators/common/layout.h"
#include "generators/common/row_totals.h"
#include "schedules/gpu_lines.h"

namespace segloss::gen {
namespace {

using namespace Halide;

class PointwiseNorm : public Generator<PointwiseNorm> {
public:
    Input<Buffer<float, 4>> label_rows{"label_rows"};  // (slot, y, z, n), slots abi::LabelSlot
    Input<Buffer<float, 4>> class_rows{"class_rows"};  // (c, y, z, n): per-class target sums
    Input<Buffer<float, 1>> alpha_pos{"alpha_pos"};    // the given class weights (c)
    Input<int> norm_mode{"norm_mode"};                 // abi::PwNorm, or -1: 1 (sum, none)
    Input<int> per_class{"per_class"};                 // weighted normaliser: sum_c w_c M_c
    Input<int> inverse{"inverse"};                     // weights w_c = M / (K M_c) from the targets
    Input<int> labels_checked{"labels_checked"};       // bad labels make the result NaN

    Output<Buffer<double, 1>> norm{"norm"};            // extent 1
    Output<Buffer<float, 1>> norm_scale{"norm_scale"}; // extent 1: 1 / norm (0 for norm 0)
    Output<Buffer<float, 1>> weights{"weights"};       // (c): the class weights the pass uses

    void generate() {
        Var i("i"), c("c");
        Expr Y = label_rows.dim(1).extent(), Z = label_rows.dim(2).extent(), N = label_rows.dim(3).extent();
        Expr C = class_rows.dim(0).extent();
        RowTotal labels(label_rows, Y, Z, N, "labels"), classes(class_rows, Y, Z, N, "classes");

        // Inverse frequency (pointwise_args.h): M = sum_c M_c, K = the classes present.
        RDom rc(0, C, "rc");
        InverseFrequency inv(classes.total, C, "inverse");
        Func MK = inv.totals;
        weights(c) = select(inverse != 0, inv.weight(c), alpha_pos(c));

        // The normaliser (runtime/families/pointwise.cpp, the same cases).
        Func weighted("weighted");
        weighted(i) = f64(0);
        weighted(i) += cast<double>(weights(rc)) * classes.total(rc);
        Expr counted = labels.total(abi::kCounted);
        Expr value = select(norm_mode == abi::kPwNormElements, counted * cast<double>(C),
                            norm_mode == abi::kPwNormCount, counted,
                            norm_mode == abi::kPwNormWeighted,
                            select(per_class != 0, weighted(0), cast<double>(weights(0)) * counted), f64(1));
        Expr bad = labels.total(abi::kBadMask) > 0 || (labels_checked != 0 && labels.total(abi::kInvalid) > 0);
        Expr nan = f64(std::numeric_limits<double>::quiet_NaN());
        norm(i) = select(bad, nan, value);
        norm_scale(i) = select(bad, cast<float>(nan), value > 0, cast<float>(f64(1) / value), 0.0f);
        norm.bound(i, 0, 1);
        norm_scale.bound(i, 0, 1);

        label_rows.set_estimates({{0, abi::kNumLabelSlots}, {0, 128}, {0, 128}, {0, 2}});
        class_rows.set_estimates({{0, 4}, {0, 128}, {0, 128}, {0, 2}});
        alpha_pos.set_estimates({{0, 4}});
        norm_mode.set_estimate(abi::kPwNormWeighted);
        per_class.set_estimate(0);
        inverse.set_estimate(0);
        labels_checked.set_estimate(1);
        norm.set_estimates({{0, 1}});
        norm_scale.set_estimates({{0, 1}});
        weights.set_estimates({{0, 4}});
        if (auto_schedule) return;
        labels.schedule(get_target());
        classes.schedule(get_target());
        for (Func f : {MK, weighted}) f.compute_root();
        if (!schedules::is_gpu(get_target())) return;
        for (Func f : {MK, weighted, Func(norm), Func(norm_scale), Func(weights)}) schedules::gpu_single_thread(f);
    }
};

class PointwiseTotal : public Generator<PointwiseTotal> {
public:
    Input<Buffer<float, 4>> rows{"rows"};       // (slot, y, z, n), slots abi::PointwiseSlot
    Input<Buffer<double, 1>> norm{"norm"};      // pointwise_norm's (or the host's)
    Output<Buffer<double, 1>> total{"total"};   // extent 1

    void generate() {
        Var i("i");
        RowTotal sums(rows, rows.dim(1).extent(), rows.dim(2).extent(), rows.dim(3).extent(), "rows");
        Expr N = norm(0), nan = f64(std::numeric_limits<double>::quiet_NaN());
        // A mean over nothing is 0; a non-finite logit or a bad input (NaN normaliser) is NaN.
        total(i) = select(sums.total(abi::kNonfinite) > 0 || is_nan(N), nan,
                          N > 0, sums.total(abi::kLossSum) / N, f64(0));
        total.bound(i, 0, 1);

        rows.set_estimates({{0, abi::kNumPointwiseSlots}, {0, 128}, {0, 128}, {0, 2}});
        norm.set_estimates({{0, 1}});
        total.set_estimates({{0, 1}});
        if (auto_schedule) return;
        sums.schedule(get_target());
        if (schedules::is_gpu(get_target())) schedules::gpu_single_thread(total);
    }
};

}  // namespace
}  // namespace segloss::gen

HALIDE_REGISTER_GENERATOR(segloss::gen::PointwiseNorm, pointwise_norm)
HALIDE_REGISTER_GENERATOR(segloss::gen::PointwiseTotal, pointwise_total)
