// SPDX-License-Identifier: Apache-2.0
// The `segloss` command on .npy files: JSON on stdout, the gradient file, and the error path
// (one line on stderr, exit status 2, nothing written).
#include <sys/wait.h>

#include <cmath>
#include <cstdio>
#include <algorithm>
#include <fstream>
#include <string>
#include <unistd.h>

#include <catch2/catch.hpp>
#include <nifti2_io.h>

#include "../../tools/cli/npy.h"
#include "segloss/segloss.hpp"

namespace {

// Minimal .npy writer for the fixtures (any dtype descriptor).
void write_npy(const std::string &path, const std::string &descr, const std::vector<int64_t> &shape,
               const void *data, size_t bytes) {
    std::string dims;
    for (int64_t e : shape) dims += std::to_string(e) + ",";
    std::string h = "{'descr': '" + descr + "', 'fortran_order': False, 'shape': (" + dims + "), }";
    h.append((64 - (10 + h.size() + 1) % 64) % 64, ' ');
    h += '\n';
    std::ofstream out(path, std::ios::binary);
    out.write("\x93NUMPY\x01\x00", 8);
    const char len[2] = {char(h.size() & 0xff), char(h.size() >> 8)};
    out.write(len, 2);
    out << h;
    out.write(static_cast<const char *>(data), static_cast<std::streamsize>(bytes));
}

struct Result {
    int status;
    std::string out, err;
};

Result run(const std::string &args) {
    const std::string err_path = "cli_stderr.txt";
    const std::string cmd = std::string(SEGLOSS_CLI_COMMAND) + " " + args + " 2>" + err_path;
    FILE *p = popen(cmd.c_str(), "r");
    Result r;
    char buf[4096];
    size_t n;
    while ((n = fread(buf, 1, sizeof buf, p)) > 0) r.out.append(buf, n);
    r.status = WEXITSTATUS(pclose(p));
    std::ifstream e(err_path);
    r.err.assign(std::istreambuf_iterator<char>(e), {});
    return r;
}

double json_value(const std::string &out) {
    const size_t at = out.find("\"value\": ");
    REQUIRE(at != std::string::npos);
    return std::stod(out.substr(at + 9));
}

bool exists(const std::string &path) { return access(path.c_str(), F_OK) == 0; }

// Fixtures: float64 logits [2, 3, 4, 5] and int64 labels [2, 4, 5] (the NumPy defaults).
struct Files {
    std::vector<double> logits;
    std::vector<int64_t> labels;
    Files() {
        for (int i = 0; i < 120; i++) logits.push_back(std::sin(1.3 * i) * 4);
        for (int i = 0; i < 40; i++) labels.push_back((i * 7) % 3);
        write_npy("cli_logits.npy", "<f8", {2, 3, 4, 5}, logits.data(), logits.size() * 8);
        write_npy("cli_labels.npy", "<i8", {2, 4, 5}, labels.data(), labels.size() * 8);
        std::remove("cli_grad.npy");
    }
    // The same problem through the C++ API.
    double api(const segloss::LossParams &p, std::vector<float> &grad) {
        std::vector<float> l(logits.begin(), logits.end());
        std::vector<int32_t> t(labels.begin(), labels.end());
        std::vector<int64_t> ls{2, 3, 4, 5}, ts{2, 4, 5}, vs{1};
        double v = 0;
        grad.assign(120, 0);
        DLTensor lt{l.data(), {kDLCPU, 0}, 4, {kDLFloat, 32, 1}, ls.data(), nullptr, 0};
        DLTensor tt{t.data(), {kDLCPU, 0}, 3, {kDLInt, 32, 1}, ts.data(), nullptr, 0};
        DLTensor vt{&v, {kDLCPU, 0}, 1, {kDLFloat, 64, 1}, vs.data(), nullptr, 0};
        DLTensor gt{grad.data(), {kDLCPU, 0}, 4, {kDLFloat, 32, 1}, ls.data(), nullptr, 0};
        segloss::Context().compute(p, lt, tt, vt, &gt);
        return v;
    }
};

}  // namespace

