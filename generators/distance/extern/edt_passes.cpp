// SPDX-License-Identifier: Apache-2.0
// The lower-envelope passes of the exact EDT (see edt_passes.h for why they are extern stages).
//
// Each line is solved by the lower envelope of parabolas of Felzenszwalb & Huttenlocher
// (Theory of Computing 8, 2012): d(q) = min_i f(i) + w (q - i)^2 over the finite f(i), in O(n).
// Everything is float32: squared distances of voxel grids with spacing are exact to float32
// rounding, and the intersections are computed in a form that keeps that precision.
#include "generators/distance/extern/edt_passes.h"

#include <algorithm>
#include <climits>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <limits>
#include <vector>

namespace {

constexpr float kInf = std::numeric_limits<float>::infinity();

// side0 of a two-sided call (edt_passes.h).
constexpr int kTwoSided = 2;

// Lines along z are solved in groups of kBlock neighbours along x: their gathered copies are
// contiguous, and the gather and scatter move several whole cache lines per page they visit.
// 64 lines of up to a few hundred samples stay in L1/L2 (paired runs against 256, single thread,
// background EDT: 500 vs 542 ms at 256^3, 50 vs 63 ms at 128^3; 16 was slower, 32 in between).
constexpr int kBlock = 64;

bool is_query(const halide_buffer_t *b) { return b->host == nullptr && b->device == 0; }

// Element offset of the region's first element along each dimension is dim.min; address of
// element (coords) is host + sum (coord - min) * stride.
template <typename T>
T *at(const halide_buffer_t *b, int x, int y, int z, int j, int n) {
    const halide_dimension_t *d = b->dim;
    const int64_t off = int64_t(x - d[0].min) * d[0].stride + int64_t(y - d[1].min) * d[1].stride +
                        int64_t(z - d[2].min) * d[2].stride + int64_t(j - d[3].min) * d[3].stride +
                        int64_t(n - d[4].min) * d[4].stride;
    return reinterpret_cast<T *>(b->host) + off;
}

// Scratch of one lower envelope over a line of up to n samples.
class Envelope {
public:
    // Room for lines of up to n samples (kept between calls: the passes run on many tiles).
    void reserve(int n) {
        if (int(apex_.size()) >= n + 2) return;
        apex_.resize(size_t(n) + 2);
        height_.resize(size_t(n) + 2);
        from_.resize(size_t(n) + 3);
    }

    // d[q] = min over i with finite f[i] of f[i] + w (q - i)^2, for q < n (+inf where every f[i]
    // is infinite). f and d are contiguous and may not alias.
    void solve(const float *f, float *d, int n, float w) {
        // Lines of sources only (every voxel on its own side's feature set): the most common
        // line by far, e.g. the lines that miss the mask when measuring inside it.
        int zeros = 0;
        while (zeros < n && f[zeros] == 0.0f) zeros++;
        if (zeros == n) {
            std::fill(d, d + n, 0.0f);
            return;
        }
        begin(w);
        for (int q = 0; q < n; q++) push(q, f[q]);
        evaluate(0, n, d, w);
    }

    // Two-sided lines: the sign bit of f[i] says whether sample i is inside the mask, |f[i]| is
    // its squared distance (so far) to the nearest voxel of the other side. d[q] (>= 0) = the
    // squared distance from q to the nearest voxel of the other side: within each run of one
    // side, the envelope of the run's samples and of the other side's nearest voxels, its
    // neighbours (sources at distance 0; farther ones are hidden behind them).
    void solve_runs(const float *f, float *d, int n, float w) {
        for (int a = 0; a < n;) {
            const bool inside = std::signbit(f[a]);
            int b = a + 1;
            while (b < n && std::signbit(f[b]) == inside) b++;
            begin(w);
            if (a > 0) push(a - 1, 0.0f);
            for (int q = a; q < b; q++) push(q, std::fabs(f[q]));
            if (b < n) push(b, 0.0f);
            evaluate(a, b, d, w);
            a = b;
        }
    }

private:
    void begin(float w) {
        k_ = -1;
        inv_2w_ = 0.5f / w;
    }

