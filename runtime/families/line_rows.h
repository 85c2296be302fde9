// SPDX-License-Identifier: Apache-2.0
// Scratch for per-line partial sums: a dense (slot, y, z, n) buffer whose lines are the logits'.
#pragma once

#include <vector>

#include "../src/problem.h"

namespace segloss::rt {

inline HalideView line_rows_view(std::vector<float> &rows, int slots, const Problem &pb) {
    HalideView lv = pb.logits_view();
    const halide_dimension_t *d = lv.get()->dim;
    const int Y = d[1].extent, Z = d[2].extent, N = d[4].extent;
    rows.assign(static_cast<size_t>(slots) * Y * Z * N, 0.0f);
    return HalideView::per_image(rows.data(), {slots, Y, Z, N});
}

}  // namespace segloss::rt
