// SPDX-License-Identifier: Apache-2.0
#include "loss_options.h"

#include <cerrno>
#include <cmath>
#include <cstdlib>
#include <functional>
#include <sstream>
#include <stdexcept>

namespace segloss::options {
namespace {

[[noreturn]] void bad(const std::string &name, const std::string &value, const std::string &want) {
    throw std::runtime_error("option " + name + "=" + value + ": expected " + want);
}

bool parse_bool(const std::string &name, const std::string &v) {
    if (v == "true") return true;
    if (v == "false") return false;
    bad(name, v, "true or false");
}

}  // namespace

double parse_number(const std::string &name, const std::string &v) {
    char *end = nullptr;
    errno = 0;
    const double d = std::strtod(v.c_str(), &end);
    if (v.empty() || *end != '\0' || errno != 0 || !std::isfinite(d)) bad(name, v, "a finite number");
    return d;
}

namespace {

int64_t parse_int(const std::string &name, const std::string &v) {
    char *end = nullptr;
    errno = 0;
    const long long i = std::strtoll(v.c_str(), &end, 10);
    if (v.empty() || *end != '\0' || errno != 0) bad(name, v, "an integer");
    return i;
}

// One of `names` (index = the enum value).
int parse_choice(const std::string &name, const std::string &v, const std::vector<std::string> &names) {
    std::string want;
    for (size_t i = 0; i < names.size(); i++) {
        if (v == names[i]) return static_cast<int>(i);
        want += (i ? (i + 1 == names.size() ? " or " : ", ") : "") + names[i];
    }
    bad(name, v, want);
}

const std::vector<std::string> kActivations = {"softmax", "sigmoid", "none"};
const std::vector<std::string> kReductions = {"mean", "sum", "none"};
const std::vector<std::string> kEmpty = {"smooth", "exclude"};
const std::vector<std::string> kGdWeights = {"square", "simple", "uniform"};
const std::vector<std::string> kWeightNorms = {"weighted", "count"};
const std::vector<std::string> kClassWeights = {"given", "inverse_frequency"};
const std::vector<std::string> kTopkModes = {"percent", "threshold"};
const std::vector<std::string> kHdVariants = {"two_sided", "one_sided"};

bool is_compound(segloss_loss_kind_t k) {
    segloss_loss_kind_t r, p;
    return segloss_loss_parts(k, &r, &p) == SEGLOSS_STATUS_OK;
}
bool is_boundary(segloss_loss_kind_t k) { return k == SEGLOSS_LOSS_BOUNDARY || k == SEGLOSS_LOSS_HAUSDORFF_DT; }
bool uses_spacing(segloss_loss_kind_t k) {
    return is_boundary(k) || k == SEGLOSS_LOSS_DPCE || k == SEGLOSS_LOSS_DICE_BOUNDARY || k == SEGLOSS_LOSS_DICE_HAUSDORFF;
}
bool is_region(segloss_loss_kind_t k) { return !is_pointwise(k) && !is_compound(k) && !is_boundary(k); }
bool is_grouped(segloss_loss_kind_t k) { return is_region(k) || is_boundary(k); }
bool is_topk(segloss_loss_kind_t k);
bool is_combo(segloss_loss_kind_t k) { return k == SEGLOSS_LOSS_COMBO; }
bool is_exp_log(segloss_loss_kind_t k) { return k == SEGLOSS_LOSS_EXP_LOG; }
bool is_ce(segloss_loss_kind_t k) {
    return k == SEGLOSS_LOSS_CE || k == SEGLOSS_LOSS_WCE || k == SEGLOSS_LOSS_DPCE || is_topk(k);
}
bool is_focal(segloss_loss_kind_t k) { return k == SEGLOSS_LOSS_FOCAL; }
bool is_topk(segloss_loss_kind_t k) { return k == SEGLOSS_LOSS_TOPK; }
bool is_tversky(segloss_loss_kind_t k) { return k == SEGLOSS_LOSS_TVERSKY || k == SEGLOSS_LOSS_FOCAL_TVERSKY; }
bool is_generalized(segloss_loss_kind_t k) {
    return k == SEGLOSS_LOSS_GENERALIZED_DICE || k == SEGLOSS_LOSS_PENALTY_GENERALIZED_DICE;
}

using Params = segloss_loss_params_t;
struct Option {
    const char *name;
    std::function<bool(segloss_loss_kind_t)> applies;
    std::function<void(LossParams &, const std::string &, const std::string &)> set;
    std::function<std::string(const Params &)> json;  // the effective value, as JSON
};

std::string num(double d) {
    std::ostringstream o;
    o << d;
    return o.str();
}
std::string boolean(int b) { return b ? "true" : "false"; }
std::string quoted(const std::string &s) { return "\"" + s + "\""; }
auto always = [](segloss_loss_kind_t) { return true; };

// Options that set one field of the params: a number, a flag or one of a list of names.
Option number(const char *name, std::function<bool(segloss_loss_kind_t)> applies, float Params::*field) {
    return {name, std::move(applies),
            [field](LossParams &p, const std::string &n, const std::string &v) {
                p.get()->*field = static_cast<float>(parse_number(n, v));
            },
            [field](const Params &p) { return num(p.*field); }};
}

Option flag(const char *name, std::function<bool(segloss_loss_kind_t)> applies, int Params::*field) {
    return {name, std::move(applies),
            [field](LossParams &p, const std::string &n, const std::string &v) { p.get()->*field = parse_bool(n, v); },
            [field](const Params &p) { return boolean(p.*field); }};
}

template <typename Enum>
Option choice(const char *name, std::function<bool(segloss_loss_kind_t)> applies,
              const std::vector<std::string> &names, Enum Params::*field) {
    return {name, std::move(applies),
            [&names, field](LossParams &p, const std::string &n, const std::string &v) {
                p.get()->*field = static_cast<Enum>(parse_choice(n, v, names));
            },
            [&names, field](const Params &p) { return quoted(names[p.*field]); }};
}

template <typename T>
std::string json_list(const T *v, int64_t n) {
    std::string s = "[";
    for (int64_t i = 0; i < n; i++) s += (i ? ", " : "") + num(double(v[i]));
    return s + "]";
}

// Every option of LOSSES.md that this build implements, and the losses it applies to.
const std::vector<Option> &options() {
    static const std::vector<Option> kOptions = {
        choice("activation", always, kActivations, &Params::activation),
        choice("reduction", always, kReductions, &Params::reduction),
        flag("include_background", is_grouped, &Params::include_background),
        flag("batch", is_grouped, &Params::batch),
        {"weight", [](segloss_loss_kind_t k) { return !is_generalized(k) && !is_focal(k) && !is_compound(k); },
         [](LossParams &p, const std::string &n, const std::string &v) { p.weight(parse_list(n, v)); },
         [](const Params &p) { return p.weight ? json_list(p.weight, p.num_weights) : std::string("null"); }},
        {"ignore_index", always,
         [](LossParams &p, const std::string &n, const std::string &v) { p.ignore_index(parse_int(n, v)); },
         [](const Params &p) { return p.has_ignore_index ? std::to_string(p.ignore_index) : std::string("null"); }},
        number("smooth_nr", is_region, &Params::smooth_nr),
        number("smooth_dr", is_region, &Params::smooth_dr),
        flag("squared_pred", [](segloss_loss_kind_t k) { return k == SEGLOSS_LOSS_DICE || k == SEGLOSS_LOSS_LOG_COSH_DICE; },
             &Params::squared_pred),
        choice("empty", is_region, kEmpty, &Params::empty),
        number("alpha", [](segloss_loss_kind_t k) { return is_tversky(k) || is_combo(k) || k == SEGLOSS_LOSS_HAUSDORFF_DT; },
               &Params::alpha),
        {"spacing", uses_spacing,
         [](LossParams &p, const std::string &n, const std::string &v) {
             p.spacing(parse_numbers(n, v));
         },
         [](const Params &p) { return p.spacing ? json_list(p.spacing, p.num_spacing) : std::string("null"); }},
        choice("variant", [](segloss_loss_kind_t k) { return k == SEGLOSS_LOSS_HAUSDORFF_DT; }, kHdVariants,
               &Params::hd_variant),
        // focal's alpha: a number, or one per class.
        {"alpha", is_focal,
         [](LossParams &p, const std::string &n, const std::string &v) {
             std::vector<float> a = parse_list(n, v);
             if (v.find(',') == std::string::npos) p.focal_alpha(a[0]);
             else p.focal_alpha(a);
         },
         [](const Params &p) {
             if (!p.has_alpha) return std::string("null");
             return p.class_alpha ? json_list(p.class_alpha, p.num_class_alpha) : num(p.alpha);
         }},
        number("beta", [](segloss_loss_kind_t k) { return is_tversky(k) || is_combo(k); }, &Params::beta),
        number("gamma_d", is_exp_log, &Params::gamma_d),
        number("gamma_ce", is_exp_log, &Params::gamma_ce),
        number("gamma", [](segloss_loss_kind_t k) { return k == SEGLOSS_LOSS_FOCAL_TVERSKY || is_focal(k); }, &Params::gamma),
        number("b", [](segloss_loss_kind_t k) { return k == SEGLOSS_LOSS_ASYMMETRIC; }, &Params::b),
        number("r", [](segloss_loss_kind_t k) { return k == SEGLOSS_LOSS_SENSITIVITY_SPECIFICITY; }, &Params::r),
        number("k", [](segloss_loss_kind_t k) { return k == SEGLOSS_LOSS_PENALTY_GENERALIZED_DICE || is_topk(k); },
               &Params::k),
        choice("mode", is_topk, kTopkModes, &Params::topk_mode),
        number("t", is_topk, &Params::t),
        choice("w_type", is_generalized, kGdWeights, &Params::w_type),
        number("label_smoothing", is_pointwise, &Params::label_smoothing),
        choice("weight_norm", [](segloss_loss_kind_t k) { return is_pointwise(k) && !is_topk(k); }, kWeightNorms,
               &Params::weight_norm),
        choice("class_weights", is_ce, kClassWeights, &Params::class_weights),
        flag("check_inputs", always, &Params::check_inputs),
        flag("check_finite", always, &Params::check_finite),
    };
    return kOptions;
}

}  // namespace

std::vector<double> parse_numbers(const std::string &name, const std::string &value) {
    std::vector<double> w;
    std::stringstream ss(value);
    std::string item;
    while (std::getline(ss, item, ',')) w.push_back(parse_number(name, item));
    if (w.empty()) bad(name, value, "a comma-separated list of numbers");
    return w;
}

std::vector<float> parse_list(const std::string &name, const std::string &value) {
    const std::vector<double> d = parse_numbers(name, value);
    return std::vector<float>(d.begin(), d.end());
}


bool is_pointwise(segloss_loss_kind_t k) {
    return k == SEGLOSS_LOSS_CE || k == SEGLOSS_LOSS_WCE || k == SEGLOSS_LOSS_FOCAL || k == SEGLOSS_LOSS_TOPK ||
           k == SEGLOSS_LOSS_DPCE;
}

namespace {

// A compound's part options are `part.option` (dice.include_background=false, ce.weight=...).
bool apply_part_option(LossParams &params, const std::string &name, const std::string &value) {
    const size_t dot = name.find('.');
    segloss_loss_kind_t region, pointwise;
    if (dot == std::string::npos || segloss_loss_parts(params.get()->loss, &region, &pointwise) != SEGLOSS_STATUS_OK) {
        return false;
    }
    const std::string part = name.substr(0, dot);
    const bool is_region_part = part == segloss_loss_name(region);
    if (!is_region_part && part != segloss_loss_name(pointwise)) {
        throw std::runtime_error("loss " + std::string(segloss_loss_name(params.get()->loss)) + " has no part '" + part +
                                 "' (its parts are " + segloss_loss_name(region) + " and " + segloss_loss_name(pointwise) +
                                 ")");
    }
    LossParams *target = is_region_part ? params.region_part_params() : params.pointwise_part_params();
    if (!target) {
        if (is_region_part) params.region_part(LossParams(region));
        else params.pointwise_part(LossParams(pointwise));
        target = is_region_part ? params.region_part_params() : params.pointwise_part_params();
    }
    apply_option(*target, name.substr(dot + 1), value);
    return true;
}

// A compound's weights: lambda_<part> (dice_ce: lambda_dice, lambda_ce); exp_log's w_d, w_ce.
bool apply_lambda(LossParams &params, const std::string &name, const std::string &value) {
    segloss_loss_kind_t region, pointwise;
    segloss_loss_params_t &p = *params.get();
    if (segloss_loss_parts(p.loss, &region, &pointwise) != SEGLOSS_STATUS_OK || p.loss == SEGLOSS_LOSS_COMBO) return false;
    const bool exp_log = p.loss == SEGLOSS_LOSS_EXP_LOG;
    if (name == (exp_log ? std::string("w_d") : "lambda_" + std::string(segloss_loss_name(region)))) {
        p.lambda_region = static_cast<float>(parse_number(name, value));
    } else if (name == (exp_log ? std::string("w_ce") : "lambda_" + std::string(segloss_loss_name(pointwise)))) {
        p.lambda_pointwise = static_cast<float>(parse_number(name, value));
    } else {
        return false;
    }
    return true;
}

}  // namespace

void apply_option(LossParams &params, const std::string &name, const std::string &value) {
    if (apply_part_option(params, name, value) || apply_lambda(params, name, value)) return;
    const segloss_loss_kind_t loss = params.get()->loss;
    bool known = false;
    for (const Option &o : options()) {
        if (name != o.name) continue;
        known = true;
        if (!o.applies(loss)) continue;
        o.set(params, name, value);
        return;
    }
    if (known) throw std::runtime_error("option '" + name + "' does not apply to loss " + segloss_loss_name(loss));
    throw std::runtime_error("unknown option '" + name + "' for loss " + segloss_loss_name(loss));
}

void apply_option(LossParams &params, const std::string &name_equals_value) {
    const size_t eq = name_equals_value.find('=');
    if (eq == std::string::npos || eq == 0) {
        throw std::runtime_error("option '" + name_equals_value + "': expected name=value");
    }
    apply_option(params, name_equals_value.substr(0, eq), name_equals_value.substr(eq + 1));
}

std::string options_json(const LossParams &params) {
    const Params &p = *params.get();
    std::ostringstream o;
    o << "{";
    bool first = true;
    for (const Option &opt : options()) {
        if (!opt.applies(p.loss)) continue;
        o << (first ? "" : ", ") << "\"" << opt.name << "\": " << opt.json(p);
        first = false;
    }
    // A compound's lambdas and parts (the parts' shared options are the compound's).
    segloss_loss_kind_t region, pointwise;
    if (segloss_loss_parts(p.loss, &region, &pointwise) == SEGLOSS_STATUS_OK) {
        const bool exp_log = p.loss == SEGLOSS_LOSS_EXP_LOG;
        if (p.loss != SEGLOSS_LOSS_COMBO) {
            o << ", \"" << (exp_log ? std::string("w_d") : "lambda_" + std::string(segloss_loss_name(region)))
              << "\": " << num(p.lambda_region) << ", \""
              << (exp_log ? std::string("w_ce") : "lambda_" + std::string(segloss_loss_name(pointwise)))
              << "\": " << num(p.lambda_pointwise);
        }
        const LossParams *parts[2] = {params.region_part_params(), params.pointwise_part_params()};
        const segloss_loss_kind_t kinds[2] = {region, pointwise};
        for (int i = 0; i < 2; i++) {
            o << ", \"" << segloss_loss_name(kinds[i]) << "\": " << options_json(parts[i] ? *parts[i] : LossParams(kinds[i]));
        }
    }
    o << "}";
    return o.str();
}

std::vector<int64_t> value_shape(const LossParams &params, const std::vector<int64_t> &logits_shape) {
    const segloss_loss_params_t &p = *params.get();
    if (p.reduction != SEGLOSS_REDUCTION_NONE || logits_shape.size() < 2) return {1};
    if (is_pointwise(p.loss)) {
        std::vector<int64_t> s = logits_shape;
        s.erase(s.begin() + 1);
        return s;
    }
    const int64_t n = p.batch ? 1 : logits_shape[0];
    if (is_generalized(p.loss)) return {n, 1};
    return {n, p.include_background ? logits_shape[1] : logits_shape[1] - 1};
}

}  // namespace segloss::options