    // Adds the parabola of sample q (in increasing q) to the envelope; infinite ones are not.
    // Abscissae are kept as floats (exact below 2^24): the pop loop converts nothing.
    void push(int q_index, float fq) {
        if (!(fq < kInf)) return;
        const float q = float(q_index);
        if (k_ < 0) {
            k_ = 0;
            apex_[0] = q;
            height_[0] = fq;
            from_[0] = -kInf;
            return;
        }
        // Pop the parabolas that the new one hides; from_[0] = -inf stops at the first. The
        // intersection with parabola v is s = (f_q - f_v) / (2w (q - v)) + (q + v) / 2 (this
        // form keeps float32 precision, f + w q^2 would lose it on long lines); the pop test
        // s <= from_v is made without the division, which is paid once, for the survivor.
        float v = apex_[k_], fv = height_[k_];
        while ((fq - fv) * inv_2w_ <= (from_[k_] - 0.5f * (q + v)) * (q - v)) {
            k_--;
            v = apex_[k_];
            fv = height_[k_];
        }
        const float s = (fq - fv) * inv_2w_ / (q - v) + 0.5f * (q + v);
        k_++;
        apex_[k_] = q;
        height_[k_] = fq;
        from_[k_] = s;
    }

    // d[q] for q in [a, b) from the envelope (+inf when it is empty).
    void evaluate(int a, int b, float *d, float w) {
        if (k_ < 0) {
            std::fill(d + a, d + b, kInf);
            return;
        }
        from_[k_ + 1] = kInf;
        int j = 0;
        float qf = float(a);
        for (int q = a; q < b; q++, qf += 1.0f) {
            while (from_[j + 1] < qf) j++;
            const float dq = qf - apex_[j];
            d[q] = w * dq * dq + height_[j];
        }
    }

    std::vector<float> apex_;   // abscissa of the k-th parabola of the envelope
    std::vector<float> height_; // its f value
    std::vector<float> from_;   // where it starts to be the lowest
    int k_ = -1;                // top of the stack
    float inv_2w_ = 0;
};

// Whether a line holds two-sided samples (segloss_edt_slices marks the inside with the sign).
bool has_inside(const float *f, int n) {
    for (int q = 0; q < n; q++) {
        if (std::signbit(f[q])) return true;
    }
    return false;
}

// dst[i * dst_stride + z] = src[z * zs + i * xs] for i < bx, z < Z: a block of lines along z
// (strided in memory) gathered into contiguous rows. Rows of src are read along x, several
// cache lines per page.
void transpose_block(const float *src, ptrdiff_t zs, ptrdiff_t xs, int bx, int Z, float *dst, int dst_stride) {
    for (int z = 0; z < Z; z++) {
        const float *row = src + z * zs;
        if (xs == 1) {
            for (int i = 0; i < bx; i++) dst[size_t(i) * dst_stride + z] = row[i];
        } else {
            for (int i = 0; i < bx; i++) dst[size_t(i) * dst_stride + z] = row[i * xs];
        }
    }
}

// Squared distance along one x line to the nearest voxel whose mask equals `feature`, times wx;
// +inf when the line has none. mask has stride `ms`; out is contiguous.
// Returns kUniformZero or kUniformInf when the whole row is 0 or +inf, kMixed otherwise.
enum RowKind { kMixed = 0, kUniformZero, kUniformInf };
RowKind scan_x(const uint8_t *mask, ptrdiff_t ms, int X, uint8_t feature, double wx, float *out) {
    // Rows of one value (mask bytes are 0 or 1), the most common rows by far: no feature voxel
    // (+inf) or only feature voxels (0), found with memchr.
    if (ms == 1) {
        const bool has_one = std::memchr(mask, 1, size_t(X)) != nullptr;
        const bool has_zero = std::memchr(mask, 0, size_t(X)) != nullptr;
        if (!has_one || !has_zero) {
            const bool all_feature = (has_one ? 1 : 0) == (feature != 0 ? 1 : 0);
            std::fill(out, out + X, all_feature ? 0.0f : kInf);
            return all_feature ? kUniformZero : kUniformInf;
        }
    }
    int last = -1;
    for (int x = 0; x < X; x++) {
        if ((mask[x * ms] != 0) == (feature != 0)) last = x;
        out[x] = last < 0 ? kInf : float(x - last);  // unsquared here, squared below
    }
    int next = -1;
    for (int x = X - 1; x >= 0; x--) {
        if ((mask[x * ms] != 0) == (feature != 0)) next = x;
        const float forward = out[x];
        const float backward = next < 0 ? kInf : float(next - x);
        const float d = std::min(forward, backward);
        out[x] = d < kInf ? float(wx * double(d) * double(d)) : kInf;
    }
    return kMixed;
}

// Two-sided x line: the squared distance (times wx) to the nearest voxel of the other side of
// the mask, negative inside the mask (the sign carries the side to the later passes); +-inf
// when the line has no voxel of the other side. out is contiguous.
void scan_x_two_sided(const uint8_t *mask, ptrdiff_t ms, int X, double wx, float *out) {
    for (int a = 0; a < X;) {
        const bool inside = mask[a * ms] != 0;
        int b = a + 1;
        while (b < X && (mask[b * ms] != 0) == inside) b++;
        // The run [a, b): the other side is at a - 1 and at b, where they exist.
        for (int x = a; x < b; x++) {
            const int before = a > 0 ? x - (a - 1) : INT32_MAX, after = b < X ? b - x : INT32_MAX;
            const int dist = std::min(before, after);
            const float v = dist == INT32_MAX ? kInf : float(wx * double(dist) * double(dist));
            out[x] = inside ? -v : v;
        }
        a = b;
    }
}

}  // namespace

