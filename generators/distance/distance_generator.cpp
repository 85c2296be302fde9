// SPDX-License-Identifier: Apache-2.0
// Distance family: exact Euclidean distance maps of class masks, per (n, class), in physical
// units (LOSSES.md, boundary-based losses and metrics).
//
// Pipeline per image n: the masks of the classes (from an index map, a dense map, or the
// thresholded probabilities of logits) -> their member counts (empty / full) -> squared 2-D
// distances of every xy slice (x scans + y envelope, extern) -> the envelope along z (extern)
// -> the requested map. Separable: the squared distance to the nearest source voxel is
// min over z' of (min over y' of (min over x' ...)), each axis a 1-D problem: on a CPU the
// lower envelope of extern/edt_passes.h, on a GPU the brute-force passes of edt_brute.h.
#include "Halide.h"
#include "generators/common/abi.h"
#include "generators/common/activations.h"
#include "generators/common/layout.h"
#include "generators/common/targets.h"
#include "generators/distance/edt_brute.h"
#include "schedules/gpu_lines.h"
#include "schedules/schedule.h"

namespace segloss::gen {
namespace {

using namespace Halide;

// Schedules an extern pass of one image (computed at `consumer`'s n loop) as parallel calls,
// each on `factor` consecutive values of `along` (y or z) of one channel and the whole extent
// of the other axes. Halide wants the dimensions that stay whole inside the split ones.
void tile_extern_calls(Func pass, const Var &along, int factor, Func consumer, const Vars &v) {
    Var outer("outer"), inner("inner"), jo("jo"), ji("ji"), tile("tile");
    std::vector<VarOrRVar> order;
    for (const Var &d : {v.x, v.y, v.z}) order.push_back(d.name() == along.name() ? inner : d);
    order.insert(order.end(), {ji, v.n, outer, jo});
    pass.compute_at(consumer, v.n)
        .split(along, outer, inner, factor, TailStrategy::GuardWithIf)
        .split(v.c, jo, ji, 1, TailStrategy::GuardWithIf)
        .reorder(order)
        .fuse(outer, jo, tile)
        .parallel(tile);
}

class Distance : public Generator<Distance> {
public:
    // The mask source: an index map (i32, u8), or a float32 map (f32) thresholded at p > 0.5
    // after `activation` (identity: a dense target map; softmax / sigmoid: logits).
    GeneratorParam<TargetKind> source_kind{"source_kind", TargetKind::I32, kTargetKindNames};
    GeneratorParam<ActivationKind> activation{"activation", ActivationKind::Identity, kActivationNames};
    // DPCE's voxel weights: the output has one channel, (1 + the sum of the maps of the classes
    // first_class .. num_classes - 1) times voxel_weight (index maps; with every class, a
    // voxel's own region's D).
    GeneratorParam<bool> collapse{"collapse", false};

    // Index map (x, y, z, n), int32 or uint8, or float32 map (x, y, z, c, n).
    Input<Buffer<>> source{"source"};
    Input<int> num_classes{"num_classes"};    // index maps; a float32 map's classes are its c extent
    Input<int> first_class{"first_class"};    // output channel k is class first_class + k
    Input<int> has_ignore{"has_ignore"};      // index maps: voxels labelled ignore_index are in no mask
    Input<int> ignore_index{"ignore_index"};
    Input<float> spacing_x{"spacing_x"};      // physical voxel size along x, y, z (> 0)
    Input<float> spacing_y{"spacing_y"};
    Input<float> spacing_z{"spacing_z"};
    Input<int> kind{"kind"};                  // abi::DistanceKind
    // 1: every kind is zero for empty and full masks (the losses' policy); 0: only the signed
    // and boundary maps are (the EDT of a full mask stays +inf).
    Input<int> zero_degenerate{"zero_degenerate"};
    // collapse: the loss mask (x, y, z, n) that multiplies the weights (a line of ones with zero
    // strides when there is none); unused otherwise.
    Input<Buffer<float, 4>> voxel_weight{"voxel_weight"};

    // The map (x, y, z, k, n), k < number of output classes.
    Output<Buffer<float, 5>> distance{"distance"};
    // abi::MaskFlag of each mask (k, n).
    Output<Buffer<int32_t, 2>> flags{"flags"};
    // Index maps: labels of image n that are neither in [0, num_classes) nor ignore_index (the
    // runtime fails the call on any); 0 for float32 maps.
    Output<Buffer<int32_t, 1>> invalid{"invalid"};

