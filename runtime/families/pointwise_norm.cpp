// SPDX-License-Identifier: Apache-2.0
#include "pointwise_norm.h"

#include "../../generators/common/abi.h"
#include "../src/registry.h"

namespace segloss::rt {

int normaliser_mode(const segloss_loss_params_t &p, const Problem &pb) {
    return p.reduction == SEGLOSS_REDUCTION_MEAN ? pointwise_norm(p, pb.act, pb.kind) : -1;
}

// Index maps with the softmax (or none) divide by the counted voxels' class weights
// (weight_norm=weighted, PyTorch) or their count; dense maps by the voxels (PyTorch's
// probability targets); the sigmoid by the (voxel, channel) elements. Counts are sums of the mask.
double host_normaliser(int mode, const Problem &pb, const PointwiseArgs &args, const TargetSums &sums,
                       bool per_class) {
    switch (mode) {
    case -1: return 1;
    case abi::kPwNormElements: return sums.counted * pb.C;
    case abi::kPwNormCount: return sums.counted;
    default: break;
    }
    if (!per_class) return args.alpha_pos[0] * sums.counted;  // equal weights
    double norm = 0;
    for (int64_t c = 0; c < pb.C; c++) norm += args.alpha_pos[c] * sums.per_class[c];
    return norm;
}

DeviceNormaliser::DeviceNormaliser(Call &call, const Problem &pb, const PointwiseArgs &args, int mode,
                                   bool per_class)
    : labels_(call, pb, per_class || args.inverse_frequency), scale_(1), weights_(static_cast<size_t>(pb.C)) {
    norm_v_ = HalideView::dense(&norm_, {1});
    scale_v_ = HalideView::dense(scale_.data(), {1});
    weights_v_ = HalideView::dense(weights_.data(), {static_cast<int>(pb.C)});
    HalideView alpha = HalideView::dense(const_cast<float *>(args.alpha_pos.data()), {static_cast<int>(pb.C)});
    alpha.get()->set_host_dirty();
    // Dense values are checked only on request (check_inputs, which runs the host's path).
    const int labels_checked = pb.kind != TargetKind::f32 ? 1 : 0;
    Kernel k = find_kernel(Stage::pointwise_norm, Act::identity, TargetKind::f32, call.api());
    call.run(k.name, k.as<PointwiseNormFn>(), labels_.rows(), labels_.class_rows(), alpha.get(), mode, per_class ? 1 : 0,
             args.inverse_frequency ? 1 : 0, labels_checked, norm_v_.get(), scale_v_.get(), weights_v_.get());
}

}  // namespace segloss::rt