extern "C" int segloss_edt_slices(halide_buffer_t *mask, int extent_x, int extent_y, int side0, int sides,
                                  float wx, float wy, halide_buffer_t *out) {
    if (is_query(mask) || is_query(out)) {
        // Whole slices: the envelope of a line needs the whole line.
        out->dim[0].min = 0;
        out->dim[0].extent = extent_x;
        out->dim[1].min = 0;
        out->dim[1].extent = extent_y;
        if (is_query(mask)) {
            const int j0 = out->dim[3].min, j1 = out->dim[3].min + out->dim[3].extent - 1;
            mask->dim[0].min = 0;
            mask->dim[0].extent = extent_x;
            mask->dim[1].min = 0;
            mask->dim[1].extent = extent_y;
            mask->dim[2] = {out->dim[2].min, out->dim[2].extent, 0, 0};
            mask->dim[3].min = j0 / sides;
            mask->dim[3].extent = j1 / sides - j0 / sides + 1;
            mask->dim[4] = {out->dim[4].min, out->dim[4].extent, 0, 0};
        }
        return 0;
    }
    const int X = extent_x, Y = extent_y;
    // The x pass writes the slice transposed (x major), so that every y line is contiguous for
    // the envelope, whose result goes to out along y.
    // Per-thread scratch, kept between calls (one call per slice and channel).
    thread_local std::vector<float> row, slice, line;
    thread_local Envelope env;
    row.resize(size_t(X));
    slice.resize(size_t(X) * Y);
    line.resize(size_t(Y));
    env.reserve(Y);
    const halide_dimension_t *od = out->dim;
    const ptrdiff_t mx = mask->dim[0].stride, oy = od[1].stride;
    for (int n = od[4].min; n < od[4].min + od[4].extent; n++) {
        for (int j = od[3].min; j < od[3].min + od[3].extent; j++) {
            const int c = j / sides;
            const bool two_sided = side0 == kTwoSided;
            const uint8_t feature = (side0 + j % sides) == 0 ? 0 : 1;  // side 0: voxels outside
            for (int z = od[2].min; z < od[2].min + od[2].extent; z++) {
                // A slice whose rows are all +inf (no feature voxel) or all 0 is its own result.
                int uniform = -1;
                for (int y = 0; y < Y; y++) {
                    const uint8_t *m = at<uint8_t>(mask, 0, y, z, c, n);
                    RowKind kind = kMixed;
                    if (two_sided) scan_x_two_sided(m, mx, X, wx, row.data());
                    else kind = scan_x(m, mx, X, feature, wx, row.data());
                    uniform = y == 0 ? int(kind) : (uniform == int(kind) ? uniform : int(kMixed));
                    for (int x = 0; x < X; x++) slice[size_t(x) * Y + y] = row[x];
                }
                if (uniform != kMixed) {
                    const float v = uniform == kUniformZero ? 0.0f : kInf;
                    for (int y = 0; y < Y; y++) {
                        float *o = at<float>(out, 0, y, z, j, n);
                        for (int x = 0; x < X; x++) o[x * od[0].stride] = v;
                    }
                    continue;
                }
                for (int x = 0; x < X; x++) {
                    float *col = &slice[size_t(x) * Y];
                    if (Y > 1 && two_sided) {
                        env.solve_runs(col, line.data(), Y, wy);
                        for (int y = 0; y < Y; y++) line[y] = std::signbit(col[y]) ? -line[y] : line[y];
                        col = line.data();
                    } else if (Y > 1) {
                        env.solve(col, line.data(), Y, wy);
                        col = line.data();
                    }
                    float *o = at<float>(out, x, 0, z, j, n);
                    for (int y = 0; y < Y; y++) o[y * oy] = col[y];
                }
            }
        }
    }
    return 0;
}

