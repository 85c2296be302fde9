// SPDX-License-Identifier: Apache-2.0
// The region stages as PyTorch operators, for batch statistics summed across processes
// (python/segloss/torch.py's process_group; docs/torch.md, "Distributed training"):
//
//   segloss::region_stats(Tensor logits, Tensor target, str loss, str[] options,
//                         Tensor? loss_mask=None, int stream=0) -> Tensor
//       float64 N, C, 13: the group sums of segloss_region_stats (every slot is a sum, so the
//       caller may sum them over images and processes)
//   segloss::region_epilogue(Tensor stats, str loss, str[] options, int stream=0) -> (Tensor, Tensor)
//       the float64 value (one element; the map for reduction=none) and float32 coef N', C, 7
//       for an upstream gradient of 1, from stats N', C, 13 (N' = 1 for summed batch stats)
//   segloss::region_grad(Tensor logits, Tensor target, Tensor coef, str loss, str[] options,
//                        Tensor? loss_mask=None, int stream=0) -> Tensor
//       d(loss)/d(logits) from coef N, C, 7 (the logits' N: broadcast a batch's coefficients)
//
// Region losses only (compound losses run as one call: their epilogue needs the target).
#include <torch/library.h>

#include <string>
#include <tuple>
#include <vector>

#include "call.h"
#include "options/loss_options.h"

namespace segloss::torch_op {
namespace {

at::Tensor region_stats(const at::Tensor &logits, const at::Tensor &target, const std::string &loss,
                        const std::vector<std::string> &options, const c10::optional<at::Tensor> &loss_mask,
                        int64_t stream) {
    LossParams params = make_params(loss, options);
    BoundMask mask(params, loss_mask);
    TORCH_CHECK(logits.dim() >= 2, "segloss: logits must be N, C, spatial");
    at::Tensor stats = at::empty({logits.size(0), logits.size(1), SEGLOSS_REGION_NUM_STATS},
                                 logits.options().dtype(at::kDouble));
    DLTensor lv = dl_view(logits, "logits"), tv = dl_view(target, "target"), sv = dl_view(stats, "stats");
    Context &ctx = context_for(logits, stream);
    run(params, [&] { ctx.region_stats(params, lv, tv, sv); });
    return stats;
}

std::tuple<at::Tensor, at::Tensor> region_epilogue(const at::Tensor &stats, const std::string &loss,
                                                   const std::vector<std::string> &options, int64_t stream) {
    LossParams params = make_params(loss, options);
    TORCH_CHECK(stats.dim() == 3 && stats.size(2) == SEGLOSS_REGION_NUM_STATS, "segloss: stats must be N, C, ",
                SEGLOSS_REGION_NUM_STATS);
    const bool none = params.get()->reduction == SEGLOSS_REDUCTION_NONE;
    at::Tensor value = at::empty(options::value_shape(params, {stats.size(0), stats.size(1)}),
                                 stats.options().dtype(none ? at::kFloat : at::kDouble));
    at::Tensor coef = at::empty({stats.size(0), stats.size(1), SEGLOSS_REGION_NUM_COEFS},
                                stats.options().dtype(at::kFloat));
    DLTensor sv = dl_view(stats, "stats"), vv = dl_view(value, "value"), cv = dl_view(coef, "coef");
    Context &ctx = context_for(stats, stream);
    run(params, [&] { ctx.region_epilogue(params, sv, vv, &cv); });
    return {value, coef};
}

at::Tensor region_grad(const at::Tensor &logits, const at::Tensor &target, const at::Tensor &coef,
                       const std::string &loss, const std::vector<std::string> &options,
                       const c10::optional<at::Tensor> &loss_mask, int64_t stream) {
    LossParams params = make_params(loss, options);
    BoundMask mask(params, loss_mask);
    at::Tensor grad = at::empty_like(logits, at::MemoryFormat::Preserve);
    DLTensor lv = dl_view(logits, "logits"), tv = dl_view(target, "target"), cv = dl_view(coef, "coef");
    DLTensor gv = dl_view(grad, "grad");
    Context &ctx = context_for(logits, stream);
    run(params, [&] { ctx.region_grad(params, lv, tv, cv, gv); });
    return grad;
}

}  // namespace
}  // namespace segloss::torch_op

TORCH_LIBRARY_FRAGMENT(segloss, m) {
    m.def("region_stats(Tensor logits, Tensor target, str loss, str[] options, Tensor? loss_mask=None, "
          "int stream=0) -> Tensor");
    m.def("region_epilogue(Tensor stats, str loss, str[] options, int stream=0) -> (Tensor, Tensor)");
    m.def("region_grad(Tensor logits, Tensor target, Tensor coef, str loss, str[] options, Tensor? loss_mask=None, "
          "int stream=0) -> Tensor");
}

TORCH_LIBRARY_IMPL(segloss, CPU, m) {
    m.impl("region_stats", &segloss::torch_op::region_stats);
    m.impl("region_epilogue", &segloss::torch_op::region_epilogue);
    m.impl("region_grad", &segloss::torch_op::region_grad);
}

TORCH_LIBRARY_IMPL(segloss, CUDA, m) {
    m.impl("region_stats", &segloss::torch_op::region_stats);
    m.impl("region_epilogue", &segloss::torch_op::region_epilogue);
    m.impl("region_grad", &segloss::torch_op::region_grad);
}
