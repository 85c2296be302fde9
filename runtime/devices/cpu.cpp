// SPDX-License-Identifier: Apache-2.0
#include "cpu.h"

#include <atomic>
#include <mutex>

#include "HalideRuntime.h"
#include "../src/context.h"
#include "block_cache.h"

namespace segloss::rt {
namespace {

std::atomic<int> g_max_isa{SEGLOSS_CPU_ISA_ALL};
std::atomic<int> g_num_threads{0};

// One parallel loop of a kernel, handed to a caller's pool (segloss_context_set_thread_pool).
struct PoolLoop {
    halide_task_t f;
    void *user_context;
    int min;
    uint8_t *closure;
};

int run_pool_task(void *loop, int index) {
    const PoolLoop &l = *static_cast<const PoolLoop *>(loop);
    return l.f(l.user_context, l.min + index, l.closure);
}

// A context's own pool runs its calls' loops. Otherwise Halide's: it keeps the threads it has
// spawned, so halide_set_num_threads cannot go back down to one thread; a thread count of 1
// therefore runs parallel loops inline, on the caller's thread. (The loop order is irrelevant
// to the results: every reduction has a fixed order.) The user context of every kernel is its
// Call.
int do_par_for(void *user_context, halide_task_t f, int min, int size, uint8_t *closure) {
    if (user_context) {
        const segloss_context &ctx = static_cast<const Call *>(user_context)->context();
        if (ctx.parallel_for) {
            PoolLoop loop{f, user_context, min, closure};
            return ctx.parallel_for(ctx.pool, run_pool_task, &loop, size);
        }
    }
    if (g_num_threads.load() != 1) return halide_default_do_par_for(user_context, f, min, size, closure);
    for (int i = min; i < min + size; i++) {
        if (int rc = f(user_context, i, closure)) return rc;
    }
    return 0;
}

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
        halide_set_custom_do_par_for(do_par_for);
        halide_set_custom_malloc(cached_malloc);
        halide_set_custom_free(cached_free);
    });
}

void set_num_threads(int n) {
    ensure_cpu_runtime();
    g_num_threads.store(n);
    if (n != 1) halide_set_num_threads(n);
}

void set_max_cpu_isa(segloss_cpu_isa_t isa) {
    ensure_cpu_runtime();
    g_max_isa.store(isa);
}

}  // namespace segloss::rt
