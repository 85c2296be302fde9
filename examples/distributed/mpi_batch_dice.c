/* SPDX-License-Identifier: Apache-2.0 */
/* Batch Dice over MPI processes, with segloss's region stages (docs/api.md, "Region stages"):
 * each process holds a slice of the batch, computes its group sums (segloss_region_stats), sums
 * them over its images, and the processes add theirs up (MPI_Allreduce) before the epilogue
 * (segloss_region_epilogue, batch = 1: one group per class over the whole batch); each then
 * computes the gradient w.r.t. its own logits from the batch's coefficients
 * (segloss_region_grad). The loss is that of the whole distributed batch, and each process's
 * gradient is its slice of the whole batch's gradient.
 *
 * To be a test as well, every process also makes the one-process call on the whole batch (small
 * here, and the same on every process: it is drawn from a fixed seed) and compares: exit status
 * 0 when every process agrees to float32 rounding.
 *   mpirun -np 2 --oversubscribe build/examples/distributed/mpi_batch_dice */
#include <math.h>
#include <mpi.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <segloss/segloss.h>

enum { N = 4, C = 3, D = 6, H = 7, W = 8, V = D * H * W };

static uint32_t rng_state = 12345u;
static float uniform(void) { /* a fixed LCG: the same batch on every process */
    rng_state = rng_state * 1664525u + 1013904223u;
    return (float)(rng_state >> 8) / 16777216.0f;
}

static DLTensor tensor(void *data, DLDataType dtype, int ndim, int64_t *shape) {
    DLTensor t = {data, {kDLCPU, 0}, ndim, dtype, shape, NULL, 0};
    return t;
}

static int check(segloss_context_t ctx, segloss_status_t s, const char *what) {
    if (s == SEGLOSS_STATUS_OK) return 0;
    fprintf(stderr, "%s: %s: %s\n", what, segloss_status_string(s), segloss_last_error(ctx));
    return 1;
}

