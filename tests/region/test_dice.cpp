// SPDX-License-Identifier: Apache-2.0
// Dice kernels (region family: stats, epilogue, gradient) against the float64 reference. The
// common region options of every region loss, Dice included: test_region_losses.cpp.
#include <catch2/catch.hpp>

#include "support/loss_matrix.h"

using namespace segloss;
using namespace segloss::test;

TEST_CASE("dice matches the reference for every activation, target and reduction", "[dice]") {
    check_activation_target_reduction_matrix(SEGLOSS_LOSS_DICE);
}

TEST_CASE("dice forward only", "[dice]") {
    LossTester t(SEGLOSS_LOSS_DICE);
    t.shape({2, 4, 5, 19}).with_grad(false).strided(true);
    t.check();
}
