// SPDX-License-Identifier: Apache-2.0
// The segloss command:
//   segloss demo                      CE and Dice on a built-in 3-D phantom, a table of results
//   segloss loss NAME --logits L.npy --target T.npy [--mask M.npy] [--set key=value ...] [--grad-out G.npy]
//   segloss distance --mask M.npy [--kind edt|edt_complement|signed|boundary|surface|dpce] [--spacing s,...] --out D.npy
//   segloss eval --pred P --target T [--metrics dice,iou,hd,hd95,assd,nsd] [--tolerance MM] [--spacing ...]
//   segloss version
// Errors: one line on stderr, exit status 2, nothing written.
#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <iostream>
#include <sstream>
#include <string>
#include <vector>

#include "eval.h"
#include "npy.h"
#include "args.h"
#include "options/loss_options.h"
#include "phantom.h"
#include "segloss/segloss.hpp"

using namespace segloss;
using namespace segloss::cli;
using namespace segloss::options;

namespace {

const char *kUsage =
    "usage: segloss demo\n"
    "       segloss loss NAME --logits L.npy --target T.npy [--mask M.npy] [--set key=value ...] [--grad-out G.npy]\n"
    "       segloss distance --mask M.npy [--kind edt|edt_complement|signed|boundary|surface|dpce] [--spacing sz,sy,sx] --out D.npy\n"
    "       segloss eval --pred P --target T [--metrics dice,iou,hd,hd95,assd,nsd] [--tolerance MM]\n"
    "                    [--spacing s,...] [--num-classes C] [--ignore-index L] [--include-background]\n"
    "       segloss version\n"
    "NAME: a loss of LOSSES.md (ce, dice, topk, dice_ce, ...). Options as in LOSSES.md, e.g.\n"
    "  --set include_background=false --set weight=0.2,0.8 --set dice.batch=true --set lambda_ce=0.5\n"
    "--mask: the loss_mask, N,spatial float32/float64/uint8/bool weights in [0, 1]\n"
    "distance: M is one 1-3 D mask (nonzero = inside; bool, uint8, int32, int64, float32 or float64);\n"
    "  D is its float32 map (LOSSES.md): edt = distance to the nearest voxel outside (+inf for a full\n"
    "  mask), signed = Kervadec's signed distance, boundary = distance across the boundary (0 for\n"
    "  empty and full masks), surface = distance to the mask's surface, dpce = DPCE's (m - EDT) / m.\n"
    "  One spacing per axis, in M's axis order. Prints a JSON summary.\n"
    "eval: P and T are one image's label maps (.npy of 1-3 axes, or NIfTI .nii/.nii.gz); spacing in\n"
    "  the file's axis order (NIfTI: i,j,k), by default the target's NIfTI header (else 1); C by\n"
    "  default the largest label + 1; NSD's tolerance in spacing units (default 1). Prints JSON per\n"
    "  class with its case (both_present, prediction_empty, target_empty, both_empty); NaN and +inf\n"
    "  are printed as null (LOSSES.md: both empty -> NaN, one empty -> Dice/NSD 0, distances inf).\n";

DLTensor view(void *data, DLDataType dt, std::vector<int64_t> &shape) {
    DLTensor t{};
    t.data = data;
    t.device = {kDLCPU, 0};
    t.ndim = static_cast<int>(shape.size());
    t.dtype = dt;
    t.shape = shape.data();
    return t;
}

std::string json_number(double v) {
    if (!std::isfinite(v)) return "null";
    std::ostringstream o;
    o.precision(9);
    o << v;
    return o.str();
}

int run_loss(int argc, char **argv) {
    if (argc < 3) throw std::runtime_error("loss: missing NAME");
    LossParams params{std::string(argv[2])};
    std::string logits_path, target_path, grad_path, mask_path;
    for (Args args(argc, argv, 3); args.next();) {
        const std::string &a = args.flag();
        if (a == "--logits") logits_path = args.value();
        else if (a == "--target") target_path = args.value();
        else if (a == "--grad-out") grad_path = args.value();
        else if (a == "--mask") mask_path = args.value();
        else if (a == "--set") apply_option(params, args.value());
        else {
            throw std::runtime_error("unknown argument " + a);
        }
    }
    if (logits_path.empty() || target_path.empty()) throw std::runtime_error("--logits and --target are required");

    NpyArray L = read_npy(logits_path), T = read_npy(target_path);
    // Logits become float32; int64 targets become int32 (checked), others pass through.
    std::vector<float> logits(L.numel());
    if (L.descr == "<f4") std::memcpy(logits.data(), L.data.data(), L.data.size());
    else if (L.descr == "<f8") {
        const double *d = reinterpret_cast<const double *>(L.data.data());
        for (int64_t i = 0; i < L.numel(); i++) logits[i] = static_cast<float>(d[i]);
    } else {
        throw std::runtime_error(logits_path + ": logits must be float32 or float64");
    }
    std::vector<int32_t> t32;
    void *tdata = T.data.data();
    DLDataType tdt{};
    if (T.descr == "<i4") tdt = {kDLInt, 32, 1};
    else if (T.descr == "|u1" || T.descr == "<u1") tdt = {kDLUInt, 8, 1};
    else if (T.descr == "<f4") tdt = {kDLFloat, 32, 1};
    else if (T.descr == "<i8") {
        const int64_t *d = reinterpret_cast<const int64_t *>(T.data.data());
        for (int64_t i = 0; i < T.numel(); i++) {
            if (d[i] < INT32_MIN || d[i] > INT32_MAX) throw std::runtime_error(target_path + ": label beyond int32");
            t32.push_back(static_cast<int32_t>(d[i]));
        }
        tdata = t32.data();
        tdt = {kDLInt, 32, 1};
    } else {
        throw std::runtime_error(target_path + ": targets must be int32, int64, uint8 or float32");
    }

    // The mask becomes float32 (float64 narrowed; uint8/bool passed as they are).
    std::vector<float> mask32;
    NpyArray M;
    DLTensor mt{};
    if (!mask_path.empty()) {
        M = read_npy(mask_path);
        void *mdata = M.data.data();
        DLDataType mdt{kDLFloat, 32, 1};
        if (M.descr == "<f8") {
            const double *d = reinterpret_cast<const double *>(M.data.data());
            for (int64_t i = 0; i < M.numel(); i++) mask32.push_back(static_cast<float>(d[i]));
            mdata = mask32.data();
        } else if (M.descr == "|u1" || M.descr == "<u1") {
            mdt = {kDLUInt, 8, 1};
        } else if (M.descr == "|b1") {
            mdt = {6 /* kDLBool */, 8, 1};
        } else if (M.descr != "<f4") {
            throw std::runtime_error(mask_path + ": the mask must be float32, float64, uint8 or bool");
        }
        mt = view(mdata, mdt, M.shape);
        params.loss_mask(&mt);
    }

    const segloss_loss_params_t &p = *params.get();
    std::vector<int64_t> vshape = value_shape(params, L.shape);
    int64_t vn = 1;
    for (int64_t e : vshape) vn *= e;
    std::vector<float> value(vn), grad(grad_path.empty() ? 0 : logits.size());
    DLTensor lt = view(logits.data(), {kDLFloat, 32, 1}, L.shape), tt = view(tdata, tdt, T.shape);
    DLTensor vt = view(value.data(), {kDLFloat, 32, 1}, vshape), gt = view(grad.data(), {kDLFloat, 32, 1}, L.shape);
    Context ctx;
    ctx.compute(params, lt, tt, vt, grad_path.empty() ? nullptr : &gt);
    if (!grad_path.empty()) write_npy_f32(grad_path, L.shape, grad.data());

    std::ostringstream out;
    out << "{\"loss\": \"" << argv[2] << "\", \"value\": ";
    if (p.reduction == SEGLOSS_REDUCTION_NONE) {
        out << "[";
        for (size_t i = 0; i < value.size(); i++) out << (i ? ", " : "") << json_number(value[i]);
        out << "], \"value_shape\": [";
        for (size_t i = 0; i < vshape.size(); i++) out << (i ? ", " : "") << vshape[i];
        out << "]";
    } else {
        out << json_number(value[0]);
    }
    out << ", \"options\": " << options_json(params) << ", \"kernels\": \"" << ctx.last_kernel() << "\"}";
    std::cout << out.str() << std::endl;
    return 0;
}

// The mask of `segloss distance` as uint8 (nonzero = inside), whatever its numeric dtype.
std::vector<uint8_t> binary_mask(const NpyArray &M, const std::string &path) {
    const int64_t count = M.numel();
    std::vector<uint8_t> m(static_cast<size_t>(count));
    const unsigned char *d = M.data.data();
    auto nonzero = [&](auto typed) {
        for (int64_t i = 0; i < count; i++) m[i] = typed[i] != 0 ? 1 : 0;
    };
    if (M.descr == "|u1" || M.descr == "<u1" || M.descr == "|b1") nonzero(d);
    else if (M.descr == "<i4") nonzero(reinterpret_cast<const int32_t *>(d));
    else if (M.descr == "<i8") nonzero(reinterpret_cast<const int64_t *>(d));
    else if (M.descr == "<f4") nonzero(reinterpret_cast<const float *>(d));
    else if (M.descr == "<f8") nonzero(reinterpret_cast<const double *>(d));
    else throw std::runtime_error(path + ": the mask must be bool, uint8, int32, int64, float32 or float64");
    return m;
}

int run_distance(int argc, char **argv) {
    std::string mask_path, out_path, kind = "edt";
    std::vector<double> spacing;
    for (Args args(argc, argv, 2); args.next();) {
        const std::string &a = args.flag();
        if (a == "--mask") mask_path = args.value();
        else if (a == "--out") out_path = args.value();
        else if (a == "--kind") kind = args.value();
        else if (a == "--spacing") {
            spacing = parse_numbers("--spacing", args.value());
        } else {
            throw std::runtime_error("unknown argument " + a);
        }
    }
    if (mask_path.empty() || out_path.empty()) throw std::runtime_error("--mask and --out are required");
    const std::vector<std::string> kinds{"edt", "edt_complement", "signed", "boundary", "surface", "dpce"};
    const auto k = std::find(kinds.begin(), kinds.end(), kind);
    if (k == kinds.end()) throw std::runtime_error("--kind " + kind + ": expected edt, edt_complement, signed, boundary, surface or dpce");
    NpyArray M = read_npy(mask_path);
    if (M.shape.empty() || M.shape.size() > 3) throw std::runtime_error(mask_path + ": the mask must have 1 to 3 axes");
    std::vector<uint8_t> mask = binary_mask(M, mask_path);
    // One image, one class: N = 1, the mask is class 1 of a binary index map.
    std::vector<int64_t> sshape{1}, dshape{1, 1}, fshape{1, 1};
    for (int64_t e : M.shape) {
        sshape.push_back(e);
        dshape.push_back(e);
    }
    std::vector<float> dist(mask.size());
    int32_t flag = 0;
    DLTensor st = view(mask.data(), {kDLUInt, 8, 1}, sshape), dt = view(dist.data(), {kDLFloat, 32, 1}, dshape);
    DLTensor ft = view(&flag, {kDLInt, 32, 1}, fshape);
    segloss_distance_params_t p;
    segloss_distance_params_init(&p);
    p.kind = segloss_distance_kind_t(k - kinds.begin());
    p.spacing = spacing.empty() ? nullptr : spacing.data();
    p.num_spacing = static_cast<int64_t>(spacing.size());
    Context ctx;
    ctx.distance(p, st, dt, &ft);
    write_npy_f32(out_path, M.shape, dist.data());
    float lo = INFINITY, hi = -INFINITY;
    for (float v : dist) {
        lo = std::min(lo, v);
        hi = std::max(hi, v);
    }
    const char *flags[] = {"normal", "empty", "full"};
    std::cout << "{\"kind\": \"" << kind << "\", \"mask\": \"" << flags[flag] << "\", \"min\": " << json_number(lo)
              << ", \"max\": " << json_number(hi) << ", \"kernels\": \"" << ctx.last_kernel() << "\"}" << std::endl;
    return 0;
}

int run_demo() {
    const int64_t N = 2, C = 4, D = 96, H = 96, W = 96;
    std::printf("segloss %s demo: synthetic phantom [%ld, %ld, %ld, %ld, %ld] (ellipsoids; logits from a\n"
                "shifted, noisy copy), CPU, median of 5 runs\n\n",
                segloss_version(), long(N), long(C), long(D), long(H), long(W));
    Phantom ph = make_phantom(N, C, D, H, W, 2026);
    std::vector<int64_t> lshape{N, C, D, H, W}, tshape{N, D, H, W}, vshape{1};
    std::vector<float> grad(ph.logits.size());
    double value = 0;
    DLTensor lt = view(ph.logits.data(), {kDLFloat, 32, 1}, lshape);
    DLTensor tt = view(ph.labels.data(), {kDLInt, 32, 1}, tshape);
    DLTensor vt = view(&value, {kDLFloat, 64, 1}, vshape);
    DLTensor gt = view(grad.data(), {kDLFloat, 32, 1}, lshape);
    // Bytes of one forward+backward: logits and labels read once, gradient written once.
    const double bytes = 4.0 * ph.logits.size() * 2 + 4.0 * ph.labels.size();
    Context ctx;
    std::printf("%-6s %-12s %-14s %-10s %-8s\n", "loss", "value", "|grad|_2", "time ms", "GB/s");
    for (const char *name : {"ce", "dice"}) {
        LossParams params{std::string(name)};
        std::vector<double> ms;
        for (int r = 0; r < 5; r++) {
            auto t0 = std::chrono::steady_clock::now();
            ctx.compute(params, lt, tt, vt, &gt);
            ms.push_back(std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count());
        }
        std::sort(ms.begin(), ms.end());
        double norm = 0;
        for (float g : grad) norm += double(g) * g;
        std::printf("%-6s %-12.6f %-14.6e %-10.2f %-8.2f\n", name, value, std::sqrt(norm), ms[2],
                    bytes / (ms[2] * 1e-3) / 1e9);
    }
    std::printf("\nkernels of the last call: %s\n", ctx.last_kernel().c_str());
    return 0;
}

}  // namespace

int main(int argc, char **argv) {
    try {
        if (argc < 2 || !std::strcmp(argv[1], "--help") || !std::strcmp(argv[1], "-h")) {
            std::fputs(kUsage, argc < 2 ? stderr : stdout);
            return argc < 2 ? 2 : 0;
        }
        const std::string cmd = argv[1];
        if (cmd == "demo") return run_demo();
        if (cmd == "loss") return run_loss(argc, argv);
        if (cmd == "distance") return run_distance(argc, argv);
        if (cmd == "eval") return run_eval(argc, argv);
        if (cmd == "version") {
            std::printf("segloss %s\n", segloss_version());
            return 0;
        }
        throw std::runtime_error("unknown command '" + cmd + "' (demo, loss, distance, eval, version)");
    } catch (const std::exception &e) {
        std::string msg = e.what();
        std::replace(msg.begin(), msg.end(), '\n', ' ');
        std::fprintf(stderr, "segloss: %s\n", msg.c_str());
        return 2;
    }
}
