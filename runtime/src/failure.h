// SPDX-License-Identifier: Apache-2.0
// Internal error path: validation and dispatch throw a Failure; the C entry points (api.cpp)
// catch it and turn it into a status and the context's message. No exception crosses the ABI.
#pragma once

#include <sstream>
#include <string>

#include "segloss/segloss.h"

namespace segloss::rt {

struct Failure {
    segloss_status_t status;
    std::string message;
};

// fail(SEGLOSS_STATUS_INVALID_SHAPE, "logits must have 3 to 5 dimensions, got ", ndim)
template <typename... Args>
[[noreturn]] void fail(segloss_status_t status, const Args &...args) {
    std::ostringstream os;
    (os << ... << args);
    throw Failure{status, os.str()};
}

}  // namespace segloss::rt
