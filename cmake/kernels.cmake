# SPDX-License-Identifier: Apache-2.0
# THE kernel table: one row per kernel library. The runtime registry, the tests and the
# benches see it through the generated kernels.inc.
#
# Axes of variation that change a kernel's structure are GeneratorParams (one library each):
#   activation   softmax | sigmoid | identity  (the softmax couples the classes)
#   target kind  i32 | u8 (index maps, N,[1,]spatial) | f32 (dense maps, N,C,spatial)
# Everything else (weights, ignore_index, smoothing, reduction) is a run-time argument.

# One Halide runtime for every kernel, built for the baseline (last) CPU target, with the
# modules of the GPU APIs (each loads its driver library on first use only).
list(GET SEGLOSS_CPU_TARGETS -1 _segloss_runtime_target)
foreach (api IN LISTS SEGLOSS_GPU_APIS)
    string(APPEND _segloss_runtime_target "-${api}")
endforeach ()
segloss_add_runtime(segloss_halide_runtime FROM segloss_region_generators TARGETS ${_segloss_runtime_target})

# The loss rows whose OpenCL twin the CI runs on pocl (SeglossHalide.cmake): every stage with
# each activation and each target kind once; the CUDA set has every row.
set(SEGLOSS_OPENCL_CHECKED softmax:i32 sigmoid:f32 identity:u8)

set(_segloss_activations softmax sigmoid identity)
set(_segloss_target_kinds i32 u8 f32)
set(_segloss_labels_i32 labels.type=int32 labels.dim=4)
set(_segloss_labels_u8 labels.type=uint8 labels.dim=4)
set(_segloss_source_i32 source.type=int32 source.dim=4)
set(_segloss_source_u8 source.type=uint8 source.dim=4)
set(_segloss_labels_f32 labels.type=float32 labels.dim=5)

foreach (kind IN LISTS _segloss_target_kinds)
    set(lp ${_segloss_labels_${kind}} target_kind=${kind})
    # Pointwise target pre-pass: validation, per-class target sums (normaliser, class weights).
    segloss_kernel(label_stats_${kind} FAMILY pointwise GENERATOR label_stats STAGE label_stats
                   ACTIVATION identity TARGET_KIND ${kind} GPU PARAMS ${lp})
    foreach (act IN LISTS _segloss_activations)
        set(p ${lp} activation=${act})
        # Pointwise family: focal / cross-entropy. value: line sums only; grad: line sums + gradient
        # (fused, one read of the inputs); map: the per-voxel loss of reduction=none.
        foreach (out IN ITEMS value grad map)
            segloss_kernel(ce_${act}_${kind}_${out} FAMILY pointwise GENERATOR pointwise STAGE pointwise_${out}
                           ACTIVATION ${act} TARGET_KIND ${kind} GPU PARAMS ${p} output=${out})
        endforeach ()
        # Region family: pass 1 (group sums) and pass 2 (gradient from per-group coefficients).
        segloss_kernel(region_stats_${act}_${kind} FAMILY region GENERATOR region_stats STAGE region_stats
                       ACTIVATION ${act} TARGET_KIND ${kind} GPU PARAMS ${p})
        segloss_kernel(region_grad_${act}_${kind} FAMILY region GENERATOR region_grad STAGE region_grad
                       ACTIVATION ${act} TARGET_KIND ${kind} GPU PARAMS ${p})
        # Compound losses (region + pointwise part): the same two passes, with the pointwise
        # part's class sums in pass 1 and its gradient in pass 2.
        segloss_kernel(compound_stats_${act}_${kind} FAMILY region GENERATOR region_stats STAGE compound_stats
                       ACTIVATION ${act} TARGET_KIND ${kind} GPU PARAMS ${p} with_pointwise=true)
        segloss_kernel(compound_grad_${act}_${kind} FAMILY region GENERATOR region_grad STAGE compound_grad
                       ACTIVATION ${act} TARGET_KIND ${kind} GPU PARAMS ${p} with_pointwise=true)
    endforeach ()
endforeach ()
# The gradient passes of cross-entropy, the region and the compound losses for one class count each
# (SEGLOSS_CLASS_KERNELS, CMakeLists.txt): every class loop unrolled and a voxel's softmax terms
# in registers (schedules/cpu_classes.h), softmax with int32 labels, the common training case.
# The registry prefers them when the logits have that many classes; every other call takes the
# rows above.
foreach (classes IN LISTS SEGLOSS_CLASS_KERNELS)
    set(p ${_segloss_labels_i32} target_kind=i32 activation=softmax)
    segloss_kernel(ce_softmax_i32_grad_c${classes} FAMILY pointwise GENERATOR pointwise STAGE pointwise_grad
                   ACTIVATION softmax TARGET_KIND i32 CLASSES ${classes} PARAMS ${p} output=grad)
    segloss_kernel(region_grad_softmax_i32_c${classes} FAMILY region GENERATOR region_grad STAGE region_grad
                   ACTIVATION softmax TARGET_KIND i32 CLASSES ${classes} PARAMS ${p})
    segloss_kernel(compound_grad_softmax_i32_c${classes} FAMILY region GENERATOR region_grad STAGE compound_grad
                   ACTIVATION softmax TARGET_KIND i32 CLASSES ${classes} PARAMS ${p} with_pointwise=true)
