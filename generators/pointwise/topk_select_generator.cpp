// SPDX-License-Identifier: Apache-2.0
// TopK's cut on a device, so that a device call never waits for the host (the CPU runtime
// finds the same cut in C++: runtime/families/topk.cpp, find_topk_cut). The same radix select
// over the keys' bits (non-negative floats order as their bits do), in four kernels that pass
// an int32 state along on the device (generators/common/topk_state.h):
//  topk_hist  a histogram of 65,536 bins of the keys' top 16 bits (and the NaN keys), or of
//             the low 16 bits of the keys in the cut's top bin: integer counts, added with
//             atomics on a GPU (exact in any order, so deterministic)
//  topk_cut   walks the bins from the top to the bin that holds the K-th largest key (K =
//             max(1, floor(M k / 100)) of the M candidates), as the CPU walks them: by groups of
//             256 bins, then inside the group (a single thread walking 65,536 bins would take
//             tens of ms)
//  topk_tie   the linear index of the last selected key equal to the cut (ties go to the
//             first voxels): line counts, plane counts, then walks of planes, lines and voxels
//  topk_mark  marks the selected voxels 1 and the others 0, so that the passes select them
//             with the scalar cut 0.5 (no pass changes), and writes what pointwise_norm writes:
//             the mean's normaliser (K, or 1; NaN for a NaN key or a bad label) and the
//             gradient's 1 / K.
#include <functional>
#include <limits>
#include <string>

#include "Halide.h"
#include "generators/common/layout.h"
#include "generators/common/selection.h"
#include "generators/common/topk_state.h"
#include "schedules/gpu_lines.h"

namespace segloss::gen {
namespace {

using namespace Halide;
using namespace segloss::abi;

Expr u32(uint32_t v) { return Internal::make_const(UInt(32), uint64_t(v)); }

// The bits of a key, -0 as +0 (the passes compare them equal, so they share a bin).
Expr key_bits(Expr key) {
    Expr b = reinterpret(UInt(32), key);
    return select(b == u32(0x80000000u), u32(0), b);
}

Expr is_nan_bits(Expr b) { return (b & u32(0x7fffffffu)) > u32(0x7f800000u); }

// Walks count(at(0)), count(at(1)), ... for `steps` steps, as the CPU's bin_of_cut: adds each
// count to `above` while above + count < wanted; stops at the first position that reaches it, or
// keeps `fallback`. Returns (above, position, done) of a one-point Func, for a single GPU thread.
// (The steps are parameters or constants: an RDom's extent cannot depend on computed values.)
Func walk(const std::string &name, const std::function<Expr(Expr)> &count, const std::function<Expr(Expr)> &at,
          Expr steps, Expr fallback, Expr above0, Expr wanted) {
    Var i("i");
    Func w(name);
    w(i) = {above0, fallback, 0};
    RDom r(0, steps, name + "_r");
    Expr a = w(i)[0], pos = w(i)[1], done = w(i)[2];
    Expr reach = done == 0 && a + count(at(r)) >= wanted;
    w(i) = {select(done != 0 || reach, a, a + count(at(r))), select(reach, at(r), pos), select(reach, 1, done)};
    return w;
}

// From count(top - 1) down to count(top - 255), else top - 256 (the CPU walks the bins down).
Func walk_down(const std::string &name, const std::function<Expr(Expr)> &count, Expr top, Expr above0, Expr K) {
    return walk(name, count, [top](Expr r) { return top - 1 - r; }, 255, top - 256, above0, K);
}

// From count(0) up to count(extent - 1) (ties go to the lowest linear indices).
Func walk_up(const std::string &name, const std::function<Expr(Expr)> &count, Expr extent, Expr above0, Expr wanted) {
    return walk(name, count, [](Expr r) { return r; }, extent, 0, above0, wanted);
}

class TopkHist : public Generator<TopkHist> {
public:
    Input<Buffer<float, 4>> keys{"keys"};      // (x, y, z, n): >= 0 candidates, -1 marks, NaN
    Input<Buffer<int32_t, 1>> state{"state"};  // level 1: the cut's top bin (kTopkHi)
    Input<int> level{"level"};                 // 0: top 16 bits and the NaN keys; 1: low 16 bits of bin hi
    Output<Buffer<int32_t, 1>> hist{"hist"};   // kTopkHistSize