TEST_CASE("cli: loss value and gradient file match the API", "[cli]") {
    Files f;
    Result r = run("loss ce --logits cli_logits.npy --target cli_labels.npy --grad-out cli_grad.npy");
    INFO(r.err);
    REQUIRE(r.status == 0);
    REQUIRE(r.out.find("\"loss\": \"ce\"") != std::string::npos);
    REQUIRE(r.out.find("\"options\": {") != std::string::npos);
    std::vector<float> grad;
    const double want = f.api(segloss::LossParams(SEGLOSS_LOSS_CE), grad);
    REQUIRE(json_value(r.out) == Approx(want).epsilon(1e-6));
    segloss::cli::NpyArray g = segloss::cli::read_npy("cli_grad.npy");
    REQUIRE(g.descr == "<f4");
    REQUIRE(g.shape == std::vector<int64_t>{2, 3, 4, 5});
    const float *gd = reinterpret_cast<const float *>(g.data.data());
    for (int i = 0; i < 120; i++) REQUIRE(gd[i] == grad[i]);
}

TEST_CASE("cli: options by their LOSSES.md names", "[cli]") {
    Files f;
    Result r = run("loss dice --logits cli_logits.npy --target cli_labels.npy --set include_background=false "
                   "--set batch=true --set weight=0.5,1,2 --set smooth_nr=0.1");
    INFO(r.err);
    REQUIRE(r.status == 0);
    std::vector<float> grad;
    segloss::LossParams p(SEGLOSS_LOSS_DICE);
    p.include_background(false).batch(true).weight({0.5f, 1, 2});
    p.get()->smooth_nr = 0.1f;
    REQUIRE(json_value(r.out) == Approx(f.api(p, grad)).epsilon(1e-6));
    REQUIRE(r.out.find("\"batch\": true") != std::string::npos);

    Result none = run("loss dice --logits cli_logits.npy --target cli_labels.npy --set reduction=none");
    REQUIRE(none.status == 0);
    REQUIRE(none.out.find("\"value_shape\": [2, 3]") != std::string::npos);
    // Generalized Dice has one group per image: its map is N,1 (the CLI once asked for N,C).
    Result gd = run("loss generalized_dice --logits cli_logits.npy --target cli_labels.npy --set reduction=none");
    INFO(gd.err);
    REQUIRE(gd.status == 0);
    REQUIRE(gd.out.find("\"value_shape\": [2, 1]") != std::string::npos);
}

