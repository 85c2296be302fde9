// SPDX-License-Identifier: Apache-2.0
// tools/tune's timing driver: times whole loss calls with the built-in kernels (the committed
// schedules) and with candidate kernels (other schedules of the same rows, compiled by the
// tuner into a shared object), alternating the two in one process so that the machine's noise
// hits both alike, and checks that the candidate computes the same value and gradient.
//
// usage: segloss_tune_time --loss NAME [--backward 0|1] [--threads T] [--reps R]
//                          --shape N,C,D,H,W [--shape ...] [--replace ROW=candidate.so ...]
// Prints one JSON object per shape: {"shape", "base_ms", "cand_ms" (medians), "ratio" (cand /
// base), "value_rel_diff", "grad_max_diff"}; without --replace the two columns time the same
// kernels (the noise floor). Exit status 2 on a bad argument or a candidate that fails to load.
#include <dlfcn.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <vector>

#include "bench/problem.h"
#include "runtime/src/registry.h"
#include "segloss/segloss.hpp"

using namespace segloss;

namespace {

struct Args {
    std::string loss = "ce";
    bool backward = true;
    int threads = 2, reps = 9;
    std::vector<std::vector<int64_t>> shapes;
    std::vector<std::pair<std::string, void *>> replace;  // row name, candidate kernel
};

[[noreturn]] void usage(const std::string &why) {
    std::fprintf(stderr, "segloss_tune_time: %s\n", why.c_str());
    std::exit(2);
}

std::vector<int64_t> parse_shape(const std::string &s) {
    std::vector<int64_t> shape;
    for (size_t at = 0; at <= s.size();) {
        size_t end = s.find(',', at);
        if (end == std::string::npos) end = s.size();
        shape.push_back(std::atoll(s.substr(at, end - at).c_str()));
        at = end + 1;
    }
    if (shape.size() < 4 || shape.size() > 5) usage("a shape is N,C,H,W or N,C,D,H,W: " + s);
    return shape;
}

void *load_candidate(const std::string &row, const std::string &path) {
    void *so = dlopen(path.c_str(), RTLD_NOW | RTLD_LOCAL);
    if (!so) usage(std::string("cannot load ") + path + ": " + dlerror());
    void *fn = dlsym(so, row.c_str());
    if (!fn) usage(path + " has no function " + row);
    return fn;
}

Args parse(int argc, char **argv) {
    Args a;
    for (int i = 1; i < argc; i++) {
        const std::string k = argv[i];
        if (i + 1 >= argc) usage("missing value after " + k);
        const std::string v = argv[++i];
        if (k == "--loss") a.loss = v;
        else if (k == "--backward") a.backward = v != "0";
        else if (k == "--threads") a.threads = std::atoi(v.c_str());
        else if (k == "--reps") a.reps = std::max(1, std::atoi(v.c_str()));
        else if (k == "--shape") a.shapes.push_back(parse_shape(v));
        else if (k == "--replace") {
            const size_t eq = v.find('=');
            if (eq == std::string::npos) usage("--replace ROW=candidate.so");
            a.replace.push_back({v.substr(0, eq), load_candidate(v.substr(0, eq), v.substr(eq + 1))});
        } else usage("unknown option " + k);
    }
    if (a.shapes.empty()) usage("no --shape");
    return a;
}

void use_candidates(const Args &a, bool on) {
    for (const auto &[row, fn] : a.replace) {
        if (!rt::replace_cpu_kernel(row.c_str(), on ? fn : nullptr)) usage("no CPU kernel row " + row);
    }
}

double median(std::vector<double> v) {
    std::sort(v.begin(), v.end());
    return v[v.size() / 2];
}

}  // namespace

int main(int argc, char **argv) {
    const Args a = parse(argc, argv);
    segloss_set_num_threads(a.threads);
    const LossParams params = bench::bench_params(a.loss);
    Context ctx;
    for (const auto &shape : a.shapes) {
        bench::Problem p(shape);
        double value = 0;
        bench::CallViews c(p, &value);
        auto call = [&](bool candidate) {
            use_candidates(a, candidate);
            const auto t0 = std::chrono::steady_clock::now();
            ctx.compute(params, c.logits, c.labels, c.value, a.backward ? &c.grad : nullptr);
            return std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count();
        };
        // Outputs first (these calls also warm up both): same value and gradient, or the
        // candidate is wrong whatever its speed.
        call(false);
        const double base_value = value;
        const std::vector<float> base_grad = p.grad;
        call(true);
        double grad_diff = 0;
        for (size_t i = 0; a.backward && i < base_grad.size(); i++) {
            const double d = std::fabs(double(p.grad[i]) - double(base_grad[i]));
            grad_diff = std::isnan(d) ? INFINITY : std::max(grad_diff, d);
        }
        const double value_diff = std::fabs(value - base_value) / std::max(1e-30, std::fabs(base_value));
        std::vector<double> base, cand;
        for (int r = 0; r < a.reps; r++) {
            // Alternate which goes first, so that neither always follows the other's cache state.
            if (r % 2) {
                cand.push_back(call(true));
                base.push_back(call(false));
            } else {
                base.push_back(call(false));
                cand.push_back(call(true));
            }
        }
        const double bm = median(base), cm = median(cand);
        std::printf("{\"shape\": \"%s\", \"base_ms\": %.4f, \"cand_ms\": %.4f, \"ratio\": %.4f, "
                    "\"value_rel_diff\": %.3g, \"grad_max_diff\": %.3g}\n",
                    bench::shape_name(shape).c_str(), bm, cm, cm / bm, std::isnan(value_diff) ? INFINITY : value_diff,
                    grad_diff);
        std::fflush(stdout);
    }
    use_candidates(a, false);
    return 0;
}
