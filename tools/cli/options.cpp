// SPDX-License-Identifier: Apache-2.0
#include "options.h"

#include <cerrno>
#include <cmath>
#include <cstdlib>
#include <functional>
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

std::vector<float> parse_list(const std::string &name, const std::string &value) {
    std::vector<float> w;
    std::stringstream ss(value);
    std::string item;
    while (std::getline(ss, item, ',')) w.push_back(static_cast<float>(parse_number(name, item)));
    if (w.empty()) bad(name, value, "a comma-separated list of numbers");
    return w;
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

bool is_region(segloss_loss_kind_t k) { return k != SEGLOSS_LOSS_CE; }
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

#define SEGLOSS_FLOAT_OPTION(field, applies_to)                                                             \
    Option {                                                                                                \
        #field, applies_to,                                                                                 \
            [](LossParams &p, const std::string &n, const std::string &v) {                                  \
                p.get()->field = static_cast<float>(parse_number(n, v));                                     \
            },                                                                                              \
            [](const Params &p) { return num(p.field); }                                                    \
    }

// Every option of LOSSES.md that this build implements, and the losses it applies to.
const std::vector<Option> &options() {
    static const std::vector<Option> kOptions = {
        {"activation", always,
         [](LossParams &p, const std::string &n, const std::string &v) {
             p.activation(static_cast<segloss_activation_t>(parse_choice(n, v, kActivations)));
         },
         [](const Params &p) { return quoted(kActivations[p.activation]); }},
        {"reduction", always,
         [](LossParams &p, const std::string &n, const std::string &v) {
             p.reduction(static_cast<segloss_reduction_t>(parse_choice(n, v, kReductions)));
         },
         [](const Params &p) { return quoted(kReductions[p.reduction]); }},
        {"include_background", is_region,
         [](LossParams &p, const std::string &n, const std::string &v) { p.include_background(parse_bool(n, v)); },
         [](const Params &p) { return boolean(p.include_background); }},
        {"batch", is_region, [](LossParams &p, const std::string &n, const std::string &v) { p.batch(parse_bool(n, v)); },
         [](const Params &p) { return boolean(p.batch); }},
        {"weight", [](segloss_loss_kind_t k) { return !is_generalized(k); },
         [](LossParams &p, const std::string &n, const std::string &v) { p.weight(parse_list(n, v)); },
         [](const Params &p) {
             if (!p.weight) return std::string("null");
             std::string s = "[";
             for (int64_t i = 0; i < p.num_weights; i++) s += (i ? ", " : "") + num(p.weight[i]);
             return s + "]";
         }},
        {"ignore_index", always,
         [](LossParams &p, const std::string &n, const std::string &v) { p.ignore_index(parse_int(n, v)); },
         [](const Params &p) { return p.has_ignore_index ? std::to_string(p.ignore_index) : std::string("null"); }},
        SEGLOSS_FLOAT_OPTION(smooth_nr, is_region),
        SEGLOSS_FLOAT_OPTION(smooth_dr, is_region),
        {"squared_pred",
         [](segloss_loss_kind_t k) { return k == SEGLOSS_LOSS_DICE || k == SEGLOSS_LOSS_LOG_COSH_DICE; },
         [](LossParams &p, const std::string &n, const std::string &v) { p.squared_pred(parse_bool(n, v)); },
         [](const Params &p) { return boolean(p.squared_pred); }},
        {"empty", is_region,
         [](LossParams &p, const std::string &n, const std::string &v) {
             p.empty(static_cast<segloss_empty_t>(parse_choice(n, v, kEmpty)));
         },
         [](const Params &p) { return quoted(kEmpty[p.empty]); }},
        SEGLOSS_FLOAT_OPTION(alpha, is_tversky),
        SEGLOSS_FLOAT_OPTION(beta, is_tversky),
        SEGLOSS_FLOAT_OPTION(gamma, [](segloss_loss_kind_t k) { return k == SEGLOSS_LOSS_FOCAL_TVERSKY; }),
        SEGLOSS_FLOAT_OPTION(b, [](segloss_loss_kind_t k) { return k == SEGLOSS_LOSS_ASYMMETRIC; }),
        SEGLOSS_FLOAT_OPTION(r, [](segloss_loss_kind_t k) { return k == SEGLOSS_LOSS_SENSITIVITY_SPECIFICITY; }),
        SEGLOSS_FLOAT_OPTION(k, [](segloss_loss_kind_t k) { return k == SEGLOSS_LOSS_PENALTY_GENERALIZED_DICE; }),
        {"w_type", is_generalized,
         [](LossParams &p, const std::string &n, const std::string &v) {
             p.w_type(static_cast<segloss_gd_weight_t>(parse_choice(n, v, kGdWeights)));
         },
         [](const Params &p) { return quoted(kGdWeights[p.w_type]); }},
        {"check_finite", always,
         [](LossParams &p, const std::string &n, const std::string &v) { p.check_finite(parse_bool(n, v)); },
         [](const Params &p) { return boolean(p.check_finite); }},
    };
    return kOptions;
}

#undef SEGLOSS_FLOAT_OPTION

}  // namespace

void apply_option(LossParams &params, const std::string &name, const std::string &value) {
    const segloss_loss_kind_t loss = params.get()->loss;
    for (const Option &o : options()) {
        if (name != o.name) continue;
        if (!o.applies(loss)) {
            throw std::runtime_error("option '" + name + "' does not apply to loss " + segloss_loss_name(loss));
        }
        o.set(params, name, value);
        return;
    }
    throw std::runtime_error("unknown option '" + name + "' for loss " + segloss_loss_name(loss));
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
    o << "}";
    return o.str();
}

}  // namespace segloss::cli