endforeach ()
# Half-precision logits (float16, bfloat16): converted to float32 before the loss kernels and
# the float32 gradient back after them (docs/design.md: why not half variants of every kernel).
foreach (half IN ITEMS f16 bf16)
    if (half STREQUAL "bf16")
        set(bf true)
        set(no_opencl "")
    else ()
        set(bf false)
        set(no_opencl NO_OPENCL)
    endif ()
    segloss_kernel(convert_${half}_to_f32 FAMILY convert GENERATOR convert STAGE convert_${half}_to_f32
                   ACTIVATION identity TARGET_KIND f32 GPU ${no_opencl}
                   PARAMS to_float=true bfloat=${bf} in.type=uint16 out.type=float32)
    segloss_kernel(convert_f32_to_${half} FAMILY convert GENERATOR convert STAGE convert_f32_to_${half}
                   ACTIVATION identity TARGET_KIND f32 GPU ${no_opencl}
                   PARAMS to_float=false bfloat=${bf} in.type=float32 out.type=uint16)
endforeach ()
# A device call's pointwise reductions (the CPU runtime does them in C++): the target
# pre-pass's line sums to the normaliser and class weights, the pass's line sums to the loss.
foreach (stage IN ITEMS pointwise_norm pointwise_total)
    segloss_kernel(${stage} FAMILY pointwise GENERATOR ${stage} STAGE ${stage} ACTIVATION identity TARGET_KIND f32 GPU)
endforeach ()
# TopK's cut on a device (the CPU runtime finds it in C++): histograms of the keys' bits, the
# walk to the cut, the index of its last tie, and the marked keys the passes select with.
foreach (stage IN ITEMS topk_hist topk_cut topk_tie topk_mark)
    segloss_kernel(${stage} FAMILY pointwise GENERATOR ${stage} STAGE ${stage} ACTIVATION identity TARGET_KIND f32 GPU)
endforeach ()
# dice_topk's TopK part on a device: inverse-frequency weights from the statistics (for its
# key pass), class weights times 1 / K for the region epilogue after the select, and the
# compound's total (the epilogue's plus lambda x the selected keys' mean).
foreach (stage IN ITEMS topk_part_inverse topk_part_weights topk_part_total)
    segloss_kernel(${stage} FAMILY pointwise GENERATOR ${stage} STAGE ${stage} ACTIVATION identity TARGET_KIND f32 GPU)
endforeach ()
# A device call's value (mean/sum, or the groups of reduction=none) from the region epilogue's
# float64 outputs into the caller's float32 or float64 tensor, on the device.
foreach (bits IN ITEMS 32 64)
    if (bits STREQUAL "64")
        set(f64 true)
    else ()
        set(f64 false)
    endif ()
    segloss_kernel(value_store_f${bits} FAMILY convert GENERATOR value_store STAGE value_store_f${bits}
                   ACTIVATION identity TARGET_KIND f32 GPU PARAMS float64=${f64} value.type=float${bits})
endforeach ()
# Distance family: exact EDT maps of the class masks of index maps, dense maps (g > 0.5) and
# logits (p > 0.5 after the activation), for the boundary losses and the metrics.
# Their GPU twins replace the extern envelope passes with brute-force Halide passes
# (generators/distance/edt_brute.h).
foreach (kind IN ITEMS i32 u8)
    segloss_kernel(distance_${kind} FAMILY distance GENERATOR distance STAGE distance
                   ACTIVATION identity TARGET_KIND ${kind} GPU LINK segloss_distance_externs
                   PARAMS ${_segloss_source_${kind}} source_kind=${kind})
    # DPCE's per-voxel weights 1 + D (one channel) from the same pipeline.
    segloss_kernel(dpce_weight_${kind} FAMILY distance GENERATOR distance STAGE dpce_weight
                   ACTIVATION identity TARGET_KIND ${kind} GPU LINK segloss_distance_externs
                   PARAMS ${_segloss_source_${kind}} source_kind=${kind} collapse=true)
endforeach ()
foreach (act IN LISTS _segloss_activations)
    segloss_kernel(distance_${act}_f32 FAMILY distance GENERATOR distance STAGE distance
                   ACTIVATION ${act} TARGET_KIND f32 GPU LINK segloss_distance_externs
                   PARAMS source.type=float32 source.dim=5 source_kind=f32 activation=${act})
endforeach ()
# Boundary-based losses (boundary, hausdorff_dt): the pointwise pass over the distance maps.
foreach (kind IN LISTS _segloss_target_kinds)
    foreach (act IN LISTS _segloss_activations)
        segloss_kernel(boundary_loss_${act}_${kind} FAMILY distance GENERATOR boundary_loss STAGE boundary_loss
                       ACTIVATION ${act} TARGET_KIND ${kind} GPU PARAMS ${_segloss_labels_${kind}} target_kind=${kind}
                       activation=${act})
    endforeach ()
endforeach ()
# A device call's boundary reductions (the CPU runtime does them in C++): the pre-pass's line
# sums to the counted voxels and the gradient's coefficients, the pass's line sums to the loss.
foreach (stage IN ITEMS boundary_coef boundary_total)
    segloss_kernel(${stage} FAMILY distance GENERATOR ${stage} STAGE ${stage} ACTIVATION identity TARGET_KIND f32 GPU)
endforeach ()
# The region epilogue is tiny and shape-independent: one library for every region loss.
segloss_kernel(region_epilogue FAMILY region GENERATOR region_epilogue STAGE region_epilogue
               ACTIVATION identity TARGET_KIND f32 GPU)

segloss_write_kernel_table("${CMAKE_BINARY_DIR}/generated")
