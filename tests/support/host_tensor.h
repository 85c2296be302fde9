// SPDX-License-Identifier: Apache-2.0
// Host tensors for the tests: contiguous or strided (innermost stride 2, padded outer strides),
// exposed as DLTensor views. Element access is by logical index, whatever the layout.
#pragma once

#include <cmath>
#include <cstdint>
#include <cstring>
#include <numeric>
#include <string>
#include <vector>

#include <dlpack/dlpack.h>

namespace segloss::test {

template <typename T>
DLDataType dl_type_of();
template <> inline DLDataType dl_type_of<float>() { return {kDLFloat, 32, 1}; }
template <> inline DLDataType dl_type_of<double>() { return {kDLFloat, 64, 1}; }
template <> inline DLDataType dl_type_of<int32_t>() { return {kDLInt, 32, 1}; }
template <> inline DLDataType dl_type_of<uint8_t>() { return {kDLUInt, 8, 1}; }
template <> inline DLDataType dl_type_of<int64_t>() { return {kDLInt, 64, 1}; }
template <> inline DLDataType dl_type_of<uint16_t>() { return {kDLUInt, 16, 1}; }

template <typename T>
class HostTensor {
public:
    HostTensor() = default;
    // strided: innermost stride 2 and every outer stride padded by one element, so that no
    // dimension is contiguous; the gaps are filled with `fill`.
    explicit HostTensor(std::vector<int64_t> shape, bool strided = false, T fill = T(0)) : shape_(std::move(shape)) {
        strides_.resize(shape_.size());
        int64_t s = strided ? 2 : 1;
        for (int i = static_cast<int>(shape_.size()) - 1; i >= 0; i--) {
            strides_[i] = s;
            s = s * shape_[i] + (strided ? 1 : 0);
        }
        storage_.assign(static_cast<size_t>(s), fill);
    }
    int64_t numel() const {
        return std::accumulate(shape_.begin(), shape_.end(), int64_t(1), std::multiplies<int64_t>());
    }
    const std::vector<int64_t> &shape() const { return shape_; }
    // Element i in row-major logical order.
    T &flat(int64_t i) { return storage_[offset_of(i)]; }
    const T &flat(int64_t i) const { return storage_[offset_of(i)]; }
    std::vector<T> &storage() { return storage_; }
    const std::vector<T> &storage() const { return storage_; }
    // True if every storage element outside the view still equals `fill` (bitwise for NaN).
    template <typename Pred>
    bool gaps_all(Pred pred) const {
        std::vector<bool> in_view(storage_.size(), false);
        for (int64_t i = 0; i < numel(); i++) in_view[offset_of(i)] = true;
        for (size_t i = 0; i < storage_.size(); i++) {
            if (!in_view[i] && !pred(storage_[i])) return false;
        }
        return true;
    }
    DLTensor dl() {
        DLTensor t{};
        t.data = storage_.data();
        t.device = {kDLCPU, 0};
        t.ndim = static_cast<int>(shape_.size());
        t.dtype = dl_type_of<T>();
        t.shape = shape_.data();
        t.strides = strides_.data();
        return t;
    }

private:
    size_t offset_of(int64_t i) const {
        int64_t off = 0;
        for (int d = static_cast<int>(shape_.size()) - 1; d >= 0; d--) {
            off += (i % shape_[d]) * strides_[d];
            i /= shape_[d];
        }
        return static_cast<size_t>(off);
    }
    std::vector<int64_t> shape_, strides_;
    std::vector<T> storage_;
};

// The elements of a that differ from b's (same shape) by more than abs + rel |b| (NaN equals
// NaN, an infinity itself); `first` describes the first of them.
template <typename T>
int64_t count_differences(const HostTensor<T> &a, const HostTensor<T> &b, double rel, double abs, std::string &first) {
    int64_t bad = 0;
    for (int64_t i = 0; i < a.numel(); i++) {
        const double x = a.flat(i), y = b.flat(i);
        const bool ok = (std::isnan(x) && std::isnan(y)) || x == y || std::fabs(x - y) <= abs + rel * std::fabs(y);
        if (!ok && bad++ == 0) first = "element " + std::to_string(i) + ": " + std::to_string(x) + " against " + std::to_string(y);
    }
    return bad;
}

// The same storage bits, layout and gaps included (determinism checks).
template <typename T>
bool same_bits(const HostTensor<T> &a, const HostTensor<T> &b) {
    return a.storage().size() == b.storage().size() &&
           std::memcmp(a.storage().data(), b.storage().data(), a.storage().size() * sizeof(T)) == 0;
}

}  // namespace segloss::test
