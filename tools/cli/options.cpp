// SPDX-License-Identifier: Apache-2.0
#include "options.h"

#include <cerrno>
#include <cmath>
#include <cstdlib>
#include <sstream>
#include <stdexcept>

namespace segloss::cli {
namespace {

[[noreturn]] void bad(const std::string &name, const std::string &value, const std::string &want) {
    throw std::runtime_error("option " + name + "=" + value + ": expected " + want);
}

bool parse_bool(const std::string &name, const std::string &v) {
    if (v == "true") return true;
    if (v == "false") return false;
    bad(name, v, "true or false");
}

double parse_number(const std::string &name, const std::string &v) {
    char *end = nullptr;
    errno = 0;
    const double d = std::strtod(v.c_str(), &end);
    if (v.empty() || *end != '\0' || errno != 0 || !std::isfinite(d)) bad(name, v, "a finite number");
    return d;
}

int64_t parse_int(const std::string &name, const std::string &v) {
    char *end = nullptr;
    errno = 0;
    const long long i = std::strtoll(v.c_str(), &end, 10);
    if (v.empty() || *end != '\0' || errno != 0) bad(name, v, "an integer");
    return i;
}

}  // namespace

void apply_option(LossParams &params, const std::string &name, const std::string &value) {
    segloss_loss_params_t &p = *params.get();
    const bool region_only = name == "batch" || name == "squared_pred" || name == "smooth_nr" || name == "smooth_dr";
    if (region_only && p.loss == SEGLOSS_LOSS_CE) {
        throw std::runtime_error("option '" + name + "' does not apply to loss ce");
    }
    if (name == "activation") {
        if (value == "softmax") p.activation = SEGLOSS_ACTIVATION_SOFTMAX;
        else if (value == "sigmoid") p.activation = SEGLOSS_ACTIVATION_SIGMOID;
        else if (value == "none") p.activation = SEGLOSS_ACTIVATION_NONE;
        else bad(name, value, "softmax, sigmoid or none");
    } else if (name == "reduction") {
        if (value == "mean") p.reduction = SEGLOSS_REDUCTION_MEAN;
        else if (value == "sum") p.reduction = SEGLOSS_REDUCTION_SUM;
        else if (value == "none") p.reduction = SEGLOSS_REDUCTION_NONE;
        else bad(name, value, "mean, sum or none");
    } else if (name == "include_background") {
        p.include_background = parse_bool(name, value);
    } else if (name == "batch") {
        p.batch = parse_bool(name, value);
    } else if (name == "squared_pred") {
        p.squared_pred = parse_bool(name, value);
    } else if (name == "check_finite") {
        p.check_finite = parse_bool(name, value);
    } else if (name == "smooth_nr") {
        p.smooth_nr = static_cast<float>(parse_number(name, value));
    } else if (name == "smooth_dr") {
        p.smooth_dr = static_cast<float>(parse_number(name, value));
    } else if (name == "ignore_index") {
        params.ignore_index(parse_int(name, value));
    } else if (name == "weight") {
        std::vector<float> w;
        std::stringstream ss(value);
        std::string item;
        while (std::getline(ss, item, ',')) w.push_back(static_cast<float>(parse_number(name, item)));
        if (w.empty()) bad(name, value, "a comma-separated list of numbers");
        params.weight(w);
    } else {
        throw std::runtime_error("unknown option '" + name + "' for loss " + segloss_loss_name(p.loss));
    }
}

std::string options_json(const LossParams &params) {
    const segloss_loss_params_t &p = *params.get();
    const char *act[] = {"softmax", "sigmoid", "none"};
    const char *red[] = {"mean", "sum", "none"};
    std::ostringstream o;
    o << "{\"activation\": \"" << act[p.activation] << "\", \"include_background\": "
      << (p.include_background ? "true" : "false") << ", \"reduction\": \"" << red[p.reduction] << "\", \"weight\": ";
    if (p.weight) {
        o << "[";
        for (int64_t i = 0; i < p.num_weights; i++) o << (i ? ", " : "") << p.weight[i];
        o << "]";
    } else {
        o << "null";
    }
    o << ", \"ignore_index\": ";
    if (p.has_ignore_index) o << p.ignore_index;
    else o << "null";
    if (p.loss == SEGLOSS_LOSS_DICE) {
        o << ", \"batch\": " << (p.batch ? "true" : "false") << ", \"smooth_nr\": " << p.smooth_nr
          << ", \"smooth_dr\": " << p.smooth_dr << ", \"squared_pred\": " << (p.squared_pred ? "true" : "false");
    }
    o << ", \"check_finite\": " << (p.check_finite ? "true" : "false") << "}";
    return o.str();
}

}  // namespace segloss::cli
