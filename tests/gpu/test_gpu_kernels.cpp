// SPDX-License-Identifier: Apache-2.0
// Every GPU kernel (cmake/kernels.cmake rows marked GPU, one library per API) against the CPU
// kernel of the same row on the same random inputs: odd shapes, 1-D to 3-D grids, strided and
// broadcast inputs, ignored voxels, selections, and every option the kernel reads. The GPU and
// CPU kernels add the same terms in the same order (generators/common/sums.h), so they differ
// only by the device's float32 math (exp/log, FMA contraction): float32 tolerances. Each GPU
// kernel also runs twice and must give the same bits (no atomics, fixed-order sums).
//
// An API whose driver or device is missing is skipped with a visible message, never failed:
// the CI has no GPU (it runs the OpenCL set on pocl, a CPU OpenCL), and neither has a laptop.
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <functional>
#include <map>
#include <memory>
#include <random>
#include <string>
#include <vector>

#include <catch2/catch.hpp>

#include "HalideBuffer.h"
#include "generators/common/abi.h"
#include "generators/common/topk_state.h"
#include "gpu_kernel_headers.h"
#include "kernel_headers.h"
#include "tests/support/halide_device.h"

namespace {

using Halide::Runtime::Buffer;

// One row of the GPU table, with its CPU twin.
struct Row {
    std::string api, stage, name;
    void *gpu, *cpu;
};

const std::vector<Row> &rows() {
    static const std::vector<Row> table = {
#define SEGLOSS_GPU_KERNEL(api, stage, name, act, kind) \
    {#api, #stage, #name, reinterpret_cast<void *>(&name##_##api), reinterpret_cast<void *>(&name)},
#include "gpu_kernels.inc"
#undef SEGLOSS_GPU_KERNEL
    };
    return table;
}

const halide_device_interface_t *interface_of(const std::string &api) {
    return segloss::test::device_interface_of(api);
}

// Halide's default error handler aborts; a kernel's error must be a test failure (its status),
// and a missing driver a skip (its messages are not printed).
bool g_probing = false;
void record_error(void *, const char *msg) {
    if (!g_probing) std::printf("halide: %s\n", msg);
}

// Whether the API has a driver and a device here: a small allocation on it.
bool api_available(const std::string &api) {
    static std::map<std::string, bool> known;
    halide_set_error_handler(record_error);
    auto it = known.find(api);
    if (it != known.end()) return it->second;
    Buffer<float> probe(16);
    g_probing = true;
    const bool ok = probe.device_malloc(interface_of(api)) == 0;
    g_probing = false;
    if (!ok) {
        std::printf("SKIPPED: no %s driver or device on this machine; its GPU kernels are not run\n", api.c_str());
    }
    known[api] = ok;
    return ok;
}

// The shapes: (X, Y, Z, C, N) with odd extents, and a layout of the logits.
enum class Layout { Dense, StridedX, ChannelsLast };
struct Shape {
    int X, Y, Z, C, N;
    Layout layout;
};
const Shape kShapes[] = {
    {37, 5, 3, 3, 2, Layout::Dense},       // 3-D, x not a multiple of the 16 sum lanes
    {70, 9, 1, 4, 1, Layout::StridedX},    // 2-D, every other x of a wider tensor
    {17, 1, 1, 5, 3, Layout::ChannelsLast},// 1-D, channels-last (x stride C)
    {64, 65, 2, 2, 1, Layout::Dense},      // more lines than a block (64) of a line kernel
};

// A float buffer (x, y, z, c, n) in the given layout, random in [lo, hi], with a few values at
// `large` and one NaN.
Buffer<float> logits_buffer(const Shape &s, Layout layout, std::mt19937 &rng, float lo, float hi, float large,
                            std::vector<float> &storage) {
    std::uniform_real_distribution<float> u(lo, hi);
    const int pad = layout == Layout::StridedX ? 2 : 1;
    storage.assign(size_t(pad) * s.X * s.Y * s.Z * s.C * s.N, 0.0f);
    for (float &f : storage) f = u(rng);
    halide_dimension_t d[5];
    if (layout == Layout::ChannelsLast) {
        d[3] = {0, s.C, 1, 0};
        d[0] = {0, s.X, s.C, 0};
    } else {
        d[0] = {0, s.X, pad, 0};
        d[3] = {0, s.C, pad * s.X * s.Y * s.Z, 0};
    }
    d[1] = {0, s.Y, d[0].stride * s.X, 0};
    d[2] = {0, s.Z, d[1].stride * s.Y, 0};
    if (layout == Layout::ChannelsLast) d[1].stride = s.C * s.X, d[2].stride = s.C * s.X * s.Y;
    d[4] = {0, s.N, pad * s.X * s.Y * s.Z * s.C, 0};
    // A few large and non-finite logits, where the softmax and the NaN count are tested.
    for (int k = 0; k < 3; k++) storage[rng() % storage.size()] = large;
    storage[rng() % storage.size()] = NAN;
    return Buffer<float>(storage.data(), 5, d);
}

// Index labels (x, y, z, n) in [0, C), some ignore_index (C + 2) and, when asked, some labels
// out of range.
template <typename T>
Buffer<T> index_labels(const Shape &s, std::mt19937 &rng, bool out_of_range) {
    Buffer<T> b(s.X, s.Y, s.Z, s.N);
    b.for_each_value([&](T &v) {
        const uint32_t r = rng() % 100;
        v = static_cast<T>(r < 5 ? s.C + 2 : (out_of_range && r < 8) ? s.C + 5 : int(rng() % s.C));
    });
    return b;
}

// A dense target map (x, y, z, c, n): one-hot rows, soft rows, and (when asked) values outside
// [0, 1].
Buffer<float> dense_targets(const Shape &s, std::mt19937 &rng, bool out_of_range) {
    Buffer<float> b(s.X, s.Y, s.Z, s.C, s.N);
    std::uniform_real_distribution<float> u(0.0f, 1.0f);
    b.for_each_value([&](float &v) { v = u(rng) < 0.5f ? 0.0f : u(rng); });
    if (out_of_range) b(0, 0, 0, 0, 0) = 1.5f;
    return b;
}

// A loss mask (x, y, z, n): random weights with zeros, or the runtime's "no mask" (one line of
// ones broadcast with zero strides).
Buffer<float> loss_mask(const Shape &s, std::mt19937 &rng, bool broadcast, std::vector<float> &storage) {
    if (broadcast) {
        storage.assign(size_t(s.X), 1.0f);
        halide_dimension_t d[4] = {{0, s.X, 1, 0}, {0, s.Y, 0, 0}, {0, s.Z, 0, 0}, {0, s.N, 0, 0}};
        return Buffer<float>(storage.data(), 4, d);
    }
    Buffer<float> b(s.X, s.Y, s.Z, s.N);
    std::uniform_real_distribution<float> u(0.0f, 1.0f);
    b.for_each_value([&](float &v) { v = u(rng) < 0.2f ? 0.0f : u(rng); });
    storage.clear();
    return b;
}

std::string hex_or_exact(double v) {
    char b[40];
    std::snprintf(b, sizeof b, "%.17g", v);
    return b;
}

// |gpu - cpu| within float32 tolerances, elementwise; NaN where the other is NaN.
template <typename T>
void require_close(const Buffer<T> &gpu, const Buffer<T> &cpu, double rel, double abs, const std::string &what) {
    REQUIRE(gpu.number_of_elements() == cpu.number_of_elements());
    int64_t bad = 0;
    std::string first;
    cpu.for_each_element([&](const int *pos) {
        const double a = double(gpu(pos)), b = double(cpu(pos));
        const bool ok = (std::isnan(a) && std::isnan(b)) || a == b || std::fabs(a - b) <= abs + rel * std::fabs(b);
        if (!ok && bad++ == 0) first = "gpu " + hex_or_exact(a) + " cpu " + hex_or_exact(b);
    });
    INFO(what << ": " << bad << " elements differ; first: " << first);
    CHECK(bad == 0);
}

template <typename T>
bool same_bits(const Buffer<T> &a, const Buffer<T> &b) {
    bool same = true;
    a.for_each_element([&](const int *pos) { same = same && std::memcmp(&a(pos), &b(pos), sizeof(T)) == 0; });
    return same;
}

// What the runtime passes for DLPack tensors in GPU memory: views with no host pointer that
// wrap the device allocation (halide_device_wrap_native, as halide_cuda_wrap_device_ptr does), so
// that a kernel can neither copy nor touch host memory. With no interface: the host buffers
// themselves (Halide copies them to the device and back).
class DeviceArgs {
public:
    explicit DeviceArgs(const halide_device_interface_t *itf) : itf_(itf) {}
    DeviceArgs(const DeviceArgs &) = delete;
    ~DeviceArgs() {
        for (auto &v : views_) halide_device_detach_native(nullptr, v.get());
    }
    template <typename T>
    halide_buffer_t *in(Buffer<T> &b) {
        if (!itf_) return b.raw_buffer();
        REQUIRE(b.copy_to_device(itf_) == 0);
        return wrap(b);
    }
    template <typename T>
    halide_buffer_t *out(Buffer<T> &b) {
        if (!itf_) return b.raw_buffer();
        REQUIRE(b.device_malloc(itf_) == 0);
        b.set_device_dirty();  // the kernel writes the device memory: copy_to_host brings it back
        return wrap(b);
    }

private:
    template <typename T>
    halide_buffer_t *wrap(Buffer<T> &b) {
        auto v = std::make_unique<halide_buffer_t>();
        REQUIRE(segloss::test::wrap_device_view(b.raw_buffer(), itf_, v.get()) == 0);
        views_.push_back(std::move(v));
        return views_.back().get();
    }
    const halide_device_interface_t *itf_;
    std::vector<std::unique_ptr<halide_buffer_t>> views_;
};

// Runs `call` (a kernel on fresh outputs, its buffers through DeviceArgs) on the CPU, then on
// the GPU with host buffers and again on wrapped device memory: the GPU within tolerance of the
// CPU, and its two runs the same bits (a deterministic kernel that reads and writes the caller's
// device memory as Halide's own copies).
template <typename Outputs>
void check_kernel(const Row &row, const std::function<Outputs(void *, DeviceArgs &)> &call,
                  const std::function<void(const Outputs &, const Outputs &, const std::string &)> &compare,
                  const std::function<bool(const Outputs &, const Outputs &)> &bitwise) {
    auto run = [&](void *fn, const halide_device_interface_t *itf) {
        DeviceArgs args(itf);
        return call(fn, args);
    };
    Outputs cpu = run(row.cpu, nullptr);
    Outputs gpu = run(row.gpu, nullptr);
    Outputs wrapped = run(row.gpu, interface_of(row.api));
    compare(gpu, cpu, row.name + " (" + row.api + ")");
    INFO(row.name << " (" << row.api << "): the run on wrapped device memory differs from the first GPU run");
    CHECK(bitwise(gpu, wrapped));
}

using LabelStats = decltype(&label_stats_i32);
using PwValue = decltype(&ce_softmax_i32_value);
using PwGrad = decltype(&ce_softmax_i32_grad);
using PwMap = decltype(&ce_softmax_i32_map);
using PwNorm = decltype(&pointwise_norm);
using PwTotal = decltype(&pointwise_total);
using Convert = decltype(&convert_f16_to_f32);
using RegionStats = decltype(&region_stats_softmax_i32);
using CompoundStats = decltype(&compound_stats_softmax_i32);
using RegionGrad = decltype(&region_grad_softmax_i32);
using CompoundGrad = decltype(&compound_grad_softmax_i32);
using Epilogue = decltype(&region_epilogue);
using ValueStore = decltype(&value_store_f32);
using Distance = decltype(&distance_i32);
using BoundaryLoss = decltype(&boundary_loss_softmax_i32);
using TopkHist = decltype(&topk_hist);
using TopkCut = decltype(&topk_cut);
using TopkTie = decltype(&topk_tie);
using TopkMark = decltype(&topk_mark);
using TopkPartInverse = decltype(&topk_part_inverse);
using TopkPartWeights = decltype(&topk_part_weights);
using TopkPartTotal = decltype(&topk_part_total);
using BoundaryCoef = decltype(&boundary_coef);
using BoundaryTotal = decltype(&boundary_total);

// The options of a pointwise pass: one set per run of a shape.
struct PointwiseOptions {
    float gamma, log_power, smoothing;
    bool select;  // TopK-style selection by keys
};
const PointwiseOptions kOptions[] = {{0, 1, 0, false}, {2, 1, 0.1f, true}, {0, 0.5f, 0, false}};

struct Inputs {
    Shape s;
    std::vector<float> logit_storage, mask_storage;
    Buffer<float> logits, mask, alpha_pos, alpha_neg, key;
    Buffer<int32_t> labels_i32;
    Buffer<uint8_t> labels_u8;
    Buffer<float> labels_f32;
    // Halide copies an input to the device only when its host side is marked as changed.
    void dirty() {
        for (Buffer<float> *b : {&logits, &mask, &alpha_pos, &alpha_neg, &key, &labels_f32}) b->set_host_dirty();
        labels_i32.set_host_dirty();
        labels_u8.set_host_dirty();
    }
    halide_buffer_t *labels(const std::string &name, DeviceArgs &d) {
        if (name.find("_u8") != std::string::npos) return d.in(labels_u8);
        if (name.find("_f32") != std::string::npos) return d.in(labels_f32);
        return d.in(labels_i32);
    }
};

// probabilities: the identity activation's input (probabilities, some exactly 1), else logits
// (some large).
Inputs make_inputs(const Shape &s, uint32_t seed, bool broadcast_mask, bool bad_labels, bool probabilities) {
    std::mt19937 rng(seed);
    Inputs in;
    in.s = s;
    in.logits = probabilities ? logits_buffer(s, s.layout, rng, 0.001f, 1.0f, 1.0f, in.logit_storage)
                              : logits_buffer(s, s.layout, rng, -6.0f, 6.0f, 40.0f, in.logit_storage);
    in.mask = loss_mask(s, rng, broadcast_mask, in.mask_storage);
    in.labels_i32 = index_labels<int32_t>(s, rng, bad_labels);
    in.labels_u8 = index_labels<uint8_t>(s, rng, bad_labels);
    in.labels_f32 = dense_targets(s, rng, bad_labels);
    std::uniform_real_distribution<float> u(0.2f, 2.0f);
    in.alpha_pos = Buffer<float>(s.C);
    in.alpha_neg = Buffer<float>(s.C);
    in.alpha_pos.for_each_value([&](float &v) { v = u(rng); });
    in.alpha_neg.for_each_value([&](float &v) { v = u(rng); });
    in.key = Buffer<float>(s.X, s.Y, s.Z, s.N);
    in.key.for_each_value([&](float &v) { v = float(rng() % 8); });  // ties at the cut
    return in;
}

// A kernel's outputs, float32 and float64.
struct Outs {
    std::vector<Buffer<float>> f;
    std::vector<Buffer<double>> d;
};

Outs to_host(Outs o) {
    for (auto &b : o.f) b.copy_to_host();
    for (auto &b : o.d) b.copy_to_host();
    return o;
}

bool same_outputs(const Outs &x, const Outs &y) {
    bool same = true;
    for (size_t i = 0; i < x.f.size(); i++) same = same && same_bits(x.f[i], y.f[i]);
    for (size_t i = 0; i < x.d.size(); i++) same = same && same_bits(x.d[i], y.d[i]);
    return same;
}

// float32 outputs within rel_f (abs_f); float64 outputs (sums of float32 terms, or the
// epilogue's float64 arithmetic) within rel_d.
std::function<void(const Outs &, const Outs &, const std::string &)> close_within(double rel_f, double abs_f,
                                                                                   double rel_d) {
    return [=](const Outs &g, const Outs &c, const std::string &w) {
        for (size_t i = 0; i < c.f.size(); i++) require_close(g.f[i], c.f[i], rel_f, abs_f, w + " float output " + std::to_string(i));
        for (size_t i = 0; i < c.d.size(); i++) require_close(g.d[i], c.d[i], rel_d, rel_d, w + " double output " + std::to_string(i));
    };
}

// The region epilogue on the group sums of this shape's inputs (the CPU statistics pass), for
// every base loss and transform, with and without batch, background, the mean, empty groups
// dropped and a pointwise part.
void check_epilogue(const Row &row, Inputs &in, const PointwiseOptions &o) {
    const Shape &s = in.s;
    Buffer<double> stats(segloss::abi::kNumRegionStats, s.C, s.N);
    REQUIRE(compound_stats_softmax_i32(nullptr, in.logits, in.labels_i32, 1, s.C + 2, in.mask, 1, o.gamma, o.log_power,
                                       o.smoothing, stats) == 0);
    for (int base = 0; base <= 4; base++) {
        for (int variant = 0; variant < 4; variant++) {
            using namespace segloss::abi;
            Buffer<float> options(kNumRegionOptions);
            options.fill(0.0f);
            options(kOptBase) = float(base);
            options(kOptTransform) = float((base + variant) % 5);
            options(kOptSmoothNr) = options(kOptSmoothDr) = 1e-5f;
            options(kOptIncludeBackground) = float(variant & 1);
            options(kOptBatch) = float(variant >> 1);
            options(kOptSquaredPred) = float(variant == 2);
            options(kOptReduction) = float(variant == 3 ? kReduceSum : kReduceMean);
            options(kOptExcludeEmpty) = float(variant == 1);
            options(kOptAlpha) = 0.3f, options(kOptBeta) = 0.7f, options(kOptR) = 0.05f;
            options(kOptGamma) = 0.75f, options(kOptPenaltyK) = 2.5f;
            options(kOptGdWeight) = float(variant % 3);
            options(kOptLambdaRegion) = 1.0f;
            options(kOptLambdaPointwise) = variant >= 2 ? 0.5f : 0.0f;
            options(kOptPwNorm) = float(variant % 3);
            options(kOptPwClassWeights) = float(base % 3);
            INFO("epilogue base " << base << " variant " << variant);
            check_kernel<Outs>(
                row,
                [&](void *fn, DeviceArgs &d) {
                    for (Buffer<float> *b : {&options, &in.alpha_pos, &in.alpha_neg}) b->set_host_dirty();
                    stats.set_host_dirty();
                    Outs r{{Buffer<float>(segloss::abi::kNumRegionCoefs, s.C, s.N)},
                           {Buffer<double>(s.C, s.N), Buffer<double>(1)}};
                    // The loss's options and weights are host buffers (the runtime's parameters,
                    // not device data; the epilogue reads some on the host to skip stages).
                    const int err = reinterpret_cast<Epilogue>(fn)(nullptr, d.in(stats), in.alpha_pos, options,
                                                                   in.alpha_pos, in.alpha_neg, 0.37f, d.out(r.d[0]),
                                                                   d.out(r.d[1]), d.out(r.f[0]));
                    REQUIRE(err == 0);
                    return to_host(r);
                },
                // float64 within 1e-7: the device's double cosh (log_cosh_dice) differs from
                // glibc's by ~1e-8 relative on pocl.
                close_within(1e-5, 1e-6, 1e-7), same_outputs);
        }
    }
}

// Index labels for the distance kernels: structures, not noise. A ball of class 1, a plane of
// class 2 one voxel thin (a line in 2-D), background elsewhere, classes from 3 on absent
// (empty masks), ignored voxels (in no mask); the last image of a batch all class 1 (a full
// mask and an empty background).
template <typename T>
Buffer<T> structured_labels(const Shape &s, std::mt19937 &rng) {
    Buffer<T> b(s.X, s.Y, s.Z, s.N);
    b.for_each_element([&](int x, int y, int z, int n) {
        const double cx = x - s.X / 2.0, cy = y - s.Y / 2.0, cz = z - s.Z / 2.0;
        int v = cx * cx + cy * cy + cz * cz < s.X * s.X / 16.0 ? 1 : (y == s.Y / 3 && s.C > 2) ? 2 : 0;
        if (n == s.N - 1 && s.N > 1) {
            v = 1;
        } else if (rng() % 20 == 0) {
            v = s.C + 2;
        }
        b(x, y, z, n) = static_cast<T>(v);
    });
    return b;
}

// The distance kernels (the maps, DPCE's collapsed weights times a loss mask) on index maps,
// dense maps or logits: every map kind, with and without the background and the degenerate-mask policy,
// anisotropic spacing. Squared distances are the same candidates' minimum on both sides (the
// GPU's brute force against the CPU's lower envelope), so float32 rounding apart.
void check_distance(const Row &row, Inputs &in) {
    const Shape &s = in.s;
    const bool collapse = row.stage == "dpce_weight";
    const bool index = row.name.find("_f32") == std::string::npos;
    const bool dense = row.name.find("_identity_") != std::string::npos;
    std::mt19937 rng(s.X * 31 + s.C);
    Buffer<int32_t> labels_i32 = structured_labels<int32_t>(s, rng);
    Buffer<uint8_t> labels_u8(s.X, s.Y, s.Z, s.N);
    labels_u8.for_each_element([&](const int *p) { labels_u8(p) = static_cast<uint8_t>(labels_i32(p)); });
    using namespace segloss::abi;
    const int kinds[] = {kDistanceEdt, kDistanceEdtComplement, kDistanceSigned, kDistanceBoundary, kDistanceSurface};
    std::vector<int> run_kinds(collapse ? std::vector<int>{kDistanceDpce} : std::vector<int>(std::begin(kinds), std::end(kinds)));
    for (int kind : run_kinds) {
        for (int variant = 0; variant < (collapse ? 2 : 3); variant++) {
            const int first = collapse ? 0 : variant % 2;
            const int zero_degenerate = collapse || variant == 2 ? 1 : 0;
            const float sx = variant == 1 ? 1.0f : 0.8f, sy = variant == 1 ? 1.0f : 1.25f, sz = 2.0f;
            const int K = collapse ? 1 : s.C - first;
            INFO("distance kind " << kind << " first class " << first << " zero_degenerate " << zero_degenerate);
            check_kernel<Outs>(
                row,
                [&](void *fn, DeviceArgs &d) {
                    labels_i32.set_host_dirty();
                    labels_u8.set_host_dirty();
                    in.dirty();
                    Outs r{{Buffer<float>(s.X, s.Y, s.Z, K, s.N)}, {}};
                    Buffer<int32_t> flags(K, s.N), invalid(s.N);
                    halide_buffer_t *source = !index ? (dense ? d.in(in.labels_f32) : d.in(in.logits))
                                              : row.name.find("_u8") != std::string::npos ? d.in(labels_u8)
                                                                                         : d.in(labels_i32);
                    const int err = reinterpret_cast<Distance>(fn)(nullptr, source, s.C, first, 1, s.C + 2, sx, sy, sz,
                                                                   kind, zero_degenerate, d.in(in.mask), d.out(r.f[0]),
                                                                   d.out(flags),
                                                                   d.out(invalid));
                    REQUIRE(err == 0);
                    // The integer outputs as floats (exact), compared like the map.
                    flags.copy_to_host();
                    invalid.copy_to_host();
                    r.f.emplace_back(K, s.N);
                    r.f.back().for_each_element([&](int k, int n) { r.f.back()(k, n) = float(flags(k, n)); });
                    r.f.emplace_back(s.N);
                    r.f.back().for_each_element([&](int n) { r.f.back()(n) = float(invalid(n)); });
                    r.f[0].copy_to_host();
                    return r;
                },
                close_within(1e-5, 1e-5, 0.0), same_outputs);
        }
    }
}

// TopK's device select, stage by stage, each on the CPU twin's outputs of the stages before it:
// keys with many ties, -1 marks, -0, NaN, every k from one key to all and the threshold mode.
void check_topk(const Row &row, Inputs &in) {
    const Shape &s = in.s;
    std::mt19937 rng(31);
    Buffer<float> keys(s.X, s.Y, s.Z, s.N);
    keys.for_each_value([&](float &k) {
        const uint32_t r = rng() % 20;
        k = r == 0 ? -1.0f : r == 1 ? -0.0f : 0.25f * float(rng() % 12);
    });
    keys(0, 0, 0, 0) = NAN;
    using namespace segloss::abi;
    const int V = s.X * s.Y * s.Z * s.N;
    for (double k : {0.01, 10.0, 50.0, 100.0, 0.0}) {
        const int threshold = k == 0.0;
        // The CPU chain, for the inputs of each stage.
        Buffer<int32_t> zero(kTopkStateSize), hist0(kTopkHistSize), hist1(kTopkHistSize), st0(kTopkStateSize),
            st1(kTopkStateSize), st2(kTopkStateSize);
        zero.fill(0);
        auto settle = [&](Buffer<float> &kk, Buffer<int32_t> &h0, Buffer<int32_t> &h1, Buffer<int32_t> &s0,
                          Buffer<int32_t> &s1, Buffer<int32_t> &s2) {
            REQUIRE(topk_hist(nullptr, kk, zero, 0, h0) == 0);
            REQUIRE(topk_cut(nullptr, h0, zero, 0, threshold, k, V, s0) == 0);
            REQUIRE(topk_hist(nullptr, kk, s0, 1, h1) == 0);
            REQUIRE(topk_cut(nullptr, h1, s0, 1, threshold, k, V, s1) == 0);
            REQUIRE(topk_tie(nullptr, kk, s1, s2) == 0);
        };
        settle(keys, hist0, hist1, st0, st1, st2);
        INFO("k " << k);
        auto ints = [](const Buffer<int32_t> &b) {
            Buffer<float> f(b.dim(0).extent());
            f.for_each_element([&](int i) { f(i) = float(b(i)); });
            return f;
        };
        const auto exact = close_within(0.0, 0.0, 0.0);
        auto run_ints = [&](int extent, const std::function<int(void *, DeviceArgs &, Buffer<int32_t> &)> &call) {
            check_kernel<Outs>(
                row,
                [&](void *fn, DeviceArgs &d) {
                    for (Buffer<int32_t> *b : {&zero, &hist0, &hist1, &st0, &st1, &st2}) b->set_host_dirty();
                    keys.set_host_dirty();
                    Buffer<int32_t> out(extent);
                    REQUIRE(call(fn, d, out) == 0);
                    out.copy_to_host();
                    return Outs{{ints(out)}, {}};
                },
                exact, same_outputs);
        };
        const std::string &st = row.stage;
        if (st == "topk_hist") {
            for (int level : {0, 1}) {
                run_ints(kTopkHistSize, [&](void *fn, DeviceArgs &d, Buffer<int32_t> &out) {
                    return reinterpret_cast<TopkHist>(fn)(nullptr, d.in(keys), d.in(level ? st0 : zero), level, d.out(out));
                });
            }
        } else if (st == "topk_cut") {
            for (int level : {0, 1}) {
                run_ints(kTopkStateSize, [&](void *fn, DeviceArgs &d, Buffer<int32_t> &out) {
                    return reinterpret_cast<TopkCut>(fn)(nullptr, d.in(level ? hist1 : hist0), d.in(level ? st0 : zero),
                                                         level, threshold, k, V, d.out(out));
                });
            }
        } else if (st == "topk_tie") {
            run_ints(kTopkStateSize, [&](void *fn, DeviceArgs &d, Buffer<int32_t> &out) {
                return reinterpret_cast<TopkTie>(fn)(nullptr, d.in(keys), d.in(st1), d.out(out));
            });
        } else if (st == "topk_part_inverse") {
            // Inverse-frequency weights from random G (class 1 absent), against the formula.
            Buffer<double> stats(kNumRegionStats, s.C, s.N);
            std::uniform_real_distribution<double> u(0.0, 1000.0);
            stats.for_each_element([&](int slot, int c, int n) { stats(slot, c, n) = c == 1 ? 0.0 : u(rng); });
            std::vector<double> G(s.C, 0.0);
            double M = 0, present = 0;
            for (int c = 0; c < s.C; c++) {
                for (int n = 0; n < s.N; n++) G[c] += stats(kStatG, c, n);
                M += G[c];
                present += G[c] > 0 ? 1 : 0;
            }
            Buffer<float> cpu(s.C);
            REQUIRE(topk_part_inverse(nullptr, stats, cpu) == 0);
            for (int c = 0; c < s.C; c++) {
                INFO("class " << c);
                CHECK(cpu(c) == (G[c] > 0 ? float(M / (present * G[c])) : 0.0f));
            }
            check_kernel<Outs>(
                row,
                [&](void *fn, DeviceArgs &d) {
                    stats.set_host_dirty();
                    Outs r{{Buffer<float>(s.C)}, {}};
                    REQUIRE(reinterpret_cast<TopkPartInverse>(fn)(nullptr, d.in(stats), d.out(r.f[0])) == 0);
                    return to_host(r);
                },
                exact, same_outputs);
        } else if (st == "topk_part_weights") {
            // dice_topk's part: class weights times 1 / K (exact: one float32 product).
            Buffer<float> alpha_pos(s.C), alpha_neg(s.C), scale(1);
            alpha_pos.for_each_element([&](int c) { alpha_pos(c) = 0.5f + 0.25f * float(c); });
            alpha_neg.for_each_element([&](int c) { alpha_neg(c) = 2.0f - 0.125f * float(c); });
            scale(0) = 1.0f / 37.0f;
            check_kernel<Outs>(
                row,
                [&](void *fn, DeviceArgs &d) {
                    for (Buffer<float> *b : {&alpha_pos, &alpha_neg, &scale}) b->set_host_dirty();
                    Outs r{{Buffer<float>(s.C), Buffer<float>(s.C)}, {}};
                    REQUIRE(reinterpret_cast<TopkPartWeights>(fn)(nullptr, d.in(alpha_pos), d.in(alpha_neg),
                                                                  d.in(scale), d.out(r.f[0]), d.out(r.f[1])) == 0);
                    return to_host(r);
                },
                exact, same_outputs);
        } else if (st == "topk_part_total") {
            // The compound's total from the settled cut: keys without a NaN (a NaN key makes the
            // normaliser NaN: then the total is NaN, checked with norm NaN below).
            Buffer<float> finite(s.X, s.Y, s.Z, s.N);
            finite.for_each_element([&](int x, int y, int z, int n) {
                const float k = keys(x, y, z, n);
                finite(x, y, z, n) = std::isnan(k) ? 0.5f : k;
            });
            Buffer<int32_t> h0(kTopkHistSize), h1(kTopkHistSize), f0(kTopkStateSize), f1(kTopkStateSize),
                f2(kTopkStateSize);
            settle(finite, h0, h1, f0, f1, f2);
            // The selected keys' mean, from the formula (float64, any order).
            double sum = 0;
            float cut;
            const int32_t cut_bits = f2(kTopkCutBits);
            std::memcpy(&cut, &cut_bits, sizeof cut);
            int64_t linear = 0, picked = 0;
            finite.for_each_element([&](int x, int y, int z, int n) {
                const float key = finite(x, y, z, n);
                linear = x + int64_t(s.X) * (y + int64_t(s.Y) * (z + int64_t(s.Z) * n));
                if (key > cut || (key == cut && linear < f2(kTopkCutIndex))) {
                    sum += key;
                    picked++;
                }
            });
            CHECK(picked == f2(kTopkSelected));
            const double lambda = 1.5;
            const double norms[] = {double(f2(kTopkSelected)), 1.0, double(NAN)};
            // The CPU twin against the formula first (the device runs leave device state behind).
            for (double norm_value : norms) {
                Buffer<double> norm(1), base(1), total(1);
                norm(0) = norm_value;
                base(0) = 0.625;
                REQUIRE(topk_part_total(nullptr, finite, f2, norm, lambda, base, total) == 0);
                const double expected = base(0) + lambda * (norm_value > 0 ? sum / norm_value : 0.0);
                INFO("norm " << norm_value << " cpu " << total(0) << " formula " << expected);
                if (std::isnan(norm_value)) {
                    CHECK(std::isnan(total(0)));
                } else {
                    CHECK(std::abs(total(0) - expected) <= 1e-12 * std::abs(expected));
                }
            }
            for (double norm_value : norms) {
                Buffer<double> norm(1), base(1);
                norm(0) = norm_value;
                base(0) = 0.625;
                check_kernel<Outs>(
                    row,
                    [&](void *fn, DeviceArgs &d) {
                        finite.set_host_dirty();
                        f2.set_host_dirty();
                        norm.set_host_dirty();
                        base.set_host_dirty();
                        Outs r{{}, {Buffer<double>(1)}};
                        REQUIRE(reinterpret_cast<TopkPartTotal>(fn)(nullptr, d.in(finite), d.in(f2), d.in(norm), lambda,
                                                                    d.in(base), d.out(r.d[0])) == 0);
                        return to_host(r);
                    },
                    close_within(0.0, 0.0, 1e-12), same_outputs);
            }
        } else {
            Buffer<double> label_norm(1);
            label_norm(0) = 3.0;
            check_kernel<Outs>(
                row,
                [&](void *fn, DeviceArgs &d) {
                    keys.set_host_dirty();
                    st2.set_host_dirty();
                    label_norm.set_host_dirty();
                    Outs r{{Buffer<float>(s.X, s.Y, s.Z, s.N), Buffer<float>(1)}, {Buffer<double>(1)}};
                    REQUIRE(reinterpret_cast<TopkMark>(fn)(nullptr, d.in(keys), d.in(st2), d.in(label_norm), 1,
                                                           d.out(r.f[0]), d.out(r.d[0]), d.out(r.f[1])) == 0);
                    return to_host(r);
                },
                exact, same_outputs);
        }
    }
}

void check_row(const Row &row, Inputs &in, const PointwiseOptions &o) {
    const Shape &s = in.s;
    const int hi = 1, ii = s.C + 2;
    const float cut_value = o.select ? 3.0f : -1.0f;
    const int cut_index = o.select ? (s.X * s.Y * s.Z * s.N) / 2 : 0;
    // (A copy of a Buffer has its own device state: the kernels read in.key itself.)
    if (!o.select) in.key.fill(0.0f);
    Buffer<float> &key = in.key;
    const float scale = 0.37f;
    using segloss::abi::kNumLabelSlots, segloss::abi::kNumPointwiseSlots, segloss::abi::kCounted,
        segloss::abi::kLossSum, segloss::abi::kPwNormWeighted, segloss::abi::kPwNormCount,
        segloss::abi::kPwNormElements;
    auto line_rows = [&](int slots) { return Buffer<float>(slots, s.Y, s.Z, s.N); };
    auto voxels = [&]() { return Buffer<float>(s.X, s.Y, s.Z, s.N); };
    auto per_class = [&]() { return Buffer<float>(s.X, s.Y, s.Z, s.C, s.N); };
    Buffer<float> coef(segloss::abi::kNumRegionCoefs, s.C, s.N);
    Buffer<float> norm_scale(1);
    norm_scale(0) = 0.75f;  // the device's 1 / normaliser
    {
        std::mt19937 rng(11);
        std::uniform_real_distribution<float> u(-1.0f, 1.0f);
        coef.for_each_value([&](float &v) { v = u(rng); });
    }
    // Runs the kernel into fresh outputs from `make`, its inputs marked for the device, its
    // status checked, its outputs brought back.
    auto run = [&](const std::function<Outs()> &make, const std::function<int(void *, Outs &, DeviceArgs &)> &call,
                   decltype(close_within(0, 0, 0)) compare = close_within(1e-4, 1e-5, 1e-5)) {
        check_kernel<Outs>(
            row,
            [&](void *fn, DeviceArgs &d) {
                in.dirty();
                coef.set_host_dirty();
                norm_scale.set_host_dirty();
                Outs r = make();
                REQUIRE(call(fn, r, d) == 0);
                return to_host(r);
            },
            compare, same_outputs);
    };
    // The arguments every pointwise kernel starts with.
#define POINTWISE_ARGS                                                                                          \
    nullptr, d.in(in.logits), in.labels(row.name, d), hi, ii, d.in(in.mask), d.in(in.alpha_pos),                \
        d.in(in.alpha_neg), o.gamma, o.log_power, o.smoothing, scale, d.in(key), cut_value, cut_index
#define LOSS_ARGS nullptr, d.in(in.logits), in.labels(row.name, d), hi, ii, d.in(in.mask)

    const std::string &st = row.stage;
    if (st == "label_stats") {
        for (int class_sums : {0, 1}) {
            run([&] { return Outs{{line_rows(kNumLabelSlots), Buffer<float>(s.C, s.Y, s.Z, s.N)}, {}}; },
                [&](void *fn, Outs &r, DeviceArgs &d) {
                    return reinterpret_cast<LabelStats>(fn)(nullptr, in.labels(row.name, d), s.C, hi, ii,
                                                            d.in(in.mask), class_sums, d.out(r.f[0]), d.out(r.f[1]));
                });
        }
    } else if (st == "pointwise_value") {
        run([&] { return Outs{{line_rows(kNumPointwiseSlots)}, {}}; },
            [&](void *fn, Outs &r, DeviceArgs &d) {
                return reinterpret_cast<PwValue>(fn)(POINTWISE_ARGS, d.out(r.f[0]));
            });
    } else if (st == "pointwise_grad") {
        run([&] { return Outs{{line_rows(kNumPointwiseSlots), per_class()}, {}}; },
            [&](void *fn, Outs &r, DeviceArgs &d) {
                return reinterpret_cast<PwGrad>(fn)(POINTWISE_ARGS, d.in(norm_scale), d.out(r.f[0]), d.out(r.f[1]));
            });
    } else if (st == "pointwise_norm") {
        // Line sums as the pre-pass writes them (counts, a few bad labels or mask values in
        // some runs), every normaliser mode, given or inverse-frequency weights.
        std::mt19937 rng(13);
        std::uniform_real_distribution<float> u(0.0f, 40.0f);
        Buffer<float> label_rows = line_rows(kNumLabelSlots), class_rows(s.C, s.Y, s.Z, s.N);
        for (int mode : {-1, int(kPwNormWeighted), int(kPwNormCount), int(kPwNormElements)}) {
            for (int variant : {0, 1, 2}) {
                label_rows.for_each_value([&](float &v) { v = float(int(u(rng))); });
                label_rows.for_each_element([&](int k, int y, int z, int n) {
                    if (k != kCounted) label_rows(k, y, z, n) = (variant == 2 && rng() % 50 == 0) ? 1.0f : 0.0f;
                });
                class_rows.for_each_value([&](float &v) { v = (rng() % 4 == 0) ? 0.0f : u(rng); });
                run([&] { return Outs{{Buffer<float>(1), Buffer<float>(s.C)}, {Buffer<double>(1)}}; },
                    [&](void *fn, Outs &r, DeviceArgs &d) {
                        label_rows.set_host_dirty();
                        class_rows.set_host_dirty();
                        return reinterpret_cast<PwNorm>(fn)(nullptr, d.in(label_rows), d.in(class_rows),
                                                            d.in(in.alpha_pos), mode, variant == 1, variant == 1,
                                                            1, d.out(r.d[0]), d.out(r.f[0]), d.out(r.f[1]));
                    },
                    close_within(1e-6, 0.0, 1e-12));
            }
        }
    } else if (st == "pointwise_total") {
        std::mt19937 rng(17);
        std::normal_distribution<float> g(0.0f, 50.0f);
        Buffer<float> rows = line_rows(kNumPointwiseSlots);
        Buffer<double> norm(1);
        for (double nv : {0.0, 1234.5, double(NAN)}) {
            for (int nonfinite : {0, 1}) {
                rows.for_each_element([&](int k, int y, int z, int n) {
                    rows(k, y, z, n) = k == kLossSum ? g(rng) : (nonfinite && y == 0 && z == 0 && n == 0 ? 1.0f : 0.0f);
                });
                norm(0) = nv;
                run([&] { return Outs{{}, {Buffer<double>(1)}}; },
                    [&](void *fn, Outs &r, DeviceArgs &d) {
                        rows.set_host_dirty();
                        norm.set_host_dirty();
                        return reinterpret_cast<PwTotal>(fn)(nullptr, d.in(rows), d.in(norm), d.out(r.d[0]));
                    },
                    close_within(0.0, 0.0, 1e-12));
            }
        }
    } else if (st == "pointwise_map") {
        run([&] { return Outs{{voxels()}, {}}; },
            [&](void *fn, Outs &r, DeviceArgs &d) {
                return reinterpret_cast<PwMap>(fn)(POINTWISE_ARGS, 0.5f, -1.0f, d.out(r.f[0]));
            });
    } else if (st.rfind("convert_", 0) == 0) {
        const bool to_float = st.find("_to_f32") != std::string::npos;
        std::mt19937 rng(7);
        Buffer<uint16_t> half(s.X, s.Y, s.Z, s.C, s.N);
        half.for_each_value([&](uint16_t &v) { v = uint16_t(rng()); });  // every bit pattern: NaN, Inf, subnormals
        run([&] { return Outs{{per_class()}, {}}; },
            [&](void *fn, Outs &r, DeviceArgs &d) {
                half.set_host_dirty();
                if (to_float) return reinterpret_cast<Convert>(fn)(nullptr, d.in(half), d.out(r.f[0]));
                Buffer<uint16_t> out16(s.X, s.Y, s.Z, s.C, s.N);
                const int err = reinterpret_cast<Convert>(fn)(nullptr, d.in(in.logits), d.out(out16));
                out16.copy_to_host();
                r.f[0].for_each_element([&](const int *p) { r.f[0](p) = float(out16(p)); });  // the bits, exactly
                return err;
            },
            close_within(0.0, 0.0, 0.0));
    } else if (st == "region_stats" || st == "compound_stats") {
        for (int squares : {0, 1}) {
            run([&] { return Outs{{}, {Buffer<double>(segloss::abi::kNumRegionStats, s.C, s.N)}}; },
                [&](void *fn, Outs &r, DeviceArgs &d) {
                    return st == "region_stats"
                               ? reinterpret_cast<RegionStats>(fn)(LOSS_ARGS, squares, d.out(r.d[0]))
                               : reinterpret_cast<CompoundStats>(fn)(LOSS_ARGS, squares, o.gamma, o.log_power,
                                                                     o.smoothing, d.out(r.d[0]));
                });
        }
    } else if (st == "region_grad" || st == "compound_grad") {
        run([&] { return Outs{{per_class()}, {}}; },
            [&](void *fn, Outs &r, DeviceArgs &d) {
                return st == "region_grad"
                           ? reinterpret_cast<RegionGrad>(fn)(LOSS_ARGS, d.in(coef), d.out(r.f[0]))
                           : reinterpret_cast<CompoundGrad>(fn)(LOSS_ARGS, d.in(coef), o.gamma, o.log_power,
                                                                o.smoothing, d.in(key), cut_value, cut_index,
                                                                d.out(r.f[0]));
            });
    } else if (st == "distance" || st == "dpce_weight") {
        check_distance(row, in);
    } else if (st.rfind("topk_", 0) == 0) {
        check_topk(row, in);
    } else if (st == "boundary_loss") {
        // Random maps (signed for the boundary loss, distances for hausdorff_dt), with and
        // without the background, a compound's region coefficients (coef) or zeros.
        std::mt19937 rng(19);
        std::uniform_real_distribution<float> u(-3.0f, 3.0f);
        for (int formula : {int(segloss::abi::kFormulaBoundary), int(segloss::abi::kFormulaHausdorff)}) {
            const int first = formula;  // the boundary loss with the background, hausdorff_dt without
            const int K = s.C - first;
            Buffer<float> map_a(s.X, s.Y, s.Z, K, s.N), map_b(s.X, s.Y, s.Z, K, s.N), group_coef(K, s.N);
            Buffer<float> region(segloss::abi::kNumRegionCoefs, s.C, s.N);
            map_a.for_each_value([&](float &f) { f = formula ? std::fabs(u(rng)) : u(rng); });
            map_b.for_each_value([&](float &f) { f = std::fabs(u(rng)); });
            group_coef.for_each_value([&](float &f) { f = u(rng); });
            region.for_each_value([&](float &f) { f = formula ? 0.0f : u(rng); });
            const float alpha = formula ? 1.5f : 2.0f;
            run([&] { return Outs{{line_rows(K + 1), per_class()}, {}}; },
                [&](void *fn, Outs &r, DeviceArgs &d) {
                    for (Buffer<float> *b : {&map_a, &map_b, &group_coef, &region}) b->set_host_dirty();
                    return reinterpret_cast<BoundaryLoss>(fn)(LOSS_ARGS, first, d.in(map_a), d.in(map_b), formula,
                                                              alpha, d.in(group_coef), d.in(region), d.out(r.f[0]),
                                                              d.out(r.f[1]));
                });
        }
    } else if (st == "boundary_coef") {
        // Counts as the pre-pass writes them, a few bad labels or mask values in some runs.
        std::mt19937 rng(23);
        std::uniform_real_distribution<float> u(0.0f, 40.0f);
        Buffer<float> label_rows = line_rows(kNumLabelSlots);
        for (int variant : {0, 1, 2}) {
            label_rows.for_each_element([&](int k, int y, int z, int n) {
                label_rows(k, y, z, n) = k == kCounted ? float(int(u(rng))) : (variant == 2 && rng() % 50 == 0) ? 1.0f : 0.0f;
            });
            const int batch = variant == 1, K = s.C - 1;
            run([&] { return Outs{{Buffer<float>(K, s.N)}, {Buffer<double>(batch ? 1 : s.N)}}; },
                [&](void *fn, Outs &r, DeviceArgs &d) {
                    label_rows.set_host_dirty();
                    return reinterpret_cast<BoundaryCoef>(fn)(nullptr, d.in(label_rows), K, batch, 0.37 / K, 1,
                                                              d.out(r.f[0]), d.out(r.d[0]));
                },
                close_within(1e-6, 0.0, 1e-12));
        }
    } else if (st == "boundary_total") {
        std::mt19937 rng(29);
        std::normal_distribution<float> g(0.0f, 50.0f);
        const int K = s.C;
        Buffer<float> rows = line_rows(K + 1);
        for (int variant : {0, 1, 2, 3}) {
            const int batch = variant == 1, mean = variant != 2;
            Buffer<double> voxels(batch ? 1 : s.N);
            voxels.for_each_value([&](double &v) { v = double(rng() % 500); });
            if (variant == 3) voxels(0) = 0.0;             // a group without counted voxels
            if (variant == 2) voxels(0) = double(NAN);     // a bad input
            rows.for_each_element([&](int k, int y, int z, int n) {
                rows(k, y, z, n) = k < K ? g(rng) : (variant == 3 && y == 0 && z == 0 && n == 0 ? 1.0f : 0.0f);
            });
            Buffer<double> base(1);
            base(0) = variant == 0 ? 0.25 : 0.0;  // a compound's region part
            run([&] { return Outs{{}, {Buffer<double>(K, batch ? 1 : s.N), Buffer<double>(1)}}; },
                [&](void *fn, Outs &r, DeviceArgs &d) {
                    rows.set_host_dirty();
                    voxels.set_host_dirty();
                    base.set_host_dirty();
                    return reinterpret_cast<BoundaryTotal>(fn)(nullptr, d.in(rows), d.in(voxels), batch, mean,
                                                               variant == 0 ? 0.5 : 1.0, d.in(base), d.out(r.d[0]),
                                                               d.out(r.d[1]));
                },
                close_within(0.0, 0.0, 1e-12));
        }
    } else if (st == "region_epilogue") {
        check_epilogue(row, in, o);
    } else if (st.rfind("value_store_", 0) == 0) {
        // The scalar, then the groups from class 1 on (a left-out background); NaN kept.
        std::mt19937 rng(11);
        std::normal_distribution<double> g(0.0, 3.0);
        Buffer<double> total(1), groups(s.C, s.N);
        total(0) = g(rng);
        groups.for_each_value([&](double &v) { v = g(rng); });
        groups(0, 0) = NAN;
        const bool f64 = st == "value_store_f64";
        for (int per_group : {0, 1}) {
            const int first = per_group ? 1 : 0, K = per_group ? s.C - 1 : 1, M = per_group ? s.N : 1;
            run([&] { return f64 ? Outs{{}, {Buffer<double>(K, M)}} : Outs{{Buffer<float>(K, M)}, {}}; },
                [&](void *fn, Outs &r, DeviceArgs &d) {
                    total.set_host_dirty();
                    groups.set_host_dirty();
                    return reinterpret_cast<ValueStore>(fn)(nullptr, d.in(total), d.in(groups), first, per_group,
                                                           f64 ? d.out(r.d[0]) : d.out(r.f[0]));
                },
                close_within(0.0, 0.0, 0.0));
        }
    } else {
        FAIL("no GPU check for stage " << st);
    }
#undef POINTWISE_ARGS
#undef LOSS_ARGS
}

}  // namespace

TEST_CASE("every GPU kernel matches its CPU kernel and repeats its bits", "[gpu]") {
    REQUIRE(!rows().empty());
    for (const Row &row : rows()) {
        if (!api_available(row.api)) {
            WARN("skipped " << row.name << ": no " << row.api << " driver or device here");
            continue;
        }
        SECTION(row.name + " (" + row.api + ")") {
            // Each shape once, with the option sets in turn (the CI runs this on pocl, where
            // every case costs a CPU run of the OpenCL kernels).
            uint32_t seed = 1;
            for (const Shape &s : kShapes) {
                const PointwiseOptions &o = kOptions[seed % (sizeof(kOptions) / sizeof(kOptions[0]))];
                const bool broadcast = (seed % 2) == 0;
                // label_stats counts labels out of range; the loss passes run after that check.
                Inputs in = make_inputs(s, seed++, broadcast, row.stage == "label_stats",
                                        row.name.find("_identity_") != std::string::npos);
                INFO("shape " << s.X << "x" << s.Y << "x" << s.Z << " C " << s.C << " N " << s.N << " layout "
                              << int(s.layout) << " gamma " << o.gamma << " log_power " << o.log_power);
                check_row(row, in, o);
            }
            std::printf("checked %s (%s)\n", row.name.c_str(), row.api.c_str());  // tools/gpu-check counts these
        }
    }
}
