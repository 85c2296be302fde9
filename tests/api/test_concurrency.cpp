// SPDX-License-Identifier: Apache-2.0
// Determinism and concurrency for every loss: the same bits (value and gradient) for 1, 2 and 8
// threads, when four threads call the same loss at once, each on its own context or all on one,
// and on a caller's thread pool (docs/api.md, "Thread safety" and "Process-wide settings").
#include <atomic>
#include <cstring>
#include <string>
#include <thread>
#include <vector>

#include <catch2/catch.hpp>

#include "support/loss_tester.h"

using namespace segloss;
using namespace segloss::test;

namespace {

struct Bits {
    double value = 0;
    std::vector<float> grad;
    segloss_status_t status = SEGLOSS_STATUS_OK;
    bool operator==(const Bits &o) const {
        return status == o.status && std::memcmp(&value, &o.value, sizeof value) == 0 &&
               grad.size() == o.grad.size() && std::memcmp(grad.data(), o.grad.data(), grad.size() * 4) == 0;
    }
};

// One call on `shared`, or on a context of its own; the status instead of an exception
// (threads must not throw).
Bits call(const LossParams &p, const DLTensor &logits, const DLTensor &target, segloss_context_t shared = nullptr) {
    Bits b;
    int64_t numel = 1;
    for (int d = 0; d < logits.ndim; d++) numel *= logits.shape[d];
    b.grad.assign(static_cast<size_t>(numel), 0.0f);
    std::vector<int64_t> one{1};
    DLTensor v{&b.value, {kDLCPU, 0}, 1, {kDLFloat, 64, 1}, one.data(), nullptr, 0};
    DLTensor g = logits;
    g.data = b.grad.data();
    g.strides = nullptr;
    segloss_context_t ctx = shared;
    if (!shared) b.status = segloss_context_create(&ctx);
    if (b.status == SEGLOSS_STATUS_OK) b.status = segloss_loss_compute(ctx, p.get(), &logits, &target, &v, &g, 1.0f);
    if (!shared) segloss_context_destroy(ctx);
    return b;
}

std::vector<segloss_loss_kind_t> every_loss() {
    std::vector<segloss_loss_kind_t> losses;
    for (int k = 0; std::strcmp(segloss_loss_name(static_cast<segloss_loss_kind_t>(k)), "unknown") != 0; k++) {
        losses.push_back(static_cast<segloss_loss_kind_t>(k));
    }
    return losses;
}

}  // namespace

TEST_CASE("every loss: the same bits for 1, 2 and 8 threads and from 4 threads at once", "[concurrency]") {
    const std::vector<segloss_loss_kind_t> losses = every_loss();
    REQUIRE(losses.size() == 24);
    auto loss = GENERATE_COPY(from_range(losses));
    LossParams p(loss);
    LossTester t(loss);
    if (loss == SEGLOSS_LOSS_WCE) p.weight({0.5f, 1.0f, 2.0f});
    if (loss == SEGLOSS_LOSS_COMBO) p.activation(SEGLOSS_ACTIVATION_SIGMOID), t.target(Target::F32);
#if SEGLOSS_TESTS_SLOW
    t.shape({2, 3, 6, 10, 18});
#else
    t.shape({2, 3, 12, 20, 36});
#endif
    t.params(p).seed(31 + loss);
    if (loss != SEGLOSS_LOSS_COMBO) t.ignore(-1, 0.1);  // (combo's dense targets have no ignore_index)
    t.make_inputs();
    p = t.params();  // with the tester's ignore_index
    const DLTensor logits = t.logits().dl(), target = t.target_dl();
    INFO("loss " << segloss_loss_name(loss));

    REQUIRE(segloss_set_num_threads(1) == SEGLOSS_STATUS_OK);
    const Bits base = call(p, logits, target);
    REQUIRE(base.status == SEGLOSS_STATUS_OK);
    for (int threads : {2, 8}) {
        REQUIRE(segloss_set_num_threads(threads) == SEGLOSS_STATUS_OK);
        INFO(threads << " threads");
        REQUIRE(call(p, logits, target) == base);
    }

    REQUIRE(segloss_set_num_threads(2) == SEGLOSS_STATUS_OK);
    std::vector<Bits> results(4);
    std::vector<std::thread> callers;
    for (size_t i = 0; i < results.size(); i++) {
        callers.emplace_back([&, i] { results[i] = call(p, logits, target); });
    }
    for (std::thread &c : callers) c.join();
    for (const Bits &r : results) REQUIRE(r == base);

    // Four threads on one context: the calls take turns, each gets its own result.
    segloss_context_t shared = nullptr;
    REQUIRE(segloss_context_create(&shared) == SEGLOSS_STATUS_OK);
    callers.clear();
    for (size_t i = 0; i < results.size(); i++) {
        callers.emplace_back([&, i] { results[i] = call(p, logits, target, shared); });
    }
    for (std::thread &c : callers) c.join();
    segloss_context_destroy(shared);
    for (const Bits &r : results) REQUIRE(r == base);
    REQUIRE(segloss_set_num_threads(0) == SEGLOSS_STATUS_OK);
}

