// SPDX-License-Identifier: Apache-2.0
// NumPy .npy files (format versions 1-3, little-endian, C order), the subset the CLI needs.
#pragma once

#include <cstdint>
#include <stdexcept>
#include <string>
#include <vector>

namespace segloss::cli {

struct NpyArray {
    std::string descr;            // "<f4", "<f8", "<i4", "<i8", "|u1", "|b1"
    std::vector<int64_t> shape;
    std::vector<unsigned char> data;
    int64_t numel() const;
};

// Throws std::runtime_error with a one-line message on any problem.
NpyArray read_npy(const std::string &path);

// Writes a float32 array; to `path` + ".tmp" first, then renamed, so a failure leaves nothing.
void write_npy_f32(const std::string &path, const std::vector<int64_t> &shape, const float *data);

}  // namespace segloss::cli
