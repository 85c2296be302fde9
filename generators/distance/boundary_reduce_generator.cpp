// SPDX-License-Identifier: Apache-2.0
// A device call's boundary-loss reductions, so that the call never waits for the host (the CPU
// runtime does the same arithmetic in C++: runtime/families/boundary.cpp):
//  boundary_coef   the target pre-pass's line sums -> the counted voxels V of each group
//                  (image n, or the batch) and the gradient's dL/d(term sum) of each (class,
//                  image), scale / V (0 for V = 0); NaN when a label or a mask value is bad
//                  (the call cannot return a status without waiting)
//  boundary_total  the boundary pass's line sums -> each group's loss (its term sum / V; NaN
//                  for a non-finite logit or a bad input) and their mean or sum, times lambda,
//                  plus a compound's region part (its epilogue's total, on the device)
// Lines are added in float64 in a fixed order (row_totals.h), so a device repeats its bits.
#include <limits>

#include "Halide.h"
#include "generators/common/abi.h"
#include "generators/common/layout.h"
#include "generators/common/row_totals.h"
#include "schedules/gpu_lines.h"

namespace segloss::gen {
namespace {

using namespace Halide;

Expr nan64() { return f64(std::numeric_limits<double>::quiet_NaN()); }

class BoundaryCoef : public Generator<BoundaryCoef> {
public:
    Input<Buffer<float, 4>> label_rows{"label_rows"};  // (slot, y, z, n), slots abi::LabelSlot
    Input<int> num_maps{"num_maps"};                   // K: the classes with a map
    Input<int> batch{"batch"};                         // one group of every image (1) or one per image
    Input<double> scale{"scale"};                      // grad_scale x the reduction's 1/G
    Input<int> labels_checked{"labels_checked"};       // bad labels make the results NaN

    Output<Buffer<float, 2>> coef{"coef"};             // (k, n)
    Output<Buffer<double, 1>> group_voxels{"group_voxels"};  // (g): V of each group, NaN if bad

    void generate() {
        Var k("k"), n("n"), g("g");
        Expr Y = label_rows.dim(1).extent(), Z = label_rows.dim(2).extent(), N = label_rows.dim(3).extent();
        RowTotal labels(label_rows, Y, Z, N, "labels", true);
        Expr bad = labels.total(abi::kBadMask) > 0 || (labels_checked != 0 && labels.total(abi::kInvalid) > 0);
        RDom rn(0, N, "rn");
        Func batch_voxels("batch_voxels");
        batch_voxels(g) = f64(0);
        batch_voxels(g) += labels.image(abi::kCounted, rn);
        group_voxels(g) = select(bad, nan64(), batch != 0, batch_voxels(0), labels.image(abi::kCounted, g));
        Expr V = group_voxels(select(batch != 0, 0, n));
        coef(k, n) = select(bad, cast<float>(nan64()), V > 0, cast<float>(scale / V), 0.0f);

        label_rows.set_estimates({{0, abi::kNumLabelSlots}, {0, 128}, {0, 128}, {0, 2}});
        coef.set_estimates({{0, 3}, {0, 2}});
        group_voxels.set_estimates({{0, 2}});
        num_maps.set_estimate(3);
        batch.set_estimate(0);
        scale.set_estimate(1.0);
        labels_checked.set_estimate(1);
        if (auto_schedule) return;
        labels.schedule(get_target());
        batch_voxels.compute_root();
        group_voxels.compute_root();
        if (!schedules::is_gpu(get_target())) return;
        for (Func f : {batch_voxels, Func(group_voxels), Func(coef)}) schedules::gpu_single_thread(f);
    }
};

class BoundaryTotal : public Generator<BoundaryTotal> {
public:
    // (slot, y, z, n): slot k < K the terms of map k, slot K the voxels with a non-finite logit.
    Input<Buffer<float, 4>> rows{"rows"};
    Input<Buffer<double, 1>> group_voxels{"group_voxels"};  // boundary_coef's (g)
    Input<int> batch{"batch"};
    Input<int> mean{"mean"};                    // the total is the groups' mean (1) or sum (0)
    Input<double> lambda{"lambda"};             // a compound's weight of this part (1 alone)
    Input<Buffer<double, 1>> base{"base"};      // extent 1: a compound's region part, or 0

    Output<Buffer<double, 2>> groups{"groups"}; // (k, g): the loss of each group
    Output<Buffer<double, 1>> total{"total"};   // extent 1

    void generate() {
        Var k("k"), g("g"), i("i");
        Expr K = rows.dim(0).extent() - 1, N = rows.dim(3).extent(), G = group_voxels.dim(0).extent();
        RowTotal sums(rows, rows.dim(1).extent(), rows.dim(2).extent(), N, "rows", true);
        RDom rn(0, N, "rn");
        Func batch_sum("batch_sum");
        batch_sum(k) = f64(0);
        batch_sum(k) += sums.image(k, rn);
        Expr sum = select(batch != 0, batch_sum(k), sums.image(k, g));
        Expr V = group_voxels(g);
        // A group without counted voxels is 0; a non-finite logit or a bad input (NaN V) is NaN.
        groups(k, g) = select(sums.total(K) > 0 || is_nan(V), nan64(), V > 0, sum / V, f64(0));
        RDom rkg(0, K, 0, G, "rkg");  // the host's order: the classes of group 0, then group 1, ...
        Func added("added");
        added(i) = f64(0);
        added(i) += groups(rkg.x, rkg.y);
        total(i) = base(0) + lambda * select(mean != 0, added(i) / cast<double>(K * G), added(i));
        total.bound(i, 0, 1);

        rows.set_estimates({{0, 4}, {0, 128}, {0, 128}, {0, 2}});
        group_voxels.set_estimates({{0, 2}});
        base.set_estimates({{0, 1}});
        batch.set_estimate(0);
        mean.set_estimate(1);
        lambda.set_estimate(1.0);
        groups.set_estimates({{0, 3}, {0, 2}});
        total.set_estimates({{0, 1}});
        if (auto_schedule) return;
        sums.schedule(get_target());
        batch_sum.compute_root();
        groups.compute_root();
        added.compute_root();
        if (!schedules::is_gpu(get_target())) return;
        for (Func f : {batch_sum, Func(groups), added, Func(total)}) schedules::gpu_single_thread(f);
    }
};

}  // namespace
}  // namespace segloss::gen

HALIDE_REGISTER_GENERATOR(segloss::gen::BoundaryCoef, boundary_coef)
HALIDE_REGISTER_GENERATOR(segloss::gen::BoundaryTotal, boundary_total)
