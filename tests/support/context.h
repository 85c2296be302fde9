// SPDX-License-Identifier: Apache-2.0
// A segloss context for one test case (created, checked, destroyed).
#pragma once

#include <catch2/catch.hpp>

#include "segloss/segloss.h"

namespace segloss::test {

struct Ctx {
    segloss_context_t ctx = nullptr;
    Ctx() { REQUIRE(segloss_context_create(&ctx) == SEGLOSS_STATUS_OK); }
    ~Ctx() { segloss_context_destroy(ctx); }
    Ctx(const Ctx &) = delete;
    Ctx &operator=(const Ctx &) = delete;
};

}  // namespace segloss::test
