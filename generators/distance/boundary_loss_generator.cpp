// SPDX-License-Identifier: Apache-2.0
// Boundary-based losses (LOSSES.md): pointwise terms weighted by distance maps that are
// constants for the gradient. One pass reads logits, targets and the maps, writes the gradient
// and reduces each class's terms to per-line partial sums (summed in float64 by the runtime).
//   boundary       term = phi_G p                          (Kervadec)
//   hausdorff_dt   term = (p - g)^2 (d_G^alpha + d_S^alpha) (Karimi)
// with the maps of class first_class + k in channel k of map_a (phi_G or d_G) and map_b (d_S).
// dice_boundary and dice_hausdorff add their Dice part's gradient from its coefficients.
#include "Halide.h"
#include "generators/common/abi.h"
#include "generators/common/loss_generator.h"
#include "generators/common/region_coefs.h"
#include "generators/common/sums.h"
#include "schedules/cpu_lines.h"
#include "schedules/gpu_lines.h"

namespace segloss::gen {
namespace {

using namespace Halide;

class BoundaryLoss : public LossGenerator<BoundaryLoss> {
public:
    Input<int> first_class{"first_class"};  // channel k of the maps, coef and rows is class first_class + k
    // Distance maps (x, y, z, k, n), any strides: phi_G or d_G (map_a), d_S (map_b; unused by
    // the boundary loss, which gets map_a twice).
    Input<Buffer<float, 5>> map_a{"map_a"};
    Input<Buffer<float, 5>> map_b{"map_b"};
    Input<int> formula{"formula"};  // abi::BoundaryFormula
    Input<float> alpha{"alpha"};    // hausdorff_dt: the exponent of the distances (> 0)
    // dL/d(sum of the terms of group (k, n)), upstream gradient and normaliser included.
    Input<Buffer<float, 2>> coef{"coef"};
    // A compound's region part: its coefficients (slot, c, n), slots abi::RegionCoef; zeros alone.
    Input<Buffer<float, 3>> region_coef{"region_coef"};

    // Per-line partial sums (slot, y, z, n): slot k < K the terms of class first_class + k,
    // slot K the counted voxels with a non-finite logit.
    Output<Buffer<float, 4>> rows{"rows"};
    Output<Buffer<float, 5>> grad{"grad"};  // (x, y, z, c, n), any strides

    // A voxel's term of class c and its derivative in p, and its mask value m (0 when not
    // counted), at (x, y, z, c, n).
    struct Terms {
        Expr m, term, dterm;
    };
    Terms terms_of(const ActivationForward &act, const Targets &tg, Expr K) {
        const Var &x = v.x, &y = v.y, &z = v.z, &c = v.c, &n = v.n;
        Expr kc = clamp(c - first_class, 0, K - 1);  // the map channel of class c
        Expr p = act.p(x, y, z, c, n), g = tg.g(x, y, z, c, n);
        Expr a = map_a(x, y, z, kc, n), b = map_b(x, y, z, kc, n);
        Expr is_boundary = formula == int(abi::kFormulaBoundary);
        auto power = [&](Expr d) { return select(alpha == 2.0f, d * d, pow(d, alpha)); };
        Expr weight = select(is_boundary, a, power(a) + power(b));
        return {select(tg.counted, tg.weight, 0.0f), select(is_boundary, a * p, (p - g) * (p - g) * weight),
                select(is_boundary, a, 2.0f * (p - g) * weight)};
    }