namespace {

// A caller's pool for the test: each loop's iterations split between the calling thread and
// two threads started for it (so nested loops need nothing special), counted.
struct TestPool {
    std::atomic<int> loops{0};
    std::atomic<int> tasks{0};
    int fail_with = 0;  // non-zero: return it without running the loop
};

int test_parallel_for(void *pool, segloss_task_fn task, void *task_data, int count) {
    TestPool &tp = *static_cast<TestPool *>(pool);
    tp.loops++;
    if (tp.fail_with) return tp.fail_with;
    std::atomic<int> rc{0};
    auto part = [&](int first) {
        for (int i = first; i < count; i += 3) {
            tp.tasks++;
            if (int r = task(task_data, i)) rc = r;
        }
    };
    std::thread a(part, 1), b(part, 2);
    part(0);
    a.join();
    b.join();
    return rc;
}

}  // namespace

TEST_CASE("a caller's thread pool runs every parallel loop of a context's calls, with the same bits",
          "[concurrency][thread_pool]") {
    const segloss_loss_kind_t loss = GENERATE(SEGLOSS_LOSS_CE, SEGLOSS_LOSS_DICE_CE, SEGLOSS_LOSS_HAUSDORFF_DT,
                                              SEGLOSS_LOSS_TOPK);
    LossParams p(loss);
    LossTester t(loss);
    t.shape({2, 3, 8, 12, 20}).params(p).seed(3 + loss).ignore(-1, 0.1);
    t.make_inputs();
    p = t.params();
    const DLTensor logits = t.logits().dl(), target = t.target_dl();
    INFO("loss " << segloss_loss_name(loss));
    const Bits base = call(p, logits, target);
    REQUIRE(base.status == SEGLOSS_STATUS_OK);

    segloss_context_t ctx = nullptr;
    REQUIRE(segloss_context_create(&ctx) == SEGLOSS_STATUS_OK);
    TestPool pool;
    REQUIRE(segloss_context_set_thread_pool(ctx, test_parallel_for, &pool) == SEGLOSS_STATUS_OK);
    CHECK(call(p, logits, target, ctx) == base);
    CHECK(pool.loops > 0);
    CHECK(pool.tasks >= pool.loops);

    // A failing pool fails the call with the kernel's name; NULL goes back to segloss's pool.
    pool.fail_with = -7;
    const Bits failed = call(p, logits, target, ctx);
    CHECK(failed.status == SEGLOSS_STATUS_INTERNAL);
    CHECK(std::string(segloss_last_error(ctx)).find("-7") != std::string::npos);
    REQUIRE(segloss_context_set_thread_pool(ctx, nullptr, &pool) == SEGLOSS_STATUS_OK);
    const int loops = pool.loops;
    CHECK(call(p, logits, target, ctx) == base);
    CHECK(pool.loops == loops);
    segloss_context_destroy(ctx);
    CHECK(segloss_context_set_thread_pool(nullptr, test_parallel_for, &pool) == SEGLOSS_STATUS_INVALID_ARGUMENT);
}
