/* SPDX-License-Identifier: Apache-2.0 */
/* segloss: segmentation losses and their gradients, C ABI (C99).
 *
 * Every function returns a status; the message of the last failure of a context is
 * segloss_last_error(ctx). The caller owns every tensor; nothing is written outside the output
 * tensors, and on an error status the outputs' contents are unspecified (nothing else is
 * touched). Tensors are DLPack (v0.6) DLTensor descriptors: logits are N,C,spatial with 1 to 3
 * spatial axes, contiguous or strided (strides in elements; NULL strides = compact row-major).
 *
 * Thread safety: concurrent calls are safe on different contexts; a context is used by one
 * thread at a time. segloss_set_num_threads and segloss_set_max_cpu_isa are process-wide.
 */
#ifndef SEGLOSS_SEGLOSS_H
#define SEGLOSS_SEGLOSS_H

#include <stddef.h>
#include <stdint.h>

#include <dlpack/dlpack.h>

#ifdef __cplusplus
extern "C" {
#endif

#if defined(__GNUC__)
#define SEGLOSS_API __attribute__((visibility("default")))
#else
#define SEGLOSS_API
#endif

/** Version of the library ("MAJOR.MINOR.PATCH"). */
#define SEGLOSS_VERSION_MAJOR 0
#define SEGLOSS_VERSION_MINOR 1
#define SEGLOSS_VERSION_PATCH 0

/** Status of every call. Values are stable and only ever appended. */
typedef enum segloss_status {
    SEGLOSS_STATUS_OK = 0,               /**< success */
    SEGLOSS_STATUS_INVALID_ARGUMENT = 1, /**< null pointer, bad option value, wrong params size,
                                              outputs that overlap each other or an input */
    SEGLOSS_STATUS_INVALID_SHAPE = 2,    /**< wrong rank, mismatched extents, zero-size tensor,
                                              weight length != C, wrong output shape */
    SEGLOSS_STATUS_UNSUPPORTED = 3,      /**< a dtype, device or combination this build has no
                                              kernel for (on a GPU: what segloss_loss_compute
                                              does not run there yet) */
    SEGLOSS_STATUS_INVALID_LABEL = 4,    /**< an index label outside [0, C) that is not
                                              ignore_index; found before any output is written */
    SEGLOSS_STATUS_NONFINITE = 5,        /**< check_finite is on and the loss is NaN or Inf */
    SEGLOSS_STATUS_TOO_LARGE = 6,        /**< an extent or stride does not fit in 32 bits */
    SEGLOSS_STATUS_OUT_OF_MEMORY = 7,    /**< an allocation failed */
    SEGLOSS_STATUS_INTERNAL = 8,         /**< a kernel failed; see segloss_last_error */
    SEGLOSS_STATUS_DEVICE_UNAVAILABLE = 9, /**< a tensor on a device this machine cannot reach:
                                               CUDA memory without a CUDA driver, or a device id
                                               beyond the driver's devices */
    SEGLOSS_STATUS_DEVICE_MISMATCH = 10  /**< the tensors of a call are on different devices,
                                              or on another device than the context's stream */
} segloss_status_t;

/** The losses of LOSSES.md; segloss_loss_name() gives each one's name there. Values are stable. */
typedef enum segloss_loss_kind {
    SEGLOSS_LOSS_CE = 0,   /**< cross-entropy (pointwise) */
    SEGLOSS_LOSS_DICE = 1, /**< soft Dice, 1 - (2I + s_nr) / (P + G + s_dr) (region) */
    SEGLOSS_LOSS_IOU = 2,  /**< soft Jaccard, 1 - (I + s_nr) / (P + G - I + s_dr) (region) */
    SEGLOSS_LOSS_TVERSKY = 3,                 /**< 1 - (I + s_nr) / (I + alpha FP + beta FN + s_dr) */
    SEGLOSS_LOSS_FOCAL_TVERSKY = 4,           /**< max(1 - T, 1e-7)^(1/gamma) per group */
    SEGLOSS_LOSS_ASYMMETRIC = 5,              /**< Tversky with alpha = 1/(1+b^2), beta = b^2/(1+b^2) */
    SEGLOSS_LOSS_SENSITIVITY_SPECIFICITY = 6, /**< r sens. term + (1 - r) spec. term (Brosch) */
    SEGLOSS_LOSS_GENERALIZED_DICE = 7,        /**< one group per image, class weights from G */
    SEGLOSS_LOSS_PENALTY_GENERALIZED_DICE = 8,/**< L / (1 + k (1 - L)), L the generalized Dice loss */
    SEGLOSS_LOSS_LOG_COSH_DICE = 9,           /**< log(cosh(L)) per group, L the Dice loss */
    SEGLOSS_LOSS_WCE = 10,   /**< ce with class weights required (given or inverse frequency) */
    SEGLOSS_LOSS_FOCAL = 11, /**< -alpha_t (1 - p_t)^gamma log p_t (pointwise) */
    /* Compound losses: lambda_region * region part + lambda_pointwise * pointwise part, in one
     * statistics pass and one gradient pass. */
    SEGLOSS_LOSS_DICE_CE = 12,                /**< dice + ce (nnU-Net) */
    SEGLOSS_LOSS_DICE_FOCAL = 13,             /**< dice + focal */
    SEGLOSS_LOSS_GENERALIZED_DICE_FOCAL = 14, /**< generalized_dice + focal */
    SEGLOSS_LOSS_COMBO = 15,   /**< alpha mCE_beta + (1 - alpha) dice (Taghanaki; sigmoid) */
    SEGLOSS_LOSS_EXP_LOG = 16, /**< w_d mean_c (-ln Dice_c)^gamma_d + w_ce mean_v w_y (-ln p_y)^gamma_ce */
    SEGLOSS_LOSS_TOPK = 17,    /**< mean ce over the hardest voxels (topk_mode; pointwise + selection) */
    SEGLOSS_LOSS_DICE_TOPK = 18, /**< dice + topk (nnU-Net's DiceTopK10) */
    /* Boundary-based losses: per (n, class) (1/V) sum_v of a term weighted by distance maps
     * (constants for the gradient), averaged over the groups; include_background defaults to 0;
     * `spacing` sets the physical voxel size; empty and full masks give zero maps. */
    SEGLOSS_LOSS_BOUNDARY = 19,    /**< phi_G p, phi_G the signed distance of the target
                                        (Kervadec): negative at the optimum, by design */
    SEGLOSS_LOSS_HAUSDORFF_DT = 20, /**< (p - g)^2 (d_G^alpha + d_S^alpha), d_X the distance to
                                        X's boundary, S = {p > 0.5} recomputed every call (Karimi) */
    SEGLOSS_LOSS_DPCE = 21, /**< ce with voxel weights 1 + D_v, D_v = (m - E_v) / m: E_v the
                                 distance to the nearest voxel of another label (`spacing`), m its
                                 maximum over v's label region in the image; D = 0 in a region
                                 without a boundary. Index-map targets; the mean divides by ce's W */
    SEGLOSS_LOSS_DICE_BOUNDARY = 22,  /**< lambda_region dice + lambda_pointwise boundary */
    SEGLOSS_LOSS_DICE_HAUSDORFF = 23  /**< lambda_region dice + lambda_pointwise hausdorff_dt */
} segloss_loss_kind_t;
/** hausdorff_dt's distances. */
typedef enum segloss_hd_variant {
    SEGLOSS_HD_TWO_SIDED = 0, /**< d_X = EDT(X) + EDT(not X) (Karimi; default) */
    SEGLOSS_HD_ONE_SIDED = 1  /**< d_X = EDT(X) (SegLoss's HDLoss) */
} segloss_hd_variant_t;
/** Which voxels topk keeps. */
typedef enum segloss_topk_mode {
    SEGLOSS_TOPK_PERCENT = 0,  /**< the max(1, floor(M k / 100)) largest voxel losses of the M counted
                                    voxels of the batch (SegLoss, nnU-Net; default, k = 10); a voxel's
                                    loss is m_v w_y ce_v (mask, class weight); ties at the cut go
                                    to the first voxels in memory order (n, then z, y, x) */
    SEGLOSS_TOPK_THRESHOLD = 1 /**< the counted voxels whose unweighted ce exceeds -log t, i.e. with
                                    p_y < t for hard targets without smoothing (the paper's form) */
} segloss_topk_mode_t;

/** Normaliser of a pointwise loss's mean over index targets (softmax / none activation). */
typedef enum segloss_weight_norm {
    SEGLOSS_WEIGHT_NORM_WEIGHTED = 0, /**< sum of the counted voxels' class weights (PyTorch; ce) */
    SEGLOSS_WEIGHT_NORM_COUNT = 1     /**< the counted voxels (the papers' 1/N; focal's default) */
} segloss_weight_norm_t;

/** Where ce/wce's class weights come from. */
typedef enum segloss_class_weights {
    SEGLOSS_CLASS_WEIGHTS_GIVEN = 0,            /**< `weight` (all ones when NULL, ce only) */
    SEGLOSS_CLASS_WEIGHTS_INVERSE_FREQUENCY = 1 /**< w_c = M / (K M_c) from this call's targets:
                                                     M_c = sum of class c's targets over counted
                                                     voxels, M = sum of M_c, K = classes with
                                                     M_c > 0; w_c = 0 for an absent class */
} segloss_class_weights_t;

/** Class weights of the generalized Dice loss (w_type). */
typedef enum segloss_gd_weight {
    SEGLOSS_GD_WEIGHT_SQUARE = 0,  /**< 1 / G_c^2 (default) */
    SEGLOSS_GD_WEIGHT_SIMPLE = 1,  /**< 1 / G_c */
    SEGLOSS_GD_WEIGHT_UNIFORM = 2  /**< 1 */
} segloss_gd_weight_t;

/** What a region loss does with a group whose target is empty (G = 0). */
typedef enum segloss_empty {
    SEGLOSS_EMPTY_SMOOTH = 0, /**< keep it: the smoothing decides (0 if P = 0, about 1 if not) */
    SEGLOSS_EMPTY_EXCLUDE = 1 /**< drop it from the sum and the mean (smp); all dropped: 0 */
} segloss_empty_t;

typedef enum segloss_activation {
    SEGLOSS_ACTIVATION_SOFTMAX = 0, /**< softmax over the class axis (default) */
    SEGLOSS_ACTIVATION_SIGMOID = 1, /**< sigmoid per channel (multi-label or binary) */
    SEGLOSS_ACTIVATION_NONE = 2     /**< the input already holds probabilities */
} segloss_activation_t;

typedef enum segloss_reduction {
    SEGLOSS_REDUCTION_MEAN = 0,
    SEGLOSS_REDUCTION_SUM = 1,
    SEGLOSS_REDUCTION_NONE = 2 /**< per voxel (pointwise losses) or per group (region losses) */
} segloss_reduction_t;

/** Options of a loss (LOSSES.md). Fill with segloss_loss_params_init, then change fields. */
typedef struct segloss_loss_params {
    size_t struct_size; /**< sizeof(segloss_loss_params_t), set by segloss_loss_params_init */
    segloss_loss_kind_t loss;
    segloss_activation_t activation;
    int include_background; /**< 0: class 0 is left out of the loss (the softmax keeps it) */
    int batch;              /**< region losses: one group per class over the whole batch */
    segloss_reduction_t reduction;
    const float *weight;    /**< per-class weights (C values, finite, >= 0), or NULL */
    int64_t num_weights;
    int has_ignore_index;   /**< index targets: voxels labelled ignore_index take no part */
    int64_t ignore_index;
    float smooth_nr;        /**< region losses: numerator smoothing (default 1e-5) */
    float smooth_dr;        /**< region losses: denominator smoothing (default 1e-5) */
    int squared_pred;       /**< Dice: denominator sum p^2 + sum g^2 (V-Net) */
    int check_finite;       /**< return SEGLOSS_STATUS_NONFINITE instead of a NaN/Inf loss */
    segloss_empty_t empty;  /**< region losses: groups with an empty target (default SMOOTH) */
    /* Options of single losses, named as in LOSSES.md; segloss_loss_params_init sets the
     * loss's defaults. A field that the loss does not use is ignored. */
    float alpha;            /**< tversky, focal_tversky: weight of false positives (0.3);
                                 combo: weight of the CE term (0.5, sets the lambdas);
                                 focal (with has_alpha): softmax class 0 gets 1 - alpha and the
                                 others alpha, sigmoid targets 1 get alpha and 0 get 1 - alpha */
    float beta;             /**< tversky, focal_tversky: weight of false negatives (0.7);
                                 combo: weight of the positives in mCE (0.5) */
    float gamma;            /**< focal_tversky: the loss is (1 - T)^(1/gamma) (4/3), > 0;
                                 focal: focusing parameter (2), >= 0 */
    float b;                /**< asymmetric: beta of the F-beta score (1.5), > 0 */
    float r;                /**< sensitivity_specificity: weight of the sensitivity term (0.05) */
    float k;                /**< penalty_generalized_dice: penalty (2.5), >= 0;
                                 topk (percent mode): the percentage kept (10), in (0, 100] */
    segloss_gd_weight_t w_type; /**< generalized Dice class weights (SQUARE) */
    /* Distribution-based losses. */
    segloss_weight_norm_t weight_norm;     /**< ce, wce: WEIGHTED; focal: COUNT */
    segloss_class_weights_t class_weights; /**< ce, wce: GIVEN */
    float label_smoothing;   /**< ce, wce, focal: targets (1 - eps) g + eps / K, K = C (softmax,
                                  none) or 2 (sigmoid channel); in [0, 1], default 0 */
    int has_alpha;           /**< focal: weigh by alpha (scalar `alpha`, or class_alpha); default 0 */
    const float *class_alpha;  /**< focal: per-class alpha (C values >= 0), or NULL for scalar alpha */
    int64_t num_class_alpha;
    int check_inputs;        /**< dense targets: a value outside [0, 1] is SEGLOSS_STATUS_INVALID_LABEL
                                  (costs a read of the targets) */
    /* Compound losses. Their parts take their options from region_part and pointwise_part
     * (NULL: the part's defaults); the compound's own activation, reduction, ignore_index,
     * check_finite and check_inputs apply to both parts (the parts' are ignored). reduction
     * none is refused: the parts' per-element shapes differ. */
    const struct segloss_loss_params *region_part;    /**< dice (generalized_dice for
                                                           generalized_dice_focal) */
    const struct segloss_loss_params *pointwise_part; /**< ce (dice_ce, combo, exp_log) or focal */
    float lambda_region;     /**< dice_*: 1; combo: 1 - alpha; exp_log: w_d (0.8) */
    float lambda_pointwise;  /**< dice_*: 1; combo: alpha; exp_log: w_ce (0.2) */
    float gamma_d, gamma_ce; /**< exp_log: the exponents (0.3, 0.3), > 0 */
    /* TopK: its mean divides by the selected voxels K (class weights and mask weigh the terms
     * only, as nnU-Net); no voxel selected (all ignored): loss 0, gradient 0. */
    segloss_topk_mode_t topk_mode; /**< PERCENT (uses k) or THRESHOLD (uses t) */
    float t;                 /**< topk threshold mode: in (0, 1] (0.5) */
    /* Voxel weights in [0, 1], applied after the activation to every sum, count and gradient of
     * every loss (0: the voxel takes no part, its gradient is exactly 0). NULL: none. float32,
     * uint8 or bool (nonzero = 1), shaped N,spatial or N,1,spatial, any strides; CPU. A value
     * outside [0, 1] or NaN is SEGLOSS_STATUS_INVALID_ARGUMENT, found before any output is
     * written. Compound losses apply the compound's mask to both parts. */
    const DLTensor *loss_mask;
    /* Boundary-based losses. */
    const double *spacing;   /**< physical voxel size per spatial axis in the tensor's order
                                  (D, H, W), finite and > 0; NULL: all 1 */
    int64_t num_spacing;
    segloss_hd_variant_t hd_variant; /**< hausdorff_dt: TWO_SIDED (default) or ONE_SIDED; its
                                          exponent is `alpha` (2, > 0) */
    /** A precomputed distance map of the target (it depends on the target only: compute it
     * once per image with segloss_distance_compute), float32 N,C',spatial, any strides: kind
     * SIGNED for boundary, BOUNDARY (two-sided) or EDT (one-sided) for hausdorff_dt, with the
     * loss's include_background and spacing; its empty and full masks must be zero (as
     * SIGNED and BOUNDARY are). NULL: computed in the call. */
    const DLTensor *target_distance;
} segloss_loss_params_t;

/** Number of statistics per group in the region stages' stats tensor, and their order. Every
 * sum is over counted voxels, each weighed by its loss_mask value. */
#define SEGLOSS_REGION_NUM_STATS 13
typedef enum segloss_region_stat {
    SEGLOSS_REGION_STAT_I = 0,      /**< sum p g */
    SEGLOSS_REGION_STAT_P = 1,      /**< sum p */
    SEGLOSS_REGION_STAT_G = 2,      /**< sum g */
    SEGLOSS_REGION_STAT_P2 = 3,     /**< sum p^2 */
    SEGLOSS_REGION_STAT_G2 = 4,     /**< sum g^2 */
    SEGLOSS_REGION_STAT_SS_POS = 5, /**< sum (g - p)^2 g */
    SEGLOSS_REGION_STAT_SS_NEG = 6, /**< sum (g - p)^2 (1 - g) */
    SEGLOSS_REGION_STAT_PW_POS = 7, /**< compound losses: the pointwise part's class loss sums */
    SEGLOSS_REGION_STAT_PW_NEG = 8, /**< compound losses: the same for targets 0 (sigmoid) */
    SEGLOSS_REGION_STAT_COUNT = 9,  /**< counted voxels (the sum of their mask values) */
    SEGLOSS_REGION_STAT_INVALID = 10,  /**< labels outside [0, C) that are not ignore_index */
    SEGLOSS_REGION_STAT_NONFINITE = 11, /**< counted voxels with a non-finite logit */
    SEGLOSS_REGION_STAT_BAD_MASK = 12   /**< voxels whose loss_mask value is not in [0, 1] */
} segloss_region_stat_t;
/** Number of coefficients per group in the region stages' coef tensor. */
#define SEGLOSS_REGION_NUM_COEFS 7

typedef struct segloss_context *segloss_context_t;

/** "MAJOR.MINOR.PATCH" of the library that is linked. */
SEGLOSS_API const char *segloss_version(void);
/** A constant English name for a status ("SEGLOSS_STATUS_OK", ...). */
SEGLOSS_API const char *segloss_status_string(segloss_status_t status);

SEGLOSS_API segloss_status_t segloss_context_create(segloss_context_t *ctx);
SEGLOSS_API void segloss_context_destroy(segloss_context_t ctx);
/** Message of the last failed call on ctx ("" after a success). Valid until the next call. */
SEGLOSS_API const char *segloss_last_error(segloss_context_t ctx);
/** Kernels that the last call on ctx ran, e.g. "label_stats_i32,ce_softmax_i32_grad". */
SEGLOSS_API const char *segloss_last_kernel(segloss_context_t ctx);

/** Binds ctx to a GPU and a stream of it; later calls on ctx whose tensors are on that device
 * run their kernels there, in order on that stream, and return without waiting for them.
 *  device  kDLCUDA (or kDLCUDAManaged) with the device's index, or kDLOpenCL; kDLCPU unbinds
 *  stream  CUDA: a CUstream of the device's primary context (the CUDA runtime's and PyTorch's),
 *          NULL for the default stream; OpenCL: the cl_command_queue the tensors' cl_mem
 *          belong with (required)
 * Without a binding, CUDA tensors of device k run on k's primary context and default stream,
 * and OpenCL tensors are refused (INVALID_ARGUMENT). The stream must outlive its use by ctx.
 * Returns UNSUPPORTED for a device type without kernels in this build, DEVICE_UNAVAILABLE for
 * a CUDA device the driver does not have, INVALID_ARGUMENT for a NULL or invalid OpenCL queue.
 * Device calls: see segloss_loss_compute. */
SEGLOSS_API segloss_status_t segloss_context_set_stream(segloss_context_t ctx, DLDevice device, void *stream);

/** One iteration of a parallel loop: runs iteration `index` of the loop task_data describes;
 * returns 0, or a non-zero error code. */
typedef int (*segloss_task_fn)(void *task_data, int index);
/** A caller's thread pool: runs task(task_data, i) for every i in [0, count), on any of its
 * threads (the calling one included) and in any order, waits until all have returned, and
 * returns 0, or a non-zero value one of them returned. The results do not depend on the order
 * or the threads. It may be called from several threads at once (calls on several contexts)
 * and from inside a task (nested loops): a pool that cannot nest runs such a loop inline. */
typedef int (*segloss_parallel_for_fn)(void *pool, segloss_task_fn task, void *task_data, int count);

/** Runs the CPU kernels of later calls on ctx on the caller's thread pool: parallel_for(pool,
 * ...) for each parallel loop, instead of segloss's own pool (segloss_set_num_threads).
 * parallel_for NULL: back to segloss's pool. pool must outlive its use by ctx. GPU kernels are
 * unaffected. Returns INVALID_ARGUMENT for a NULL ctx. */
SEGLOSS_API segloss_status_t segloss_context_set_thread_pool(segloss_context_t ctx,
                                                             segloss_parallel_for_fn parallel_for, void *pool);

/** Process-wide CPU thread count of the kernels (0 = one per core, the default; 1 = run on the
 * caller's thread). Halide's pool keeps threads it has started: a count between 2 and the
 * number already started does not shrink it. Results are bitwise the same for any count. */
SEGLOSS_API segloss_status_t segloss_set_num_threads(int num_threads);

typedef enum segloss_cpu_isa {
    SEGLOSS_CPU_ISA_BASELINE = 0, /**< x86-64 (SSE2) */
    SEGLOSS_CPU_ISA_SSE41 = 1,
    SEGLOSS_CPU_ISA_AVX2 = 2,     /**< AVX2 + FMA + F16C */
    SEGLOSS_CPU_ISA_AVX512 = 3,   /**< AVX-512 (Skylake) */
    SEGLOSS_CPU_ISA_ALL = 100     /**< no cap (default) */
} segloss_cpu_isa_t;
/** Process-wide cap on the CPU kernel variant (as oneDNN's max ISA), for testing every level
 * on one machine. Call before the first kernel runs: variants are chosen once per kernel. */
SEGLOSS_API segloss_status_t segloss_set_max_cpu_isa(segloss_cpu_isa_t isa);

/** Fills *params with LOSSES.md's defaults for `loss`. */
SEGLOSS_API segloss_status_t segloss_loss_params_init(segloss_loss_params_t *params,
                                                      segloss_loss_kind_t loss);
/** Loss kind from its LOSSES.md name ("ce", "dice", "focal_tversky", ...). */
SEGLOSS_API segloss_status_t segloss_loss_from_name(const char *name, segloss_loss_kind_t *loss);
SEGLOSS_API const char *segloss_loss_name(segloss_loss_kind_t loss);
/** The parts of a compound loss (e.g. dice_ce: dice and ce); INVALID_ARGUMENT for other losses. */
SEGLOSS_API segloss_status_t segloss_loss_parts(segloss_loss_kind_t loss, segloss_loss_kind_t *region_part,
                                                segloss_loss_kind_t *pointwise_part);

/** Computes a loss and, when grad is not NULL, its gradient w.r.t. the logits (w.r.t. the
 * probabilities for activation=none) multiplied by grad_scale (the upstream gradient).
 *
 *  logits  float32, float16 or bfloat16, N,C,spatial (1 to 3 spatial axes); half precision is
 *          converted to float32 first: every loss computes and accumulates in float32
 *  target  index map int32 or uint8, N,spatial or N,1,spatial; or dense map float32, N,C,spatial
 *  value   float32 or float64. mean/sum: one element. none: pointwise losses N,spatial (float32);
 *          class-wise region losses N,C' (or 1,C' with batch), C' = C without the left-out
 *          background; generalized Dice losses N,1 (or 1,1 with batch)
 *  grad    NULL, or float32, float16 or bfloat16 (rounded to nearest even from the float32
 *          gradient) with the logits' shape, any strides, not overlapping anything else
 *
 * Device calls (every tensor, the loss_mask included, on one CUDA or OpenCL device; see
 * segloss_context_set_stream; the region stages below too): every loss (topk and dice_topk
 * select their cut there),
 * but not the metrics (UNSUPPORTED), with float32, bfloat16 or float16
 * (CUDA only) logits and grad (converted on the device), a float32 loss_mask, int32/uint8/float32
 * targets; the kernels read and write the caller's memory (OpenCL: byte_offset 0), enqueued on
 * the stream, and the call returns without waiting, so bad input shows in the results: a label
 * outside [0, C) or a mask value outside [0, 1] makes the loss and gradient NaN (region losses:
 * those of the image; pointwise losses: all, as the mean couples the voxels), as a non-finite
 * logit does. check_inputs and check_finite (and a pointwise reduction=none, which checks its
 * labels) make the call wait for its counts or value (a small device-to-host copy) and return
 * INVALID_LABEL / INVALID_ARGUMENT / NONFINITE as on the CPU, with nothing written for the
 * first two. Anything else on a device is UNSUPPORTED; tensors on different devices are
 * DEVICE_MISMATCH.
 */
SEGLOSS_API segloss_status_t segloss_loss_compute(segloss_context_t ctx,
                                                  const segloss_loss_params_t *params,
                                                  const DLTensor *logits, const DLTensor *target,
                                                  DLTensor *value, DLTensor *grad,
                                                  float grad_scale);

/* Region losses as stages, so distributed training can all-reduce the statistics between
 * pass 1 and the epilogue (exact batch Dice over many ranks).
 *  stats  float64, N,C,SEGLOSS_REGION_NUM_STATS (segloss_region_stat_t)
 *  coef   float32, N,C,SEGLOSS_REGION_NUM_COEFS: dL/d(sum) of I, P, P2 and the two (g-p)^2 sums,
 *         and the pointwise part's class weights, already scaled by grad_scale, the weights,
 *         the lambdas and the reduction
 * On a device (as segloss_loss_compute: every tensor of a stage on one CUDA or OpenCL device,
 * the region losses but the compound ones): stats, coef and value stay in device memory, so
 * they can be all-reduced or gathered there between the stages (NCCL); nothing is read back
 * unless check_inputs (the epilogue then copies stats to the host to count bad labels and mask
 * values: INVALID_LABEL / INVALID_ARGUMENT with nothing written) or check_finite asks. Without
 * check_inputs, an image whose stats count bad labels gets a NaN loss and coefficients. A
 * stage's tensors on different devices (stats on the host, logits on a GPU, ...):
 * DEVICE_MISMATCH, with nothing written. */
SEGLOSS_API segloss_status_t segloss_region_stats(segloss_context_t ctx,
                                                  const segloss_loss_params_t *params,
                                                  const DLTensor *logits, const DLTensor *target,
                                                  DLTensor *stats);
SEGLOSS_API segloss_status_t segloss_region_epilogue(segloss_context_t ctx,
                                                     const segloss_loss_params_t *params,
                                                     const DLTensor *stats, DLTensor *value,
                                                     DLTensor *coef, float grad_scale);
SEGLOSS_API segloss_status_t segloss_region_grad(segloss_context_t ctx,
                                                 const segloss_loss_params_t *params,
                                                 const DLTensor *logits, const DLTensor *target,
                                                 const DLTensor *coef, DLTensor *grad);

/* Distance maps (LOSSES.md, boundary-based losses; metrics). Exact Euclidean distances in
 * physical units (`spacing`), per (image n, class c), for the mask M of class c: voxels whose
 * index label is c, whose dense target value is > 0.5, or whose probability (the logits after
 * the activation) is > 0.5. Voxels labelled ignore_index, and voxels with a non-finite logit,
 * belong to no mask. */
typedef enum segloss_distance_kind {
    SEGLOSS_DISTANCE_EDT = 0,            /**< EDT(M): distance to the nearest voxel outside M, 0
                                              outside M (SciPy's distance_transform_edt); +inf
                                              everywhere for a full mask (no voxel outside) */
    SEGLOSS_DISTANCE_EDT_COMPLEMENT = 1, /**< EDT(not M): distance to the nearest voxel of M, 0
                                              inside M; +inf everywhere for an empty mask */
    SEGLOSS_DISTANCE_SIGNED = 2,         /**< phi = EDT(not M) outside M, h - EDT(M) inside (h =
                                              the smallest spacing of the axes with more than
                                              one voxel): 0 on the inner boundary,
                                              negative inside (Kervadec's boundary loss); zero
                                              for empty and full masks */
    SEGLOSS_DISTANCE_BOUNDARY = 3,       /**< EDT(M) + EDT(not M): distance to the nearest voxel
                                              on the other side of the boundary (Karimi's
                                              Hausdorff loss); zero for empty and full masks */
    SEGLOSS_DISTANCE_SURFACE = 4,        /**< distance to the nearest surface voxel of M (its
                                              voxels with a 6-neighbour outside M, or on the
                                              volume's border; axes of extent 1 have neither):
                                              0 exactly on the surface, +inf everywhere for an
                                              empty mask (the metrics' directed distances) */
    SEGLOSS_DISTANCE_DPCE = 5            /**< DPCE's D = (m - EDT(M)) / m inside M, m the
                                              largest EDT(M) of the mask; 0 outside M and for
                                              empty and full masks (the dpce loss's weights
                                              are 1 + D of each voxel's own label) */
} segloss_distance_kind_t;

/** What a mask is (the flags output of segloss_distance_compute). */
typedef enum segloss_mask_flag {
    SEGLOSS_MASK_NORMAL = 0, /**< has voxels inside and outside */
    SEGLOSS_MASK_EMPTY = 1,  /**< no voxel */
    SEGLOSS_MASK_FULL = 2    /**< every voxel */
} segloss_mask_flag_t;

/** Options of segloss_distance_compute. Fill with segloss_distance_params_init. */
typedef struct segloss_distance_params {
    size_t struct_size;           /**< sizeof(segloss_distance_params_t) */
    segloss_distance_kind_t kind; /**< default EDT */
    int64_t num_classes;          /**< index-map sources: the classes C (default 2, a binary
                                       mask); labels outside [0, C) that are not ignore_index
                                       are SEGLOSS_STATUS_INVALID_LABEL */
    int include_background;       /**< 0 (default): no map for class 0 */
    int has_ignore_index;         /**< index-map sources: voxels labelled ignore_index are in
                                       no mask */
    int64_t ignore_index;
    segloss_activation_t activation; /**< float32 sources: NONE (default) = a dense target map,
                                          M = {g > 0.5}; SOFTMAX / SIGMOID = logits, M = {p > 0.5} */
    const double *spacing;        /**< one value per spatial axis in the tensor's order
                                       (D, H, W), finite and > 0; NULL: all 1 */
    int64_t num_spacing;
} segloss_distance_params_t;

/** Fills *params with the defaults above. */
SEGLOSS_API segloss_status_t segloss_distance_params_init(segloss_distance_params_t *params);

/** Distance maps of the masks of `source`.
 *  source    index map int32, int64 or uint8, N,spatial or N,1,spatial; or float32 N,C,spatial
 *            (a dense map, or logits with activation SOFTMAX / SIGMOID); 1 to 3 spatial axes
 *  distance  float32 N,C',spatial, any strides, C' = the classes without the left-out
 *            background; its spatial rank decides the source's (N,1,spatial vs N,spatial)
 *  flags     NULL, or int32 N,C' (any strides): segloss_mask_flag_t of each mask
 * Every element of distance is written; it may not overlap source or flags. Every tensor may
 * instead be on one CUDA or OpenCL device (int32 or uint8 index maps): the GPU kernels run on
 * the context's stream, and the call waits for them (it reads the label check back). */
SEGLOSS_API segloss_status_t segloss_distance_compute(segloss_context_t ctx,
                                                      const segloss_distance_params_t *params,
                                                      const DLTensor *source, DLTensor *distance,
                                                      DLTensor *flags);

/* Evaluation metrics (LOSSES.md, Metrics; MONAI / Metrics Reloaded conventions), per (image n,
 * class c) of two index maps, on the distance kernels. Surfaces as SEGLOSS_DISTANCE_SURFACE;
 * directed distances from each surface voxel of one mask to the nearest surface voxel of the
 * other, in `spacing` units. */
typedef enum segloss_metric {
    SEGLOSS_METRIC_DICE = 0, /**< 2|P and T| / (|P| + |T|) */
    SEGLOSS_METRIC_IOU = 1,  /**< |P and T| / |P or T| */
    SEGLOSS_METRIC_HD = 2,   /**< the larger of the two directed maxima */
    SEGLOSS_METRIC_HD95 = 3, /**< the larger of the two directed `percentile`s (linear
                                  interpolation between order statistics, as numpy) */
    SEGLOSS_METRIC_ASSD = 4, /**< the mean of both directed sets pooled together */
    SEGLOSS_METRIC_NSD = 5,  /**< surface Dice: the fraction of both surfaces within `tolerance`
                                  of the other surface (distance <= tolerance) */
    SEGLOSS_NUM_METRICS = 6
} segloss_metric_t;

/** Which masks of a (n, c) pair have voxels; the metrics of the empty cases are fixed:
 *  BOTH_EMPTY: every metric NaN; PRED_EMPTY or TARGET_EMPTY: Dice, IoU and NSD 0, the distances
 *  +inf. */
typedef enum segloss_metric_case {
    SEGLOSS_METRIC_BOTH_PRESENT = 0,
    SEGLOSS_METRIC_PRED_EMPTY = 1,
    SEGLOSS_METRIC_TARGET_EMPTY = 2,
    SEGLOSS_METRIC_BOTH_EMPTY = 3
} segloss_metric_case_t;

/** Options of segloss_metrics_compute. Fill with segloss_metric_params_init. */
typedef struct segloss_metric_params {
    size_t struct_size;       /**< sizeof(segloss_metric_params_t) */
    int64_t num_classes;      /**< C (default 2); labels of either map outside [0, C) (other than
                                   the target's ignore_index) are SEGLOSS_STATUS_INVALID_LABEL */
    int include_background;   /**< 0 (default): no metrics for class 0 */
    int has_ignore_index;     /**< voxels whose *target* label is ignore_index are left out of
                                   both masks (the prediction's label there does not matter) */
    int64_t ignore_index;
    const double *spacing;    /**< one value per spatial axis in the tensor's order (D, H, W),
                                   finite and > 0; NULL: all 1 */
    int64_t num_spacing;
    double tolerance;         /**< NSD's tolerance, in spacing units (default 1), finite, >= 0 */
    double percentile;        /**< of HD95, in [0, 100] (default 95) */
    int spatial_rank;         /**< 1 to 3, or 0 (default): the maps are N,spatial with ndim - 1
                                   spatial axes; with a rank, N,1,spatial is accepted too */
} segloss_metric_params_t;

/** Fills *params with the defaults above. */
SEGLOSS_API segloss_status_t segloss_metric_params_init(segloss_metric_params_t *params);

/** Metrics of a predicted label map against a target label map.
 *  prediction, target  index maps int32, int64 or uint8 of the same shape (N,spatial, or
 *                      N,1,spatial with params.spatial_rank), any strides
 *  values              float64 N,C',SEGLOSS_NUM_METRICS (any strides), C' = the classes without
 *                      the left-out background: segloss_metric_t order
 *  cases               NULL, or int32 N,C' (any strides): segloss_metric_case_t
 * Outputs are written only when the call succeeds; they may not overlap the inputs or each
 * other. */
SEGLOSS_API segloss_status_t segloss_metrics_compute(segloss_context_t ctx,
                                                     const segloss_metric_params_t *params,
                                                     const DLTensor *prediction,
                                                     const DLTensor *target, DLTensor *values,
                                                     DLTensor *cases);

#ifdef __cplusplus
}
#endif

#endif /* SEGLOSS_SEGLOSS_H */
