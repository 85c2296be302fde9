// SPDX-License-Identifier: Apache-2.0
// segloss's PyTorch operators, loaded with torch.ops.load_library (python/segloss/torch.py):
//
//   segloss::loss(Tensor logits, Tensor target, str loss, str[] options, Tensor? loss_mask=None,
//                 int stream=0) -> Tensor
//       The loss of LOSSES.md named `loss`, options as "name=value" strings (LOSSES.md's names,
//       runtime/options), differentiable w.r.t. the logits through the Autograd kernel below.
//       Mean and sum give a 0-dim float32 tensor; reduction=none the map (no gradient).
//   segloss::loss_and_grad(..., bool with_grad, int stream=0) -> (Tensor value, Tensor grad)
//       The kernel call itself, CPU and CUDA: the value (float64, as segloss_loss_compute
//       writes it) and, with with_grad, d(value)/d(logits) in the logits' dtype (else empty).
//   segloss::check_options(str loss, str[] options) -> ()
//       Throws on an unknown loss, option or value (the modules call it when constructed).
//   segloss::loss_names() -> str[]
//       Every loss's name (the Python module makes one nn.Module per name).
//
// Tensors pass as views (tensor_view.h): no copies, any strides. `stream` is the CUDA stream
// (torch.cuda.current_stream().cuda_stream) that the call enqueues on when the tensors are on
// a GPU; Debian's libtorch has no CUDA, so the Python side passes it and this file needs no
// CUDA header. segloss is deterministic (bitwise for any thread count), so the operators
// never alert under torch.use_deterministic_algorithms(True).
#include <torch/autograd.h>
#include <torch/library.h>

#include <string>
#include <tuple>
#include <vector>

#include "call.h"
#include "options/loss_options.h"

namespace segloss::torch_op {
namespace {

bool is_none(const LossParams &params) { return params.get()->reduction == SEGLOSS_REDUCTION_NONE; }

// The gradient's buffer. PyTorch's CPU allocator takes large blocks from fresh pages, whose
// faults cost about as much as the kernel's pass over them (docs/torch.md); so on the CPU the
// thread keeps its last gradient and hands it out again once nothing else holds it (neither
// the tensor nor its storage: the graph that used it is gone), for logits of the same size,
// dtype and strides. One gradient per thread stays allocated between calls.
at::Tensor gradient_buffer(const at::Tensor &logits) {
    thread_local at::Tensor last;
    const bool cacheable = logits.is_cpu() && logits.is_non_overlapping_and_dense();
    if (cacheable && last.defined() && last.use_count() == 1 && last.storage().use_count() == 1 &&
        last.scalar_type() == logits.scalar_type() && last.sizes() == logits.sizes() &&
        last.strides() == logits.strides()) {
        return last;
    }
    at::Tensor grad = at::empty_like(logits, at::MemoryFormat::Preserve);
    last = cacheable ? grad : at::Tensor();
    return grad;
}

// The kernel call: the value (float64 for mean and sum, the float32 map for none) and, with
// with_grad, d(value)/d(logits) in the logits' dtype and memory format.
std::tuple<at::Tensor, at::Tensor> compute(LossParams &params, const at::Tensor &logits, const at::Tensor &target,
                                           const c10::optional<at::Tensor> &loss_mask, bool with_grad,
                                           int64_t stream) {
    TORCH_CHECK(!(is_none(params) && with_grad), "segloss: reduction=none has no fused gradient (use mean or sum, "
                                                 "and loss_mask for voxel weights)");
    BoundMask mask(params, loss_mask);
    at::Tensor value = at::empty(options::value_shape(params, logits.sizes().vec()),
                                 logits.options().dtype(is_none(params) ? at::kFloat : at::kDouble));
    at::Tensor grad = with_grad ? gradient_buffer(logits) : at::Tensor();
    DLTensor lv = dl_view(logits, "logits"), tv = dl_view(target, "target"), vv = dl_view(value, "value");
    DLTensor gv = with_grad ? dl_view(grad, "grad") : DLTensor{};

    Context &ctx = context_for(logits, stream);
    run(params, [&] { ctx.compute(params, lv, tv, vv, with_grad ? &gv : nullptr); });
    return {value, grad};
}

std::tuple<at::Tensor, at::Tensor> loss_and_grad(const at::Tensor &logits, const at::Tensor &target,
                                                 const std::string &loss, const std::vector<std::string> &options,
                                                 const c10::optional<at::Tensor> &loss_mask, bool with_grad,
                                                 int64_t stream) {
    LossParams params = make_params(loss, options);
    return compute(params, logits, target, loss_mask, with_grad, stream);
}

// The operator's result: mean and sum as a 0-dim float32 tensor (PyTorch's losses' form), the
// reduction=none map as it is.
at::Tensor as_result(const at::Tensor &value) {
    return value.scalar_type() == at::kDouble ? value.reshape({}).to(at::kFloat) : value;
}

// d(loss)/d(logits) is computed with the value (the kernels fuse them) and scaled by the
// upstream gradient in backward. reduction=none has no gradient: its backward throws.
class LossFunction : public torch::autograd::Function<LossFunction> {
public:
    static at::Tensor forward(torch::autograd::AutogradContext *ctx, const at::Tensor &logits, const at::Tensor &target,
                              const std::string &loss, const std::vector<std::string> &options,
                              const c10::optional<at::Tensor> &loss_mask, int64_t stream, bool needs_grad) {
        LossParams params = make_params(loss, options);
        auto [value, grad] = compute(params, logits, target, loss_mask, needs_grad && !is_none(params), stream);
        ctx->save_for_backward({grad});
        return as_result(value);
    }

