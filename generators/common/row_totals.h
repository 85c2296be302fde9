// SPDX-License-Identifier: Apache-2.0
// Sums of a kernel's per-line partial sums rows(k, y, z, n) in float64 and in a fixed order, so
// that a device repeats its bits: over y in one thread per (z, n) (`partial`), then over the
// (z, n) partials in one thread (`total`), or over z per image (`image`, when asked for). The
// device reductions of the pointwise and boundary losses (the CPU runtime adds the same lines
// in C++).
#pragma once

#include <string>

#include "Halide.h"
#include "schedules/gpu_lines.h"

namespace segloss::gen {

struct RowTotal {
    Halide::Func partial{"partial"}, total{"total"}, image{"image"};
    bool per_image;
    RowTotal(const Halide::Func &rows, Halide::Expr Y, Halide::Expr Z, Halide::Expr N, const std::string &name,
             bool per_image = false)
        : per_image(per_image) {
        using namespace Halide;
        Var k("k"), z("z"), n("n");
        RDom ry(0, Y, name + "_ry");
        partial(k, z, n) = cast<double>(0);
        partial(k, z, n) += cast<double>(rows(k, ry, z, n));
        RDom rzn(0, Z, 0, N, name + "_rzn");
        total(k) = cast<double>(0);
        total(k) += partial(k, rzn.x, rzn.y);
        RDom rz(0, Z, name + "_rz");
        image(k, n) = cast<double>(0);
        image(k, n) += partial(k, rz, n);
    }
    void schedule(const Halide::Target &t) {
        using namespace Halide;
        partial.compute_root();
        total.compute_root();
        if (per_image) image.compute_root();
        if (!schedules::is_gpu(t)) return;
        // One thread per (z, n): blocks of 64 z; the slot loop inside the thread.
        Var k = partial.args()[0], z = partial.args()[1], n = partial.args()[2], zo("zo"), zi("zi");
        for (Stage s : {Stage(partial), Stage(partial.update())}) {
            s.reorder(k, z, n).split(z, zo, zi, 64, TailStrategy::GuardWithIf).gpu_blocks(zo, n).gpu_threads(zi);
        }
        schedules::gpu_single_thread(total);
        if (per_image) schedules::gpu_single_thread(image);
    }
};

}  // namespace segloss::gen
