// SPDX-License-Identifier: Apache-2.0
// Pointwise family: one pass reads logits and targets, writes the gradient and reduces the loss
// to per-line partial sums (summed in float64 by the runtime in a fixed order). TopK runs it
// twice: the map output writes every voxel's key, then value or grad read the keys back and
// keep the voxels above the cut (generators/common/selection.h).
#include "Halide.h"
#include "generators/common/abi.h"
#include "generators/common/loss_generator.h"
#include "generators/common/sums.h"
#include "generators/common/selection.h"
#include "generators/pointwise/formulas.h"
#include "schedules/cpu_classes.h"
#include "schedules/cpu_lines.h"
#include "schedules/gpu_lines.h"

namespace segloss::gen {
namespace {

using namespace Halide;

class Pointwise : public LossGenerator<Pointwise> {
public:
    // value: line sums; grad: line sums and gradient in one pass; map: per-voxel loss (or keys).
    enum class Out { Value, Grad, Map };
    GeneratorParam<Out> output{"output", Out::Grad, {{"value", Out::Value}, {"grad", Out::Grad}, {"map", Out::Map}}};
    // The kernel's stage (cmake/kernels.cmake), which names its tuned schedule file.
    std::string stage_name() const {
        return output == Out::Value ? "pointwise_value" : output == Out::Grad ? "pointwise_grad" : "pointwise_map";
    }

    // Class weights (c): CE's weight or focal's alpha (formulas.h); all ones for neither.
    Input<Buffer<float, 1>> alpha_pos{"alpha_pos"};
    Input<Buffer<float, 1>> alpha_neg{"alpha_neg"};
    Input<float> gamma{"gamma"};          // focal focusing parameter; 0 = cross-entropy
    Input<float> log_power{"log_power"};  // exp_log's power of -log p; 1 = cross-entropy
    Input<float> label_smoothing{"label_smoothing"};
    // Factor applied to the gradient: upstream gradient / normaliser (set by the runtime), and
    // for grad a one-element buffer that multiplies it: 1 on the CPU, where the runtime knows the
    // normaliser; on a device, pointwise_norm's 1 / normaliser, which only the device knows.
    Input<float> grad_scale{"grad_scale"};
    // TopK's selection (selection.h): keys (x, y, z, n) and the cut; zeros and -1 keep all.
    Input<Buffer<float, 4>> key{"key"};
    Input<float> cut_value{"cut_value"};
    Input<int> cut_index{"cut_index"};
    // map only: selected, counted voxels whose unweighted loss is at most key_threshold, and
    // voxels not counted, are written as `fill` (TopK's key pass: fill = -1 and the threshold
    // -log t; reduction=none: 0 and -1).
    Input<float> *key_threshold = nullptr, *fill = nullptr;
    Input<Buffer<float, 1>> *norm_scale = nullptr;  // grad only

    // Per-line partial sums (slot, y, z, n), slots abi::PointwiseSlot (value, grad).
    Output<Buffer<float, 4>> *rows = nullptr;
    Output<Buffer<float, 5>> *grad = nullptr;  // (x, y, z, c, n) (grad)
    Output<Buffer<float, 4>> *map = nullptr;   // per-voxel loss (x, y, z, n), NaN where non-finite (map)

    void configure() {
        if (output == Out::Grad) norm_scale = add_input<Buffer<float, 1>>("norm_scale");
        if (output != Out::Map) rows = add_output<Buffer<float, 4>>("rows");
        if (output == Out::Grad) grad = add_output<Buffer<float, 5>>("grad");
        if (output == Out::Map) {
            key_threshold = add_input<float>("key_threshold");
            fill = add_input<float>("fill");
            map = add_output<Buffer<float, 4>>("map");
        }
    }

    // One copy of the per-voxel stages: the activation, the targets, the loss terms, the
    // selection weight, and the stages a schedule computes once per voxel.
    struct Terms {
        ActivationForward act;
        PointwiseTerms ce;
        Func weight;
        std::vector<Func> per_voxel;
    };
    Terms terms(const PointwiseOptions &opts) {
        Terms t;
        t.act = forward();
        Targets tg = targets();
        t.ce = focal_cross_entropy(t.act, tg, opts, num_classes(), v);
        Expr X = logits.dim(0).extent(), Y = logits.dim(1).extent(), Z = logits.dim(2).extent();
        t.weight = selected_weight(tg, key, cut_value, cut_index, X, Y, Z, v);
        t.per_voxel = t.act.row_funcs;
        t.per_voxel.insert(t.per_voxel.end(), t.ce.row_funcs.begin(), t.ce.row_funcs.end());
        t.per_voxel.push_back(t.weight);
        t.per_voxel.push_back(t.ce.loss);
        if (map) t.per_voxel.push_back(t.ce.unweighted);
        return t;
    }

