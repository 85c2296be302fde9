// SPDX-License-Identifier: Apache-2.0
#include "block_cache.h"

#include <cstdint>
#include <cstdlib>
#include <mutex>
#include <vector>

namespace segloss::rt {
namespace {

constexpr size_t kAlign = 128;              // Halide's buffers want at least 32 (AVX-512: 64)
constexpr size_t kCachedFrom = size_t(1) << 20;
constexpr size_t kGranule = size_t(1) << 20;  // cached sizes are rounded up to this

// Header in the kAlign bytes before each block.
struct Header {
    size_t capacity;  // usable bytes after the header
};

struct Cache {
    std::mutex mu;
    std::vector<Header *> free_blocks;
    size_t bytes = 0;
};

Cache &cache() {
    static Cache *c = new Cache();  // never destroyed: kernels may run during static destruction
    return *c;
}

void *payload(Header *h) { return reinterpret_cast<char *>(h) + kAlign; }

}  // namespace

void *cached_malloc(void *, size_t bytes) {
    const bool large = bytes >= kCachedFrom;
    if (large) {
        Cache &c = cache();
        std::lock_guard<std::mutex> lock(c.mu);
        // The smallest kept block that holds the request, and not more than twice it.
        size_t best = c.free_blocks.size();
        for (size_t i = 0; i < c.free_blocks.size(); i++) {
            const size_t cap = c.free_blocks[i]->capacity;
            if (cap >= bytes && cap <= 2 * bytes && (best == c.free_blocks.size() || cap < c.free_blocks[best]->capacity)) {
                best = i;
            }
        }
        if (best < c.free_blocks.size()) {
            Header *h = c.free_blocks[best];
            c.free_blocks.erase(c.free_blocks.begin() + static_cast<std::ptrdiff_t>(best));
            c.bytes -= h->capacity;
            return payload(h);
        }
    }
    const size_t capacity = large ? (bytes + kGranule - 1) / kGranule * kGranule : bytes;
    void *raw = std::aligned_alloc(kAlign, (capacity + kAlign + kAlign - 1) / kAlign * kAlign);
    if (!raw) return nullptr;
    Header *h = static_cast<Header *>(raw);
    h->capacity = capacity;
    return payload(h);
}

void cached_free(void *, void *ptr) {
    if (!ptr) return;
    Header *h = reinterpret_cast<Header *>(static_cast<char *>(ptr) - kAlign);
    if (h->capacity >= kCachedFrom) {
        Cache &c = cache();
        std::lock_guard<std::mutex> lock(c.mu);
        if (c.bytes + h->capacity <= kMaxCachedBytes) {
            c.free_blocks.push_back(h);
            c.bytes += h->capacity;
            return;
        }
    }
    std::free(h);
}

}  // namespace segloss::rt