TEST_CASE("cli: every loss by name, with its own options", "[cli]") {
    Files f;
    struct Row {
        const char *args;
        segloss::LossParams params;
    };
    const Row rows[] = {
        {"iou", segloss::LossParams(SEGLOSS_LOSS_IOU)},
        {"tversky --set alpha=0.5 --set beta=0.5", segloss::LossParams(SEGLOSS_LOSS_TVERSKY).alpha(0.5f).beta(0.5f)},
        {"focal_tversky --set gamma=2", segloss::LossParams(SEGLOSS_LOSS_FOCAL_TVERSKY).gamma(2)},
        {"asymmetric --set b=2", segloss::LossParams(SEGLOSS_LOSS_ASYMMETRIC).b(2)},
        {"sensitivity_specificity --set r=0.1", segloss::LossParams(SEGLOSS_LOSS_SENSITIVITY_SPECIFICITY).r(0.1f)},
        {"generalized_dice --set w_type=simple",
         segloss::LossParams(SEGLOSS_LOSS_GENERALIZED_DICE).w_type(SEGLOSS_GD_WEIGHT_SIMPLE)},
        {"penalty_generalized_dice --set k=1 --set empty=exclude",
         segloss::LossParams(SEGLOSS_LOSS_PENALTY_GENERALIZED_DICE).k(1).empty(SEGLOSS_EMPTY_EXCLUDE)},
        {"log_cosh_dice --set squared_pred=true", segloss::LossParams(SEGLOSS_LOSS_LOG_COSH_DICE).squared_pred(true)},
        {"focal --set gamma=1 --set alpha=0.25", segloss::LossParams(SEGLOSS_LOSS_FOCAL).gamma(1).focal_alpha(0.25f)},
        {"focal --set alpha=0.2,0.3,0.5", segloss::LossParams(SEGLOSS_LOSS_FOCAL).focal_alpha({0.2f, 0.3f, 0.5f})},
        {"wce --set class_weights=inverse_frequency",
         segloss::LossParams(SEGLOSS_LOSS_WCE).class_weights(SEGLOSS_CLASS_WEIGHTS_INVERSE_FREQUENCY)},
        {"dice_ce --set dice.include_background=false --set ce.weight=1,2,3 --set lambda_ce=0.5",
         segloss::LossParams(SEGLOSS_LOSS_DICE_CE)
             .region_part(segloss::LossParams(SEGLOSS_LOSS_DICE).include_background(false))
             .pointwise_part(segloss::LossParams(SEGLOSS_LOSS_CE).weight({1, 2, 3}))
             .lambdas(1, 0.5f)},
        {"dice_focal --set focal.gamma=1", segloss::LossParams(SEGLOSS_LOSS_DICE_FOCAL)
                                               .pointwise_part(segloss::LossParams(SEGLOSS_LOSS_FOCAL).gamma(1))},
        {"generalized_dice_focal --set generalized_dice.w_type=uniform",
         segloss::LossParams(SEGLOSS_LOSS_GENERALIZED_DICE_FOCAL)
             .region_part(segloss::LossParams(SEGLOSS_LOSS_GENERALIZED_DICE).w_type(SEGLOSS_GD_WEIGHT_UNIFORM))},
        {"combo --set alpha=0.3 --set beta=0.6", segloss::LossParams(SEGLOSS_LOSS_COMBO).alpha(0.3f).beta(0.6f)},
        {"exp_log --set w_d=0.5 --set gamma_ce=1", segloss::LossParams(SEGLOSS_LOSS_EXP_LOG).gamma_ce(1).lambdas(0.5f, 0.2f)},
        {"topk --set k=25 --set label_smoothing=0.1", segloss::LossParams(SEGLOSS_LOSS_TOPK).topk_percent(25).label_smoothing(0.1f)},
        {"topk --set mode=threshold --set t=0.8", segloss::LossParams(SEGLOSS_LOSS_TOPK).topk_threshold(0.8f)},
        {"dice_topk --set topk.k=20 --set lambda_dice=0.5",
         segloss::LossParams(SEGLOSS_LOSS_DICE_TOPK)
             .pointwise_part(segloss::LossParams(SEGLOSS_LOSS_TOPK).topk_percent(20))
             .lambdas(0.5f, 1)},
        {"boundary --set spacing=2,0.5 --set batch=true",
         segloss::LossParams(SEGLOSS_LOSS_BOUNDARY).spacing({2.0, 0.5}).batch(true)},
        {"hausdorff_dt --set alpha=1 --set variant=one_sided --set include_background=true",
         segloss::LossParams(SEGLOSS_LOSS_HAUSDORFF_DT).alpha(1).hd_variant(SEGLOSS_HD_ONE_SIDED).include_background(true)},
        {"dpce --set spacing=2,0.5 --set weight=1,2,3",
         segloss::LossParams(SEGLOSS_LOSS_DPCE).spacing({2.0, 0.5}).weight({1, 2, 3})},
        {"dice_boundary --set lambda_boundary=0.01 --set dice.include_background=false --set spacing=1,2",
         segloss::LossParams(SEGLOSS_LOSS_DICE_BOUNDARY)
             .region_part(segloss::LossParams(SEGLOSS_LOSS_DICE).include_background(false))
             .spacing({1.0, 2.0})
             .lambdas(1, 0.01f)},
        {"dice_hausdorff --set hausdorff_dt.alpha=1.5",
         segloss::LossParams(SEGLOSS_LOSS_DICE_HAUSDORFF)
             .pointwise_part(segloss::LossParams(SEGLOSS_LOSS_HAUSDORFF_DT).alpha(1.5f))},
        {"ce --set label_smoothing=0.1 --set weight_norm=count --set weight=1,2,3",
         segloss::LossParams(SEGLOSS_LOSS_CE).label_smoothing(0.1f).weight_norm(SEGLOSS_WEIGHT_NORM_COUNT).weight({1, 2, 3})},
    };
    for (const Row &row : rows) {
        Result r = run(std::string("loss ") + row.args + " --logits cli_logits.npy --target cli_labels.npy");
        INFO(row.args << "\nstderr: " << r.err);
        REQUIRE(r.status == 0);
        std::vector<float> grad;
        REQUIRE(json_value(r.out) == Approx(f.api(row.params, grad)).epsilon(1e-6));
    }
    // An option of another loss is refused by name.
    Result r = run("loss dice --logits cli_logits.npy --target cli_labels.npy --set gamma=2");
    REQUIRE(r.status == 2);
    REQUIRE(r.err.find("'gamma' does not apply to loss dice") != std::string::npos);
}

