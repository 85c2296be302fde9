// SPDX-License-Identifier: Apache-2.0
// Region family, shared by every region loss and the compound losses:
//   region_stats     pass 1: per-group sums (I, P, G, P2, G2, counts) in float64, and with
//                    with_pointwise the class sums of a pointwise part (formulas.h)
//   region_epilogue  the loss and per-group coefficients dL/d(sum) from those sums
//   region_grad      pass 2: dL/dx voxel by voxel from the coefficients (plus the pointwise
//                    part's gradient with with_pointwise)
// Losses differ only in the epilogue (epilogues.h); a compound loss costs one pass of each
// (dice_topk adds TopK's key pass: its pointwise part keeps the voxels above the cut).
#include "Halide.h"
#include "generators/common/abi.h"
#include "generators/common/loss_generator.h"
#include "generators/common/region_coefs.h"
#include "generators/common/layout.h"
#include "generators/common/selection.h"
#include "generators/common/sums.h"
#include "generators/pointwise/formulas.h"
#include "generators/region/epilogues.h"
#include "schedules/cpu_classes.h"
#include "schedules/cpu_lines.h"
#include "schedules/gpu_lines.h"

namespace segloss::gen {
namespace {

using namespace Halide;

// The region passes of every region and compound loss: with with_pointwise, the kernel also
// reads a compound's pointwise part's options (formulas.h), after its own inputs, and the
// gradient pass TopK's selection of that part (selection.h).
template <typename T>
class RegionPass : public LossGenerator<T> {
public:
    Halide::GeneratorParam<bool> with_pointwise{"with_pointwise", false};
    Halide::GeneratorInput<float> *gamma = nullptr, *log_power = nullptr, *smoothing = nullptr;
    Halide::GeneratorInput<Halide::Buffer<float, 4>> *key = nullptr;
    Halide::GeneratorInput<float> *cut_value = nullptr;
    Halide::GeneratorInput<int> *cut_index = nullptr;

    void configure() {
        if (!with_pointwise) return;
        gamma = this->template add_input<float>("gamma");
        log_power = this->template add_input<float>("log_power");
        smoothing = this->template add_input<float>("label_smoothing");
        if (!T::kSelects) return;
        key = this->template add_input<Halide::Buffer<float, 4>>("key");
        cut_value = this->template add_input<float>("cut_value");
        cut_index = this->template add_input<int>("cut_index");
    }

protected:
    // Estimates of the scalar inputs (for the autoschedulers), after declare_inputs().
    void estimate_part_inputs() {
        if (gamma) gamma->set_estimate(0.0f);
        if (log_power) log_power->set_estimate(1.0f);
        if (smoothing) smoothing->set_estimate(0.0f);
        if (cut_value) cut_value->set_estimate(-1.0f);
        if (cut_index) cut_index->set_estimate(0);
    }
    PointwiseOptions pointwise_options(Func alpha_pos, Func alpha_neg) {
        return {alpha_pos, alpha_neg, *gamma, *log_power, *smoothing};
    }

