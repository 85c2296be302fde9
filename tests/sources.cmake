# SPDX-License-Identifier: Apache-2.0
# The unit tests' sources, relative to tests/: segloss_tests (tests/CMakeLists.txt) and its
# instrumented twin of the sanitizer build (tests/sanitize) use these lists.
# float64 references and the builder-style tester.
set(SEGLOSS_TEST_SUPPORT_SOURCES
    reference/reference.cpp reference/pointwise.cpp reference/region.cpp reference/compound.cpp
    reference/distance.cpp reference/boundary.cpp reference/metrics.cpp reference/scipy.cpp
    support/loss_tester.cpp support/loss_matrix.cpp)
set(SEGLOSS_UNIT_TEST_SOURCES
    reference/test_reference.cpp
    reference/test_distance_reference.cpp
    distance/test_distance.cpp
    distance/test_boundary_losses.cpp
    distance/test_metrics.cpp
    pointwise/test_ce.cpp
    pointwise/test_focal.cpp
    pointwise/test_topk.cpp
    region/test_dice.cpp
    region/test_region_losses.cpp
    compound/test_compound.cpp
    api/test_cross_checks.cpp
    api/test_bad_input.cpp
    api/test_loss_mask.cpp
    api/test_half_logits.cpp
    api/test_class_kernels.cpp
    api/test_concurrency.cpp
    api/test_batch_split.cpp)
