// SPDX-License-Identifier: Apache-2.0
// SciPy as a test oracle: Debian's python3-scipy, run through /usr/bin/python3 (the only Python
// that imports it). Tests that use it skip, with a visible WARN, where it is missing.
#pragma once

#include <array>
#include <vector>

#include "reference/distance.h"

namespace segloss::ref {

bool scipy_available();

// scipy.ndimage.distance_transform_edt(mask, sampling=spacing) as float64, x fastest; spacing is
// {sx, sy, sz}. The mask must have a zero voxel (SciPy's result is undefined otherwise).
std::vector<double> scipy_edt(const Mask &m, const std::array<double, 3> &spacing);

}  // namespace segloss::ref