TEST_CASE("cli: --mask passes the loss mask", "[cli]") {
    Files f;
    std::vector<double> mask(40);
    std::vector<uint8_t> bits(40);
    for (int i = 0; i < 40; i++) {
        mask[i] = (i % 4) / 3.0;
        bits[i] = i % 3 != 0;
    }
    write_npy("cli_mask.npy", "<f8", {2, 4, 5}, mask.data(), mask.size() * 8);
    write_npy("cli_mask_b.npy", "|b1", {2, 4, 5}, bits.data(), bits.size());
    std::vector<float> m32(mask.begin(), mask.end()), mb(bits.begin(), bits.end());
    std::vector<int64_t> ms{2, 4, 5};
    for (const char *loss : {"ce", "dice", "topk"}) {
        for (int boolean = 0; boolean < 2; boolean++) {
            Result r = run(std::string("loss ") + loss + " --logits cli_logits.npy --target cli_labels.npy --mask " +
                           (boolean ? "cli_mask_b.npy" : "cli_mask.npy"));
            INFO(loss << " " << boolean << "\nstderr: " << r.err);
            REQUIRE(r.status == 0);
            DLTensor mt{boolean ? mb.data() : m32.data(), {kDLCPU, 0}, 3, {kDLFloat, 32, 1}, ms.data(), nullptr, 0};
            segloss::LossParams p{std::string(loss)};
            p.loss_mask(&mt);
            std::vector<float> grad;
            REQUIRE(json_value(r.out) == Approx(f.api(p, grad)).epsilon(1e-6));
        }
    }
    // A mask value outside [0, 1] is refused.
    mask[3] = 2;
    write_npy("cli_mask.npy", "<f8", {2, 4, 5}, mask.data(), mask.size() * 8);
    Result r = run("loss ce --logits cli_logits.npy --target cli_labels.npy --mask cli_mask.npy");
    REQUIRE(r.status == 2);
    REQUIRE(r.err.find("loss_mask") != std::string::npos);
}

TEST_CASE("cli: bad files and options fail with one line and write nothing", "[cli]") {
    Files f;
    for (const char *args : {
             "loss ce --logits cli_logits.npy --target cli_labels.npy --set nope=1 --grad-out cli_grad.npy",
             "loss dice --logits cli_logits.npy --target cli_labels.npy --set batch=maybe --grad-out cli_grad.npy",
             "loss ce --logits cli_logits.npy --target cli_labels.npy --set batch=true --grad-out cli_grad.npy",
             "loss ce --logits cli_logits.npy --target cli_labels.npy --set label_smoothing --grad-out cli_grad.npy",
             "loss ce --logits cli_logits.npy --target cli_labels.npy --set include_background=false --grad-out cli_grad.npy",
             "loss ce --logits missing.npy --target cli_labels.npy --grad-out cli_grad.npy",
             "loss focal_nonexistent --logits cli_logits.npy --target cli_labels.npy --grad-out cli_grad.npy",
             "loss ce --logits cli_labels.npy --target cli_labels.npy --grad-out cli_grad.npy",
             "loss ce --logits cli_logits.npy --target cli_bad_labels.npy --grad-out cli_grad.npy",
         }) {
        std::vector<int64_t> bad(40, 1);
        bad[5] = 9;  // >= C
        write_npy("cli_bad_labels.npy", "<i8", {2, 4, 5}, bad.data(), bad.size() * 8);
        Result r = run(args);
        INFO(args << "\nstderr: " << r.err);
        REQUIRE(r.status == 2);
        REQUIRE(r.out.empty());
        REQUIRE(!r.err.empty());
        REQUIRE(r.err.find('\n') == r.err.size() - 1);  // exactly one line
        REQUIRE(!exists("cli_grad.npy"));
    }
}

TEST_CASE("cli: a flag without its value names the flag", "[cli]") {
    for (const char *args : {"loss ce --logits", "loss ce --logits cli_logits.npy --target", "distance --mask",
                             "distance --mask cli_mask.npy --spacing", "eval --pred", "eval --pred a.npy --metrics"}) {
        const std::string a = args;
        const std::string flag = a.substr(a.rfind(' ') + 1);
        Result r = run(a);
        INFO(args << "\nstderr: " << r.err);
        REQUIRE(r.status == 2);
        REQUIRE(r.out.empty());
        REQUIRE(r.err.find(flag + ": missing value") != std::string::npos);
    }
}

