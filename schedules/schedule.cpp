// SPDX-License-Identifier: Apache-2.0
#include "schedules/schedule.h"

#include <cstring>
#include <stdexcept>

namespace segloss::schedules {
namespace {

struct Entry {
    const char *target_key;
    const char *family;
    const char *key;
    int value;
};

const Entry kTable[] = {
#include "schedule_data.inc"
    {nullptr, nullptr, nullptr, 0},
};

}  // namespace

std::string data_key(const Halide::Target &t) {
    using T = Halide::Target;
    std::string arch = t.arch == T::ARM ? "arm-" + std::to_string(t.bits) : "x86-64";
    if (t.has_gpu_feature()) return "cuda";
    if (t.arch == T::X86) {
        if (t.has_feature(T::AVX512_Skylake)) return arch + "-avx512";
        if (t.has_feature(T::AVX2)) return arch + "-avx2";
        if (t.has_feature(T::SSE41)) return arch + "-sse41";
    }
    return arch;
}

CpuParams cpu_params(const Halide::Target &target, const std::string &family) {
    CpuParams p;
    const std::string key = data_key(target);
    for (const Entry *e = kTable; e->target_key; ++e) {
        if (key != e->target_key || family != e->family) continue;
        if (!std::strcmp(e->key, "vector")) p.vector = e->value;
        else if (!std::strcmp(e->key, "grain")) p.grain = e->value;
        else if (!std::strcmp(e->key, "unroll")) p.unroll = e->value;
        else throw std::runtime_error("schedules/data/" + key + ".params: unknown key " + e->key);
    }
    return p;
}

}  // namespace segloss::schedules