extern "C" int segloss_edt_envelope_z(halide_buffer_t *in, int extent_z, float wz, halide_buffer_t *out) {
    if (is_query(in) || is_query(out)) {
        out->dim[2].min = 0;
        out->dim[2].extent = extent_z;
        if (is_query(in)) {
            for (int d = 0; d < 5; d++) in->dim[d] = {out->dim[d].min, out->dim[d].extent, 0, 0};
        }
        return 0;
    }
    const int Z = extent_z;
    // A split's last tile can reach past the volume (extern stages get the tile as it is, with
    // no guard): solve the lines that exist, which are the ones `in` holds.
    int lo[5], hi[5];
    for (int d = 0; d < 5; d++) {
        lo[d] = std::max(out->dim[d].min, in->dim[d].min);
        hi[d] = std::min(out->dim[d].min + out->dim[d].extent, in->dim[d].min + in->dim[d].extent);
    }
    const ptrdiff_t iz = in->dim[2].stride, ix = in->dim[0].stride, oz = out->dim[2].stride, ox = out->dim[0].stride;
    thread_local std::vector<float> gathered, solved;
    thread_local Envelope env;
    gathered.resize(size_t(kBlock) * Z);
    solved.resize(size_t(kBlock) * Z);
    env.reserve(Z);
    for (int n = lo[4]; n < hi[4]; n++) {
        for (int j = lo[3]; j < hi[3]; j++) {
            for (int y = lo[1]; y < hi[1]; y++) {
                for (int x0 = lo[0]; x0 < hi[0]; x0 += kBlock) {
                    const int bx = std::min(kBlock, hi[0] - x0);
                    const float *src = at<const float>(in, x0, y, 0, j, n);
                    float *dst = at<float>(out, x0, y, 0, j, n);
                    transpose_block(src, iz, ix, bx, Z, gathered.data(), Z);
                    for (int i = 0; i < bx; i++) {
                        const float *f = &gathered[size_t(i) * Z];
                        if (has_inside(f, Z)) env.solve_runs(f, &solved[size_t(i) * Z], Z, wz);
                        else env.solve(f, &solved[size_t(i) * Z], Z, wz);
                    }
                    for (int z = 0; z < Z; z++) {
                        float *o = dst + z * oz;
                        const float *from = &solved[z];
                        if (ox == 1) {
                            for (int i = 0; i < bx; i++) o[i] = from[size_t(i) * Z];
                        } else {
                            for (int i = 0; i < bx; i++) o[i * ox] = from[size_t(i) * Z];
                        }
                    }
                }
            }
        }
    }
    return 0;
}
