// SPDX-License-Identifier: Apache-2.0
// The lower-envelope passes of the exact EDT (see edt_passes.h for why they are extern stages).
//
// Each line is solved by the lower envelope of parabolas of Felzenszwalb & Huttenlocher
// (Theory of Computing 8, 2012): d(q) = min_i f(i) + w (q - i)^2 over the finite f(i), in O(n).
// Everything is float32: squared distances of voxel grids with spacing are exact to float32
// rounding, and the intersections are computed in a form that keeps that precision.
#include "generators/distance/extern/edt_passes.h"

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <limits>
#include <vector>

namespace {

constexpr float kInf = std::numeric_limits<float>::infinity();

// Lines along z are solved in groups of kBlock neighbours along x: their gathered copies are
// contiguous, and the gather and scatter move several whole cache lines per page they visit.
constexpr int kBlock = 256;

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
    explicit Envelope(int n) : apex_(n), height_(n), from_(n + 1) {}

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
        const float inv_2w = 0.5f / w;
        int k = -1;
        for (int q = 0; q < n; q++) {
            const float fq = f[q];
            if (!(fq < kInf)) continue;
            if (k < 0) {
                k = 0;
                apex_[0] = q;
                height_[0] = fq;
                from_[0] = -kInf;
                continue;
            }
            // Pop the parabolas that the new one hides; from_[0] = -inf stops at the first. The
            // intersection with parabola v is s = (f_q - f_v) / (2w (q - v)) + (q + v) / 2 (this
            // form keeps float32 precision, f + w q^2 would lose it on long lines); the pop test
            // s <= from_v is made without the division, which is paid once, for the survivor.
            int v = apex_[k];
            float fv = height_[k];
            while ((fq - fv) * inv_2w <= (from_[k] - 0.5f * float(q + v)) * float(q - v)) {
                k--;
                v = apex_[k];
                fv = height_[k];
            }
            const float s = (fq - fv) * inv_2w / float(q - v) + 0.5f * float(q + v);
            k++;
            apex_[k] = q;
            height_[k] = fq;
            from_[k] = s;
        }
        if (k < 0) {
            std::fill(d, d + n, kInf);
            return;
        }
        from_[k + 1] = kInf;
        int j = 0;
        for (int q = 0; q < n; q++) {
            while (from_[j + 1] < float(q)) j++;
            const float dq = float(q - apex_[j]);
            d[q] = w * dq * dq + height_[j];
        }
    }

private:
    std::vector<int> apex_;     // abscissa of the k-th parabola of the envelope
    std::vector<float> height_; // its f value
    std::vector<float> from_;   // where it starts to be the lowest
};

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
void scan_x(const uint8_t *mask, ptrdiff_t ms, int X, uint8_t feature, double wx, float *out) {
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
    std::vector<float> row(X), slice(size_t(X) * Y), line(Y);
    Envelope env(Y);
    const halide_dimension_t *od = out->dim;
    const ptrdiff_t mx = mask->dim[0].stride, oy = od[1].stride;
    for (int n = od[4].min; n < od[4].min + od[4].extent; n++) {
        for (int j = od[3].min; j < od[3].min + od[3].extent; j++) {
            const int c = j / sides;
            const uint8_t feature = (side0 + j % sides) == 0 ? 0 : 1;  // side 0: voxels outside
            for (int z = od[2].min; z < od[2].min + od[2].extent; z++) {
                for (int y = 0; y < Y; y++) {
                    scan_x(at<uint8_t>(mask, 0, y, z, c, n), mx, X, feature, wx, row.data());
                    for (int x = 0; x < X; x++) slice[size_t(x) * Y + y] = row[x];
                }
                for (int x = 0; x < X; x++) {
                    float *col = &slice[size_t(x) * Y];
                    if (Y > 1) {
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
    std::vector<float> gathered(size_t(kBlock) * Z), solved(size_t(kBlock) * Z);
    Envelope env(Z);
    for (int n = lo[4]; n < hi[4]; n++) {
        for (int j = lo[3]; j < hi[3]; j++) {
            for (int y = lo[1]; y < hi[1]; y++) {
                for (int x0 = lo[0]; x0 < hi[0]; x0 += kBlock) {
                    const int bx = std::min(kBlock, hi[0] - x0);
                    const float *src = at<const float>(in, x0, y, 0, j, n);
                    float *dst = at<float>(out, x0, y, 0, j, n);
                    transpose_block(src, iz, ix, bx, Z, gathered.data(), Z);
                    for (int i = 0; i < bx; i++) env.solve(&gathered[size_t(i) * Z], &solved[size_t(i) * Z], Z, wz);
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
