// SPDX-License-Identifier: Apache-2.0
// Region family, shared by every region loss:
//   region_stats     pass 1: per-group sums (I, P, G, P2, G2, counts) in float64
//   region_epilogue  the loss and per-group coefficients dL/d(sum) from those sums
//   region_grad      pass 2: dL/dx voxel by voxel from the coefficients
// Losses differ only in the epilogue (epilogues.h).
#include "Halide.h"
#include "generators/common/abi.h"
#include "generators/common/loss_generator.h"
#include "generators/common/layout.h"
#include "generators/common/sums.h"
#include "generators/region/epilogues.h"
#include "schedules/cpu_lines.h"

namespace segloss::gen {
namespace {

using namespace Halide;

class RegionStats : public LossGenerator<RegionStats> {
public:
    // Group sums (slot, c, n), slots abi::RegionStat, float64.
    Output<Buffer<double, 3>> stats{"stats"};

    void generate() {
        const Var &x = v.x, &y = v.y, &z = v.z, &c = v.c, &n = v.n;

        // The algorithm.
        ActivationForward act = forward();
        Targets tg = targets();
        Expr p = act.p(x, y, z, c, n);
        Expr g = tg.g(x, y, z, c, n);
        Expr ok = tg.counted && !act.bad;  // non-finite voxels are counted apart, not summed
        Expr zero = 0.0f, one = 1.0f;
        Func contrib("contrib");
        contrib(x, y, z, c, n) = {
            select(ok, p * g, zero),  select(ok, p, zero),       select(tg.counted, g, zero),
            select(ok, p * p, zero),  select(tg.counted, g * g, zero),
            select(tg.counted, one, zero), select(tg.invalid, one, zero),
            select(tg.counted && act.bad, one, zero)};
        LineSum line = fixed_order_line_sum("stats", contrib, logits.dim(0).extent(), {y, z, c, n}, v);

        // Lines are added in float64, y then z, in a fixed order per group.
        RDom ryz(0, logits.dim(1).extent(), 0, logits.dim(2).extent(), "ryz");
        Func group("group");
        std::vector<Expr> zeros(abi::kNumRegionStats, f64(0));
        group(c, n) = Tuple(zeros);
        std::vector<Expr> upd;
        for (int i = 0; i < abi::kNumRegionStats; i++) {
            upd.push_back(group(c, n)[i] + cast<double>(line.line(ryz.x, ryz.y, c, n)[i]));
        }
        group(c, n) = Tuple(upd);
        std::vector<Expr> slots;
        for (int i = 0; i < abi::kNumRegionStats; i++) slots.push_back(group(c, n)[i]);
        stats(v.k, c, n) = mux(v.k, slots);
        stats.bound(v.k, 0, abi::kNumRegionStats);

        Expr dense = declare_inputs();
        stats.set_estimates({{0, abi::kNumRegionStats}, {0, 4}, {0, 2}});

        // Schedule.
        if (auto_schedule) return;
        const schedules::CpuParams sp = schedules::cpu_params(get_target(), "region");
        const int vec = schedules::vector_width(get_target(), sp);
        schedules::LineLoops l;
        line.line.compute_root();
        schedules::split_lines(line.line, {c}, v, l, sp.grain);
        line.line.specialize(dense);
        schedule_line_lanes(line, LoopLevel(line.line, l.yi), v);
        schedules::compute_per_line(act.row_funcs, LoopLevel(line.line, l.yi), LoopLevel(line.line, l.yo), v, vec);
        group.compute_root();
        group.update().parallel(n);
    }
};

class RegionGrad : public LossGenerator<RegionGrad> {
public:
    // Per-group coefficients (slot, c, n), slots abi::RegionCoef, from the epilogue.
    Input<Buffer<float, 3>> coef{"coef"};

    Output<Buffer<float, 5>> grad{"grad"};

