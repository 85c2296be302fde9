// SPDX-License-Identifier: Apache-2.0
#include "cpu.h"

#include <atomic>
#include <mutex>

#include "HalideRuntime.h"
#include "../src/context.h"

namespace segloss::rt {
namespace {

std::atomic<int> g_max_isa{SEGLOSS_CPU_ISA_ALL};

// Halide's default handler calls abort(); ours files the message with the call that raised it.
void on_halide_error(void *user_context, const char *msg) {
    if (user_context) static_cast<Call *>(user_context)->add_halide_message(msg);
}

bool wants(const uint64_t *features, int count, int feature) {
    return feature / 64 < count && ((features[feature / 64] >> (feature % 64)) & 1);
}

// The multi-target wrappers ask this which variant may run; the cap removes the variants above
// the chosen ISA level, so the tests can run every level on one machine.
int capped_can_use(int count, const uint64_t *features) {
    if (!halide_default_can_use_target_features(count, features)) return 0;
    const int cap = g_max_isa.load();
    if (cap < SEGLOSS_CPU_ISA_AVX512 && wants(features, count, halide_target_feature_avx512_skylake)) return 0;
    if (cap < SEGLOSS_CPU_ISA_AVX2 && wants(features, count, halide_target_feature_avx2)) return 0;
    if (cap < SEGLOSS_CPU_ISA_SSE41 && wants(features, count, halide_target_feature_sse41)) return 0;
    return 1;
}

}  // namespace

void ensure_cpu_runtime() {
    static std::once_flag once;
    std::call_once(once, [] {
        halide_set_error_handler(on_halide_error);
        halide_set_custom_can_use_target_features(capped_can_use);
    });
}

void set_num_threads(int n) {
    ensure_cpu_runtime();
    halide_set_num_threads(n);
}

void set_max_cpu_isa(segloss_cpu_isa_t isa) {
    ensure_cpu_runtime();
    g_max_isa.store(isa);
}

}  // namespace segloss::rt
