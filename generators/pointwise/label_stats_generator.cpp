// SPDX-License-Identifier: Apache-2.0
// Target pre-pass of the pointwise family: validates the targets and sums, per class, the
// targets of the counted voxels (the voxels of each label, or sum g_c of a dense map), before
// any gradient is written. The runtime derives the mean's normaliser and inverse-frequency
// class weights from these sums. It reads only the targets.
#include "Halide.h"
#include "generators/common/abi.h"
#include "generators/common/layout.h"
#include "generators/common/sums.h"
#include "generators/common/targets.h"
#include "schedules/cpu_lines.h"
#include "schedules/gpu_lines.h"

namespace segloss::gen {
namespace {

using namespace Halide;

class LabelStats : public Generator<LabelStats> {
public:
    GeneratorParam<TargetKind> target_kind{"target_kind", TargetKind::I32, kTargetKindNames};

    // Index map (x, y, z, n), int32 or uint8, or dense map (x, y, z, c, n), float32.
    Input<Buffer<>> labels{"labels"};
    Input<int> num_classes{"num_classes"};
    Input<int> has_ignore{"has_ignore"};
    Input<int> ignore_index{"ignore_index"};
    // The loss mask (x, y, z, n) (loss_generator.h).
    Input<Buffer<float, 4>> loss_mask{"loss_mask"};
    // 0: class_rows is written as zeros and its per-class sums are not computed (the caller
    // needs only the count: uniform class weights). They were ~half of the pass.
    Input<int> class_sums{"class_sums"};

    // Per-line partial sums (slot, y, z, n), slots abi::LabelSlot. Invalid: labels outside
    // [0, C) that are not ignore_index, or dense values outside [0, 1] (NaN included); bad
    // mask: mask values outside [0, 1] (NaN included).
    Output<Buffer<float, 4>> rows{"rows"};
    // Per-line, per-class target sums (c, y, z, n), c < num_classes.
    Output<Buffer<float, 4>> class_rows{"class_rows"};

    void generate() {
        Vars v;
        const Var &x = v.x, &y = v.y, &z = v.z, &c = v.c, &n = v.n;
        Expr C = num_classes;
        const bool dense = target_kind == TargetKind::F32;
        const bool gpu = schedules::is_gpu(get_target());

        // The algorithm.
        Targets tg = expand_targets(labels, target_kind, C, has_ignore, ignore_index, loss_mask, v);
        Expr m = select(tg.counted, tg.weight, 0.0f), bad_mask = select(tg.bad_mask, 1.0f, 0.0f);
        // class_contrib is (x, c, y, z, n): the line sum's own order (line index after x).
        Func contrib("contrib"), class_contrib("class_contrib"), bad("bad");
        if (dense) {
            RDom rc(0, C, "rc");
            Expr g = labels(x, y, z, rc, n);
            bad(x, y, z, n) = 0.0f;
            bad(x, y, z, n) += select(g >= 0.0f && g <= 1.0f && !is_nonfinite(g), 0.0f, 1.0f);
            contrib(x, y, z, n) = {m, bad(x, y, z, n), bad_mask};
        } else {
            contrib(x, y, z, n) = {m, select(tg.invalid, 1.0f, 0.0f), bad_mask};
        }
        class_contrib(x, c, y, z, n) = m * tg.g(x, y, z, c, n);
        LineSum line = fixed_order_line_sum("targets", contrib, labels.dim(0).extent(), {y, z, n}, v, gpu);
        LineSum class_line = fixed_order_line_sum("classes", class_contrib, labels.dim(0).extent(), {c, y, z, n}, v, gpu);
        rows(v.k, y, z, n) = mux(v.k, {line.line(y, z, n)[0], line.line(y, z, n)[1], line.line(y, z, n)[2]});
        rows.bound(v.k, 0, abi::kNumLabelSlots);
        class_rows(c, y, z, n) = select(class_sums != 0, class_line.line(c, y, z, n), 0.0f);
        class_rows.dim(0).set_bounds(0, C);

        allow_any_stride(labels);
        allow_any_stride(loss_mask);
        for (int d = 0; d < labels.dimensions(); d++) labels.dim(d).set_min(0);
        for (int d = 0; d < 4; d++) loss_mask.dim(d).set_bounds(0, labels.dim(d == 3 ? labels.dimensions() - 1 : d).extent());
        loss_mask.set_estimates({{0, 128}, {0, 128}, {0, 128}, {0, 2}});
        num_classes.set_estimate(4);
        has_ignore.set_estimate(1);
        ignore_index.set_estimate(255);
        class_sums.set_estimate(1);
        if (dense) {
            labels.set_estimates({{0, 128}, {0, 128}, {0, 128}, {0, 4}, {0, 2}});
        } else {
            labels.set_estimates({{0, 128}, {0, 128}, {0, 128}, {0, 2}});
        }
        rows.set_estimates({{0, abi::kNumLabelSlots}, {0, 128}, {0, 128}, {0, 2}});
        class_rows.set_estimates({{0, 4}, {0, 128}, {0, 128}, {0, 2}});

        // Schedule: lines in parallel tasks; the class sums share the line loop.
        if (auto_schedule) return;
        if (gpu) {
            // The counts' line sums in a kernel of their own (their lanes are threads); the
            // class sums keep a thread per line (inside class_rows, whose select skips them
            // when class_sums is 0).
            const schedules::GpuLoops g;
            schedules::gpu_line_lane_threads(line, v, dense ? std::vector<Func>{bad} : std::vector<Func>{}, false);
            schedules::gpu_lines(rows, {v.k}, v, g);
            rows.unroll(v.k);
            schedules::gpu_lines(class_rows, {c}, v, g);
            schedules::gpu_line_lanes(class_line, LoopLevel(class_rows, c), {});
            return;
        }
        const schedules::CpuParams sp = schedules::cpu_params(get_target(), "pointwise", "label_stats");
        schedules::LineLoops l;
        schedules::split_lines(rows, {v.k}, v, l, sp.grain);
        rows.unroll(v.k);
        Expr dense_inputs = innermost_dense(labels) && innermost_dense(loss_mask);
        rows.specialize(dense_inputs);
        schedule_line_lanes(line, LoopLevel(rows, l.yi), LoopLevel(rows, l.yo), v);
        if (dense) schedules::compute_per_task({bad}, schedules::helper_level(rows, l, sp), v, schedules::vector_width(get_target(), sp));
        schedules::split_lines(class_rows, {c}, v, l, sp.grain);
        class_rows.specialize(class_sums == 0);
        class_rows.specialize(dense_inputs);  // dense loads instead of gathers
        schedule_line_lanes(class_line, LoopLevel(class_rows, l.yi), LoopLevel(class_rows, l.yo), v);
    }
};

}  // namespace
}  // namespace segloss::gen

HALIDE_REGISTER_GENERATOR(segloss::gen::LabelStats, label_stats)