    void generate() {
        const Var &x = v.x, &y = v.y, &z = v.z, &c = v.c, &n = v.n;
        const bool gpu = schedules::is_gpu(get_target());

        // The algorithm.
        Func ap("ap"), an("an");
        ap(c, n) = alpha_pos(c);
        an(c, n) = alpha_neg(c);
        const PointwiseOptions opts{ap, an, gamma, log_power, label_smoothing};
        // On a CPU the line sums share the gradient's loop nest and its per-voxel stages; on a
        // GPU each output is its own kernel, with its own copy of the stages (a stage can be
        // computed at one place only).
        Terms main = terms(opts);
        Terms line_terms = gpu && grad ? terms(opts) : main;

        std::vector<Expr> contrib_values;  // what each voxel adds to the line sums
        {
            const Terms &t = line_terms;
            Expr m = t.weight(x, y, z, n);
            Expr counted = m > 0.0f;
            contrib_values = {select(counted && !t.act.bad, m * t.ce.loss(x, y, z, n), 0.0f),
                              select(counted && t.act.bad, 1.0f, 0.0f)};
        }
        const ActivationForward &act = main.act;
        const PointwiseTerms &ce = main.ce;
        Expr m = main.weight(x, y, z, n);
        Expr counted = m > 0.0f;
        auto grad_value = [&](Expr cc) {
            return select(counted, nan_if(act.bad, (grad_scale * (*norm_scale)(0) * m) * ce.dx(x, y, z, cc, n)), 0.0f);
        };
        // With a fixed class count (CPU), a voxel's outputs (its gradient for every class and
        // its line-sum terms) are one Tuple, computed a vector of voxels at a time with the
        // per-voxel stages in registers (schedules/cpu_classes.h); the outputs read it back.
        Func fused("voxel_outputs");
        const int K = int(classes);
        const bool fixed = K > 0 && !gpu && !map;
        Func contrib("contrib");
        if (fixed) {
            std::vector<Expr> values;
            for (int k = 0; grad && k < K; k++) values.push_back(grad_value(k));
            const int first = int(values.size());
            values.insert(values.end(), contrib_values.begin(), contrib_values.end());
            fused(x, y, z, n) = Tuple(values);
            contrib(x, y, z, n) = {fused(x, y, z, n)[first], fused(x, y, z, n)[first + 1]};
        } else {
            contrib(x, y, z, n) = Tuple(contrib_values);
        }
        LineSum line = fixed_order_line_sum("loss", contrib, logits.dim(0).extent(), {y, z, n}, v, gpu);
        if (rows) {
            (*rows)(v.k, y, z, n) = mux(v.k, {line.line(y, z, n)[0], line.line(y, z, n)[1]});
            rows->bound(v.k, 0, abi::kNumPointwiseSlots);
        }
        if (grad && fixed) {
            std::vector<Expr> per_class;
            for (int k = 0; k < K; k++) per_class.push_back(fused(x, y, z, n)[k]);
            (*grad)(x, y, z, c, n) = mux(c, per_class);
        } else if (grad) {
            (*grad)(x, y, z, c, n) = grad_value(c);
        }
        if (map) {
            Expr kept = counted && ce.unweighted(x, y, z, n) > *key_threshold;
            (*map)(x, y, z, n) = select(counted && act.bad, nan_if(act.bad, 0.0f),
                                        kept, m * ce.loss(x, y, z, n), *fill);
        }

        // Contracts: strided views are allowed; the dense case gets its own vectorised path.
        Expr dense = declare_inputs() && declare_voxel_input(key);
        alpha_pos.set_estimates({{0, 4}});
        alpha_neg.set_estimates({{0, 4}});
        gamma.set_estimate(0.0f);
        log_power.set_estimate(1.0f);
        label_smoothing.set_estimate(0.0f);
        grad_scale.set_estimate(1.0f);
        cut_value.set_estimate(-1.0f);
        cut_index.set_estimate(0);
        if (key_threshold) key_threshold->set_estimate(-1.0f);
        if (fill) fill->set_estimate(0.0f);
        if (rows) {
            bound_like_logits(*rows, {-1, 1, 2, 4});
            rows->set_estimates({{0, abi::kNumPointwiseSlots}, {0, 128}, {0, 128}, {0, 2}});
        }
        if (grad) {
            norm_scale->set_estimates({{0, 1}});
            allow_any_stride(*grad);
            bound_like_logits(*grad, {0, 1, 2, 3, 4});
            dense = dense && innermost_dense(*grad);
            grad->set_estimates({{0, 128}, {0, 128}, {0, 128}, {0, 4}, {0, 2}});
        }
        if (map) {
            allow_any_stride(*map);
            bound_like_logits(*map, {0, 1, 2, 4});
            dense = dense && innermost_dense(*map);
            map->set_estimates({{0, 128}, {0, 128}, {0, 128}, {0, 2}});
        }

        // Schedule.
        if (auto_schedule) return;
        if (gpu) {
            schedule_gpu(main, line_terms, line);
            return;
        }
        const schedules::CpuParams sp = schedules::cpu_params(get_target(), "pointwise", stage_name());
        const int vec = fixed ? schedules::class_vector_width(get_target(), sp)
                              : schedules::vector_width(get_target(), sp);
        schedules::LineLoops l;
        const std::vector<Func> &per_line = main.per_voxel;

        // The first output owns the loop nest; with the gradient, the line sums are fused into
        // its line loop and share the per-line intermediates, so the inputs are read once and
        // the softmax computed once. (This needs the bounds stated in declare_inputs: without
        // them Halide cannot prove that both outputs need the same line.)
        Func lead = grad ? Func(*grad) : (map ? Func(*map) : Func(*rows));
        if (grad) {
            split_lines(*grad, {x, c}, v, l, sp.grain);
            grad->vectorize(x, vec, TailStrategy::GuardWithIf);
        }
        if (map) {
            split_lines(*map, {x}, v, l, sp.grain);
            map->vectorize(x, vec, TailStrategy::GuardWithIf);
        }
        if (rows) {
            split_lines(*rows, {v.k}, v, l, sp.grain);
            rows->unroll(v.k);
            schedule_line_lanes(line, LoopLevel(*rows, l.yi), LoopLevel(*rows, l.yo), v);
        }
        if (grad) rows->compute_with(lead, l.yi);
        if (fixed) {
            if (grad) grad->unroll(c);
            schedules::compute_per_vector(fused, per_line, LoopLevel(lead, l.yi), LoopLevel(lead, l.yo), v, vec);
            if (ce.hard.defined()) {
                fused.specialize(dense && ce.hard && is_cross_entropy(opts));
                fused.specialize(dense && ce.hard);
            }
            fused.specialize(dense);
            lead.specialize(dense);
            return;
        }
        schedules::compute_per_task(per_line, schedules::helper_level(lead, l, sp), v, vec);
        // Cross-entropy gets its own dense paths, where the focal factors fold away; hard labels
        // theirs, where only the label's class has a loss term (formulas.h).
        if (ce.hard.defined()) {
            lead.specialize(dense && ce.hard && is_cross_entropy(opts));
            lead.specialize(dense && ce.hard);
        }
        lead.specialize(dense && is_cross_entropy(opts));
        lead.specialize(dense);
    }

    // No specialisations: the GPU is bound by memory, not by the hard-label path's saved
    // arithmetic, and each one would be another kernel to compile.
    void schedule_gpu(const Terms &main, const Terms &line_terms, LineSum &line) {
        const schedules::GpuLoops g;
        if (grad) {
            schedules::gpu_voxels(*grad, {v.c}, v, g);
            schedules::compute_per_thread(main.per_voxel, LoopLevel(*grad, g.xi));
        }
        if (map) {
            schedules::gpu_voxels(*map, {}, v, g);
            schedules::compute_per_thread(main.per_voxel, LoopLevel(*map, g.xi));
        }
        if (rows) {
            // The line sums in a kernel of their own (their lanes are threads), then their slots.
            schedules::gpu_line_lane_threads(line, v, line_terms.per_voxel, false);
            schedules::gpu_lines(*rows, {v.k}, v, g);
            rows->unroll(v.k);
        }
    }
};

}  // namespace
}  // namespace segloss::gen

HALIDE_REGISTER_GENERATOR(segloss::gen::Pointwise, pointwise)
