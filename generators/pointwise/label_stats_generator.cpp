// SPDX-License-Identifier: Apache-2.0
// Label pre-pass of the pointwise family (index maps only): validates the labels and sums the
// weighted count that normalises a mean, before any gradient is written. It reads only the
// labels (1 or 4 bytes per voxel).
#include "Halide.h"
#include "generators/common/abi.h"
#include "generators/common/layout.h"
#include "generators/common/sums.h"
#include "generators/common/targets.h"
#include "schedules/cpu_lines.h"

namespace segloss::gen {
namespace {

using namespace Halide;

class LabelStats : public Generator<LabelStats> {
public:
    GeneratorParam<TargetKind> target_kind{"target_kind", TargetKind::I32, kTargetKindNames};

    // Index map (x, y, z, n), int32 or uint8.
    Input<Buffer<>> labels{"labels"};
    // Class weights (c); its extent is the number of classes C.
    Input<Buffer<float, 1>> weight{"weight"};
    Input<int> has_ignore{"has_ignore"};
    Input<int> ignore_index{"ignore_index"};

    // Per-line partial sums (slot, y, z, n), slots abi::LabelSlot.
    Output<Buffer<float, 4>> rows{"rows"};

    void generate() {
        Vars v;
        const Var &x = v.x, &y = v.y, &z = v.z, &n = v.n;
        Expr C = weight.dim(0).extent();

        // The algorithm.
        Targets tg = expand_targets(labels, target_kind, C, has_ignore, ignore_index, v);
        Expr valid = tg.counted && !tg.invalid;
        Func contrib("contrib");
        contrib(x, y, z, n) = {select(valid, weight(clamp(tg.label, 0, C - 1)), 0.0f),
                               select(tg.counted, 1.0f, 0.0f),
                               select(tg.invalid, 1.0f, 0.0f)};
        LineSum line = fixed_order_line_sum("labels", contrib, labels.dim(0).extent(), {y, z, n}, v);
        rows(v.k, y, z, n) = mux(v.k, {line.line(y, z, n)[0], line.line(y, z, n)[1],
                                       line.line(y, z, n)[2]});
        rows.bound(v.k, 0, abi::kNumLabelSlots);

        allow_any_stride(labels);
        labels.set_estimates({{0, 128}, {0, 128}, {0, 128}, {0, 2}});
        weight.set_estimates({{0, 4}});
        rows.set_estimates({{0, 3}, {0, 128}, {0, 128}, {0, 2}});

        // Schedule.
        if (auto_schedule) return;
        const schedules::CpuParams sp = schedules::cpu_params(get_target(), "pointwise");
        schedules::LineLoops l;
        schedules::split_lines(rows, {v.k}, v, l, sp.grain);
        rows.unroll(v.k);
        rows.specialize(innermost_dense(labels));
        schedule_line_lanes(line, LoopLevel(rows, l.yi), v);
    }
};

}  // namespace
}  // namespace segloss::gen

HALIDE_REGISTER_GENERATOR(segloss::gen::LabelStats, label_stats)