TEST_CASE("cli: distance maps of a mask file", "[cli][distance]") {
    // A 1 x 7 mask (2-D) with spacing 2 along x: inside voxels 1..4, so EDT = 2 * (1, 2, 2, 1).
    const std::vector<uint8_t> mask{0, 1, 1, 1, 1, 0, 0};
    write_npy("cli_mask.npy", "|u1", {1, 7}, mask.data(), mask.size());
    std::remove("cli_dist.npy");
    Result r = run("distance --mask cli_mask.npy --spacing 1,2 --out cli_dist.npy");
    INFO(r.err);
    REQUIRE(r.status == 0);
    REQUIRE(r.out.find("\"mask\": \"normal\"") != std::string::npos);
    segloss::cli::NpyArray d = segloss::cli::read_npy("cli_dist.npy");
    REQUIRE(d.descr == "<f4");
    REQUIRE(d.shape == std::vector<int64_t>{1, 7});
    const float *v = reinterpret_cast<const float *>(d.data.data());
    const float want[] = {0, 2, 4, 4, 2, 0, 0};
    for (int i = 0; i < 7; i++) REQUIRE(v[i] == want[i]);
    // Signed: h - EDT inside, with h = 2 the smallest spacing of the axes with more than one
    // voxel (0 on the inner boundary), EDT of the outside outside.
    r = run("distance --mask cli_mask.npy --spacing 1,2 --kind signed --out cli_dist.npy");
    REQUIRE(r.status == 0);
    d = segloss::cli::read_npy("cli_dist.npy");
    v = reinterpret_cast<const float *>(d.data.data());
    const float want_signed[] = {2, 0, -2, -2, 0, 2, 4};
    for (int i = 0; i < 7; i++) REQUIRE(v[i] == want_signed[i]);
    // Bad kind or spacing: exit 2, one line, nothing written.
    std::remove("cli_dist.npy");
    r = run("distance --mask cli_mask.npy --kind nearest --out cli_dist.npy");
    REQUIRE(r.status == 2);
    REQUIRE_FALSE(exists("cli_dist.npy"));
    r = run("distance --mask cli_mask.npy --spacing 1,0 --out cli_dist.npy");
    REQUIRE(r.status == 2);
    REQUIRE(r.err.find("spacing") != std::string::npos);
    REQUIRE_FALSE(exists("cli_dist.npy"));
}

namespace {

// A 12^3 label map (k, j, i order, i fastest) with a cube [4, 9]^3 of class 1, shifted by
// `shift` voxels along i; class 2 as one voxel at (0, 0, 0) in the target only.
std::vector<int16_t> cube_volume(int shift, bool with_voxel) {
    std::vector<int16_t> v(12 * 12 * 12, 0);
    for (int k = 4; k <= 9; k++) {
        for (int j = 4; j <= 9; j++) {
            for (int i = 4 + shift; i <= 9 + shift; i++) v[(k * 12 + j) * 12 + i] = 1;
        }
    }
    if (with_voxel) v[0] = 2;
    return v;
}

void write_nifti(const std::string &path, const std::vector<int16_t> &v, const double pixdim[3]) {
    const int64_t dims[8] = {3, 12, 12, 12, 1, 1, 1, 1};
    nifti_image *im = nifti_make_new_nim(dims, DT_INT16, 1);
    REQUIRE(im);
    std::copy(v.begin(), v.end(), static_cast<int16_t *>(im->data));
    im->dx = im->pixdim[1] = pixdim[0];
    im->dy = im->pixdim[2] = pixdim[1];
    im->dz = im->pixdim[3] = pixdim[2];
    REQUIRE(nifti_set_filenames(im, path.c_str(), 0, 1) == 0);
    nifti_image_write(im);
    nifti_image_free(im);
}

// The number after "name": in the first class object of `out` whose "class" is `cls`.
double metric(const std::string &out, int cls, const std::string &name) {
    const size_t at = out.find("{\"class\": " + std::to_string(cls) + ",");
    REQUIRE(at != std::string::npos);
    const size_t m = out.find("\"" + name + "\": ", at);
    REQUIRE(m != std::string::npos);
    REQUIRE(m < out.find('}', at));
    const std::string rest = out.substr(m + name.size() + 4);
    return rest.rfind("null", 0) == 0 ? NAN : std::stod(rest);
}

}  // namespace