    // A slot of the statistics (abi::RegionStat): what each voxel adds to it, and where it is
    // needed at all (fixed_order_line_sum's `needed`).
    struct Term {
        int slot;
        Expr value;
        Expr needed;
    };
    // The fixed-order line sums of `terms` over x, one per line `rest`; none for no terms.
    LineSum term_line_sum(const std::string &name, const std::vector<Term> &terms, Expr width,
                          const std::vector<Var> &rest, bool one_update) {
        if (terms.empty()) return {};
        std::vector<Expr> values, needed;
        for (const Term &t : terms) {
            values.push_back(t.value);
            needed.push_back(t.needed);
        }
        std::vector<Var> args{this->v.x};
        args.insert(args.end(), rest.begin(), rest.end());
        Func contrib(name + "_contrib");
        contrib(args) = Tuple(values);
        return fixed_order_line_sum(name, contrib, width, rest, this->v, one_update, needed);
    }
};

class RegionStats : public RegionPass<RegionStats> {
public:
    static constexpr bool kSelects = false;
    // 0: the squared sums (P2, G2, SsPos, SsNeg: squared_pred Dice and sensitivity-specificity
    // only) are written as 0 and not computed; they cost ~25% of the pass.
    Input<int> squares{"squares"};
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
        Expr zero = 0.0f, one = 1.0f, m = tg.weight, sq = squares != 0, yes = Internal::const_true();
        // The summed slots (abi::RegionStat), what each voxel adds to them, and when they are
        // needed at all (sums.h). Per class:
        std::vector<Term> terms = {
            {abi::kStatI, select(ok, m * (p * g), zero), yes},
            {abi::kStatP, select(ok, m * p, zero), yes},
            {abi::kStatG, select(tg.counted, m * g, zero), yes},
            {abi::kStatP2, select(ok && sq, m * (p * p), zero), sq},
            {abi::kStatG2, select(tg.counted && sq, m * (g * g), zero), sq},
            {abi::kStatSsPos, select(ok && sq, m * ((g - p) * (g - p) * g), zero), sq},
            {abi::kStatSsNeg, select(ok && sq, m * ((g - p) * (g - p) * (one - g)), zero), sq}};
        // Per voxel (the same for every class, and written to every class's slots): summed once
        // per line on the CPU, not once per class (they were 4 of the 7 sums per class at
        // squares == 0). The same values in the same order, so the same bits. GPU schedules
        // keep them per class (one kernel, no second pass over the logits for the non-finite
        // count; not re-measured without a GPU).
        std::vector<Term> voxel_terms = {{abi::kStatCount, select(tg.counted, m, zero), yes},
                                         {abi::kStatInvalid, select(tg.invalid, one, zero), yes},
                                         {abi::kStatNonfinite, select(tg.counted && act.bad, one, zero), yes},
                                         {abi::kStatBadMask, select(tg.bad_mask, one, zero), yes}};
        std::vector<Func> per_line = act.row_funcs;
        if (with_pointwise) {
            Func unit("unit");
            unit(c, n) = 1.0f;
            PointwiseTerms pw = focal_cross_entropy(act, tg, pointwise_options(unit, unit), num_classes(), v);
            terms.push_back({abi::kStatPwPos, select(ok, m * pw.class_loss(x, y, z, c, n)[0], zero), yes});
            terms.push_back({abi::kStatPwNeg, select(ok, m * pw.class_loss(x, y, z, c, n)[1], zero), yes});
            per_line.push_back(pw.class_loss);
        }
        const bool gpu = schedules::is_gpu(get_target());
        if (gpu) {
            terms.insert(terms.end(), voxel_terms.begin(), voxel_terms.end());
            voxel_terms.clear();
        }
        Expr X = logits.dim(0).extent();
        LineSum line = term_line_sum("stats", terms, X, {y, z, c, n}, gpu);
        LineSum voxel_line = term_line_sum("counts", voxel_terms, X, {y, z, n}, gpu);
        // Every slot's line sum (y, z, c, n): the class sums, then the per-voxel ones.
        Func lines("lines");
        std::vector<Expr> line_values;
        for (size_t i = 0; i < terms.size(); i++) line_values.push_back(line.line(y, z, c, n)[i]);
        for (size_t i = 0; i < voxel_terms.size(); i++) line_values.push_back(voxel_line.line(y, z, n)[i]);
        lines(y, z, c, n) = Tuple(line_values);
        terms.insert(terms.end(), voxel_terms.begin(), voxel_terms.end());

        // Lines are added in float64 in a fixed order per group: the CPU in one sequence, y then
        // z; a GPU over y per (z, c, n) thread, then over z per (c, n) thread (one sequence of
        // Y * Z additions is a single thread's latency chain: 3 ms at 2x4x128^3 on an H200).
        Func group("group"), plane("plane");
        std::vector<Expr> zeros(terms.size(), f64(0)), upd, plane_upd;
        group(c, n) = Tuple(zeros);
        if (gpu) {
            RDom ry(0, logits.dim(1).extent(), "ry"), rz(0, logits.dim(2).extent(), "rz");
            plane(z, c, n) = Tuple(zeros);
            for (size_t i = 0; i < terms.size(); i++) {
                plane_upd.push_back(plane(z, c, n)[i] + cast<double>(lines(ry, z, c, n)[i]));
                upd.push_back(group(c, n)[i] + plane(rz, c, n)[i]);
            }
            plane(z, c, n) = Tuple(plane_upd);
        } else {
            RDom ryz(0, logits.dim(1).extent(), 0, logits.dim(2).extent(), "ryz");
            for (size_t i = 0; i < terms.size(); i++) {
                upd.push_back(group(c, n)[i] + cast<double>(lines(ryz.x, ryz.y, c, n)[i]));
            }
        }
        group(c, n) = Tuple(upd);
        std::vector<Expr> slots(abi::kNumRegionStats, f64(0));
        for (size_t i = 0; i < terms.size(); i++) slots[terms[i].slot] = group(c, n)[i];
        stats(v.k, c, n) = mux(v.k, slots);
        stats.bound(v.k, 0, abi::kNumRegionStats);

