// SPDX-License-Identifier: Apache-2.0
// `segloss eval --pred P --target T [--metrics ...] [--tolerance MM] [--spacing ...]`.
#pragma once

namespace segloss::cli {

// Prints the metrics as JSON; throws std::runtime_error with a one-line message.
int run_eval(int argc, char **argv);

}  // namespace segloss::cli
