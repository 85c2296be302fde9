// SPDX-License-Identifier: Apache-2.0
// Validation of a loss call, once and independent of the device: params, logits, target.
#pragma once

#include <memory>
#include <vector>

#include "segloss/segloss.h"
#include "tensor.h"

enum class Scratch;  // context.h

namespace segloss::rt {

class Call;

enum class Act { softmax, sigmoid, identity };
enum class TargetKind { i32, u8, f32 };
// The logits' (and a gradient's) floating-point format; the kernels compute in float32.
enum class Precision { f32, f16, bf16 };

struct Problem {
    const segloss_loss_params_t *params = nullptr;
    Tensor logits, target;  // the caller's tensors
    // What the kernels read as the logits: the caller's float32 tensor, or a float32 copy of
    // half-precision logits (made by prepare_logits, precision.h).
    Precision precision = Precision::f32;
    Tensor kernel_logits;
    // What the kernels read as the target: the caller's, or an int32 copy of int64 labels.
    Tensor kernel_target;
    std::shared_ptr<std::vector<int32_t>> narrowed;
    Act act = Act::softmax;
    TargetKind kind = TargetKind::i32;
    int64_t N = 0, C = 0;
    int spatial_rank = 0;
    int64_t voxels = 0;              // N * spatial
    std::vector<float> weight;       // C values (ones when unweighted)
    int has_ignore = 0;
    int ignore_index = 0;
    // The caller's loss_mask (ndim 0: none), and what the kernels read: it, or a float32 copy of
    // a uint8/bool mask.
    Tensor mask, kernel_mask;
    std::shared_ptr<std::vector<float>> mask_copy;
    // One x line of ones and one of zeros: the mask of calls without one, the keys of calls
    // without a selection (broadcast over y, z, n with zero strides).
    std::shared_ptr<std::vector<float>> ones, zeros;
    // On a device call, the same lines in device memory (put_lines_on_device), as N,spatial
    // tensors whose strides are zero but along x (ndim 0: not on a device). Halide would copy a
    // zero-stride host line to the device one x line at a time, on every kernel that reads it.
    Tensor ones_line, zeros_line;

    // Halide views: logits (x, y, z, c, n); target (x, y, z, n) or (x, y, z, c, n).
    HalideView logits_view() const;
    HalideView target_view() const;
    // Halide extents (x, y, z, n) of the voxels (checked to fit 32 bits by make_problem).
    std::vector<int> voxel_extents() const;
    // Halide view (x, y, z, n) of the mask: the caller's, or the line of ones.
    HalideView mask_view() const;
    // The line of zeros over (x, y, z, n).
    HalideView zero_keys_view() const;
    // Halide axes of a tensor shaped like the logits (grad).
    std::vector<int> logits_axes() const;
    // Halide axes (x, y, z, n) of a tensor shaped N,spatial (a per-voxel map).
    std::vector<int> voxel_axes(int offset) const;
};

// Copies pb's lines of ones and zeros to the device of a device call (Problem::ones_line).
void put_lines_on_device(Call &call, Problem &pb);

// Halide axes (x, y, z) of `rank` spatial tensor axes that start at tensor axis `first` (the last
// one is x); -1 for the missing ones.
std::vector<int> spatial_axes(int first, int rank);

// Checks the params struct itself (size, enum ranges, numeric options).
void check_params(const segloss_loss_params_t *p);

// The class weights (C values, all ones when params has none), checked: length C, finite, >= 0.
std::vector<float> read_weights(const segloss_loss_params_t &p, int64_t C);

// Checks logits and target against each other and against the params; fails with the
// documented status on the first problem found. allow_device: the tensors may be on a GPU
// (all on the same one), for the callers that run device calls.
Problem make_problem(const segloss_loss_params_t *p, const DLTensor *logits, const DLTensor *target,
                     bool allow_device = false);

// The precision of a float32/float16/bfloat16 tensor (fails with UNSUPPORTED otherwise).
Precision precision_of(const Tensor &t);

// int64 index maps (PyTorch's label dtype) as a compact int32 copy held by `storage`, one pass
// on the host. A label beyond int32 cannot be a class: it becomes a value that is neither a
// class nor ignore_index, so that the kernels report it as an invalid label.
Tensor narrow_int64_labels(const Tensor &t, bool has_ignore, int64_t ignore_index,
                           std::shared_ptr<std::vector<int32_t>> &storage);

// A compact row-major Tensor of t's shape over a host copy at `data` of type dt.
Tensor compact_copy(const Tensor &t, void *data, DLDataType dt);

// A compact float32 tensor shaped like t for the kernels: the context's host scratch
// `which`, or when t is on a device, device scratch there (given back when the call ends).
Tensor float_scratch(Call &call, const Tensor &t, Scratch which);

// Every input tensor of the call (logits, target, loss_mask): outputs must not overlap them.
std::vector<const Tensor *> inputs_of(const Problem &pb);

// Checks that an optional gradient tensor has the logits' shape, is float32, float16 or
// bfloat16, is on the logits' device, and overlaps nothing.
Tensor check_grad(const Problem &pb, const DLTensor *grad);

}  // namespace segloss::rt