    void generate() {
        Var i("i"), x("x"), l("l");
        Expr X = keys.dim(0).extent(), Y = keys.dim(1).extent(), Z = keys.dim(2).extent(), N = keys.dim(3).extent();
        // The bin a key counts in (-1: not counted), over (x, line of x). (n clamped: a GPU thread
        // block rounds the lines up, and bounds inference sees that.)
        Expr b = key_bits(keys(x, l % Y, (l / Y) % Z, min(l / (Y * Z), N - 1)));
        Expr nan = is_nan_bits(b);
        Expr candidate = (b >> 31) == u32(0) && !nan;
        Expr hi = cast<uint32_t>(max(state(kTopkHi), 0));
        Expr top_bin = select(nan, kTopkBins, candidate, cast<int>(b >> 16), -1);
        Expr low_bin = select(candidate && (b >> 16) == hi, cast<int>(b & u32(0xffffu)), -1);
        Func slot("slot");
        slot(x, l) = select(level == 0, top_bin, low_bin);
        RDom r(0, X, 0, Y * Z * N, "r");
        r.where(slot(r.x, r.y) >= 0);
        hist(i) = 0;
        hist(clamp(slot(r.x, r.y), 0, kTopkBins)) += 1;

        keys.set_estimates({{0, 128}, {0, 128}, {0, 128}, {0, 2}});
        state.set_estimates({{0, kTopkStateSize}});
        level.set_estimate(0);
        hist.dim(0).set_bounds(0, kTopkHistSize);
        hist.set_estimates({{0, kTopkHistSize}});
        if (auto_schedule || !schedules::is_gpu(get_target())) return;
        Var io("io"), ii("ii");
        hist.split(i, io, ii, 256, TailStrategy::GuardWithIf).gpu_blocks(io).gpu_threads(ii);
        // A block of 32 x-lanes by 8 lines, each thread striding over its line: a warp reads 32
        // adjacent keys. The bin is computed once into a register: the update then reads and writes
        // the same plain index, which Halide lowers to a native atomic add (with the bin's
        // expression inlined twice it could not prove them equal and emitted compare-and-swap
        // loops: 360 ms at 256^3 on an H100, contended on the few bins real losses fill).
        RVar xo("xo"), xi("xi"), lo("lo"), li("li");
        hist.update()
            .atomic()
            .split(r.x, xo, xi, 32, TailStrategy::GuardWithIf)
            .split(r.y, lo, li, 8, TailStrategy::GuardWithIf)
            .reorder(xo, xi, li, lo)
            .gpu_blocks(lo)
            .gpu_threads(xi, li);
        slot.compute_at(hist, xo);
    }
};

class TopkCut : public Generator<TopkCut> {
public:
    Input<Buffer<int32_t, 1>> hist{"hist"};          // topk_hist's of the same level
    Input<Buffer<int32_t, 1>> state_in{"state_in"};  // level 1: level 0's state
    Input<int> level{"level"};
    Input<int> threshold{"threshold"};               // threshold mode: every candidate
    Input<double> k_percent{"k_percent"};
    Input<int> voxels{"voxels"};                     // the batch's voxels (cut_index of "every tie")
    Output<Buffer<int32_t, 1>> state{"state"};       // kTopkStateSize

