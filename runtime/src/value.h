// SPDX-License-Identifier: Apache-2.0
// The value output of a loss call: one scalar (mean, sum) or a map (none).
#pragma once

#include <initializer_list>
#include <vector>

#include "context.h"
#include "problem.h"

namespace segloss::rt {

// Reads the value tensor and checks it against `none_shape` (the expected shape for reduction
// none; any one-element tensor for mean and sum) and against the inputs (no overlap).
Tensor read_value(const DLTensor *value, segloss_reduction_t reduction, const std::vector<int64_t> &none_shape,
                  const std::vector<const Tensor *> &inputs);

// Writes x into a one-element float32 or float64 tensor.
void write_scalar(const Tensor &value, double x);
// Writes v[i] to element i (row-major over the tensor's shape) of a float32/float64 tensor.
void write_elements(const Tensor &value, const std::vector<double> &v);

// A device call's value, stored by a kernel (value_store) from float64 device results:
// group_loss == nullptr: the scalar total(0); else value(n, k) = group_loss(first + k, n).
void store_on_device(Call &call, const Tensor &value, halide_buffer_t *total, halide_buffer_t *group_loss, int first);

// The elements of a float32 tensor in row-major order, through its Halide view `view` (whose
// dimensions are the tensor's, innermost first); device memory is copied back (the call waits).
std::vector<float> read_back(Call &call, const Tensor &t, halide_buffer_t *view);

// Adds rows(slot, line) over the lines, in float64 in a fixed order (the kernels' partial sums).
std::vector<double> sum_lines(const std::vector<float> &rows, int slots);
// The same per image: rows(slot, y, z, n) of N images, result [n * slots + slot].
std::vector<double> sum_lines_per_image(const std::vector<float> &rows, int slots, int64_t N);

}  // namespace segloss::rt