        Expr dense = declare_inputs();
        estimate_part_inputs();
        squares.set_estimate(0);
        stats.set_estimates({{0, abi::kNumRegionStats}, {0, 4}, {0, 2}});

        // Schedule.
        if (auto_schedule) return;
        if (gpu) {
            // Line sums, a thread per lane of a line, to a device scratch; then one thread per
            // plane (z, c, n) adds its lines, one per group its planes.
            schedules::gpu_line_lane_threads(line, v, per_line, true);
            Var zo("zo"), zi("zi");
            plane.compute_root().split(z, zo, zi, 64, TailStrategy::GuardWithIf).gpu_blocks(zo, c, n).gpu_threads(zi);
            plane.update().split(z, zo, zi, 64, TailStrategy::GuardWithIf).gpu_blocks(zo, c, n).gpu_threads(zi);
            group.compute_root().gpu_blocks(n).gpu_threads(c);
            group.update().gpu_blocks(n).gpu_threads(c);
            stats.gpu_blocks(n).gpu_threads(c).unroll(v.k);
            return;
        }
        const schedules::CpuParams sp =
            schedules::cpu_params(get_target(), "region", with_pointwise ? "compound_stats" : "region_stats");
        const int vec = schedules::vector_width(get_target(), sp);
        schedules::LineLoops l;
        // Per line: the per-voxel sums, then the class loop (the class sums' totals inline).
        lines.compute_root();
        schedules::split_lines(lines, {c}, v, l, sp.grain);
        lines.specialize(dense && squares == 0);
        lines.specialize(dense);
        const LoopLevel per_line_level(lines, l.yi), per_task_level(lines, l.yo);
        schedule_line_lanes(line, per_line_level, per_task_level, v);
        voxel_line.line.compute_at(per_line_level);
        schedule_line_lanes(voxel_line, per_line_level, per_task_level, v);
        schedules::compute_per_task(per_line, schedules::helper_level(lines, l, sp), v, vec);
        group.compute_root();
        group.update().parallel(n);
    }
};

class RegionGrad : public RegionPass<RegionGrad> {
public:
    static constexpr bool kSelects = true;
    // Per-group coefficients (slot, c, n), slots abi::RegionCoef, from the epilogue.
    Input<Buffer<float, 3>> coef{"coef"};

    Output<Buffer<float, 5>> grad{"grad"};

