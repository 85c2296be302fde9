// SPDX-License-Identifier: Apache-2.0
#include "schedules/schedule.h"

#include <cstdio>
#include <cstdlib>
#include <sstream>
#include <stdexcept>
#include <vector>

namespace segloss::schedules {
namespace {

struct Entry {
    const char *target_key;
    const char *name;  // family or stage
    const char *key;
    int value;
};

const Entry kTable[] = {
#include "schedule_data.inc"
    {nullptr, nullptr, nullptr, 0},
};

// A parameter set's keys: name, field, smallest value, largest value.
struct Field {
    const char *key;
    int *value;
    int lo, hi;
};

std::vector<Field> fields(CpuParams &p) {
    return {{"vector", &p.vector, 0, 64}, {"grain", &p.grain, 1, 4096}, {"helpers", &p.helpers, 0, 1},
            {"class_vector", &p.class_vector, 0, 64}};
}

std::vector<Field> fields(GpuParams &p) {
    return {{"tile_x", &p.tile_x, 1, 1024},
            {"tile_y", &p.tile_y, 1, 1024},
            {"line_block", &p.line_block, 1, 1024},
            {"lane_lines", &p.lane_lines, 1, 64}};
}

void set(std::vector<Field> f, const std::string &key, int value, const std::string &where) {
    for (Field &x : f) {
        if (key != x.key) continue;
        if (value < x.lo || value > x.hi) {
            throw std::runtime_error(where + ": " + key + " = " + std::to_string(value) + " is out of range");
        }
        *x.value = value;
        return;
    }
    throw std::runtime_error(where + ": unknown schedule key " + key);
}

void apply_file(const std::vector<Field> &f, const std::string &target_key, const std::string &name) {
    for (const Entry *e = kTable; e->target_key; ++e) {
        if (target_key == e->target_key && name == e->name) {
            set(f, e->key, e->value, "schedules/" + target_key + "/" + name + ".params");
        }
    }
}

void apply_candidate(const std::vector<Field> &f, const std::string &stage) {
    const char *candidate = std::getenv("SEGLOSS_TUNE_CANDIDATE");
    if (!candidate || !*candidate) return;
    std::fprintf(stderr, "segloss: schedule of %s from SEGLOSS_TUNE_CANDIDATE=%s (a tuner run)\n", stage.c_str(),
                 candidate);
    std::stringstream items(candidate);
    std::string item;
    while (std::getline(items, item, ',')) {
        const size_t eq = item.find('=');
        if (eq == std::string::npos) throw std::runtime_error("SEGLOSS_TUNE_CANDIDATE: expected key=value, got " + item);
        set(f, item.substr(0, eq), std::stoi(item.substr(eq + 1)), "SEGLOSS_TUNE_CANDIDATE");
    }
}

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

CpuParams cpu_params(const Halide::Target &target, const std::string &family, const std::string &stage) {
    CpuParams p;
    const std::string key = data_key(target);
    apply_file(fields(p), key, family);
    apply_file(fields(p), key, stage);
    apply_candidate(fields(p), stage);
    return p;
}

const GpuParams &gpu_params() {
    static const GpuParams params = [] {
        GpuParams p;
        apply_file(fields(p), "cuda", "gpu");
        apply_candidate(fields(p), "the GPU kernels");
        return p;
    }();
    return params;
}

}  // namespace segloss::schedules
