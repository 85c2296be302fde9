// SPDX-License-Identifier: Apache-2.0
#include "loss_matrix.h"

#include <catch2/catch.hpp>

namespace segloss::test {

void check_activation_target_reduction_matrix(segloss_loss_kind_t loss) {
    auto shape = GENERATE(from_range(kMatrixShapes));
    auto target = GENERATE(Target::I32, Target::U8, Target::I32_CHANNEL, Target::F32, Target::I64);
    auto act = GENERATE(SEGLOSS_ACTIVATION_SOFTMAX, SEGLOSS_ACTIVATION_SIGMOID, SEGLOSS_ACTIVATION_NONE);
    auto reduction = GENERATE(SEGLOSS_REDUCTION_MEAN, SEGLOSS_REDUCTION_SUM, SEGLOSS_REDUCTION_NONE);
    auto strided = GENERATE(false, true);
    LossTester t(loss);
    t.shape(shape).target(target).strided(strided).seed(static_cast<uint32_t>(shape.size() * 31 + shape.back() + loss));
    t.params().activation(act).reduction(reduction);
    t.check();
}

}  // namespace segloss::test
