// SPDX-License-Identifier: Apache-2.0
#include "registry.h"

#include "failure.h"
#include "gpu_kernel_headers.h"
#include "kernel_headers.h"

#include <algorithm>
#include <string>
#include <vector>

namespace segloss::rt {
namespace {

struct Row {
    Stage stage;
    Act act;
    TargetKind kind;
    Kernel kernel;
    int classes = 0;  // 0: any class count; K: built for exactly K classes (preferred when C == K)
};

const Row kRows[] = {
#define SEGLOSS_KERNEL(stage, name, act, kind, classes) \
    {Stage::stage, Act::act, TargetKind::kind, {#name, reinterpret_cast<void *>(&name)}, classes},
#include "kernels.inc"
#undef SEGLOSS_KERNEL
};

struct GpuRow {
    GpuApi api;
    Row row;
};

// The GPU set (cmake/kernels.cmake rows marked GPU), after a sentinel for builds without one.
const GpuRow kGpuRows[] = {
    {GpuApi::none, {}},
#define SEGLOSS_GPU_KERNEL(api, stage, name, act, kind) \
    {GpuApi::api, {Stage::stage, Act::act, TargetKind::kind, {#name "_" #api, reinterpret_cast<void *>(&name##_##api)}}},
#include "gpu_kernels.inc"
#undef SEGLOSS_GPU_KERNEL
};

// tools/tune's candidates (replace_cpu_kernel), by row name; empty outside a tuner run.
struct Replacement {
    std::string name;
    void *fn;
};
std::vector<Replacement> &replacements() {
    static std::vector<Replacement> r;
    return r;
}

// Every row a tuner run has named. While it names a row, the class-count rows it did not name
// step aside, so that its built-in and candidate timings both run the row it tunes.
std::vector<std::string> &tuned_rows() {
    static std::vector<std::string> r;
    return r;
}

bool class_row_usable(const Row &r) {
    const std::vector<std::string> &tuned = tuned_rows();
    return tuned.empty() || std::find(tuned.begin(), tuned.end(), r.kernel.name) != tuned.end();
}

Kernel replaced(const Kernel &k) {
    for (const Replacement &r : replacements()) {
        if (r.name == k.name) return {k.name, r.fn};
    }
    return k;
}

}  // namespace

bool replace_cpu_kernel(const char *name, void *fn) {
    bool known = false;
    for (const Row &r : kRows) known = known || r.kernel.name == std::string(name);
    if (!known) return false;
    if (std::find(tuned_rows().begin(), tuned_rows().end(), name) == tuned_rows().end()) tuned_rows().push_back(name);
    std::vector<Replacement> &all = replacements();
    for (size_t i = 0; i < all.size(); i++) {
        if (all[i].name == name) all.erase(all.begin() + long(i));
    }
    if (fn) all.push_back({name, fn});
    return true;
}

Kernel find_kernel(Stage stage, Act act, TargetKind kind, GpuApi api, int64_t num_classes) {
    // Stages without an activation or target axis are registered under identity / f32.
    const bool convert = stage == Stage::convert_f16_to_f32 || stage == Stage::convert_bf16_to_f32 ||
                         stage == Stage::convert_f32_to_f16 || stage == Stage::convert_f32_to_bf16;
    const bool any_act = stage == Stage::label_stats || stage == Stage::region_epilogue || convert;
    const bool store = stage == Stage::value_store_f32 || stage == Stage::value_store_f64 ||
                       stage == Stage::pointwise_norm || stage == Stage::pointwise_total ||
                       stage == Stage::boundary_coef || stage == Stage::boundary_total || stage == Stage::topk_hist ||
                       stage == Stage::topk_cut || stage == Stage::topk_tie || stage == Stage::topk_mark ||
                       stage == Stage::topk_part_inverse || stage == Stage::topk_part_weights ||
                       stage == Stage::topk_part_total;
    const bool any_kind = stage == Stage::region_epilogue || convert || store;
    auto matches = [&](const Row &r) {
        return r.stage == stage && (any_act || store || r.act == act) && (any_kind || r.kind == kind);
    };
    if (api == GpuApi::none) {
        // A row built for this class count first, then the row for any count.
        for (const bool exact : {true, false}) {
            for (const Row &r : kRows) {
                const bool classes_fit =
                    exact ? r.classes > 0 && r.classes == num_classes && class_row_usable(r) : r.classes == 0;
                if (classes_fit && matches(r)) return replacements().empty() ? r.kernel : replaced(r.kernel);
            }
        }
    }
    for (const GpuRow &g : kGpuRows) {
        if (api != GpuApi::none && g.api == api && matches(g.row)) return g.row.kernel;
    }
    fail(SEGLOSS_STATUS_UNSUPPORTED, "no ", api == GpuApi::none ? "CPU" : api == GpuApi::cuda ? "CUDA" : "OpenCL",
         " kernel was built for this stage, activation and target type");
}

}  // namespace segloss::rt
