// SPDX-License-Identifier: Apache-2.0
#include "value.h"

#include "failure.h"
#include "registry.h"

namespace segloss::rt {

Tensor read_value(const DLTensor *value, segloss_reduction_t reduction, const std::vector<int64_t> &none_shape,
                  const std::vector<const Tensor *> &inputs) {
    Tensor v = read_tensor(value, "value", true);
    if (!inputs.empty()) require_same_device(v, *inputs[0]);
    if (!is_dtype(v, kDLFloat, 32) && !is_dtype(v, kDLFloat, 64)) {
        fail(SEGLOSS_STATUS_UNSUPPORTED, "value must be float32 or float64, got ", dtype_name(v.dtype));
    }
    if (reduction == SEGLOSS_REDUCTION_NONE) {
        bool same = v.ndim == static_cast<int>(none_shape.size());
        for (int i = 0; same && i < v.ndim; i++) same = v.shape[i] == none_shape[i];
        if (!same) {
            std::string want;
            for (int64_t e : none_shape) want += (want.empty() ? "" : ",") + std::to_string(e);
            fail(SEGLOSS_STATUS_INVALID_SHAPE, "value of reduction=none must have shape [", want, "]");
        }
    } else if (v.numel != 1) {
        fail(SEGLOSS_STATUS_INVALID_SHAPE, "value of reduction=mean/sum must have one element, got ", v.numel);
    }
    require_distinct_elements(v);
    for (const Tensor *t : inputs) require_disjoint(v, *t);
    return v;
}

void write_scalar(const Tensor &value, double x) { write_elements(value, {x}); }

void store_on_device(Call &call, const Tensor &value, halide_buffer_t *total, halide_buffer_t *group_loss, int first) {
    const Stage stage = value.dtype.bits == 64 ? Stage::value_store_f64 : Stage::value_store_f32;
    Kernel k = find_kernel(stage, Act::identity, TargetKind::f32, call.api());
    const bool per_group = group_loss != nullptr;
    double unused = 0;
    HalideView none = HalideView::dense(&unused, {1, 1});
    none.get()->set_host_dirty();
    HalideView out(value, per_group ? std::vector<int>{1, 0} : std::vector<int>{-1, -1});
    call.run(k.name, k.as<ValueStoreFn>(), total, per_group ? group_loss : none.get(), first, per_group ? 1 : 0,
             out.get());
}

std::vector<float> read_back(Call &call, const Tensor &t, halide_buffer_t *view) {
    std::vector<float> out(static_cast<size_t>(t.numel));
    if (!t.on_device()) {
        const float *data = reinterpret_cast<const float *>(t.data);
        for (int64_t i = 0; i < t.numel; i++) out[i] = data[element_offset(t, i)];
        return out;
    }
    std::vector<int> extents;
    for (int d = 0; d < view->dimensions; d++) extents.push_back(view->dim[d].extent);
    HalideView host = HalideView::dense(out.data(), extents);
    call.copy_to_host(view, host.get());
    return out;
}

void write_elements(const Tensor &value, const std::vector<double> &v) {
    for (size_t i = 0; i < v.size(); i++) {
        const int64_t offset = element_offset(value, static_cast<int64_t>(i));
        if (value.dtype.bits == 64) {
            reinterpret_cast<double *>(value.data)[offset] = v[i];
        } else {
            reinterpret_cast<float *>(value.data)[offset] = static_cast<float>(v[i]);
        }
    }
}

// Lines outer, slots inner: each slot's additions in the lines' order (the fixed order), with
// no division per element (the modulo version was ~5% of a CE value call's perf samples at
// 2x4x128^3, 2 threads: the runtime's sums run on one thread after the kernel).
static void add_lines(const float *rows, size_t lines, int slots, double *total) {
    for (size_t l = 0; l < lines; l++, rows += slots) {
        for (int s = 0; s < slots; s++) total[s] += rows[s];
    }
}

std::vector<double> sum_lines(const std::vector<float> &rows, int slots) {
    std::vector<double> total(slots, 0.0);
    add_lines(rows.data(), rows.size() / static_cast<size_t>(slots), slots, total.data());
    return total;
}

std::vector<double> sum_lines_per_image(const std::vector<float> &rows, int slots, int64_t N) {
    std::vector<double> total(static_cast<size_t>(N * slots), 0.0);
    const size_t per_image = rows.size() / static_cast<size_t>(N);  // an image's lines are contiguous
    for (int64_t n = 0; n < N; n++) {
        add_lines(rows.data() + static_cast<size_t>(n) * per_image, per_image / static_cast<size_t>(slots), slots,
                  total.data() + n * slots);
    }
    return total;
}

}  // namespace segloss::rt