    static torch::autograd::variable_list backward(torch::autograd::AutogradContext *ctx,
                                                   torch::autograd::variable_list grad_outputs) {
        const at::Tensor grad = ctx->get_saved_variables()[0];
        TORCH_CHECK(grad.defined(), "segloss: reduction=none has no fused gradient (use mean or sum, and loss_mask "
                                    "for voxel weights)");
        // The usual upstream gradient, loss.backward()'s 1 on the CPU, costs no pass over the
        // gradient. (On a GPU, reading it would wait for the stream: multiply there.)
        const at::Tensor &up = grad_outputs[0];
        const bool one = up.is_cpu() && up.numel() == 1 && up.item<double>() == 1.0;
        return {one ? grad : grad * up.to(grad.scalar_type()), at::Tensor(), at::Tensor(), at::Tensor(), at::Tensor(),
                at::Tensor(), at::Tensor()};
    }
};

at::Tensor loss_autograd(const at::Tensor &logits, const at::Tensor &target, const std::string &loss,
                         const std::vector<std::string> &options, const c10::optional<at::Tensor> &loss_mask,
                         int64_t stream) {
    // Whether the logits' gradient is wanted, asked here: inside forward the context knows it
    // only when some input requires a gradient.
    const bool needs_grad = torch::autograd::GradMode::is_enabled() && logits.requires_grad();
    return LossFunction::apply(logits, target, loss, options, loss_mask, stream, needs_grad);
}

// Below autograd (inference mode, or a caller that skips it): the value only.
at::Tensor loss_value(const at::Tensor &logits, const at::Tensor &target, const std::string &loss,
                      const std::vector<std::string> &options, const c10::optional<at::Tensor> &loss_mask,
                      int64_t stream) {
    return as_result(std::get<0>(loss_and_grad(logits, target, loss, options, loss_mask, false, stream)));
}

void check_options(const std::string &loss, const std::vector<std::string> &options) { make_params(loss, options); }

// Every loss's LOSSES.md name, in the C ABI's order (its values are contiguous from 0).
std::vector<std::string> loss_names() {
    std::vector<std::string> names;
    for (int k = 0;; k++) {
        const std::string name = segloss_loss_name(static_cast<segloss_loss_kind_t>(k));
        if (name == "unknown") return names;
        names.push_back(name);
    }
}

}  // namespace
}  // namespace segloss::torch_op

TORCH_LIBRARY(segloss, m) {
    m.def("loss(Tensor logits, Tensor target, str loss, str[] options, Tensor? loss_mask=None, int stream=0) -> Tensor");
    m.def("loss_and_grad(Tensor logits, Tensor target, str loss, str[] options, Tensor? loss_mask=None, "
          "bool with_grad=True, int stream=0) -> (Tensor, Tensor)");
    m.def("check_options(str loss, str[] options) -> ()", &segloss::torch_op::check_options);
    m.def("loss_names() -> str[]", &segloss::torch_op::loss_names);
}

TORCH_LIBRARY_IMPL(segloss, CPU, m) {
    m.impl("loss", &segloss::torch_op::loss_value);
    m.impl("loss_and_grad", &segloss::torch_op::loss_and_grad);
}

TORCH_LIBRARY_IMPL(segloss, CUDA, m) {
    m.impl("loss", &segloss::torch_op::loss_value);
    m.impl("loss_and_grad", &segloss::torch_op::loss_and_grad);
}

TORCH_LIBRARY_IMPL(segloss, Autograd, m) { m.impl("loss", &segloss::torch_op::loss_autograd); }
