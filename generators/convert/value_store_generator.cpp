// SPDX-License-Identifier: Apache-2.0
// A device call's value, stored on the device: the region epilogue's outputs are float64 and
// cover every class, the caller's value is float32 or float64 and leaves out the classes that
// take no part. mean/sum: value(0, 0) = total(0); reduction=none: value(k, n) =
// group_loss(first + k, n). On the CPU the runtime writes the value itself (runtime/src/value.h).
#include "Halide.h"
#include "generators/common/layout.h"
#include "schedules/gpu_lines.h"

namespace segloss::gen {
namespace {

using namespace Halide;

class ValueStore : public Generator<ValueStore> {
public:
    GeneratorParam<bool> float64{"float64", false};  // the value's type: float64 or float32

    Input<Buffer<double, 1>> total{"total"};            // the reduced loss, extent 1
    Input<Buffer<double, 2>> group_loss{"group_loss"};  // (c, n)
    Input<int> first{"first"};                          // group_loss's class of value's column 0
    Input<int> per_group{"per_group"};                  // 0: the scalar; 1: the group map
    Output<Buffer<void, 2>> value{"value"};             // (k, n), any strides

    void generate() {
        Var k("k"), n("n");
        Expr c = clamp(k + first, group_loss.dim(0).min(), group_loss.dim(0).max());
        Expr m = clamp(n, group_loss.dim(1).min(), group_loss.dim(1).max());
        Expr e = select(per_group != 0, group_loss(c, m), total(0));
        value(k, n) = float64 ? e : cast<float>(e);

        allow_any_stride(value);
        total.set_estimates({{0, 1}});
        group_loss.set_estimates({{0, 4}, {0, 2}});
        first.set_estimate(0);
        per_group.set_estimate(0);
        value.set_estimates({{0, 3}, {0, 2}});
        // A few hundred numbers at most: one GPU thread; inline on the CPU.
        if (auto_schedule || !schedules::is_gpu(get_target())) return;
        schedules::gpu_single_thread(value);
    }
};

}  // namespace
}  // namespace segloss::gen

HALIDE_REGISTER_GENERATOR(segloss::gen::ValueStore, value_store)
