// SPDX-License-Identifier: Apache-2.0
// Half-precision logits and gradients: float16 / bfloat16 bits (uint16) to float32 and back,
// elementwise over a 5-D tensor of any strides. The loss kernels compute in float32; these run
// before (logits) and after (gradient) them. Rounding to half is to nearest, ties to even;
// NaN stays NaN (float16: always 0x7e00), overflow becomes infinity (float16), subnormals are kept.
#include "Halide.h"
#include "generators/common/layout.h"
#include "schedules/gpu_lines.h"

namespace segloss::gen {
namespace {

using namespace Halide;

class Convert : public Generator<Convert> {
public:
    GeneratorParam<bool> to_float{"to_float", true};  // half -> float32, or float32 -> half
    GeneratorParam<bool> bfloat{"bfloat", false};     // the half format: bfloat16 or float16

    Input<Buffer<void, 5>> in{"in"};    // uint16 bits (to_float) or float32
    Output<Buffer<void, 5>> out{"out"}; // float32 (to_float) or uint16 bits

    void generate() {
        Vars v;
        const Var &x = v.x, &y = v.y, &z = v.z, &c = v.c, &n = v.n;
        Expr e = in(x, y, z, c, n);
        if (to_float) {
            e = bfloat ? reinterpret(Float(32), cast(UInt(32), e) << 16) : cast(Float(32), reinterpret(Float(16), e));
        } else if (bfloat) {
            // Round to nearest even on the bits; NaN keeps a quiet-NaN pattern (rounding could
            // carry a NaN's payload into infinity).
            auto u32 = [](uint32_t k) { return Internal::make_const(UInt(32), k); };
            Expr u = reinterpret(UInt(32), e);
            Expr rounded = cast(UInt(16), (u + u32(0x7fff) + ((u >> 16) & u32(1))) >> 16);
            Expr nan = is_nonfinite(e) && (u & u32(0x7fffff)) != u32(0);
            e = select(nan, cast(UInt(16), (u >> 16) | u32(0x40)), rounded);
        } else {
            // NaN becomes the quiet NaN 0x7e00 on every target: x86 without F16C (Halide's
            // own conversion) would make it infinity, CUDA's cvt 0x7fff.
            e = select(is_nan(e), Internal::make_const(UInt(16), 0x7e00), reinterpret(UInt(16), cast(Float(16), e)));
        }
        out(x, y, z, c, n) = e;

        allow_any_stride(in);
        allow_any_stride(out);
        in.set_estimates({{0, 128}, {0, 128}, {0, 128}, {0, 4}, {0, 2}});
        out.set_estimates({{0, 128}, {0, 128}, {0, 128}, {0, 4}, {0, 2}});
        if (auto_schedule) return;
        if (schedules::is_gpu(get_target())) {
            // One thread per (x, y); the classes inside the thread (gpu_lines.h's voxel kernel).
            schedules::gpu_voxels(out, {c}, v, schedules::GpuLoops());
            return;
        }
        // Elementwise and memory-bound: rows of x in parallel tasks, vectorised when dense.
        const int vec = natural_vector_size<float>();
        Var zc("zc"), yzc("yzc");
        out.fuse(c, n, zc).fuse(z, zc, yzc).fuse(y, yzc, yzc).parallel(yzc, 8);
        out.specialize(innermost_dense(in) && innermost_dense(out)).vectorize(x, vec, TailStrategy::GuardWithIf);
    }
};

}  // namespace
}  // namespace segloss::gen

HALIDE_REGISTER_GENERATOR(segloss::gen::Convert, convert)
