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
            select(ok, (g - p) * (g - p) * g, zero), select(ok, (g - p) * (g - p) * (one - g), zero),
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
        // a = dL/dp_v (abi::RegionCoef); only counted voxels enter the sums. The (g - p)^2 terms
        // are strict: a coefficient may be huge where its factor is exactly 0 (r / (G + eps) of
        // an absent class), and fast-math reassociation of c1 g + c2 (1 - g) into
        // c2 + g (c1 - c2) would cancel the small one away.
        Expr g = tg.g(x, y, z, c, n), p = act.p(x, y, z, c, n);
        Expr ss = strict_float(2.0f * (p - g) *
                               (coef(abi::kCoefSsPos, c, n) * g + coef(abi::kCoefSsNeg, c, n) * (1.0f - g)));
        Func a("dl_dp");
        a(x, y, z, c, n) = select(tg.counted,
                                  coef(abi::kCoefI, c, n) * g + coef(abi::kCoefP, c, n) +
                                      2.0f * coef(abi::kCoefP2, c, n) * p + ss,
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
    // The loss and its options, slots abi::RegionOption.
    Input<Buffer<float, 1>> options{"options"};
    Input<float> grad_scale{"grad_scale"};

    // Weighted loss of every group (c, n), 0 elsewhere. Class-wise losses: groups (c, n), or
    // (c, 0) with batch. Generalized Dice: one group per image, stored at the first included class.
    Output<Buffer<double, 2>> group_loss{"group_loss"};
    // The reduced loss (mean or sum over the groups), extent 1.
    Output<Buffer<double, 1>> total{"total"};
    // dL/d(sum) per group (slot, c, n), slots abi::RegionCoef, scaled by grad_scale, weights and
    // the reduction.
    Output<Buffer<float, 3>> coef{"coef"};

    void generate() {
        Var k("k"), c("c"), n("n"), i("i");
        Expr C = stats.dim(1).extent();
        Expr N = stats.dim(2).extent();
        auto opt = [&](int slot) { return cast<double>(options(slot)); };
        auto flag = [&](int slot) { return options(slot) != 0.0f; };
        Expr base = cast<int>(options(abi::kOptBase));
        Expr include_background = flag(abi::kOptIncludeBackground), batch = flag(abi::kOptBatch);
        Expr reduction = cast<int>(options(abi::kOptReduction));

        // The algorithm.
        // Group sums: per (c, n), or over the batch (n = 0..N-1 in order) with batch=true.
        Func S("S");
        RDom rn(0, N, "rn");
        Func batch_sum("batch_sum");
        batch_sum(k, c) = cast<double>(0);
        batch_sum(k, c) += stats(k, c, rn);
        S(k, c, n) = select(batch, batch_sum(k, c), stats(k, c, n));
        Expr included = include_background || c > 0;

        // Class-wise bases.
        GroupSums s{S(abi::kStatI, c, n),     S(abi::kStatP, c, n),     S(abi::kStatG, c, n),
                    S(abi::kStatP2, c, n),    S(abi::kStatG2, c, n),    S(abi::kStatSsPos, c, n),
                    S(abi::kStatSsNeg, c, n), S(abi::kStatCount, c, n)};
        RegionOptions o{opt(abi::kOptSmoothNr), opt(abi::kOptSmoothDr), flag(abi::kOptSquaredPred),
                        opt(abi::kOptAlpha),    opt(abi::kOptBeta),     opt(abi::kOptR)};
        const std::vector<GroupLoss> class_wise = {dice_loss(s, o), iou_loss(s, o), tversky_loss(s, o),
                                                   sensitivity_specificity_loss(s, o)};

        // Generalized Dice, one group per image: class weights from G (constants for the
        // gradient); an absent class takes the largest finite weight of its group (MONAI).
        Expr w_type = cast<int>(options(abi::kOptGdWeight));
        Func gd_raw("gd_raw");
        gd_raw(c, n) = select(included && s.G > 0,
                              select(w_type == abi::kGdSquare, f64(1) / (s.G * s.G),
                                     w_type == abi::kGdSimple, f64(1) / s.G, f64(1)),
                              f64(0));
        RDom rc(0, C, "rc");
        Func gd_max("gd_max"), gd_w("gd_w"), gd_sum("gd_sum");
        gd_max(n) = f64(0);
        gd_max(n) = max(gd_max(n), gd_raw(rc, n));
        gd_w(c, n) = select(!included, f64(0), w_type == abi::kGdUniform, f64(1),
                            s.G > 0, gd_raw(c, n), gd_max(n));
        Expr wc = gd_w(rc, n);
        gd_sum(n) = {f64(0), f64(0), f64(0)};
        gd_sum(n) = {gd_sum(n)[0] + wc * S(abi::kStatI, rc, n),
                     gd_sum(n)[1] + wc * (S(abi::kStatP, rc, n) + S(abi::kStatG, rc, n)),
                     gd_sum(n)[2] + select(include_background || rc > 0, S(abi::kStatG, rc, n), f64(0))};
        Expr gd_num = f64(2) * gd_sum(n)[0] + o.smooth_nr, gd_den = gd_sum(n)[1] + o.smooth_dr;
        GroupLoss gd = zero_derivatives(f64(1) - gd_num / gd_den);
        gd.dI = f64(-2) * gd_w(c, n) / gd_den;
        gd.dP = gd_w(c, n) * gd_num / (gd_den * gd_den);

        // The loss of the group that (c, n) belongs to, with derivatives w.r.t. the sums of (c, n).
        Expr is_gd = base == abi::kBaseGeneralizedDice;
        auto pick = [&](Expr GroupLoss::*field) {
            Expr e = gd.*field;
            for (int b = abi::kBaseSensSpec; b >= abi::kBaseDice; b--) e = select(base == b, class_wise[b].*field, e);
            return e;
        };
        GroupLoss gl{pick(&GroupLoss::loss), pick(&GroupLoss::dI),     pick(&GroupLoss::dP),
                     pick(&GroupLoss::dP2),  pick(&GroupLoss::dSsPos), pick(&GroupLoss::dSsNeg)};
        Transformed t = transform_loss(cast<int>(options(abi::kOptTransform)), gl.loss, opt(abi::kOptGamma),
                                       opt(abi::kOptPenaltyK));

        // Which (c, n) hold a group's loss, which groups an empty target drops, and the mean.
        Expr first_class = select(include_background, 0, 1);
        Expr holds_group = select(is_gd, c == first_class, included) && (!batch || n == 0);
        Expr group_G = select(is_gd, gd_sum(n)[2], s.G);
        Expr dropped = flag(abi::kOptExcludeEmpty) && group_G == f64(0);
        Expr bad = S(abi::kStatNonfinite, 0, n) > 0;  // the same for every class of an image
        Expr w = select(is_gd, f64(1), cast<double>(weight(c)));

        Func loss("loss");
        loss(c, n) = select(holds_group && !dropped, nan_if(bad, w * t.value), f64(0));
        group_loss(c, n) = loss(c, n);

        RDom rg(0, C, 0, N, "rg");
        Func sum("sum");
        sum(i) = {f64(0), 0};
        Expr counts = select(is_gd, rg.x == first_class, include_background || rg.x > 0) && (!batch || rg.y == 0);
        Expr rg_G = select(is_gd, gd_sum(rg.y)[2], S(abi::kStatG, rg.x, rg.y));
        Expr rg_kept = counts && !(flag(abi::kOptExcludeEmpty) && rg_G == f64(0));
        sum(i) = {sum(i)[0] + loss(rg.x, rg.y), sum(i)[1] + select(rg_kept, 1, 0)};
        // A mean over no group (every group dropped) is 0 with a zero gradient, never NaN.
        Expr groups = sum(0)[1];
        Expr norm = select(reduction != abi::kReduceMean, f64(1), groups > 0, f64(1) / cast<double>(groups), f64(0));
        total(i) = sum(0)[0] * norm;

        Expr in_grad = included && !dropped;
        Expr scale = select(in_grad, cast<double>(grad_scale) * w * norm * t.slope, f64(0));
        Expr d = mux(k, {gl.dI, gl.dP, gl.dP2, gl.dSsPos, gl.dSsNeg});
        coef(k, c, n) = cast<float>(nan_if(bad && in_grad, scale * d));
        coef.bound(k, 0, abi::kNumRegionCoefs);
        total.bound(i, 0, 1);

        stats.set_estimates({{0, abi::kNumRegionStats}, {0, 4}, {0, 2}});
        weight.set_estimates({{0, 4}});
        options.set_estimates({{0, abi::kNumRegionOptions}});
        group_loss.set_estimates({{0, 4}, {0, 2}});
        total.set_estimates({{0, 1}});
        coef.set_estimates({{0, abi::kNumRegionCoefs}, {0, 4}, {0, 2}});

        // Schedule: a few hundred numbers; everything at root, serial.
        if (auto_schedule) return;
        batch_sum.compute_root();
        gd_raw.compute_root();
        gd_max.compute_root();
        gd_w.compute_root();
        gd_sum.compute_root();
        loss.compute_root();
        sum.compute_root();
    }
};

}  // namespace
}  // namespace segloss::gen

HALIDE_REGISTER_GENERATOR(segloss::gen::RegionStats, region_stats)
HALIDE_REGISTER_GENERATOR(segloss::gen::RegionGrad, region_grad)
HALIDE_REGISTER_GENERATOR(segloss::gen::RegionEpilogue, region_epilogue)
