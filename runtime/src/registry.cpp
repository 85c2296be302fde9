// SPDX-License-Identifier: Apache-2.0
#include "registry.h"

#include "failure.h"
#include "kernel_headers.h"

namespace segloss::rt {
namespace {

struct Row {
    Stage stage;
    Act act;
    TargetKind kind;
    Kernel kernel;
};

const Row kRows[] = {
#define SEGLOSS_KERNEL(stage, name, act, kind) \
    {Stage::stage, Act::act, TargetKind::kind, {#name, reinterpret_cast<void *>(&name)}},
#include "kernels.inc"
#undef SEGLOSS_KERNEL
};

}  // namespace

Kernel find_kernel(Stage stage, Act act, TargetKind kind) {
    // Stages without an activation or target axis are registered under identity / f32.
    const bool convert = stage == Stage::convert_f16_to_f32 || stage == Stage::convert_bf16_to_f32 ||
                         stage == Stage::convert_f32_to_f16 || stage == Stage::convert_f32_to_bf16;
    const bool any_act = stage == Stage::label_stats || stage == Stage::region_epilogue || convert;
    const bool any_kind = stage == Stage::region_epilogue || convert;
    for (const Row &r : kRows) {
        if (r.stage == stage && (any_act || r.act == act) && (any_kind || r.kind == kind)) return r.kernel;
    }
    fail(SEGLOSS_STATUS_UNSUPPORTED, "no kernel was built for this stage, activation and target type");
}

}  // namespace segloss::rt
