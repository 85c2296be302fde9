// SPDX-License-Identifier: Apache-2.0
// The base of every generator that reads logits and targets: their Inputs, GeneratorParams,
// contracts and estimates live here once. Derived generators declare their extra Inputs
// after these (so every kernel's signature starts logits, labels, has_ignore, ignore_index,
// loss_mask).
#pragma once

#include "Halide.h"
#include "generators/common/activations.h"
#include "generators/common/layout.h"
#include "generators/common/targets.h"

namespace segloss::gen {

template <typename T>
class LossGenerator : public Halide::Generator<T> {
public:
    template <typename U>
    using GP = Halide::GeneratorParam<U>;
    template <typename U>
    using In = Halide::GeneratorInput<U>;

    GP<ActivationKind> activation{"activation", ActivationKind::Softmax, kActivationNames};
    GP<TargetKind> target_kind{"target_kind", TargetKind::I32, kTargetKindNames};
    // 0: any class count (read from the logits); K > 0: a kernel for exactly K classes, whose
    // class loops a schedule can unroll and whose per-class terms can stay in registers
    // (schedules/cpu_classes.h). The runtime picks it when the logits have K classes.
    GP<int> classes{"classes", 0};

    // Logits, PyTorch N,C,D,H,W: Halide (x, y, z, c, n) (probabilities for activation=identity).
    In<Halide::Buffer<float, 5>> logits{"logits"};
    // Index map (x, y, z, n), int32 or uint8, or dense map (x, y, z, c, n), float32.
    In<Halide::Buffer<>> labels{"labels"};
    // Index maps: voxels labelled ignore_index take no part when has_ignore != 0.
    In<int> has_ignore{"has_ignore"};
    In<int> ignore_index{"ignore_index"};
    // Voxel weights m (x, y, z, n) in [0, 1], applied after the activation; m = 0 ignores the
    // voxel. Without a mask the runtime passes a line of ones with zero outer strides.
    In<Halide::Buffer<float, 4>> loss_mask{"loss_mask"};

protected:
    Vars v;

    Halide::Expr num_classes() { return int(classes) > 0 ? Halide::Expr(int(classes)) : logits.dim(3).extent(); }
    ActivationForward forward() {
        return activation_forward(activation, logits, num_classes(), v, this->get_target().has_gpu_feature());
    }
    Targets targets() {
        return expand_targets(labels, target_kind, num_classes(), has_ignore, ignore_index, loss_mask, v);
    }

    // Strided views are allowed; returns the condition of the dense fast path. Every buffer
    // starts at 0 and the labels span the logits' extents (the runtime guarantees both); stated,
    // so that bounds inference can prove that fused loop nests need the same line. Estimates
    // are a [2, 4, 128, 128, 128] batch (set always: autoschedulers and RunGen read them; Adams2019
    // needs one for every scalar input too).
    Halide::Expr declare_inputs() {
        allow_any_stride(logits);
        allow_any_stride(labels);
        for (int d = 0; d < 5; d++) logits.dim(d).set_min(0);
        if (int(classes) > 0) logits.dim(3).set_extent(int(classes));
        const bool dense_map = target_kind == TargetKind::F32;
        for (int d = 0; d < (dense_map ? 5 : 4); d++) {
            labels.dim(d).set_bounds(0, logits.dim(!dense_map && d == 3 ? 4 : d).extent());
        }
        logits.set_estimates({{0, 128}, {0, 128}, {0, 128}, {0, 4}, {0, 2}});
        has_ignore.set_estimate(1);
        ignore_index.set_estimate(255);
        if (target_kind == TargetKind::F32) {
            labels.set_estimates({{0, 128}, {0, 128}, {0, 128}, {0, 4}, {0, 2}});
        } else {
            labels.set_estimates({{0, 128}, {0, 128}, {0, 128}, {0, 2}});
        }
        return innermost_dense(logits) && innermost_dense(labels) && declare_voxel_input(loss_mask);
    }

    // A per-voxel input (x, y, z, n) over the logits' voxels (the mask, TopK's keys): any
    // strides; returns the condition of the dense fast path.
    template <typename Buf>
    Halide::Expr declare_voxel_input(Buf &b) {
        allow_any_stride(b);
        for (int d = 0; d < 4; d++) b.dim(d).set_bounds(0, logits.dim(d == 3 ? 4 : d).extent());
        b.set_estimates({{0, 128}, {0, 128}, {0, 128}, {0, 2}});
        return innermost_dense(b);
    }

    // States that an output is shaped like the logits along the given logits dimensions
    // (-1: a dimension of its own, starting at 0).
    template <typename Out>
    void bound_like_logits(Out &out, const std::vector<int> &logits_dims) {
        for (size_t d = 0; d < logits_dims.size(); d++) {
            if (logits_dims[d] < 0) out.dim(d).set_min(0);
            else out.dim(d).set_bounds(0, logits.dim(logits_dims[d]).extent());
        }
    }
};

}  // namespace segloss::gen