TEST_CASE("cli: eval of .npy and NIfTI label maps, spacing from the header or the option", "[cli][metrics]") {
    // The shifted cube (tests/distance/test_metrics.cpp): Dice 5/6, HD = HD95 = one voxel along
    // i, ASSD = 52/152 of it, NSD at a tolerance below one voxel = 100/152.
    const std::vector<int16_t> t16 = cube_volume(0, true), p16 = cube_volume(1, false);
    const std::vector<int64_t> t(t16.begin(), t16.end());
    const std::vector<int32_t> p(p16.begin(), p16.end());
    write_npy("cli_eval_t.npy", "<i8", {12, 12, 12}, t.data(), t.size() * 8);
    write_npy("cli_eval_p.npy", "<i4", {12, 12, 12}, p.data(), p.size() * 4);
    Result r = run("eval --pred cli_eval_p.npy --target cli_eval_t.npy --spacing 2,1.5,0.8 --tolerance 0.5");
    INFO(r.out << r.err);
    REQUIRE(r.status == 0);
    REQUIRE(metric(r.out, 1, "dice") == Approx(5.0 / 6).epsilon(1e-7));
    REQUIRE(metric(r.out, 1, "iou") == Approx(5.0 / 7).epsilon(1e-7));
    REQUIRE(metric(r.out, 1, "hd") == Approx(0.8).epsilon(1e-6));
    REQUIRE(metric(r.out, 1, "hd95") == Approx(0.8).epsilon(1e-6));
    REQUIRE(metric(r.out, 1, "assd") == Approx(0.8 * 52 / 152).epsilon(1e-6));
    REQUIRE(metric(r.out, 1, "nsd") == Approx(100.0 / 152).epsilon(1e-7));
    // Class 2 only in the target: Dice 0, distances +inf (null), flagged.
    REQUIRE(r.out.find("{\"class\": 2, \"case\": \"prediction_empty\", \"dice\": 0,") != std::string::npos);
    REQUIRE(std::isnan(metric(r.out, 2, "hd")));

    // NIfTI (one gzipped): pixdim i, j, k = 0.8, 1.5, 2 from the header.
    const double pixdim[3] = {0.8, 1.5, 2.0};
    write_nifti("cli_eval_t.nii.gz", t16, pixdim);
    write_nifti("cli_eval_p.nii", p16, pixdim);
    r = run("eval --pred cli_eval_p.nii --target cli_eval_t.nii.gz --metrics hd,dice");
    REQUIRE(r.status == 0);
    REQUIRE(r.out.find("\"spacing_from\": \"header\"") != std::string::npos);
    REQUIRE(metric(r.out, 1, "hd") == Approx(0.8).epsilon(1e-6));
    REQUIRE(metric(r.out, 1, "dice") == Approx(5.0 / 6).epsilon(1e-7));
    REQUIRE(r.out.find("\"assd\"") == std::string::npos);  // only the metrics asked for
    // --spacing in the file's axis order (i, j, k) overrides the header.
    r = run("eval --pred cli_eval_p.nii --target cli_eval_t.nii.gz --spacing 3,1,1 --metrics hd");
    REQUIRE(r.status == 0);
    REQUIRE(metric(r.out, 1, "hd") == Approx(3.0).epsilon(1e-6));

    // Errors: one line, exit 2.
    r = run("eval --pred cli_eval_p.nii --target cli_eval_t.nii.gz --metrics dice,hausdorff");
    REQUIRE(r.status == 2);
    REQUIRE(r.err.find("hausdorff") != std::string::npos);
    write_npy("cli_eval_small.npy", "<i4", {12, 12}, p.data(), 144 * 4);
    r = run("eval --pred cli_eval_small.npy --target cli_eval_t.npy");
    REQUIRE(r.status == 2);
    REQUIRE(r.err.find("shape") != std::string::npos);
    r = run("eval --pred cli_eval_p.npy --target cli_eval_t.npy --num-classes 2");
    REQUIRE(r.status == 2);
    REQUIRE(r.err.find("label") != std::string::npos);
}