int main(int argc, char **argv) {
    MPI_Init(&argc, &argv);
    int rank = 0, size = 1;
    MPI_Comm_rank(MPI_COMM_WORLD, &rank);
    MPI_Comm_size(MPI_COMM_WORLD, &size);
    if (size > N) {
        if (rank == 0) fprintf(stderr, "at most %d processes (one image each)\n", N);
        MPI_Finalize();
        return 2;
    }
    /* The whole batch, and this process's images [n0, n1). */
    static float logits[N * C * V], grad_whole[N * C * V], grad[N * C * V];
    static int32_t labels[N * V];
    for (int i = 0; i < N * C * V; i++) logits[i] = 8.0f * uniform() - 4.0f;
    for (int i = 0; i < N * V; i++) labels[i] = (int32_t)(uniform() * C) % C;
    const int n0 = rank * N / size, n1 = (rank + 1) * N / size, nr = n1 - n0;

    segloss_context_t ctx = NULL;
    segloss_loss_params_t p;
    int failed = segloss_context_create(&ctx) != SEGLOSS_STATUS_OK;
    failed |= check(ctx, segloss_loss_params_init(&p, SEGLOSS_LOSS_DICE), "params");
    p.batch = 1;
    p.include_background = 0;

    /* 1. This process's group sums, summed over its images, then over the processes. */
    double *stats = calloc((size_t)nr * C * SEGLOSS_REGION_NUM_STATS, sizeof(double));
    double batch_stats[C * SEGLOSS_REGION_NUM_STATS] = {0};
    int64_t lshape[5] = {nr, C, D, H, W}, tshape[4] = {nr, D, H, W}, sshape[3] = {nr, C, SEGLOSS_REGION_NUM_STATS};
    DLTensor l = tensor(logits + (size_t)n0 * C * V, (DLDataType){kDLFloat, 32, 1}, 5, lshape);
    DLTensor t = tensor(labels + (size_t)n0 * V, (DLDataType){kDLInt, 32, 1}, 4, tshape);
    DLTensor s = tensor(stats, (DLDataType){kDLFloat, 64, 1}, 3, sshape);
    failed |= check(ctx, segloss_region_stats(ctx, &p, &l, &t, &s), "region_stats");
    for (int n = 0; n < nr; n++) {
        for (int i = 0; i < C * SEGLOSS_REGION_NUM_STATS; i++) batch_stats[i] += stats[n * C * SEGLOSS_REGION_NUM_STATS + i];
    }
    MPI_Allreduce(MPI_IN_PLACE, batch_stats, C * SEGLOSS_REGION_NUM_STATS, MPI_DOUBLE, MPI_SUM, MPI_COMM_WORLD);

    /* 2. The epilogue on the batch's sums (one "image"): the loss and the coefficients. */
    double value = 0;
    float batch_coef[C * SEGLOSS_REGION_NUM_COEFS];
    int64_t bshape[3] = {1, C, SEGLOSS_REGION_NUM_STATS}, cshape[3] = {1, C, SEGLOSS_REGION_NUM_COEFS}, one[1] = {1};
    DLTensor bs = tensor(batch_stats, (DLDataType){kDLFloat, 64, 1}, 3, bshape);
    DLTensor v = tensor(&value, (DLDataType){kDLFloat, 64, 1}, 1, one);
    DLTensor bc = tensor(batch_coef, (DLDataType){kDLFloat, 32, 1}, 3, cshape);
    failed |= check(ctx, segloss_region_epilogue(ctx, &p, &bs, &v, &bc, 1.0f), "region_epilogue");

    /* 3. The gradient of this process's logits: the batch's coefficients for each of its images. */
    float *coef = malloc((size_t)nr * C * SEGLOSS_REGION_NUM_COEFS * sizeof(float));
    for (int n = 0; n < nr; n++) memcpy(coef + n * C * SEGLOSS_REGION_NUM_COEFS, batch_coef, sizeof(batch_coef));
    int64_t ncshape[3] = {nr, C, SEGLOSS_REGION_NUM_COEFS};
    DLTensor c = tensor(coef, (DLDataType){kDLFloat, 32, 1}, 3, ncshape);
    DLTensor g = tensor(grad, (DLDataType){kDLFloat, 32, 1}, 5, lshape);
    failed |= check(ctx, segloss_region_grad(ctx, &p, &l, &t, &c, &g), "region_grad");

    /* The check: one call on the whole batch. */
    double whole = 0;
    int64_t wl[5] = {N, C, D, H, W}, wt[4] = {N, D, H, W};
    DLTensor al = tensor(logits, (DLDataType){kDLFloat, 32, 1}, 5, wl);
    DLTensor at = tensor(labels, (DLDataType){kDLInt, 32, 1}, 4, wt);
    DLTensor av = tensor(&whole, (DLDataType){kDLFloat, 64, 1}, 1, one);
    DLTensor ag = tensor(grad_whole, (DLDataType){kDLFloat, 32, 1}, 5, wl);
    failed |= check(ctx, segloss_loss_compute(ctx, &p, &al, &at, &av, &ag, 1.0f), "loss_compute");
    double gmax = 0, gdiff = 0;
    for (int i = 0; i < N * C * V; i++) gmax = fmax(gmax, fabs(grad_whole[i]));
    for (int i = 0; i < nr * C * V; i++) gdiff = fmax(gdiff, fabs(grad[i] - grad_whole[(size_t)n0 * C * V + i]));
    failed |= fabs(value - whole) > 1e-6 * fmax(1.0, fabs(whole)) || gdiff > 1e-5 * gmax;
    printf("process %d of %d, images %d-%d: batch dice %.9f (one process: %.9f), gradient off by %.2e of %.2e\n",
           rank, size, n0, n1 - 1, value, whole, gdiff, gmax);

    int any_failed = 0;
    MPI_Allreduce(&failed, &any_failed, 1, MPI_INT, MPI_MAX, MPI_COMM_WORLD);
    if (rank == 0) printf(any_failed ? "FAILED\n" : "%d processes = one process with the whole batch: OK\n", size);
    free(stats);
    free(coef);
    segloss_context_destroy(ctx);
    MPI_Finalize();
    return any_failed;
}
