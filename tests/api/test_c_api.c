/* SPDX-License-Identifier: Apache-2.0 */
/* A pure C99 consumer of the shared library: the ABI compiles as C and its symbols are exported. */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "segloss/segloss.h"

#define CHECK(cond)                                                   \
    do {                                                              \
        if (!(cond)) {                                                \
            fprintf(stderr, "%s:%d: check failed: %s\n", __FILE__, __LINE__, #cond); \
            return 1;                                                 \
        }                                                             \
    } while (0)

int main(void) {
    float logits[2 * 3 * 4];
    int32_t labels[2 * 4];
    float grad[2 * 3 * 4];
    double value = 0;
    int64_t lshape[3] = {2, 3, 4}, tshape[2] = {2, 4}, vshape[1] = {1};
    for (int i = 0; i < 24; i++) logits[i] = (float)sin(i);
    for (int i = 0; i < 8; i++) labels[i] = i % 3;
    DLTensor l = {logits, {kDLCPU, 0}, 3, {kDLFloat, 32, 1}, lshape, NULL, 0};
    DLTensor t = {labels, {kDLCPU, 0}, 2, {kDLInt, 32, 1}, tshape, NULL, 0};
    DLTensor v = {&value, {kDLCPU, 0}, 1, {kDLFloat, 64, 1}, vshape, NULL, 0};
    DLTensor g = {grad, {kDLCPU, 0}, 3, {kDLFloat, 32, 1}, lshape, NULL, 0};

    segloss_context_t ctx = NULL;
    segloss_loss_params_t p;
    CHECK(segloss_context_create(&ctx) == SEGLOSS_STATUS_OK);
    CHECK(segloss_loss_params_init(&p, SEGLOSS_LOSS_CE) == SEGLOSS_STATUS_OK);
    CHECK(segloss_loss_compute(ctx, &p, &l, &t, &v, &g, 1.0f) == SEGLOSS_STATUS_OK);
    CHECK(value > 0 && isfinite(value));
    CHECK(strstr(segloss_last_kernel(ctx), "ce_softmax_i32_grad") != NULL);

    labels[1] = 7; /* out of range */
    CHECK(segloss_loss_compute(ctx, &p, &l, &t, &v, &g, 1.0f) == SEGLOSS_STATUS_INVALID_LABEL);
    CHECK(strlen(segloss_last_error(ctx)) > 0);
    labels[1] = 1;

    CHECK(segloss_loss_params_init(&p, SEGLOSS_LOSS_DICE) == SEGLOSS_STATUS_OK);
    CHECK(segloss_loss_compute(ctx, &p, &l, &t, &v, NULL, 1.0f) == SEGLOSS_STATUS_OK);
    CHECK(value > 0 && value < 1);

    /* Metrics of the labels against themselves: Dice 1, HD 0 for the classes present. */
    {
        double metrics[2 * 2 * SEGLOSS_NUM_METRICS];
        int32_t cases[2 * 2];
        int64_t mshape[3] = {2, 2, SEGLOSS_NUM_METRICS}, cshape[2] = {2, 2};
        DLTensor m = {metrics, {kDLCPU, 0}, 3, {kDLFloat, 64, 1}, mshape, NULL, 0};
        DLTensor c = {cases, {kDLCPU, 0}, 2, {kDLInt, 32, 1}, cshape, NULL, 0};
        segloss_metric_params_t mp;
        CHECK(segloss_metric_params_init(&mp) == SEGLOSS_STATUS_OK);
        mp.num_classes = 3;
        CHECK(segloss_metrics_compute(ctx, &mp, &t, &t, &m, &c) == SEGLOSS_STATUS_OK);
        CHECK(cases[0] == SEGLOSS_METRIC_BOTH_PRESENT);
        CHECK(metrics[SEGLOSS_METRIC_DICE] == 1.0 && metrics[SEGLOSS_METRIC_HD] == 0.0);
    }
    segloss_context_destroy(ctx);
    printf("segloss %s: C consumer OK\n", segloss_version());
    return 0;
}
