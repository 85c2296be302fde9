// SPDX-License-Identifier: Apache-2.0
// dice_topk's TopK part on a device, after the device select (topk_select_generator.cpp), so
// that the compound's call never waits for the host (the CPU runtime does the same in C++:
// runtime/families/region.cpp, select_topk_part):
//  topk_part_inverse  inverse-frequency class weights from pass 1's G (the host's formula),
//                     for the key pass, when the part asks for them
//  topk_part_weights  the part's class weights times 1 / K (topk_mark's norm_scale). The region
//                     epilogue turns them into the gradient's pointwise coefficients with its
//                     own normaliser set to 1: it reads its options on the host, so a normaliser
//                     found on the device cannot reach it there without a wait; its class
//                     weights it reads on the device only.
//  topk_part_total    the compound's total: the epilogue's (region part x lambda_region) plus
//                     lambda x the part's value, the selected keys' sum / K (NaN for a NaN key);
//                     each line of keys summed in float64, the lines in a fixed order
//                     (generators/common/row_totals.h), so a device repeats its bits.
#include <limits>

#include "Halide.h"
#include "generators/common/abi.h"
#include "generators/common/class_weights.h"
#include "generators/common/layout.h"
#include "generators/common/row_totals.h"
#include "generators/common/selection.h"
#include "generators/common/topk_state.h"
#include "schedules/gpu_lines.h"

namespace segloss::gen {
namespace {

using namespace Halide;
using namespace segloss::abi;

class TopkPartInverse : public Generator<TopkPartInverse> {
public:
    Input<Buffer<double, 3>> stats{"stats"};       // (slot, c, n): pass 1's group sums
    Output<Buffer<float, 1>> weights{"weights"};   // (c)

    void generate() {
        Var c("c");
        RDom rn(0, stats.dim(2).extent(), "rn");
        Func G("G");
        G(c) = f64(0);
        G(c) += stats(kStatG, c, rn);
        InverseFrequency inv(G, stats.dim(1).extent(), "inverse");
        weights(c) = inv.weight(c);

        stats.set_estimates({{0, kNumRegionStats}, {0, 4}, {0, 2}});
        weights.set_estimates({{0, 4}});
        if (auto_schedule) return;
        G.compute_root();
        inv.totals.compute_root();
        if (!schedules::is_gpu(get_target())) return;
        for (Func f : {G, inv.totals, Func(weights)}) schedules::gpu_single_thread(f);
    }
};

class TopkPartWeights : public Generator<TopkPartWeights> {
public:
    Input<Buffer<float, 1>> alpha_pos{"alpha_pos"};    // (c): the part's class weights
    Input<Buffer<float, 1>> alpha_neg{"alpha_neg"};
    Input<Buffer<float, 1>> norm_scale{"norm_scale"};  // extent 1: topk_mark's 1 / K
    Output<Buffer<float, 1>> pos{"pos"};
    Output<Buffer<float, 1>> neg{"neg"};

    void generate() {
        Var c("c");
        pos(c) = alpha_pos(c) * norm_scale(0);
        neg(c) = alpha_neg(c) * norm_scale(0);

        alpha_pos.set_estimates({{0, 4}});
        alpha_neg.set_estimates({{0, 4}});
        norm_scale.set_estimates({{0, 1}});
        pos.set_estimates({{0, 4}});
        neg.set_estimates({{0, 4}});
        if (auto_schedule || !schedules::is_gpu(get_target())) return;
        schedules::gpu_single_thread(pos);
        schedules::gpu_single_thread(neg);
    }
};

class TopkPartTotal : public Generator<TopkPartTotal> {
public:
    Input<Buffer<float, 4>> keys{"keys"};          // (x, y, z, n): the key pass's, before marking
    Input<Buffer<int32_t, 1>> state{"state"};      // the settled cut (topk_tie's)
    Input<Buffer<double, 1>> norm{"norm"};         // extent 1: topk_mark's K or 1, NaN for a NaN key
    Input<double> lambda{"lambda"};                // the compound's weight of the part
    Input<Buffer<double, 1>> base{"base"};         // extent 1: the region epilogue's total
    Output<Buffer<double, 1>> total{"total"};      // extent 1

    void generate() {
        Vars v;
        Var i("i"), k("k");
        Expr X = keys.dim(0).extent(), Y = keys.dim(1).extent(), Z = keys.dim(2).extent(), N = keys.dim(3).extent();
        Expr cut_value = reinterpret(Float(32), state(kTopkCutBits));
        Func picked("picked");
        picked(v.x, v.y, v.z, v.n) = select(is_selected(keys, cut_value, state(kTopkCutIndex), X, Y, Z, v),
                                            cast<double>(keys(v.x, v.y, v.z, v.n)), f64(0));
        // One slot k (RowTotal's layout): the selected keys' sum of each line, in float64.
        RDom rx(0, X, "rx");
        Func lines("lines");
        lines(k, v.y, v.z, v.n) = f64(0);
        lines(k, v.y, v.z, v.n) += picked(rx, v.y, v.z, v.n);
        lines.bound(k, 0, 1);
        RowTotal sums(lines, Y, Z, N, "lines");
        Expr K = norm(0), nan = f64(std::numeric_limits<double>::quiet_NaN());
        // The sum stays outside any select on K: Halide would otherwise skip its stages under
        // that condition, evaluated on the host, reading norm there (a wait on a device call,
        // and a crash on device-only memory). Only the scalar lambda may gate them. Strict, so
        // that the NaN of a NaN key survives the addition (CUDA's fast-math flags assume no NaN
        // operands and dropped it).
        Expr value = sums.total(0) * select(K > 0, f64(1) / K, f64(0)) + select(is_nan(K), nan, f64(0));
        total(i) = strict_float(base(0) + select(lambda != f64(0), lambda * value, f64(0)));
        total.bound(i, 0, 1);

        keys.set_estimates({{0, 128}, {0, 128}, {0, 128}, {0, 2}});
        state.set_estimates({{0, kTopkStateSize}});
        norm.set_estimates({{0, 1}});
        lambda.set_estimate(1.0);
        base.set_estimates({{0, 1}});
        total.set_estimates({{0, 1}});
        if (auto_schedule) return;
        lines.compute_root();
        sums.schedule(get_target());
        if (!schedules::is_gpu(get_target())) return;
        // A thread per line of x (the line's keys in its own order), blocks of 64 lines.
        Var yo("yo"), yi("yi");
        for (Stage s : {Stage(lines), lines.update()}) {
            s.split(v.y, yo, yi, 64, TailStrategy::GuardWithIf).gpu_blocks(yo, v.z, v.n).gpu_threads(yi);
        }
        schedules::gpu_single_thread(total);
    }
};

}  // namespace
}  // namespace segloss::gen

HALIDE_REGISTER_GENERATOR(segloss::gen::TopkPartInverse, topk_part_inverse)
HALIDE_REGISTER_GENERATOR(segloss::gen::TopkPartWeights, topk_part_weights)
HALIDE_REGISTER_GENERATOR(segloss::gen::TopkPartTotal, topk_part_total)
