// SPDX-License-Identifier: Apache-2.0
#include "phantom.h"

#include <random>

namespace segloss::cli {
namespace {

struct Ellipsoid {
    double cz, cy, cx, rz, ry, rx;
    int32_t label;
};

int32_t label_at(const std::vector<Ellipsoid> &es, double z, double y, double x) {
    int32_t l = 0;
    for (const Ellipsoid &e : es) {  // later ellipsoids are drawn over earlier ones
        const double dz = (z - e.cz) / e.rz, dy = (y - e.cy) / e.ry, dx = (x - e.cx) / e.rx;
        if (dz * dz + dy * dy + dx * dx <= 1) l = e.label;
    }
    return l;
}

}  // namespace

Phantom make_phantom(int64_t N, int64_t C, int64_t D, int64_t H, int64_t W, uint32_t seed) {
    Phantom p{N, C, D, H, W, {}, {}};
    std::mt19937 rng(seed);
    std::uniform_real_distribution<double> u(0, 1);
    std::normal_distribution<float> noise(0.0f, 1.5f);
    const int64_t V = D * H * W;
    p.labels.resize(N * V);
    p.logits.resize(N * C * V);
    for (int64_t n = 0; n < N; n++) {
        // One ellipsoid per foreground class, a thin one for the last class.
        std::vector<Ellipsoid> es;
        for (int32_t c = 1; c < C; c++) {
            const bool thin = c == C - 1;
            es.push_back({D * (0.3 + 0.4 * u(rng)), H * (0.3 + 0.4 * u(rng)), W * (0.3 + 0.4 * u(rng)),
                          D * (thin ? 0.05 : 0.12 + 0.15 * u(rng)), H * (0.12 + 0.15 * u(rng)),
                          W * (0.12 + 0.15 * u(rng)), c});
        }
        const double shift = 2.0;  // the "prediction" is the phantom shifted by two voxels
        for (int64_t z = 0; z < D; z++) {
            for (int64_t y = 0; y < H; y++) {
                for (int64_t x = 0; x < W; x++) {
                    const int64_t v = (z * H + y) * W + x;
                    p.labels[n * V + v] = label_at(es, z, y, x);
                    const int32_t pred = label_at(es, z + shift, y + shift, x);
                    for (int64_t c = 0; c < C; c++) {
                        p.logits[(n * C + c) * V + v] = (c == pred ? 4.0f : 0.0f) + noise(rng);
                    }
                }
            }
        }
    }
    return p;
}

}  // namespace segloss::cli
