// SPDX-License-Identifier: Apache-2.0
// Deterministic sums. Partial sums over one x line are float32 with the order fixed by the
// algorithm (abi::kSumLanes interleaved lanes, then the lanes in sequence); the schedule can
// vectorise the lanes and parallelise over lines without changing a bit. Lines are then added
// in float64 in a fixed order, so a 256^3 volume keeps ~1e-7 relative accuracy.
#pragma once

#include <string>
#include <vector>

#include "Halide.h"
#include "generators/common/abi.h"
#include "generators/common/layout.h"

namespace segloss::gen {

struct LineSum {
    Halide::Func lanes;  // lanes(lane, rest...): the interleaved partial sums of one line
    Halide::Func line;   // line(rest...): their sum, lane 0 first (pure)
    Halide::RDom r;      // the blocks of L voxels (one_update: the only update's domain)
};

// Sums value(x, rest...) over x in [0, width). `value` may be a Tuple of float32 values.
// needed (optional, one per component): where false, the component's sum is 0 and, in a kernel
// specialised on the condition, neither accumulated nor totalled (region_stats' squared sums,
// 4 of its 11 per class, are off unless a loss asks for them). Only for components that are 0
// wherever needed is false, so that the sum is the same either way.
// one_update (GPU schedules): one update over ceil(width / L) blocks, the last one guarded,
// instead of the whole blocks and the tail as two updates. The same additions in the same
// order (a guarded lane adds +0.0f, and a lane sum that starts at +0.0f is never -0.0f), so
// the bits are the same; with one update, every per-voxel stage has a single point of use, the
// innermost loop of that update, where a GPU thread can compute it.
inline LineSum fixed_order_line_sum(const std::string &name, Halide::Func value, Halide::Expr width,
                                    const std::vector<Halide::Var> &rest, const Vars &v,
                                    bool one_update = false, std::vector<Halide::Expr> needed = {}) {
    using namespace Halide;
    constexpr int L = abi::kSumLanes;
    const int arity = value.outputs();
    needed.resize(arity, Internal::const_true());
    // An accumulation that becomes a store of 0 where the component is not needed.
    auto accumulate = [&](int i, Expr sum) { return select(needed[i], sum, 0.0f); };
    std::vector<Expr> rest_e(rest.begin(), rest.end());
    // value's components at x = xx (a single-valued Func is a Tuple of one).
    auto at = [&](Expr xx) {
        std::vector<Expr> args{xx};
        args.insert(args.end(), rest_e.begin(), rest_e.end());
        return arity == 1 ? Tuple(Expr(value(args))) : Tuple(value(args));
    };
    auto parts = [&](FuncRef f) { return arity == 1 ? Tuple(Expr(f)) : Tuple(f); };
    std::vector<Expr> lane_args{v.lane};
    lane_args.insert(lane_args.end(), rest_e.begin(), rest_e.end());

    LineSum s{Func(name + "_lanes"), Func(name + "_line")};
    std::vector<Expr> zeros(arity, 0.0f);
    s.lanes(lane_args) = Tuple(zeros);
    if (one_update) {
        RDom r(0, (width + (L - 1)) / L, name + "_r");
        Expr xx = r * L + v.lane;
        Tuple cur = parts(s.lanes(lane_args));
        Tuple add = at(min(xx, width - 1));
        std::vector<Expr> upd;
        for (int i = 0; i < arity; i++) upd.push_back(accumulate(i, cur[i] + select(xx < width, add[i], 0.0f)));
        s.lanes(lane_args) = Tuple(upd);
        s.r = r;
    } else {
        // Whole blocks of L voxels: lane l takes x = r*L + l (a dense vector load per r).
        RDom r(0, width / L, name + "_r");
        s.r = r;
        {
            Tuple cur = parts(s.lanes(lane_args));
            Tuple add = at(r * L + v.lane);
            std::vector<Expr> upd;
            for (int i = 0; i < arity; i++) upd.push_back(accumulate(i, cur[i] + add[i]));
            s.lanes(lane_args) = Tuple(upd);
        }
        // The tail, width % L voxels, in lanes 0..(width % L) - 1.
        {
            Expr tail_x = min((width / L) * L + v.lane, width - 1);
            Tuple add = at(tail_x);
            Tuple cur = parts(s.lanes(lane_args));
            std::vector<Expr> upd;
            for (int i = 0; i < arity; i++) {
                upd.push_back(accumulate(i, cur[i] + select(v.lane < width % L, add[i], 0.0f)));
            }
            s.lanes(lane_args) = Tuple(upd);
        }
    }
    s.lanes.bound(v.lane, 0, L);

    // The line total is a pure Func (no update), so it can be computed root or per line.
    std::vector<Expr> totals;
    for (int i = 0; i < arity; i++) {
        Expr t = 0.0f;
        for (int l = 0; l < L; l++) {
            std::vector<Expr> at_lane{Expr(l)};
            at_lane.insert(at_lane.end(), rest_e.begin(), rest_e.end());
            t = t + (arity == 1 ? Expr(s.lanes(at_lane)) : s.lanes(at_lane)[i]);
        }
        totals.push_back(accumulate(i, t));
    }
    s.line(rest_e) = Tuple(totals);
    return s;
}

// Schedules the lanes of a line sum inside `at` (one line per iteration of `at`), stored at
// `store` (once per parallel task: lanes whose extent depends on the class count would
// otherwise be a heap allocation per line).
inline void schedule_line_lanes(LineSum &s, Halide::LoopLevel at, Halide::LoopLevel store, const Vars &v) {
    s.lanes.compute_at(at).store_at(store).vectorize(v.lane);
    s.lanes.update(0).vectorize(v.lane);
    s.lanes.update(1).vectorize(v.lane);
}

}  // namespace segloss::gen
