// SPDX-License-Identifier: Apache-2.0
// `--set name=value` options, names and values exactly as LOSSES.md spells them.
#pragma once

#include <string>
#include <utility>
#include <vector>

#include "segloss/segloss.hpp"

namespace segloss::cli {

// Applies one option; throws std::runtime_error naming the option on a bad name or value.
void apply_option(LossParams &params, const std::string &name, const std::string &value);

// One finite number; a comma-separated list of them ("0.2,0.8"), as float64 or float32. Each
// throws naming `name` on a bad value.
double parse_number(const std::string &name, const std::string &value);
std::vector<double> parse_numbers(const std::string &name, const std::string &value);
std::vector<float> parse_list(const std::string &name, const std::string &value);

// Pointwise losses (their reduction=none value is per voxel).
bool is_pointwise(segloss_loss_kind_t loss);

// The effective options as a JSON object (for the CLI's output).
std::string options_json(const LossParams &params);

}  // namespace segloss::cli
