// SPDX-License-Identifier: Apache-2.0
// The state of TopK's device select (generators/pointwise/topk_select_generator.cpp), an int32
// buffer that its kernels pass along on the device, and the runtime sizes. Kept apart from
// abi.h so that changing it regenerates the select kernels only.
#pragma once

namespace segloss::abi {

enum TopkState {
    kTopkHi = 0,          // the top 16 bits of the cut (its bin in the first histogram)
    kTopkSelected,        // K: the voxels selected
    kTopkAbove,           // the candidates above the cut's bin so far
    kTopkCandidates,      // M: the keys >= 0 (not NaN)
    kTopkNonfinite,       // the NaN keys (non-finite logits)
    kTopkCutBits,         // the cut value's bits (selected: key > cut, or key == cut and index < cut_index)
    kTopkTies,            // how many keys equal to the cut are selected
    kTopkCutIndex,        // the exclusive linear index of the last selected tie; -1 until found
    kTopkStateSize
};

// Histogram bins: 65,536 of 16 bits, then one slot for the NaN keys.
constexpr int kTopkBins = 1 << 16;
constexpr int kTopkHistSize = kTopkBins + 1;

}  // namespace segloss::abi