    void generate() {
        const Var &x = v.x, &y = v.y, &z = v.z, &c = v.c, &n = v.n;
        const bool gpu = schedules::is_gpu(get_target());
        Expr K = map_a.dim(3).extent();

        // The algorithm. On a CPU the line sums share the gradient's loop nest and per-voxel
        // stages; on a GPU each output is its own kernel, with its own copy of the stages.
        ActivationForward act = forward();
        Targets tg = targets();
        ActivationForward line_act = gpu ? forward() : act;
        Targets line_tg = gpu ? targets() : tg;
        const Terms t = terms_of(act, tg, K), lt = terms_of(line_act, line_tg, K);
        Expr m = t.m, in_loss = c >= first_class;
        Expr kc = clamp(c - first_class, 0, K - 1);
        Expr p = act.p(x, y, z, c, n), g = tg.g(x, y, z, c, n);

        // Line sums over (x, slot, y, z, n): slot k < K the terms of class first_class + k, slot K
        // the counted voxels with a non-finite logit. (The slot is the Var c.)
        Expr term_k = substitute(c.name(), min(c, K - 1) + first_class, lt.term);
        Expr lm = lt.m;  // per voxel (no class in it)
        Func contrib("contrib");
        contrib(x, c, y, z, n) = select(c < K, select(lm > 0.0f && !line_act.bad, lm * term_k, 0.0f),
                                        select(lm > 0.0f && line_act.bad, 1.0f, 0.0f));
        LineSum line = fixed_order_line_sum("terms", contrib, logits.dim(0).extent(), {c, y, z, n}, v, gpu);
        rows(v.k, y, z, n) = line.line(v.k, y, z, n);
        Expr dterm = t.dterm;

        Func grad_p("grad_p");
        grad_p(x, y, z, c, n) = m * (select(in_loss, coef(kc, n) * dterm, 0.0f) + region_dl_dp(region_coef, g, p, c, n));
        std::vector<Func> row_funcs = act.row_funcs;
        Func dx = activation_backward(act, grad_p, num_classes(), v, row_funcs);
        grad(x, y, z, c, n) = select(m > 0.0f, nan_if(act.bad, dx(x, y, z, c, n)), 0.0f);

        // Contracts and estimates.
        Expr dense = declare_inputs() && innermost_dense(map_a) && innermost_dense(map_b);
        for (auto *mp : {&map_a, &map_b}) {
            allow_any_stride(*mp);
            for (int d = 0; d < 5; d++) {
                if (d == 3) mp->dim(d).set_min(0);
                else mp->dim(d).set_bounds(0, logits.dim(d).extent());
            }
            mp->set_estimates({{0, 128}, {0, 128}, {0, 128}, {0, 3}, {0, 2}});
        }
        coef.dim(0).set_bounds(0, K);
        coef.dim(1).set_bounds(0, logits.dim(4).extent());
        coef.set_estimates({{0, 3}, {0, 2}});
        first_class.set_estimate(1);
        formula.set_estimate(0);
        alpha.set_estimate(2.0f);
        region_coef.dim(0).set_bounds(0, abi::kNumRegionCoefs);
        region_coef.dim(1).set_bounds(0, num_classes());
        region_coef.dim(2).set_bounds(0, logits.dim(4).extent());
        region_coef.set_estimates({{0, abi::kNumRegionCoefs}, {0, 4}, {0, 2}});
        allow_any_stride(grad);
        bound_like_logits(grad, {0, 1, 2, 3, 4});
        bound_like_logits(rows, {-1, 1, 2, 4});
        rows.dim(0).set_extent(K + 1);
        grad.set_estimates({{0, 128}, {0, 128}, {0, 128}, {0, 4}, {0, 2}});
        rows.set_estimates({{0, 4}, {0, 128}, {0, 128}, {0, 2}});
        dense = dense && innermost_dense(grad);

        // Schedule: the gradient owns the loop nest (lines in parallel tasks), the line sums
        // share its line loop, the softmax is computed once per task. On a GPU: a thread per
        // voxel for the gradient; the line sums' lanes as threads (gpu_lines.h).
        if (auto_schedule) return;
        if (gpu) {
            const schedules::GpuLoops gl;
            schedules::gpu_voxels(grad, {c}, v, gl);
            schedules::compute_per_thread(row_funcs, LoopLevel(grad, gl.xi));
            schedules::gpu_line_lane_threads(line, v, line_act.row_funcs, true);
            schedules::gpu_lines(rows, {v.k}, v, gl);
            return;
        }
        const schedules::CpuParams sp = schedules::cpu_params(get_target(), "pointwise", "boundary_loss");
        const int vec = schedules::vector_width(get_target(), sp);
        schedules::LineLoops l;
        schedules::split_lines(grad, {x, c}, v, l, sp.grain);
        grad.vectorize(x, vec, TailStrategy::GuardWithIf);
        schedules::split_lines(rows, {v.k}, v, l, sp.grain);
        schedule_line_lanes(line, LoopLevel(rows, l.yi), LoopLevel(rows, l.yo), v);
        rows.compute_with(grad, l.yi);
        schedules::compute_per_task(row_funcs, schedules::helper_level(grad, l, sp), v, vec);
        grad.specialize(dense);
    }
};

}  // namespace
}  // namespace segloss::gen

HALIDE_REGISTER_GENERATOR(segloss::gen::BoundaryLoss, boundary_loss)
