/* SPDX-License-Identifier: Apache-2.0 */
/* C99 against an installed segloss: softmax CE of one voxel with two classes, logits (0, ln 3)
 * and label 1, so p = (1/4, 3/4): the value is -ln(3/4) and the gradient p - onehot(1) =
 * (1/4, -1/4). An out-of-range label gives its status and a message. */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include <segloss/segloss.h>

#define CHECK(cond)                                                                   \
    do {                                                                              \
        if (!(cond)) {                                                                \
            fprintf(stderr, "%s:%d: check failed: %s\n", __FILE__, __LINE__, #cond); \
            return 1;                                                                 \
        }                                                                             \
    } while (0)

int main(void) {
    float logits[2] = {0.0f, (float)log(3.0)}, grad[2] = {0, 0};
    int32_t label = 1;
    double value = 0;
    int64_t lshape[3] = {1, 2, 1}, tshape[2] = {1, 1}, vshape[1] = {1};
    DLTensor l = {logits, {kDLCPU, 0}, 3, {kDLFloat, 32, 1}, lshape, NULL, 0};
    DLTensor t = {&label, {kDLCPU, 0}, 2, {kDLInt, 32, 1}, tshape, NULL, 0};
    DLTensor v = {&value, {kDLCPU, 0}, 1, {kDLFloat, 64, 1}, vshape, NULL, 0};
    DLTensor g = {grad, {kDLCPU, 0}, 3, {kDLFloat, 32, 1}, lshape, NULL, 0};
    segloss_context_t ctx = NULL;
    segloss_loss_params_t p;
    CHECK(segloss_context_create(&ctx) == SEGLOSS_STATUS_OK);
    CHECK(segloss_loss_params_init(&p, SEGLOSS_LOSS_CE) == SEGLOSS_STATUS_OK);
    CHECK(segloss_loss_compute(ctx, &p, &l, &t, &v, &g, 1.0f) == SEGLOSS_STATUS_OK);
    CHECK(fabs(value + log(0.75)) < 1e-6);
    CHECK(fabs(grad[0] - 0.25) < 1e-6 && fabs(grad[1] + 0.25) < 1e-6);
    label = 2;
    CHECK(segloss_loss_compute(ctx, &p, &l, &t, &v, &g, 1.0f) == SEGLOSS_STATUS_INVALID_LABEL);
    CHECK(strlen(segloss_last_error(ctx)) > 0);
    segloss_context_destroy(ctx);
    printf("C consumer (segloss %s): OK\n", segloss_version());
    return 0;
}
