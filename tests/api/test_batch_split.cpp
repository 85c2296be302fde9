// SPDX-License-Identifier: Apache-2.0
// Tensors beyond 32-bit indexing without gigabytes of memory: the images of a batch lie more
// than 2^31 elements apart in a reserved, mostly untouched address range (mmap NORESERVE: only
// the pages of the images are ever touched), so the batch stride needs 64 bits, as in an
// N,C,spatial tensor with C * spatial >= 2^31. The runtime runs such calls one image at a time
// (runtime/src/batch_split.h); every loss must give the same bits as on a compact copy.
#include <sys/mman.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstring>
#include <string>
#include <vector>

#include <catch2/catch.hpp>

#include "segloss/segloss.hpp"
#include "support/loss_tester.h"

using namespace segloss;
using namespace segloss::test;

namespace {

constexpr int64_t kFar = (int64_t(1) << 31) + 4096;  // elements between images: beyond int32

// A float32 (or other 4- or 2-byte) tensor shaped like `like` whose images are `gap` elements
// apart; compact inside an image. Empty (ok() false) where the address space cannot be reserved.
class FarApart {
public:
    FarApart(const std::vector<int64_t> &shape, int64_t gap, size_t elem_bytes) : shape_(shape), bytes_(elem_bytes) {
        image_ = 1;
        for (size_t d = 1; d < shape.size(); d++) image_ *= shape[d];
        strides_.assign(shape.size(), 1);
        for (int d = static_cast<int>(shape.size()) - 2; d >= 1; d--) strides_[d] = strides_[d + 1] * shape[d + 1];
        strides_[0] = gap;
        size_ = static_cast<size_t>((gap * (shape[0] - 1) + image_) * static_cast<int64_t>(elem_bytes));
        void *p = mmap(nullptr, size_, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
        base_ = p == MAP_FAILED ? nullptr : static_cast<char *>(p);
    }
    ~FarApart() {
        if (base_) munmap(base_, size_);
    }
    FarApart(const FarApart &) = delete;
    FarApart &operator=(const FarApart &) = delete;
    bool ok() const { return base_ != nullptr; }
    // Element i of image n (row-major inside the image).
    char *at(int64_t n, int64_t i) { return base_ + (n * strides_[0] + i) * static_cast<int64_t>(bytes_); }
    int64_t images() const { return shape_[0]; }
    int64_t image_elements() const { return image_; }
    DLTensor dl(DLDataType dt) {
        return DLTensor{base_, {kDLCPU, 0}, static_cast<int>(shape_.size()), dt, shape_.data(), strides_.data(), 0};
    }

private:
    std::vector<int64_t> shape_, strides_;
    size_t bytes_;
    int64_t image_ = 0;
    size_t size_ = 0;
    char *base_ = nullptr;
};

std::vector<int64_t> shape_of(const DLTensor &t) { return std::vector<int64_t>(t.shape, t.shape + t.ndim); }

// Copies a compact float32 tensor's images into `far`, or back.
void copy_images(const void *compact, FarApart &far, bool to_far) {
    const size_t image_bytes = static_cast<size_t>(far.image_elements()) * sizeof(float);
    for (int64_t n = 0; n < far.images(); n++) {
        char *c = static_cast<char *>(const_cast<void *>(compact)) + n * static_cast<int64_t>(image_bytes);
        if (to_far) {
            std::memcpy(far.at(n, 0), c, image_bytes);
        } else {
            std::memcpy(c, far.at(n, 0), image_bytes);
        }
    }
}

struct Result {
    segloss_status_t status;
    std::string error;
    double value = -1;
};

Result compute(const LossParams &p, const DLTensor &logits, const DLTensor &target, DLTensor *grad) {
    Result r;
    std::vector<int64_t> one{1};
    DLTensor v{&r.value, {kDLCPU, 0}, 1, {kDLFloat, 64, 1}, one.data(), nullptr, 0};
    segloss_context_t ctx = nullptr;
    REQUIRE(segloss_context_create(&ctx) == SEGLOSS_STATUS_OK);
    r.status = segloss_loss_compute(ctx, p.get(), &logits, &target, &v, grad, 1.0f);
    r.error = segloss_last_error(ctx);
    segloss_context_destroy(ctx);
    return r;
}

bool same_bits(const std::vector<float> &a, const std::vector<float> &b) {
    return a.size() == b.size() && std::memcmp(a.data(), b.data(), a.size() * sizeof(float)) == 0;
}

}  // namespace

TEST_CASE("every loss over images 2^31 elements apart gives the bits of a compact batch", "[size]") {
    std::vector<segloss_loss_kind_t> losses;
    for (int k = 0; std::strcmp(segloss_loss_name(static_cast<segloss_loss_kind_t>(k)), "unknown") != 0; k++) {
        losses.push_back(static_cast<segloss_loss_kind_t>(k));
    }
    REQUIRE(losses.size() == 24);
    auto loss = GENERATE_COPY(from_range(losses));
    const bool batch = GENERATE(false, true);
    LossParams p(loss);
    LossTester t(loss);
    if (loss == SEGLOSS_LOSS_WCE) p.weight({0.5f, 1.0f, 2.0f});
    if (loss == SEGLOSS_LOSS_COMBO) p.activation(SEGLOSS_ACTIVATION_SIGMOID), t.target(Target::F32);
    t.shape({3, 3, 5, 6, 7}).params(p).seed(7 + loss).mask(Mask::Fractional, 0.2);
    if (loss != SEGLOSS_LOSS_COMBO) t.ignore(-1, 0.1);
    t.make_inputs();
    p = t.params();
    p.batch(batch);
    INFO("loss " << segloss_loss_name(loss) << (batch ? ", batch" : ""));

    const DLTensor logits = t.logits().dl(), target = t.target_dl();
    const std::vector<int64_t> shape = shape_of(logits);
    std::vector<float> compact_logits(static_cast<size_t>(t.logits().numel()));
    for (int64_t i = 0; i < t.logits().numel(); i++) compact_logits[static_cast<size_t>(i)] = t.logits().flat(i);
    DLTensor compact = logits;
    compact.data = compact_logits.data();
    compact.strides = nullptr;
    std::vector<float> expected_grad(compact_logits.size());
    DLTensor eg = compact;
    eg.data = expected_grad.data();
    const Result expected = compute(p, compact, target, &eg);
    if (batch && expected.status == SEGLOSS_STATUS_INVALID_ARGUMENT) return;  // no batch option
    REQUIRE(expected.status == SEGLOSS_STATUS_OK);

    FarApart far_logits(shape, kFar, 4), far_grad(shape, kFar, 4);
    if (!far_logits.ok() || !far_grad.ok()) {
        WARN("cannot reserve 2 x " << (kFar * (shape[0] - 1) * 4 >> 30) << " GB of address space here; skipped");
        return;
    }
    copy_images(compact_logits.data(), far_logits, true);
    DLTensor fl = far_logits.dl({kDLFloat, 32, 1}), fg = far_grad.dl({kDLFloat, 32, 1});
    const Result split = compute(p, fl, target, &fg);
    INFO(split.error);
    REQUIRE(split.status == SEGLOSS_STATUS_OK);
    std::vector<float> grad(compact_logits.size());
    copy_images(grad.data(), far_grad, false);
    CHECK(std::memcmp(&split.value, &expected.value, sizeof(double)) == 0);
    CHECK(same_bits(grad, expected_grad));
}

TEST_CASE("half-precision logits and channels-last gradients 2^31 elements apart match a compact batch", "[size]") {
    // The float16 conversion runs per image into compact scratch; the loss then runs unsplit.
    LossParams p(SEGLOSS_LOSS_DICE_CE);
    LossTester t(p);
    t.shape({2, 4, 6, 9}).seed(5).ignore(-1, 0.1);
    t.make_inputs();
    p = t.params();
    const DLTensor logits = t.logits().dl(), target = t.target_dl();
    const std::vector<int64_t> shape = shape_of(logits);
    const int64_t numel = t.logits().numel();
    std::vector<uint16_t> half(static_cast<size_t>(numel));
    for (int64_t i = 0; i < numel; i++) {
        // float32 -> float16 by truncation of exactly representable values: round the logits first
        const float x = std::round(t.logits().flat(i) * 64.0f) / 64.0f;
        uint32_t b;
        std::memcpy(&b, &x, 4);
        const uint32_t sign = (b >> 16) & 0x8000u, exp = (b >> 23) & 0xffu, man = b & 0x7fffffu;
        half[static_cast<size_t>(i)] = x == 0.0f ? uint16_t(sign) : uint16_t(sign | ((exp - 112u) << 10) | (man >> 13));
    }
    DLTensor compact = logits;
    compact.data = half.data();
    compact.strides = nullptr;
    compact.dtype = {kDLFloat, 16, 1};
    std::vector<float> expected_grad(static_cast<size_t>(numel));
    DLTensor eg = logits;
    eg.data = expected_grad.data();
    eg.strides = nullptr;
    const Result expected = compute(p, compact, target, &eg);
    REQUIRE(expected.status == SEGLOSS_STATUS_OK);

    FarApart far_logits(shape, kFar, 2), far_grad(shape, kFar, 4);
    if (!far_logits.ok() || !far_grad.ok()) {
        WARN("cannot reserve the address space here; skipped");
        return;
    }
    const size_t image = static_cast<size_t>(far_logits.image_elements());
    for (int64_t n = 0; n < shape[0]; n++) std::memcpy(far_logits.at(n, 0), half.data() + n * image, image * 2);
    DLTensor fl = far_logits.dl({kDLFloat, 16, 1}), fg = far_grad.dl({kDLFloat, 32, 1});
    const Result split = compute(p, fl, target, &fg);
    INFO(split.error);
    REQUIRE(split.status == SEGLOSS_STATUS_OK);
    std::vector<float> grad(static_cast<size_t>(numel));
    for (int64_t n = 0; n < shape[0]; n++) std::memcpy(grad.data() + n * image, far_grad.at(n, 0), image * 4);
    CHECK(std::memcmp(&split.value, &expected.value, sizeof(double)) == 0);
    CHECK(same_bits(grad, expected_grad));
}

TEST_CASE("an image whose own stride needs 64 bits is TOO_LARGE and nothing is written", "[size][bad]") {
    // Classes 2^31 elements apart inside one image: no split can make that one buffer.
    LossParams p(SEGLOSS_LOSS_DICE);
    LossTester t(p);
    t.shape({1, 2, 4, 4}).seed(3);
    t.make_inputs();
    const DLTensor target = t.target_dl();
    std::vector<int64_t> shape{2, 1, 4, 4};  // FarApart's "images" are the classes here
    FarApart far(shape, kFar, 4);
    if (!far.ok()) {
        WARN("cannot reserve the address space here; skipped");
        return;
    }
    std::vector<int64_t> logits_shape{1, 2, 4, 4}, strides{2 * kFar, kFar, 4, 1};
    DLTensor logits{far.at(0, 0), {kDLCPU, 0}, 4, {kDLFloat, 32, 1}, logits_shape.data(), strides.data(), 0};
    for (int64_t c = 0; c < 2; c++) {
        for (int64_t i = 0; i < 16; i++) {
            const float x = 0.1f * static_cast<float>(i) - static_cast<float>(c);
            std::memcpy(far.at(c, i), &x, 4);
        }
    }
    std::vector<float> grad(32, 7.0f);
    std::vector<int64_t> compact_shape = logits_shape;
    DLTensor g{grad.data(), {kDLCPU, 0}, 4, {kDLFloat, 32, 1}, compact_shape.data(), nullptr, 0};
    const Result r = compute(p, logits, target, &g);
    REQUIRE(r.status == SEGLOSS_STATUS_TOO_LARGE);
    CHECK(r.value == -1);
    for (float x : grad) CHECK(x == 7.0f);
}

// Off by default (hidden tag; run: segloss_tests "[huge]"): a real 2.2 GB logits tensor, 5.5 GB
// with the labels and the gradient, against a plain float64 cross-entropy; prints its time.
TEST_CASE("ce on a real tensor of more than 2^31 bytes matches a float64 reference", "[.][huge][size]") {
    const int64_t N = 2, C = 2, Z = 520, Y = 512, X = 512, V = Z * Y * X;
    std::vector<int64_t> shape{N, C, Z, Y, X}, lshape{N, Z, Y, X};
    std::vector<float> logits(static_cast<size_t>(N * C * V)), grad(logits.size());
    std::vector<int32_t> labels(static_cast<size_t>(N * V));
    REQUIRE(logits.size() * sizeof(float) > (size_t(1) << 31));
    uint64_t state = 12345;
    auto next = [&] {  // xorshift: cheap, reproducible
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        return state;
    };
    for (float &x : logits) x = static_cast<float>(static_cast<double>(next() % 8001) / 1000.0 - 4.0);
    for (int32_t &l : labels) l = static_cast<int32_t>(next() % C);
    segloss::LossParams p(SEGLOSS_LOSS_CE);
    double value = 0;
    std::vector<int64_t> one{1};
    DLTensor l{logits.data(), {kDLCPU, 0}, 5, {kDLFloat, 32, 1}, shape.data(), nullptr, 0};
    DLTensor t{labels.data(), {kDLCPU, 0}, 4, {kDLInt, 32, 1}, lshape.data(), nullptr, 0};
    DLTensor g{grad.data(), {kDLCPU, 0}, 5, {kDLFloat, 32, 1}, shape.data(), nullptr, 0};
    DLTensor v{&value, {kDLCPU, 0}, 1, {kDLFloat, 64, 1}, one.data(), nullptr, 0};
    segloss_context_t ctx = nullptr;
    REQUIRE(segloss_context_create(&ctx) == SEGLOSS_STATUS_OK);
    const auto start = std::chrono::steady_clock::now();
    const segloss_status_t status = segloss_loss_compute(ctx, p.get(), &l, &t, &v, &g, 1.0f);
    const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    INFO(segloss_last_error(ctx));
    segloss_context_destroy(ctx);
    REQUIRE(status == SEGLOSS_STATUS_OK);
    const double bytes = static_cast<double>(logits.size() * 8 + labels.size() * 4);
    WARN("ce value and gradient of " << bytes / 1e9 << " GB of tensors: " << seconds << " s, " << bytes / 1e9 / seconds
                                     << " GB/s");

    double sum = 0;
    auto at = [&](int64_t n, int64_t c, int64_t i) { return static_cast<size_t>((n * C + c) * V + i); };
    for (int64_t n = 0; n < N; n++) {
        for (int64_t i = 0; i < V; i++) {
            const double a = logits[at(n, 0, i)], b = logits[at(n, 1, i)], m = std::max(a, b);
            const double lse = m + std::log(std::exp(a - m) + std::exp(b - m));
            sum += lse - logits[at(n, labels[static_cast<size_t>(n * V + i)], i)];
        }
    }
    const double M = static_cast<double>(N * V);
    CHECK(std::fabs(value - sum / M) <= 1e-5 * std::fabs(sum / M));
    // The gradient at voxels spread over both images, the last bytes included.
    for (int64_t k = 0; k < 4096; k++) {
        const int64_t n = k % N, i = k == 4095 ? V - 1 : static_cast<int64_t>(next() % static_cast<uint64_t>(V));
        const double a = logits[at(n, 0, i)], b = logits[at(n, 1, i)];
        const double p1 = 1.0 / (1.0 + std::exp(a - b));
        const int32_t y = labels[static_cast<size_t>(n * V + i)];
        const double want[2] = {((1.0 - p1) - (y == 0)) / M, (p1 - (y == 1)) / M};
        for (int64_t c = 0; c < C; c++) REQUIRE(std::fabs(grad[at(n, c, i)] - want[c]) <= 1e-6 / M + 1e-4 * std::fabs(want[c]));
    }
}
