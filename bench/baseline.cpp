// SPDX-License-Identifier: Apache-2.0
#include "baseline.h"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <thread>

namespace segloss::bench {
namespace {

// Runs f(n, v_begin, v_end, slot) over (image, block of voxels) tasks on `threads` threads.
template <typename F>
void parallel_blocks(const Shape &s, int threads, F &&f) {
    const int64_t blocks = 64, per = (s.V + blocks - 1) / blocks;
    std::vector<std::thread> pool;
    for (int t = 0; t < threads; t++) {
        pool.emplace_back([&, t] {
            for (int64_t task = t; task < s.N * blocks; task += threads) {
                const int64_t n = task / blocks, b = task % blocks;
                f(n, b * per, std::min(s.V, (b + 1) * per), task);
            }
        });
    }
    for (auto &th : pool) th.join();
}

void softmax_at(const Shape &s, const float *x, int64_t n, int64_t v, float *p) {
    float m = x[(n * s.C) * s.V + v];
    for (int64_t c = 1; c < s.C; c++) m = std::max(m, x[(n * s.C + c) * s.V + v]);
    float sum = 0;
    for (int64_t c = 0; c < s.C; c++) sum += (p[c] = std::exp(x[(n * s.C + c) * s.V + v] - m));
    for (int64_t c = 0; c < s.C; c++) p[c] /= sum;
}

}  // namespace

double plain_ce(const Shape &s, const float *x, const int32_t *labels, float *grad, int threads) {
    std::vector<double> partial(s.N * 64, 0.0);
    const float inv = 1.0f / float(s.N * s.V);
    parallel_blocks(s, threads, [&](int64_t n, int64_t v0, int64_t v1, int64_t task) {
        std::vector<float> p(s.C);
        double acc = 0;
        for (int64_t v = v0; v < v1; v++) {
            softmax_at(s, x, n, v, p.data());
            const int32_t y = labels[n * s.V + v];
            acc -= std::log(p[y]);
            if (grad) {
                for (int64_t c = 0; c < s.C; c++) grad[(n * s.C + c) * s.V + v] = (p[c] - (c == y)) * inv;
            }
        }
        partial[task] = acc;
    });
    double total = 0;
    for (double t : partial) total += t;
    return total * inv;
}

double plain_dice(const Shape &s, const float *x, const int32_t *labels, float *grad, int threads) {
    // Pass 1: I, P, G per (n, c) block partials.
    std::vector<double> part(s.N * 64 * s.C * 3, 0.0);
    parallel_blocks(s, threads, [&](int64_t n, int64_t v0, int64_t v1, int64_t task) {
        std::vector<float> p(s.C);
        double *acc = &part[task * s.C * 3];
        for (int64_t v = v0; v < v1; v++) {
            softmax_at(s, x, n, v, p.data());
            const int32_t y = labels[n * s.V + v];
            for (int64_t c = 0; c < s.C; c++) {
                acc[c * 3 + 0] += p[c] * (c == y);
                acc[c * 3 + 1] += p[c];
                acc[c * 3 + 2] += (c == y);
            }
        }
    });
    std::vector<double> dI(s.N * s.C), dP(s.N * s.C);
    double loss = 0;
    const double groups = double(s.N * s.C);
    for (int64_t n = 0; n < s.N; n++) {
        for (int64_t c = 0; c < s.C; c++) {
            double I = 0, P = 0, G = 0;
            for (int64_t b = 0; b < 64; b++) {
                const double *a = &part[((n * 64 + b) * s.C + c) * 3];
                I += a[0], P += a[1], G += a[2];
            }
            const double num = 2 * I + 1e-5, den = P + G + 1e-5;
            loss += 1 - num / den;
            dI[n * s.C + c] = -2 / den / groups;
            dP[n * s.C + c] = num / (den * den) / groups;
        }
    }
    if (grad) {
        // Pass 2: dL/dx_c = p_c (a_c - sum_k p_k a_k), a_c = dI g_c + dP.
        parallel_blocks(s, threads, [&](int64_t n, int64_t v0, int64_t v1, int64_t) {
            std::vector<float> p(s.C), a(s.C);
            for (int64_t v = v0; v < v1; v++) {
                softmax_at(s, x, n, v, p.data());
                const int32_t y = labels[n * s.V + v];
                float dot = 0;
                for (int64_t c = 0; c < s.C; c++) {
                    a[c] = float(dI[n * s.C + c] * (c == y) + dP[n * s.C + c]);
                    dot += p[c] * a[c];
                }
                for (int64_t c = 0; c < s.C; c++) grad[(n * s.C + c) * s.V + v] = p[c] * (a[c] - dot);
            }
        });
    }
    return loss / groups;
}

double plain_stream(const Shape &s, const float *x, const int32_t *labels, float *grad, int threads,
                    bool two_pass) {
    std::vector<double> partial(s.N * 64, 0.0);
    if (two_pass || !grad) {
        parallel_blocks(s, threads, [&](int64_t n, int64_t v0, int64_t v1, int64_t task) {
            // An integer sum of the bits: it vectorises without reassociating float adds.
            uint32_t acc = 0;
            for (int64_t c = 0; c < s.C; c++) {
                const float *xc = x + (n * s.C + c) * s.V;
                for (int64_t v = v0; v < v1; v++) {
                    uint32_t b;
                    std::memcpy(&b, xc + v, 4);
                    acc += b;
                }
            }
            for (int64_t v = v0; v < v1; v++) acc += uint32_t(labels[n * s.V + v]);
            partial[task] = double(acc);
        });
    }
    if (grad) {
        parallel_blocks(s, threads, [&](int64_t n, int64_t v0, int64_t v1, int64_t) {
            const int32_t *__restrict y = labels + n * s.V;
            for (int32_t c = 0; c < int32_t(s.C); c++) {  // int32: SSE2 has no 64-bit compare
                const float *__restrict xc = x + (n * s.C + c) * s.V;
                float *__restrict gc = grad + (n * s.C + c) * s.V;
                for (int64_t v = v0; v < v1; v++) gc[v] = xc[v] + float(y[v] == c);
            }
        });
    }
    double total = 0;
    for (double t : partial) total += t;
    return total;
}

}  // namespace segloss::bench
