// SPDX-License-Identifier: Apache-2.0
// One image's label map from a .npy file or a NIfTI file (.nii, .nii.gz), for `segloss eval`.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace segloss::cli {

struct LabelVolume {
    std::vector<int64_t> shape;   // spatial, tensor order (D, H, W): a NIfTI volume is (k, j, i)
    std::vector<int64_t> labels;  // row-major over shape
    std::vector<double> spacing;  // tensor order; NIfTI: pixdim of k, j, i; .npy: empty (unknown)
    bool nifti = false;
};

// Reads integer labels (integral float values are accepted; anything else is an error) from
// a .npy array of 1 to 3 axes or a NIfTI-1/-2 volume of 1 to 3 dimensions. Throws
// std::runtime_error with a one-line message.
LabelVolume read_label_volume(const std::string &path);

}  // namespace segloss::cli
