// SPDX-License-Identifier: Apache-2.0
// Determinism and concurrency for every loss: the same bits (value and gradient) for 1, 2 and 8
// threads, and when four threads call the same loss at once, each on its own context, on the
// same inputs (docs/api.md, "Thread safety" and "Process-wide settings").
#include <cstring>
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

// One call on its own context; the status instead of an exception (threads must not throw).
Bits call(const LossParams &p, const DLTensor &logits, const DLTensor &target) {
    Bits b;
    int64_t numel = 1;
    for (int d = 0; d < logits.ndim; d++) numel *= logits.shape[d];
    b.grad.assign(static_cast<size_t>(numel), 0.0f);
    std::vector<int64_t> one{1};
    DLTensor v{&b.value, {kDLCPU, 0}, 1, {kDLFloat, 64, 1}, one.data(), nullptr, 0};
    DLTensor g = logits;
    g.data = b.grad.data();
    g.strides = nullptr;
    segloss_context_t ctx = nullptr;
    b.status = segloss_context_create(&ctx);
    if (b.status == SEGLOSS_STATUS_OK) b.status = segloss_loss_compute(ctx, p.get(), &logits, &target, &v, &g, 1.0f);
    segloss_context_destroy(ctx);
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
#if SEGLOSS_TESTS_EMULATED
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
    REQUIRE(segloss_set_num_threads(0) == SEGLOSS_STATUS_OK);
}