    void generate() {
        Vars v;
        std::vector<Func> activation_funcs;  // the softmax / sigmoid stages of logit sources
        const Var &x = v.x, &y = v.y, &z = v.z, &c = v.c, &n = v.n;
        const bool index_map = source_kind != TargetKind::F32;
        const bool gpu = schedules::is_gpu(get_target());
        Expr X = source.dim(0).extent(), Y = source.dim(1).extent(), Z = source.dim(2).extent();

        // The algorithm.
        // Membership of voxel (x, y, z) of image n in the mask of output channel c.
        Func mask("mask");
        Expr cls = first_class + c;
        Expr bad_label = Internal::const_false();
        if (activation == ActivationKind::Identity) {
            // Targets as every loss reads them (targets.h): index labels compared with the class
            // (ignore_index in no mask, out-of-range labels counted), dense values as they are.
            Func no_loss_mask("no_loss_mask");
            no_loss_mask(x, y, z, n) = 1.0f;
            Targets tg = expand_targets(source, source_kind, num_classes, has_ignore, ignore_index, no_loss_mask, v);
            mask(x, y, z, c, n) = cast<uint8_t>(tg.g(x, y, z, cls, n) > 0.5f);
            bad_label = tg.invalid;
        } else {
            // A voxel with a non-finite logit is in no mask (its probabilities are not numbers;
            // tested on the bits, which fast-math code generation cannot fold, so that a GPU
            // agrees with the CPU).
            ActivationForward a = activation_forward(activation, source, source.dim(3).extent(), v, gpu);
            mask(x, y, z, c, n) = cast<uint8_t>(!a.bad && a.p(x, y, z, cls, n) > 0.5f);
            activation_funcs = a.row_funcs;
        }

        // Member counts, per line, per plane, then per mask (integers: any order gives the same
        // count; by planes so that a GPU thread adds one plane's lines, not the volume's).
        RDom rx(0, X, "rx"), ry(0, Y, "ry"), rz(0, Z, "rz");
        Func line_members("line_members"), plane_members("plane_members"), members("members");
        line_members(y, z, c, n) = 0;
        line_members(y, z, c, n) += cast<int>(mask(rx, y, z, c, n));
        plane_members(z, c, n) = 0;
        plane_members(z, c, n) += line_members(ry, z, c, n);
        members(c, n) = 0;
        members(c, n) += plane_members(rz, c, n);
        Expr count = members(c, n), volume = X * Y * Z;
        Func line_invalid("line_invalid"), plane_invalid("plane_invalid");
        line_invalid(y, z, n) = 0;
        line_invalid(y, z, n) += select(substitute(x.name(), rx, bad_label), 1, 0);
        plane_invalid(z, n) = 0;
        plane_invalid(z, n) += line_invalid(ry, z, n);
        invalid(n) = 0;
        invalid(n) += plane_invalid(rz, n);
        flags(c, n) = select(count == 0, int(abi::kMaskEmpty), count == volume, int(abi::kMaskFull), int(abi::kMaskNormal));

        // The surface of the mask (the metrics, LOSSES.md): its voxels with a 6-neighbour outside
        // it; voxels on the volume's border count as surface. Axes of one voxel (a 2-D image's z)
        // have no neighbours and no border, except in a volume of one voxel.
        Expr is_surface = kind == int(abi::kDistanceSurface);
        auto open_along = [&](const Var &a, Expr extent) {
            Expr lo = substitute(a.name(), max(a - 1, 0), mask(x, y, z, c, n));
            Expr hi = substitute(a.name(), min(a + 1, extent - 1), mask(x, y, z, c, n));
            return extent > 1 && (a == 0 || a == extent - 1 || lo == 0 || hi == 0);
        };
        Expr lonely = X == 1 && Y == 1 && Z == 1;
        Expr surface = mask(x, y, z, c, n) != 0 && (open_along(x, X) || open_along(y, Y) || open_along(z, Z) || lonely);
        // What the envelope passes measure distances to (or from): the mask, or its surface.
        Func edt_mask("edt_mask");
        edt_mask(x, y, z, c, n) = select(is_surface, cast<uint8_t>(surface), mask(x, y, z, c, n));

        // What the passes measure (extern/edt_passes.h): EDT(M) the distance to the outside (side
        // 0), EDT(not M) and the surface distance the distance to the inside or the surface (side
        // 1), the signed and boundary maps the distance to the other side, whichever side a voxel
        // is on (two-sided: one transform instead of two). One channel per class.
        Expr two_sided = kind == int(abi::kDistanceSigned) || kind == int(abi::kDistanceBoundary);
        Expr side0 = select(two_sided, 2, kind == int(abi::kDistanceEdtComplement) || is_surface, 1, 0);
        const int sides = 1;
        auto squared = [](Expr s) { return s * s; };
        Func slices("slices"), volume_sq("volume_sq");
        BruteEdt brute;
        Expr first;  // the distance in physical units (+inf: no voxel to measure to)
        if (gpu) {
            brute = brute_edt(edt_mask, side0, X, Y, Z, squared(spacing_x), squared(spacing_y), squared(spacing_z), v);
            Expr sq = brute.dz(x, y, z, c, n);
            first = inf_if(sq >= kEdtFar, sqrt(sq));
        } else {
            slices.define_extern("segloss_edt_slices", {edt_mask, X, Y, side0, sides, squared(spacing_x), squared(spacing_y)},
                                 Float(32), {x, y, z, c, n}, NameMangling::C);
            volume_sq.define_extern("segloss_edt_envelope_z", {slices, Z, squared(spacing_z)}, Float(32), {x, y, z, c, n},
                                    NameMangling::C);
            first = sqrt(volume_sq(x, y, z, c, n));
        }
        Expr inside = mask(x, y, z, c, n) != 0;
        // The smallest spacing: Kervadec's signed map is 0 on the inner boundary.
        Expr h = min(spacing_x, min(select(Y > 1, spacing_y, spacing_x), select(Z > 1, spacing_z, spacing_x)));
        // DPCE: the deepest EDT of each mask, per line then per mask.
        Expr is_dpce = kind == int(abi::kDistanceDpce);
        // (One voxel for the other kinds: Halide would compute them in every call; not empty, as
        // an OpenCL device buffer cannot have zero size.)
        RDom px(0, select(is_dpce, X, 1), "px"), py(0, select(is_dpce, Y, 1), "py"), pz(0, select(is_dpce, Z, 1), "pz");
        Func line_peak("line_peak"), plane_peak("plane_peak"), peak("peak");
        line_peak(y, z, c, n) = 0.0f;
        line_peak(y, z, c, n) = max(line_peak(y, z, c, n), substitute(x.name(), px, select(inside, first, 0.0f)));
        plane_peak(z, c, n) = 0.0f;
        plane_peak(z, c, n) = max(plane_peak(z, c, n), line_peak(py, z, c, n));
        peak(c, n) = 0.0f;
        peak(c, n) = max(peak(c, n), plane_peak(pz, c, n));
        Expr m = peak(c, n);
        Expr dpce = select(inside && m > 0.0f, (m - first) / m, 0.0f);
        Expr map = select(kind == int(abi::kDistanceSigned), select(inside, h - first, first), is_dpce, dpce, first);
        // Empty and full masks have no boundary: their signed, boundary and DPCE maps are zero
        // (the EDT itself is 0 for an empty mask and +inf, "no voxel outside", for a full one).
        Expr degenerate = (two_sided || is_dpce || zero_degenerate != 0) && (count == 0 || count == volume);
        Func map_of("map_of");
        map_of(x, y, z, c, n) = select(degenerate, 0.0f, map);
        if (collapse) {
            RDom rk(0, num_classes - first_class, "rk");
            distance(x, y, z, c, n) = (1.0f + sum(map_of(x, y, z, rk, n))) * voxel_weight(x, y, z, n);
        } else {
            distance(x, y, z, c, n) = map_of(x, y, z, c, n);
        }

        // Contracts and estimates.
        allow_any_stride(source);
        allow_any_stride(distance);
        allow_any_stride(voxel_weight);
        for (int d = 0; d < source.dimensions(); d++) source.dim(d).set_min(0);
        for (auto *i : {&num_classes, &first_class, &has_ignore, &ignore_index, &kind, &zero_degenerate}) {
            i->set_estimate(0);
        }
        num_classes.set_estimate(4);
        for (auto *f : {&spacing_x, &spacing_y, &spacing_z}) f->set_estimate(1.0f);
        if (index_map) {
            source.set_estimates({{0, 128}, {0, 128}, {0, 128}, {0, 2}});
        } else {
            source.set_estimates({{0, 128}, {0, 128}, {0, 128}, {0, 4}, {0, 2}});
        }
        for (int d = 0; d < 3; d++) distance.dim(d).set_bounds(0, source.dim(d).extent());
        distance.dim(4).set_bounds(0, source.dim(source.dimensions() - 1).extent());
        distance.dim(3).set_min(0);
        flags.dim(0).set_min(0);
        flags.dim(1).set_min(0);
        invalid.dim(0).set_min(0);
        invalid.set_estimates({{0, 2}});
        voxel_weight.set_estimates({{0, 128}, {0, 128}, {0, 128}, {0, 2}});
        distance.set_estimates({{0, 128}, {0, 128}, {0, 128}, {0, 3}, {0, 2}});
        flags.set_estimates({{0, 3}, {0, 2}});

        // Schedule: one image at a time (its intermediates are a few volumes), every stage
        // parallel inside it; the envelope passes are called on tiles of lines.
        if (auto_schedule) return;
        if (gpu) {
            schedule_gpu(mask, edt_mask, brute, activation_funcs,
                         {line_members, plane_members, members, line_peak, plane_peak, peak},
                         {line_invalid, plane_invalid}, v);
            return;
        }
        const int vec = natural_vector_size<float>();
        Var zc("zc");
        distance.reorder(x, y, z, c, n).fuse(z, c, zc).parallel(zc).vectorize(x, vec, TailStrategy::GuardWithIf);
        distance.specialize(innermost_dense(distance));  // dense stores instead of scatters
        // The masks of every image first (a byte per voxel and class): the member counts feed
        // both outputs, and logits are activated once. Not fused: through a fused loop, bounds
        // inference widens the region of what the mask reads (it asked for classes below 0).
        mask.compute_root().parallel(z).vectorize(x, vec, TailStrategy::GuardWithIf);
        edt_mask.compute_root().parallel(z).vectorize(x, vec, TailStrategy::GuardWithIf);
        for (Func f : activation_funcs) {
            f.compute_at(mask, y).vectorize(x, vec, TailStrategy::GuardWithIf);
            for (int i = 0; i < f.num_update_definitions(); i++) f.update(i).vectorize(x, vec, TailStrategy::GuardWithIf);
        }
        members.compute_root();
        for (Func f : {line_members, plane_members, line_invalid, plane_invalid}) {
            f.compute_root().parallel(z);
            f.update().parallel(z);
        }
        // One xy slice of one channel per call of the slice pass; lines of 8 rows per call of
        // the z pass.
        tile_extern_calls(slices, z, 1, distance, v);
        tile_extern_calls(volume_sq, y, 8, distance, v);
        line_peak.compute_at(distance, n).update().parallel(z);
        plane_peak.compute_at(distance, n);
        peak.compute_at(distance, n);
    }

