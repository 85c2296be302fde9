// SPDX-License-Identifier: Apache-2.0
// The lower-envelope passes of the exact Euclidean distance transform, called from the distance
// kernels as Halide extern stages (generators/distance/distance_generator.cpp).
//
// Why extern stages: the Felzenszwalb-Huttenlocher lower envelope keeps a stack of parabolas
// whose length depends on the data, and Halide 14 has no loop whose bounds depend on computed
// values (RDom bounds cannot depend on the coordinates or on other Funcs' values, and a
// `where` predicate stays an if inside a full loop). The exact O(n) per-line algorithm is
// therefore plain C++ here; Halide schedules it (parallel tiles of lines, memory) and does
// everything around it (mask extraction from any target kind, the derived maps).
//
// Both passes see float32 volumes (x, y, z, j, n) of squared distances in physical units, with
// j = class * sides + side: side 0 measures the distance to the nearest voxel *outside* the mask
// (EDT(M)), side 1 to the nearest voxel *inside* it (EDT(not M)); `side0` says which side
// j % sides = 0 is. Infinity means "no such voxel on any line searched so far".
//
// side0 = 2 (with sides = 1) is the two-sided transform: the squared distance from every voxel
// to the nearest voxel on the *other* side of the mask (EDT(M) + EDT(not M) in one transform
// instead of two). It is separable too: along a line, a voxel of the other side hides every
// sample behind it, so each run of one side is solved with its own samples and, as sources at
// distance 0, the other side's voxels that bound the run. The slice pass marks inside voxels
// with a negative sign for the z pass; the z pass writes magnitudes.
#pragma once

#include <HalideRuntime.h>

extern "C" {

// Squared 2-D distance in every xy slice: the x pass (two scans of the mask) and the y pass
// (lower envelope) of one slice, while the slice is in cache. mask: uint8 (x, y, z, c, n), 0 or
// 1; out: float32 (x, y, z, j, n). Bounds queries: out expands to whole slices, mask to the
// slices and classes that out needs.
int segloss_edt_slices(halide_buffer_t *mask, int extent_x, int extent_y, int side0, int sides,
                       float wx, float wy, halide_buffer_t *out);

// Lower envelope along z: out(x, y, z) = min_z' in(x, y, z') + wz (z - z')^2. in and out:
// float32 (x, y, z, j, n); in spans the whole z extent of out's lines.
int segloss_edt_envelope_z(halide_buffer_t *in, int extent_z, float wz, halide_buffer_t *out);

}
