// SPDX-License-Identifier: Apache-2.0
// C++17 against an installed segloss's static archive: soft Dice (LOSSES.md defaults, smooth
// 1e-5, background included) of one image with two classes and two voxels, logits 0 everywhere
// (p = 1/2) and labels (0, 1): per class I = 1/2, P = 1, G = 1, so each class's loss is
// 1 - (2 I + s)/(P + G + s) = 1 - (1 + s)/(2 + s); a bad loss name throws segloss::Error.
#include <cmath>
#include <cstdio>
#include <vector>

#include <segloss/segloss.hpp>

int main() {
    std::vector<float> logits(4, 0.0f);
    std::vector<int32_t> labels{0, 1};
    std::vector<int64_t> lshape{1, 2, 2}, tshape{1, 2}, vshape{1};
    double value = 0;
    DLTensor l{logits.data(), {kDLCPU, 0}, 3, {kDLFloat, 32, 1}, lshape.data(), nullptr, 0};
    DLTensor t{labels.data(), {kDLCPU, 0}, 2, {kDLInt, 32, 1}, tshape.data(), nullptr, 0};
    DLTensor v{&value, {kDLCPU, 0}, 1, {kDLFloat, 64, 1}, vshape.data(), nullptr, 0};
    segloss::Context ctx;
    ctx.compute(segloss::LossParams("dice"), l, t, v, nullptr);
    const double s = 1e-5, expected = 1 - (1 + s) / (2 + s);
    if (std::fabs(value - expected) > 1e-6) {
        std::fprintf(stderr, "dice: %.9f, expected %.9f\n", value, expected);
        return 1;
    }
    try {
        segloss::LossParams bad("no_such_loss");
        std::fprintf(stderr, "an unknown loss name did not throw\n");
        return 1;
    } catch (const segloss::Error &e) {
        std::printf("C++ consumer (static archive): OK (bad name: %s)\n", e.what());
    }
    return 0;
}
