# SPDX-License-Identifier: Apache-2.0
# The runtime's sources, relative to runtime/: its libraries (runtime/CMakeLists.txt) and the
# sanitizer build (tests/sanitize), which compiles them again instrumented, use this one list.
set(SEGLOSS_RUNTIME_SOURCES
    src/api.cpp src/context.cpp src/losses.cpp src/problem.cpp src/registry.cpp src/tensor.cpp src/value.cpp
    src/precision.cpp src/batch_split.cpp
    families/pointwise.cpp families/region.cpp families/target_sums.cpp families/topk.cpp
    families/pointwise_args.cpp families/pointwise_norm.cpp families/region_plan.cpp families/distance.cpp
    families/boundary.cpp families/metrics.cpp
    devices/cpu.cpp devices/block_cache.cpp devices/cuda_probe.cpp devices/gpu.cpp)