    // One thread per voxel for the masks, the maps and the passes (each pass's line loop inside
    // the thread), per line or per plane for the reductions; every intermediate a device buffer.
    // reductions: (line, plane, total) per mask, twice (the member counts, DPCE's peak);
    // invalid: (line, plane) of the label check.
    void schedule_gpu(Func mask, Func edt_mask, const BruteEdt &brute, const std::vector<Func> &activation_funcs,
                      const std::vector<Func> &reductions, const std::vector<Func> &invalid_lines, const Vars &v) {
        const schedules::GpuLoops g;
        const schedules::GpuParams &gp = schedules::gpu_params();
        const Var &x = v.x, &y = v.y, &z = v.z, &c = v.c, &n = v.n;
        auto voxel_threads = [&](Stage s, std::vector<VarOrRVar> order) {
            order.insert(order.end(), {x, y, z, n});
            s.reorder(order)
                .gpu_tile(x, y, g.xo, g.yo, g.xi, g.yi, gp.tile_x, gp.tile_y, TailStrategy::GuardWithIf)
                .gpu_blocks(z);
        };
        // (along, rest...): threads along `along` in blocks of line_block, the rest as block dimensions.
        auto line_threads = [&](Stage s, const Var &along, std::vector<VarOrRVar> blocks) {
            Var o("go"), i("gi");
            s.split(along, o, i, gp.line_block, TailStrategy::GuardWithIf).gpu_threads(i);
            blocks.insert(blocks.begin(), o);
            if (blocks.size() == 2) s.gpu_blocks(blocks[0], blocks[1]);
            else s.gpu_blocks(blocks[0], blocks[1], blocks[2]);
        };
        voxel_threads(distance, {c});
        for (Func f : {mask, edt_mask}) voxel_threads(f.compute_root(), {c});
        schedules::compute_per_thread(activation_funcs, LoopLevel(mask, g.xi));
        const std::pair<Func, RDom> passes[] = {{brute.dx, brute.rx}, {brute.dy, brute.ry}, {brute.dz, brute.rz}};
        for (auto [pass, r] : passes) {
            voxel_threads(pass.compute_root(), {c});
            voxel_threads(pass.update(), {r.x, c});
        }
        for (size_t i = 0; i < reductions.size(); i += 3) {
            Func line = reductions[i], plane = reductions[i + 1], total = reductions[i + 2];
            for (Stage s : {Stage(line.compute_root()), line.update()}) line_threads(s, y, {z, c});
            for (Stage s : {Stage(plane.compute_root()), plane.update()}) line_threads(s, z, {c, n});
            total.compute_root();
            schedules::gpu_per_class(total, c, &n);
        }
        Func line_invalid = invalid_lines[0], plane_invalid = invalid_lines[1];
        for (Stage s : {Stage(line_invalid.compute_root()), line_invalid.update()}) line_threads(s, y, {z, n});
        for (Stage s : {Stage(plane_invalid.compute_root()), plane_invalid.update()}) line_threads(s, z, {n});
        schedules::gpu_single_thread(invalid);
        schedules::gpu_per_class(flags, c, &n);
    }
};

}  // namespace
}  // namespace segloss::gen

HALIDE_REGISTER_GENERATOR(segloss::gen::Distance, distance)
