// SPDX-License-Identifier: Apache-2.0
// The matrix every loss is checked on: 1-, 2- and 3-D grids with odd extents (1, 7, 17, 33),
// batch 1 to 3, every target type, activation and reduction, contiguous and strided.
#pragma once

#include <cstdint>
#include <vector>

#include "loss_tester.h"

namespace segloss::test {

inline const std::vector<std::vector<int64_t>> kMatrixShapes = {
    {1, 3, 33}, {3, 4, 7, 33}, {2, 3, 3, 5, 7}, {1, 2, 1, 1, 1}, {2, 5, 4, 3, 17}};

// Call from a TEST_CASE: Catch2 generators (GENERATE) expand it into every combination.
void check_activation_target_reduction_matrix(segloss_loss_kind_t loss);

}  // namespace segloss::test
