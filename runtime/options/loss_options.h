// SPDX-License-Identifier: Apache-2.0
// Loss options given as name=value strings, names and values exactly as LOSSES.md spells them:
// the CLI's `--set` and the PyTorch op's options (integrations/torch). Not part of the C ABI.
#pragma once

#include <string>
#include <utility>
#include <vector>

#include "segloss/segloss.hpp"

namespace segloss::options {

// Applies one option; throws std::runtime_error naming the option on a bad name or value.
void apply_option(LossParams &params, const std::string &name, const std::string &value);
// The same for "name=value" (the CLI's --set, the PyTorch op's options).
void apply_option(LossParams &params, const std::string &name_equals_value);

// One finite number; a comma-separated list of them ("0.2,0.8"), as float64 or float32. Each
// throws naming `name` on a bad value.
double parse_number(const std::string &name, const std::string &value);
std::vector<double> parse_numbers(const std::string &name, const std::string &value);
std::vector<float> parse_list(const std::string &name, const std::string &value);

// Pointwise losses (their reduction=none value is per voxel).
bool is_pointwise(segloss_loss_kind_t loss);

// The effective options as a JSON object (for the CLI's output).
std::string options_json(const LossParams &params);

// The shape of segloss_loss_compute's `value` for these options and logits `N, C, spatial`:
// {1} for mean and sum; for none, `N, spatial` (pointwise losses), `N, 1` (generalized Dice
// losses) or `N, C'` (the other grouped losses; C' without a left-out background), with 1 for
// N under `batch`.
std::vector<int64_t> value_shape(const LossParams &params, const std::vector<int64_t> &logits_shape);

}  // namespace segloss::options