    void generate() {
        const Var &x = v.x, &y = v.y, &z = v.z, &c = v.c, &n = v.n;

        // The algorithm.
        ActivationForward act = forward();
        Targets tg = targets();
        // a = dL/dp_v = coef_I g + coef_P + 2 coef_P2 p (only counted voxels enter the sums).
        Func a("dl_dp");
        a(x, y, z, c, n) = select(tg.counted,
                                  coef(abi::kCoefI, c, n) * tg.g(x, y, z, c, n) +
                                      coef(abi::kCoefP, c, n) +
                                      2.0f * coef(abi::kCoefP2, c, n) * act.p(x, y, z, c, n),
                                  0.0f);
        std::vector<Func> per_line = act.row_funcs;
        per_line.push_back(a);
        Func dx = activation_backward(act, a, num_classes(), v, per_line);
        grad(x, y, z, c, n) = select(tg.counted, nan_if(act.bad, dx(x, y, z, c, n)), 0.0f);

        Expr dense = declare_inputs() && innermost_dense(grad);
        allow_any_stride(grad);
        bound_like_logits(grad, {0, 1, 2, 3, 4});
        coef.set_estimates({{0, abi::kNumRegionCoefs}, {0, 4}, {0, 2}});
        grad.set_estimates({{0, 128}, {0, 128}, {0, 128}, {0, 4}, {0, 2}});

        // Schedule.
        if (auto_schedule) return;
        const schedules::CpuParams sp = schedules::cpu_params(get_target(), "region");
        const int vec = schedules::vector_width(get_target(), sp);
        schedules::LineLoops l;
        schedules::split_lines(grad, {x, c}, v, l, sp.grain);
        grad.vectorize(x, vec, TailStrategy::GuardWithIf);
        grad.specialize(dense);
        schedules::compute_per_line(per_line, LoopLevel(grad, l.yi), LoopLevel(grad, l.yo), v, vec);
    }
};

class RegionEpilogue : public Generator<RegionEpilogue> {
public:
    // Group sums (slot, c, n) from region_stats (summed across ranks, if the caller wants).
    Input<Buffer<double, 3>> stats{"stats"};
    // Class weights (c): the per-group loss is multiplied by w_c before the reduction.
    Input<Buffer<float, 1>> weight{"weight"};
    Input<int> loss_kind{"loss_kind"};  // abi::RegionLoss
    Input<float> smooth_nr{"smooth_nr"};
    Input<float> smooth_dr{"smooth_dr"};
    Input<int> include_background{"include_background"};
    Input<int> batch{"batch"};
    Input<int> squared_pred{"squared_pred"};
    Input<int> reduction{"reduction"};  // abi::Reduction
    Input<float> grad_scale{"grad_scale"};

    // Weighted loss of every group (c, n); with batch the groups are (c, 0).
    Output<Buffer<double, 2>> group_loss{"group_loss"};
    // The reduced loss (mean or sum over the included groups), extent 1.
    Output<Buffer<double, 1>> total{"total"};
    // dL/d(sum) per group (slot, c, n), scaled by grad_scale, weights and the reduction.
    Output<Buffer<float, 3>> coef{"coef"};

    void generate() {
        Var k("k"), c("c"), n("n"), i("i");
        Expr C = stats.dim(1).extent();
        Expr N = stats.dim(2).extent();

        // The algorithm.
        // Group sums: per (c, n), or over the batch (n = 0..N-1 in order) with batch=true.
        Func S("S");
        RDom rn(0, N, "rn");
        Func batch_sum("batch_sum");
        batch_sum(k, c) = cast<double>(0);
        batch_sum(k, c) += stats(k, c, rn);
        S(k, c, n) = select(batch != 0, batch_sum(k, c), stats(k, c, n));

        GroupSums s{S(abi::kStatI, c, n), S(abi::kStatP, c, n), S(abi::kStatG, c, n),
                    S(abi::kStatP2, c, n), S(abi::kStatG2, c, n)};
        RegionOptions o{cast<double>(smooth_nr), cast<double>(smooth_dr), squared_pred != 0};
        GroupLoss gl = dice_loss(s, o);  // loss_kind selects among epilogues (only Dice so far)
        Expr bad = S(abi::kStatNonfinite, c, n) > 0;
        Expr w = cast<double>(weight(c));

        Expr included = include_background != 0 || c > 0;
        Expr groups = select(batch != 0, 1, N) * select(include_background != 0, C, C - 1);
        Expr norm = select(reduction == abi::kReduceMean, f64(1) / cast<double>(max(groups, 1)), f64(1));

        Func loss("loss");
        loss(c, n) = nan_if(bad, w * gl.loss);
        group_loss(c, n) = select(included && (batch == 0 || n == 0), loss(c, n), f64(0));

        RDom rg(0, C, 0, N, "rg");
        rg.where(include_background != 0 || rg.x > 0);
        rg.where(batch == 0 || rg.y == 0);
        Func sum("sum");
        sum(i) = cast<double>(0);
        sum(i) += loss(rg.x, rg.y);
        total(i) = sum(i) * norm;

        Expr scale = select(included, cast<double>(grad_scale) * w * norm, f64(0));
        Expr d = mux(k, {gl.dI, gl.dP, gl.dP2});
        coef(k, c, n) = cast<float>(nan_if(bad && included, scale * d));
        coef.bound(k, 0, abi::kNumRegionCoefs);
        total.bound(i, 0, 1);
        (void)loss_kind;

        stats.set_estimates({{0, abi::kNumRegionStats}, {0, 4}, {0, 2}});
        weight.set_estimates({{0, 4}});
        group_loss.set_estimates({{0, 4}, {0, 2}});
        total.set_estimates({{0, 1}});
        coef.set_estimates({{0, abi::kNumRegionCoefs}, {0, 4}, {0, 2}});

        // Schedule: a few hundred numbers; everything at root, serial.
        if (auto_schedule) return;
        batch_sum.compute_root();
        loss.compute_root();
    }
};

}  // namespace
}  // namespace segloss::gen

HALIDE_REGISTER_GENERATOR(segloss::gen::RegionStats, region_stats)
HALIDE_REGISTER_GENERATOR(segloss::gen::RegionGrad, region_grad)
HALIDE_REGISTER_GENERATOR(segloss::gen::RegionEpilogue, region_epilogue)
