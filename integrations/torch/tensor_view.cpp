// SPDX-License-Identifier: Apache-2.0
#include "tensor_view.h"

namespace segloss::torch_op {
namespace {

DLDataType dl_dtype(at::ScalarType s, const char *what) {
    switch (s) {
        case at::kFloat: return {kDLFloat, 32, 1};
        case at::kDouble: return {kDLFloat, 64, 1};
        case at::kHalf: return {kDLFloat, 16, 1};
        case at::kBFloat16: return {kDLBfloat, 16, 1};
        case at::kInt: return {kDLInt, 32, 1};
        case at::kLong: return {kDLInt, 64, 1};
        case at::kByte: return {kDLUInt, 8, 1};
        case at::kBool: return {6 /* kDLBool, DLPack >= 0.8; Debian 12 has 0.6 */, 8, 1};
        default: TORCH_CHECK(false, "segloss: ", what, " has dtype ", s, ", which segloss does not take");
    }
}

}  // namespace

DLTensor dl_view(const at::Tensor &t, const char *what) {
    TORCH_CHECK(t.defined(), "segloss: ", what, " is an undefined tensor");
    TORCH_CHECK(t.layout() == at::kStrided, "segloss: ", what, " must be a strided (dense) tensor");
    TORCH_CHECK(t.device().is_cpu() || t.device().is_cuda(), "segloss: ", what, " is on ", t.device(),
                "; segloss runs on the CPU and on CUDA");
    DLTensor v{};
    v.data = t.data_ptr();  // includes the storage offset
    v.device = t.device().is_cuda() ? DLDevice{kDLCUDA, t.device().index()} : DLDevice{kDLCPU, 0};
    v.ndim = static_cast<int32_t>(t.dim());
    v.dtype = dl_dtype(t.scalar_type(), what);
    v.shape = const_cast<int64_t *>(t.sizes().data());
    v.strides = const_cast<int64_t *>(t.strides().data());
    v.byte_offset = 0;
    return v;
}

}  // namespace segloss::torch_op
