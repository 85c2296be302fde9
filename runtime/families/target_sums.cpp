// SPDX-License-Identifier: Apache-2.0
#include "target_sums.h"

#include "../../generators/common/abi.h"
#include "../src/failure.h"
#include "../src/registry.h"
#include "../src/value.h"
#include "line_rows.h"

namespace segloss::rt {

void check_mask(double bad) {
    if (bad > 0) {
        fail(SEGLOSS_STATUS_INVALID_ARGUMENT, static_cast<int64_t>(bad), " loss_mask values are outside [0, 1] or NaN");
    }
}

LabelRows::LabelRows(Call &call, const Problem &pb, bool class_sums) {
    rows_v_ = line_rows_view(rows_, abi::kNumLabelSlots, pb);
    class_v_ = line_rows_view(class_rows_, static_cast<int>(pb.C), pb);
    HalideView labels = pb.target_view(), mask = pb.mask_view();
    Kernel k = find_kernel(Stage::label_stats, pb.act, pb.kind, call.api());
    call.run(k.name, k.as<LabelStatsFn>(), labels.get(), int(pb.C), pb.has_ignore, pb.ignore_index, mask.get(),
             class_sums ? 1 : 0, rows_v_.get(), class_v_.get());
}

TargetSums target_sums(Call &call, const Problem &pb, bool per_class) {
    LabelRows out(call, pb, per_class);
    call.to_host(out.rows());  // a device call waits for its counts here
    if (per_class) call.to_host(out.class_rows());
    const std::vector<float> &rows = out.host_rows(), &class_rows = out.host_class_rows();
    std::vector<double> s = sum_lines(rows, abi::kNumLabelSlots);
    check_mask(s[abi::kBadMask]);
    // Dense values are checked only on request (check_inputs); out-of-range labels always.
    const bool checked = pb.kind != TargetKind::f32 || pb.params->check_inputs;
    if (checked && s[abi::kInvalid] > 0) {
        if (pb.kind == TargetKind::f32) {
            fail(SEGLOSS_STATUS_INVALID_LABEL, static_cast<int64_t>(s[abi::kInvalid]),
                 " dense target values are outside [0, 1] (check_inputs)");
        }
        fail(SEGLOSS_STATUS_INVALID_LABEL, static_cast<int64_t>(s[abi::kInvalid]), " target labels are outside [0, ",
             pb.C, ")", pb.has_ignore ? " and are not ignore_index" : "");
    }
    const std::vector<double> images = sum_lines_per_image(rows, abi::kNumLabelSlots, pb.N);
    std::vector<double> per_image(static_cast<size_t>(pb.N));
    for (size_t n = 0; n < per_image.size(); n++) per_image[n] = images[n * abi::kNumLabelSlots + abi::kCounted];
    return {s[abi::kCounted], sum_lines(class_rows, static_cast<int>(pb.C)), per_image};
}

}  // namespace segloss::rt