    void generate() {
        const Var &x = v.x, &y = v.y, &z = v.z, &c = v.c, &n = v.n;

        // The algorithm.
        ActivationForward act = forward();
        Targets tg = targets();
        // a = dL/dp_v (abi::RegionCoef); only counted voxels enter the sums.
        Expr g = tg.g(x, y, z, c, n), p = act.p(x, y, z, c, n);
        Expr m = tg.weight;
        Func a("dl_dp");
        a(x, y, z, c, n) = select(tg.counted, m * region_dl_dp(coef, g, p, c, n), 0.0f);
        std::vector<Func> per_line = act.row_funcs;
        per_line.push_back(a);
        Func dx = activation_backward(act, a, num_classes(), v, per_line);
        Expr cross_entropy = Internal::const_true(), hard;
        if (with_pointwise) {
            // The pointwise part, with its class weights, lambda and normaliser in coef.
            Func ap("ap"), an("an");
            ap(c, n) = coef(abi::kCoefPwPos, c, n);
            an(c, n) = coef(abi::kCoefPwNeg, c, n);
            const PointwiseOptions o = pointwise_options(ap, an);
            PointwiseTerms pw = focal_cross_entropy(act, tg, o, num_classes(), v);
            per_line.insert(per_line.end(), pw.row_funcs.begin(), pw.row_funcs.end());
            Expr X = logits.dim(0).extent(), Y = logits.dim(1).extent(), Z = logits.dim(2).extent();
            Func pw_weight = selected_weight(tg, *key, *cut_value, *cut_index, X, Y, Z, v);
            per_line.push_back(pw_weight);
            Func sum("region_plus_pointwise");
            Expr w = pw_weight(x, y, z, n);
            sum(x, y, z, c, n) = dx(x, y, z, c, n) + select(w > 0.0f, w * pw.dx(x, y, z, c, n), 0.0f);
            dx = sum;
            cross_entropy = is_cross_entropy(o);
            hard = pw.hard;
        }
        grad(x, y, z, c, n) = select(tg.counted, nan_if(act.bad, dx(x, y, z, c, n)), 0.0f);

        Expr dense = declare_inputs() && innermost_dense(grad);
        if (key) dense = dense && declare_voxel_input(*key);
        allow_any_stride(grad);
        bound_like_logits(grad, {0, 1, 2, 3, 4});
        estimate_part_inputs();
        coef.set_estimates({{0, abi::kNumRegionCoefs}, {0, 4}, {0, 2}});
        grad.set_estimates({{0, 128}, {0, 128}, {0, 128}, {0, 4}, {0, 2}});

        // Schedule.
        if (auto_schedule) return;
        if (schedules::is_gpu(get_target())) {
            const schedules::GpuLoops g;
            schedules::gpu_voxels(grad, {c}, v, g);
            schedules::compute_per_thread(per_line, LoopLevel(grad, g.xi));
            return;
        }
        const schedules::CpuParams sp =
            schedules::cpu_params(get_target(), "region", with_pointwise ? "compound_grad" : "region_grad");
        // A fixed class count: a vector of voxels at a time, every class of it, the per-voxel
        // stages in registers (schedules/cpu_classes.h); else the stages once per task.
        const bool fixed = int(classes) > 0;
        const int vec = fixed ? schedules::class_vector_width(get_target(), sp)
                              : schedules::vector_width(get_target(), sp);
        schedules::LineLoops l;
        schedules::split_lines(grad, {x, c}, v, l, sp.grain);
        if (fixed) schedules::vectors_of_every_class(grad, per_line, v, vec);
        else grad.vectorize(x, vec, TailStrategy::GuardWithIf);
        if (hard.defined()) {
            grad.specialize(dense && hard && cross_entropy);
            grad.specialize(dense && hard);
        }
        if (with_pointwise) grad.specialize(dense && cross_entropy);
        grad.specialize(dense);
        if (!fixed) schedules::compute_per_task(per_line, schedules::helper_level(grad, l, sp), v, vec);
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
    // Compound losses: the pointwise part's given class weights (c) (formulas.h).
    Input<Buffer<float, 1>> pw_alpha_pos{"pw_alpha_pos"};
    Input<Buffer<float, 1>> pw_alpha_neg{"pw_alpha_neg"};
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
        // An image with a non-finite logit, a label outside the classes or a mask value outside
        // [0, 1] (counted in class 0's slots) has a NaN loss and gradient. The CPU runtime
        // refuses the last two before the epilogue; a device call without check_inputs does not
        // read the counts back (no host round trip), so its result says it here.
        Expr bad = S(abi::kStatNonfinite, 0, n) + S(abi::kStatInvalid, 0, n) + S(abi::kStatBadMask, 0, n) > 0;
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

        // The pointwise part of a compound loss: class weights (given, or from the batch's G),
        // its value from the class sums, and its gradient scale (lambda / normaliser).
        Expr lambda_region = opt(abi::kOptLambdaRegion), lambda_pw = opt(abi::kOptLambdaPointwise);
        Func Gb("G_batch"), pw_w("pw_weights"), pw_sum("pw_sum");
        Gb(c) = f64(0);
        Gb(c) += stats(abi::kStatG, c, rn);
        RDom rcb(0, C, "rcb");
        Func GM("G_total");
        GM(i) = {f64(0), f64(0)};  // M = sum G_c, K = classes present
        GM(i) = {GM(i)[0] + Gb(rcb), GM(i)[1] + select(Gb(rcb) > 0, f64(1), f64(0))};
        Expr M = GM(0)[0], K = GM(0)[1], G_c = Gb(c);
        Expr pw_mode = cast<int>(options(abi::kOptPwClassWeights));
        Expr derived = select(pw_mode == abi::kPwWeightsInverse, M / (K * G_c), sqrt(M / G_c));
        pw_w(c) = {select(pw_mode == abi::kPwWeightsGiven, cast<double>(pw_alpha_pos(c)), G_c > 0, derived, f64(0)),
                   select(pw_mode == abi::kPwWeightsGiven, cast<double>(pw_alpha_neg(c)), G_c > 0, derived, f64(0))};
        RDom rpw(0, C, 0, N, "rpw");
        pw_sum(i) = {f64(0), f64(0), f64(0)};  // weighted loss sum, weighted G, counted
        pw_sum(i) = {pw_sum(i)[0] + pw_w(rpw.x)[0] * stats(abi::kStatPwPos, rpw.x, rpw.y) +
                         pw_w(rpw.x)[1] * stats(abi::kStatPwNeg, rpw.x, rpw.y),
                     pw_sum(i)[1] + pw_w(rpw.x)[0] * stats(abi::kStatG, rpw.x, rpw.y),
                     pw_sum(i)[2] + select(rpw.x == 0, stats(abi::kStatCount, rpw.x, rpw.y), f64(0))};
        Expr pw_norm_mode = cast<int>(options(abi::kOptPwNorm));
        Expr pw_given = pw_norm_mode == abi::kPwNormGiven;
        Expr pw_norm = select(pw_given, opt(abi::kOptPwNormValue), reduction != abi::kReduceMean, f64(1),
                              pw_norm_mode == abi::kPwNormWeighted, pw_sum(0)[1],
                              pw_norm_mode == abi::kPwNormCount, pw_sum(0)[2], pw_sum(0)[2] * cast<double>(C));
        Expr pw_scale = select(pw_norm > 0, f64(1) / pw_norm, f64(0));
        Func any_bad("any_bad");
        any_bad(i) = f64(0);
        any_bad(i) +=
            stats(abi::kStatNonfinite, 0, rn) + stats(abi::kStatInvalid, 0, rn) + stats(abi::kStatBadMask, 0, rn);
        Expr pw_value = nan_if(any_bad(0) > 0, pw_sum(0)[0] * pw_scale);
        total(i) = lambda_region * sum(0)[0] * norm + select(lambda_pw != 0 && !pw_given, lambda_pw * pw_value, f64(0));

        Expr in_grad = included && !dropped;
        Expr scale = select(in_grad, cast<double>(grad_scale) * lambda_region * w * norm * t.slope, f64(0));
        Expr pw_grad = cast<double>(grad_scale) * lambda_pw * pw_scale;
        Expr d = mux(k, {scale * gl.dI, scale * gl.dP, scale * gl.dP2, scale * gl.dSsPos, scale * gl.dSsNeg,
                         pw_grad * pw_w(c)[0], pw_grad * pw_w(c)[1]});
        Expr region_slot = k < abi::kCoefPwPos;
        coef(k, c, n) = cast<float>(nan_if(bad && (in_grad || !region_slot), d));
        coef.bound(k, 0, abi::kNumRegionCoefs);
        total.bound(i, 0, 1);

        stats.set_estimates({{0, abi::kNumRegionStats}, {0, 4}, {0, 2}});
        weight.set_estimates({{0, 4}});
        options.set_estimates({{0, abi::kNumRegionOptions}});
        pw_alpha_pos.set_estimates({{0, 4}});
        pw_alpha_neg.set_estimates({{0, 4}});
        grad_scale.set_estimate(1.0f);
        group_loss.set_estimates({{0, 4}, {0, 2}});
        total.set_estimates({{0, 1}});
        coef.set_estimates({{0, abi::kNumRegionCoefs}, {0, 4}, {0, 2}});

        // Schedule: a few hundred numbers; everything at root, serial (on a GPU, the epilogue
        // stays on the device, with no copy to the host: the per-group and per-class stages one
        // thread per group or class, the reductions one-thread kernels: a single thread
        // computing every group's coefficients took 0.2-0.7 ms on an H200).
        if (auto_schedule) return;
        const std::vector<Func> stages = {batch_sum, gd_raw, gd_max, gd_w, gd_sum, loss,  sum,
                                          Gb,        GM,     pw_w,   pw_sum, any_bad};
        for (Func f : stages) f.compute_root();
        if (schedules::is_gpu(get_target())) {
            for (Func f : {batch_sum, gd_raw, gd_max, gd_w, gd_sum, sum, GM, pw_sum, any_bad, Func(total)}) {
                schedules::gpu_single_thread(f);
            }
            for (Func f : {loss, Func(group_loss), Func(coef)}) schedules::gpu_per_class(f, c, &n);
            for (Func f : {Gb, pw_w}) schedules::gpu_per_class(f, c);
            coef.unroll(k);
        }
    }
};

}  // namespace
}  // namespace segloss::gen

HALIDE_REGISTER_GENERATOR(segloss::gen::RegionStats, region_stats)
HALIDE_REGISTER_GENERATOR(segloss::gen::RegionGrad, region_grad)
HALIDE_REGISTER_GENERATOR(segloss::gen::RegionEpilogue, region_epilogue)