    void generate() {
        Var i("i"), j("j");
        RDom rb(0, 256, "rb"), rg(0, 256, "rg");
        Func group("group"), total("total");
        group(j) = 0;
        group(j) += hist(j * 256 + rb);
        total(i) = 0;
        total(i) += group(rg);
        Expr first = level == 0;
        Expr M = select(first, total(0), state_in(kTopkCandidates));
        // The host's K = max(1, floor(M k / 100)), exactly: strict, or the simplifier's reciprocal
        // of 100 rounds 1037 x 100 / 100 down to 1036.
        Expr K = select(first, cast<int>(max(f64(1), strict_float(floor(cast<double>(M) * k_percent / f64(100))))),
                        state_in(kTopkSelected));
        Expr above0 = select(first, 0, state_in(kTopkAbove));
        // The group of the cut, then its bin (the CPU's walk over the same counts).
        Func groups = walk_down("group_walk", [&](Expr g) { return group(g); }, 256, above0, K);
        Expr J = groups(0)[1];
        Func bins = walk_down("bin_walk", [&](Expr b) { return hist(clamp(b, 0, kTopkBins - 1)); }, J * 256 + 256,
                              groups(0)[0], K);
        Expr above = bins(0)[0], bin = bins(0)[1];

        Expr settled = threshold != 0 || M == 0;  // no cut to find
        const Expr inf_bits = Expr(int32_t(0x7f800000));                     // +inf: nothing selected
        const Expr half_bits = Expr(static_cast<int32_t>(0xbf000000u));       // -0.5: every candidate, no -1 mark
        Expr hi = select(first, bin, state_in(kTopkHi));
        Expr cut_bits = (hi << 16) | bin;
        Expr ties = K - above;
        Expr v0[kTopkStateSize], v1[kTopkStateSize];
        v0[kTopkHi] = select(settled, 0, bin);
        v0[kTopkSelected] = select(threshold != 0, M, M == 0, 0, K);
        v0[kTopkAbove] = select(settled, 0, above);
        v0[kTopkCandidates] = M;
        v0[kTopkNonfinite] = hist(kTopkBins);
        v0[kTopkCutBits] = select(threshold != 0, half_bits, M == 0, inf_bits, 0);
        v0[kTopkTies] = 0;
        v0[kTopkCutIndex] = select(settled, 0, -1);
        for (int s = 0; s < kTopkStateSize; s++) v1[s] = state_in(s);
        v1[kTopkAbove] = above;
        v1[kTopkCutBits] = cut_bits;
        v1[kTopkTies] = ties;
        v1[kTopkCutIndex] = select(ties < hist(clamp(bin, 0, kTopkBins - 1)), -1, voxels);
        Expr out = select(first, v0[kTopkStateSize - 1], settled, state_in(kTopkStateSize - 1), v1[kTopkStateSize - 1]);
        for (int s = kTopkStateSize - 2; s >= 0; s--) {
            out = select(i == s, select(first, v0[s], settled, state_in(s), v1[s]), out);
        }
        state(i) = out;

        hist.set_estimates({{0, kTopkHistSize}});
        state_in.set_estimates({{0, kTopkStateSize}});
        level.set_estimate(0);
        threshold.set_estimate(0);
        k_percent.set_estimate(10.0);
        voxels.set_estimate(128 * 128 * 128 * 2);
        state.dim(0).set_bounds(0, kTopkStateSize);
        state.set_estimates({{0, kTopkStateSize}});
        if (auto_schedule) return;
        for (Func f : {group, total, groups, bins}) f.compute_root();
        if (!schedules::is_gpu(get_target())) return;
        Var jo("jo"), ji("ji");
        for (Stage s : {Stage(group), group.update()}) s.split(j, jo, ji, 64).gpu_blocks(jo).gpu_threads(ji);
        for (Func f : {total, groups, bins, Func(state)}) schedules::gpu_single_thread(f);
    }
};

class TopkTie : public Generator<TopkTie> {
public:
    Input<Buffer<float, 4>> keys{"keys"};
    Input<Buffer<int32_t, 1>> state_in{"state_in"};  // topk_cut's level 1
    Output<Buffer<int32_t, 1>> state{"state"};

