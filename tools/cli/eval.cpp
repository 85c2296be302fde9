// SPDX-License-Identifier: Apache-2.0
// `segloss eval`: the metrics of a predicted label map against a target label map (one image,
// .npy or NIfTI), as JSON per class (LOSSES.md, Metrics).
#include "eval.h"

#include <algorithm>
#include <cmath>
#include <iostream>
#include <sstream>
#include <stdexcept>

#include "label_volume.h"
#include "args.h"
#include "options/loss_options.h"
#include "segloss/segloss.hpp"

namespace segloss::cli {
using namespace segloss::options;
namespace {

const char *kMetricNames[SEGLOSS_NUM_METRICS] = {"dice", "iou", "hd", "hd95", "assd", "nsd"};
const char *kCaseNames[] = {"both_present", "prediction_empty", "target_empty", "both_empty"};

std::string number(double v) {
    if (!std::isfinite(v)) return "null";  // NaN and +inf: the case says which
    std::ostringstream o;
    o.precision(9);
    o << v;
    return o.str();
}

std::string list(const std::vector<double> &v) {
    std::string s = "[";
    for (size_t i = 0; i < v.size(); i++) s += (i ? ", " : "") + number(v[i]);
    return s + "]";
}

DLTensor labels_view(std::vector<int64_t> &data, std::vector<int64_t> &shape) {
    DLTensor t{};
    t.data = data.data();
    t.device = {kDLCPU, 0};
    t.ndim = static_cast<int>(shape.size());
    t.dtype = {kDLInt, 64, 1};
    t.shape = shape.data();
    return t;
}

}  // namespace

int run_eval(int argc, char **argv) {
    std::string pred_path, target_path;
    std::vector<std::string> wanted(kMetricNames, kMetricNames + SEGLOSS_NUM_METRICS);
    std::vector<double> spacing;
    segloss_metric_params_t p;
    segloss_metric_params_init(&p);
    int64_t num_classes = 0;
    for (Args args(argc, argv, 2); args.next();) {
        const std::string &a = args.flag();
        if (a == "--pred") pred_path = args.value();
        else if (a == "--target") target_path = args.value();
        else if (a == "--spacing") spacing = parse_numbers(a, args.value());
        else if (a == "--tolerance") p.tolerance = parse_number(a, args.value());
        else if (a == "--num-classes") num_classes = static_cast<int64_t>(parse_number(a, args.value()));
        else if (a == "--ignore-index") {
            p.has_ignore_index = 1;
            p.ignore_index = static_cast<int64_t>(parse_number(a, args.value()));
        } else if (a == "--include-background") p.include_background = 1;
        else if (a == "--metrics") {
            wanted.clear();
            std::stringstream ss(args.value());
            std::string m;
            while (std::getline(ss, m, ',')) {
                if (std::find(kMetricNames, kMetricNames + SEGLOSS_NUM_METRICS, m) == kMetricNames + SEGLOSS_NUM_METRICS) {
                    throw std::runtime_error("--metrics: unknown metric '" + m + "' (dice, iou, hd, hd95, assd, nsd)");
                }
                wanted.push_back(m);
            }
        } else {
            throw std::runtime_error("unknown argument " + a);
        }
    }
    if (pred_path.empty() || target_path.empty()) throw std::runtime_error("--pred and --target are required");
    LabelVolume P = read_label_volume(pred_path), T = read_label_volume(target_path);
    if (P.shape != T.shape) throw std::runtime_error("prediction and target have different shapes");

    // Spacing: given (in the file's axis order: NIfTI i, j, k; .npy the array's axes), else
    // the target's NIfTI header, else 1.
    std::vector<double> tensor_spacing(T.shape.size(), 1.0);
    std::string source = "default";
    if (!spacing.empty()) {
        if (spacing.size() != T.shape.size()) {
            throw std::runtime_error("--spacing has " + std::to_string(spacing.size()) + " values for " +
                                     std::to_string(T.shape.size()) + " axes");
        }
        tensor_spacing = spacing;
        if (T.nifti) std::reverse(tensor_spacing.begin(), tensor_spacing.end());
        source = "option";
    } else if (T.nifti) {
        tensor_spacing = T.spacing;
        source = "header";
        if (P.nifti) {
            for (size_t d = 0; d < P.spacing.size(); d++) {
                if (std::fabs(P.spacing[d] - T.spacing[d]) > 1e-5 * std::max(1.0, T.spacing[d])) {
                    throw std::runtime_error("the prediction's and the target's voxel spacings differ; give --spacing");
                }
            }
        }
    }
    if (num_classes == 0) {
        int64_t top = 1;
        for (const std::vector<int64_t> *l : {&P.labels, &T.labels}) {
            for (int64_t v : *l) {
                if (!(p.has_ignore_index && v == p.ignore_index)) top = std::max(top, v);
            }
        }
        num_classes = top + 1;
    }
    p.num_classes = num_classes;
    p.spacing = tensor_spacing.data();
    p.num_spacing = static_cast<int64_t>(tensor_spacing.size());

    std::vector<int64_t> shape{1};
    shape.insert(shape.end(), T.shape.begin(), T.shape.end());
    const int64_t K = num_classes - (p.include_background ? 0 : 1);
    std::vector<double> values(static_cast<size_t>(std::max<int64_t>(K, 0) * SEGLOSS_NUM_METRICS));
    std::vector<int32_t> cases(static_cast<size_t>(std::max<int64_t>(K, 0)));
    std::vector<int64_t> vshape{1, K, SEGLOSS_NUM_METRICS}, cshape{1, K};
    DLTensor pt = labels_view(P.labels, shape), tt = labels_view(T.labels, shape);
    DLTensor vt{}, ct{};
    vt.data = values.data();
    vt.device = ct.device = {kDLCPU, 0};
    vt.ndim = 3;
    vt.dtype = {kDLFloat, 64, 1};
    vt.shape = vshape.data();
    ct.data = cases.data();
    ct.ndim = 2;
    ct.dtype = {kDLInt, 32, 1};
    ct.shape = cshape.data();
    Context ctx;
    ctx.metrics(p, pt, tt, vt, &ct);

    std::vector<double> file_spacing = tensor_spacing;
    if (T.nifti) std::reverse(file_spacing.begin(), file_spacing.end());
    std::ostringstream out;
    out << "{\"prediction\": \"" << pred_path << "\", \"target\": \"" << target_path << "\", \"spacing\": "
        << list(file_spacing) << ", \"spacing_from\": \"" << source << "\", \"tolerance\": " << number(p.tolerance)
        << ", \"num_classes\": " << num_classes << ", \"images\": [{\"image\": 0, \"classes\": [";
    for (int64_t k = 0; k < K; k++) {
        out << (k ? ", " : "") << "{\"class\": " << k + (p.include_background ? 0 : 1) << ", \"case\": \""
            << kCaseNames[cases[k]] << "\"";
        for (const std::string &m : wanted) {
            const int i = static_cast<int>(std::find(kMetricNames, kMetricNames + SEGLOSS_NUM_METRICS, m) - kMetricNames);
            out << ", \"" << m << "\": " << number(values[k * SEGLOSS_NUM_METRICS + i]);
        }
        out << "}";
    }
    out << "]}]}";
    std::cout << out.str() << std::endl;
    return 0;
}

}  // namespace segloss::cli