    void generate() {
        Var i("i"), y("y"), z("z"), n("n");
        Expr X = keys.dim(0).extent(), Y = keys.dim(1).extent(), Z = keys.dim(2).extent(), N = keys.dim(3).extent();
        Expr cut = cast<uint32_t>(state_in(kTopkCutBits));
        Expr ties = state_in(kTopkTies);
        // (Coordinates from the walks are computed values: clamped, for bounds inference.)
        auto tie = [&](Expr x, Expr yy, Expr zz, Expr nn) {
            Expr k = keys(clamp(x, 0, X - 1), clamp(yy, 0, Y - 1), clamp(zz, 0, Z - 1), clamp(nn, 0, N - 1));
            return select(key_bits(k) == cut, 1, 0);
        };
        RDom rx(0, X, "rx"), ry(0, Y, "ry");
        Func line("line"), plane("plane");
        line(y, z, n) = 0;
        line(y, z, n) += tie(rx, y, z, n);
        plane(z, n) = 0;
        plane(z, n) += line(ry, z, n);
        // The ties-th tie in linear order: its plane p = z + Z n, its line, its x.
        Func planes = walk_up("plane_walk", [&](Expr p) { return plane(p % Z, clamp(p / Z, 0, N - 1)); }, Z * N, 0, ties);
        Expr P = planes(0)[1], zP = P % Z, nP = P / Z;
        Func lines = walk_up("line_walk", [&](Expr yy) { return line(yy, clamp(zP, 0, Z - 1), clamp(nP, 0, N - 1)); }, Y,
                             planes(0)[0], ties);
        Expr L = lines(0)[1];
        Func xs = walk_up("x_walk", [&](Expr x) { return tie(x, L, zP, nP); }, X, lines(0)[0], ties);
        Expr index = xs(0)[1] + X * (L + Y * (zP + Z * nP));
        Expr pending = state_in(kTopkCutIndex) < 0;
        state(i) = select(i == kTopkCutIndex && pending, index + 1, state_in(i));

        keys.set_estimates({{0, 128}, {0, 128}, {0, 128}, {0, 2}});
        state_in.set_estimates({{0, kTopkStateSize}});
        state.dim(0).set_bounds(0, kTopkStateSize);
        state.set_estimates({{0, kTopkStateSize}});
        if (auto_schedule) return;
        for (Func f : {line, plane, planes, lines, xs}) f.compute_root();
        if (!schedules::is_gpu(get_target())) return;
        Var yo("yo"), yi("yi"), zo("zo"), zi("zi");
        for (Stage s : {Stage(line), line.update()}) {
            s.split(y, yo, yi, 64, TailStrategy::GuardWithIf).gpu_blocks(yo, z, n).gpu_threads(yi);
        }
        for (Stage s : {Stage(plane), plane.update()}) {
            s.split(z, zo, zi, 64, TailStrategy::GuardWithIf).gpu_blocks(zo, n).gpu_threads(zi);
        }
        for (Func f : {planes, lines, xs, Func(state)}) schedules::gpu_single_thread(f);
    }
};

class TopkMark : public Generator<TopkMark> {
public:
    Input<Buffer<float, 4>> keys{"keys"};
    Input<Buffer<int32_t, 1>> state{"state"};        // the settled cut
    Input<Buffer<double, 1>> label_norm{"label_norm"};  // pointwise_norm's (NaN: a bad label), or 0
    Input<int> mean{"mean"};                         // reduction mean (the normaliser is K) or sum (1)
    Output<Buffer<float, 4>> marked{"marked"};       // 1 selected, 0 not
    Output<Buffer<double, 1>> norm{"norm"};          // extent 1
    Output<Buffer<float, 1>> norm_scale{"norm_scale"};  // extent 1

    void generate() {
        Vars v;
        Var i("i");
        Expr X = keys.dim(0).extent(), Y = keys.dim(1).extent(), Z = keys.dim(2).extent();
        Expr cut_value = reinterpret(Float(32), state(kTopkCutBits));
        Expr picked = is_selected(keys, cut_value, state(kTopkCutIndex), X, Y, Z, v);
        marked(v.x, v.y, v.z, v.n) = select(picked, 1.0f, 0.0f);
        Expr count = select(mean != 0, cast<double>(state(kTopkSelected)), f64(1));
        Expr bad_label = is_nan(label_norm(0));
        Expr nan = f64(std::numeric_limits<double>::quiet_NaN());
        norm(i) = select(bad_label || state(kTopkNonfinite) > 0, nan, count);
        norm_scale(i) = select(bad_label, cast<float>(nan), count > 0, cast<float>(f64(1) / count), 0.0f);
        norm.bound(i, 0, 1);
        norm_scale.bound(i, 0, 1);

        keys.set_estimates({{0, 128}, {0, 128}, {0, 128}, {0, 2}});
        state.set_estimates({{0, kTopkStateSize}});
        label_norm.set_estimates({{0, 1}});
        mean.set_estimate(1);
        marked.set_estimates({{0, 128}, {0, 128}, {0, 128}, {0, 2}});
        norm.set_estimates({{0, 1}});
        norm_scale.set_estimates({{0, 1}});
        if (auto_schedule || !schedules::is_gpu(get_target())) return;
        const schedules::GpuLoops g;
        schedules::gpu_voxels(marked, {}, v, g);
        schedules::gpu_single_thread(norm);
        schedules::gpu_single_thread(norm_scale);
    }
};

}  // namespace
}  // namespace segloss::gen

HALIDE_REGISTER_GENERATOR(segloss::gen::TopkHist, topk_hist)
HALIDE_REGISTER_GENERATOR(segloss::gen::TopkCut, topk_cut)
HALIDE_REGISTER_GENERATOR(segloss::gen::TopkTie, topk_tie)
HALIDE_REGISTER_GENERATOR(segloss::gen::TopkMark, topk_mark)
