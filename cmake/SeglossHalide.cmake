# SPDX-License-Identifier: Apache-2.0
# Helpers that turn one row of the kernel table (cmake/kernels.cmake) into a Halide library.

# segloss_add_runtime(<name> FROM <generator> TARGETS <t>...)
# Halide 14 has no add_halide_runtime(): build one standalone runtime per architecture with the
# generator's -r mode, for the *baseline* target so that it runs on every CPU the kernels support.
function(segloss_add_runtime RT)
    cmake_parse_arguments(ARG "" "FROM" "TARGETS" ${ARGN})
    # In a cross build the generator is an executable imported from the host build.
    if (NOT TARGET ${ARG_FROM})
        set(ARG_FROM "${PROJECT_NAME}::halide_generators::${ARG_FROM}")
    endif ()
    set(out "${CMAKE_CURRENT_BINARY_DIR}/${RT}${CMAKE_STATIC_LIBRARY_SUFFIX}")
    add_custom_command(OUTPUT "${out}"
                       COMMAND ${ARG_FROM} -r "${RT}" -o . -e static_library
                               "target=$<JOIN:${ARG_TARGETS},$<COMMA>>"
                       DEPENDS ${ARG_FROM}
                       VERBATIM)
    add_custom_target("${RT}.update" ALL DEPENDS "${out}")
    add_library("${RT}" STATIC IMPORTED GLOBAL)
    set_target_properties("${RT}" PROPERTIES IMPORTED_LOCATION "${out}")
    add_dependencies("${RT}" "${RT}.update")
    target_link_libraries("${RT}" INTERFACE Halide::Runtime Threads::Threads ${CMAKE_DL_LIBS})
endfunction()

# Features every shipped kernel is built with (see DESIGN.md, Halide conventions):
#  user_context    per-call error routing through the runtime's context
#  no_bounds_query a null host pointer is an error, never a silent bounds query
#  large_buffers   buffers above 2^31 bytes (extents and strides stay int32)
set(SEGLOSS_KERNEL_FEATURES user_context no_bounds_query large_buffers)

# The Halide target of a GPU kernel set: the baseline CPU target (the host code of the kernel)
# plus the API. CUDA capability 7.0: the kernels compute in float32 only, so a higher one buys
# nothing, and the driver compiles sm_70 PTX forward to every newer GPU. OpenCL needs doubles
# (the region sums are float64), which pocl has.
function(segloss_gpu_target API OUT)
    list(GET SEGLOSS_CPU_TARGETS -1 base)
    if (API STREQUAL "cuda")
        set(${OUT} "${base}-cuda-cuda_capability_70" PARENT_SCOPE)
    else ()
        set(${OUT} "${base}-opencl-cl_doubles" PARENT_SCOPE)
    endif ()
endfunction()

# segloss_kernel(<name> FAMILY <f> GENERATOR <g> STAGE <s> ACTIVATION <a> TARGET_KIND <k>
#                [CLASSES <K>] [GPU [NO_OPENCL]] [PARAMS ...] [LINK <library of extern stages>...])
# Builds the CPU multi-target library (SEGLOSS_CPU_TARGETS) <name> and records a row for the
# runtime registry. CLASSES: the kernel serves exactly K classes (its generator gets
# classes=K); the registry prefers it over the row without CLASSES when the logits have K.
# GPU: the generator has GPU schedules; also builds <name>_<api> for each of
# SEGLOSS_GPU_APIS and records it in the GPU table. NO_OPENCL: not for OpenCL (float16 needs
# cl_khr_fp16, which pocl, the CI's OpenCL, does not have).
function(segloss_kernel NAME)
    cmake_parse_arguments(ARG "GPU;NO_OPENCL" "FAMILY;GENERATOR;STAGE;ACTIVATION;TARGET_KIND;CLASSES" "PARAMS;LINK" ${ARGN})
    if (ARG_CLASSES)
        list(APPEND ARG_PARAMS classes=${ARG_CLASSES})
    else ()
        set(ARG_CLASSES 0)
    endif ()
    set(cpu_targets ${SEGLOSS_CPU_TARGETS})
    if (SEGLOSS_CPU_FEW_TARGETS AND NOT NAME MATCHES "${SEGLOSS_CPU_EVERY_LEVEL_ROWS}")
        set(cpu_targets ${SEGLOSS_CPU_FEW_TARGETS})
        # A test build's class-count rows: the machine's best level only (the one level the
        # suite runs them at; a single target is used unconditionally), half their build time.
        if (ARG_CLASSES)
            list(GET SEGLOSS_CPU_FEW_TARGETS 0 cpu_targets)
        endif ()
    endif ()
    add_halide_library(${NAME} FROM segloss_${ARG_FAMILY}_generators
                       GENERATOR ${ARG_GENERATOR}
                       TARGETS ${cpu_targets}
                       FEATURES ${SEGLOSS_KERNEL_FEATURES}
                       PARAMS ${ARG_PARAMS}
                       USE_RUNTIME segloss_halide_runtime)
    if (ARG_LINK)
        target_link_libraries(${NAME} INTERFACE ${ARG_LINK})
        # The installed static archive takes them in too (cmake/install.cmake).
        set_property(GLOBAL APPEND PROPERTY SEGLOSS_KERNEL_LINK_LIBS ${ARG_LINK})
    endif ()
    set_property(GLOBAL APPEND PROPERTY SEGLOSS_KERNEL_LIBS ${NAME})
    set_property(GLOBAL APPEND PROPERTY SEGLOSS_KERNEL_ROWS
                 "SEGLOSS_KERNEL(${ARG_STAGE}, ${NAME}, ${ARG_ACTIVATION}, ${ARG_TARGET_KIND}, ${ARG_CLASSES})")
    if (NOT ARG_GPU)
        return()
    endif ()
    # The OpenCL set exists to check the schedules on pocl, which compiles each kernel on the CPU
    # (~2 s of the CI's time each): the rows whose activation and target kind are in
    # SEGLOSS_OPENCL_CHECKED (kernels.cmake), and the rows without those axes.
    set(opencl_row FALSE)
    if ("${ARG_ACTIVATION}:${ARG_TARGET_KIND}" IN_LIST SEGLOSS_OPENCL_CHECKED
        OR NOT ARG_STAGE MATCHES "^(pointwise_(value|grad|map)|region_(stats|grad)|compound_|distance|dpce_weight|boundary_loss)")
        set(opencl_row TRUE)
    endif ()
    foreach (api IN LISTS SEGLOSS_GPU_APIS)
        if (api STREQUAL "opencl" AND (ARG_NO_OPENCL OR NOT opencl_row))
            continue()
        endif ()
        segloss_gpu_target(${api} target)
        add_halide_library(${NAME}_${api} FROM segloss_${ARG_FAMILY}_generators
                           GENERATOR ${ARG_GENERATOR}
                           TARGETS ${target}
                           FEATURES ${SEGLOSS_KERNEL_FEATURES}
                           PARAMS ${ARG_PARAMS}
                           USE_RUNTIME segloss_halide_runtime)
        set_property(GLOBAL APPEND PROPERTY SEGLOSS_GPU_KERNEL_LIBS ${NAME}_${api})
        set_property(GLOBAL APPEND PROPERTY SEGLOSS_GPU_KERNEL_ROWS
                     "SEGLOSS_GPU_KERNEL(${api}, ${ARG_STAGE}, ${NAME}, ${ARG_ACTIVATION}, ${ARG_TARGET_KIND})")
    endforeach ()
endfunction()

# segloss_gpu_api_definitions(<target>): SEGLOSS_TEST_CUDA / SEGLOSS_TEST_OPENCL for each API of
# SEGLOSS_GPU_APIS, for the GPU tests and bench (tests/support/halide_device.h).
function(segloss_gpu_api_definitions TARGET)
    foreach (api IN LISTS SEGLOSS_GPU_APIS)
        string(TOUPPER "${api}" upper)
        target_compile_definitions(${TARGET} PRIVATE SEGLOSS_TEST_${upper}=1)
    endforeach ()
endfunction()

# Writes kernels.inc (one SEGLOSS_KERNEL row per library) and kernel_headers.h, which the
# runtime registry, the tests and the benches include, so that no kernel is listed twice; and
# the same for the GPU sets (gpu_kernels.inc, gpu_kernel_headers.h).
function(segloss_write_kernel_table DIR)
    segloss_write_table("${DIR}" kernels kernel_headers SEGLOSS_KERNEL_ROWS SEGLOSS_KERNEL_LIBS)
    segloss_write_table("${DIR}" gpu_kernels gpu_kernel_headers SEGLOSS_GPU_KERNEL_ROWS SEGLOSS_GPU_KERNEL_LIBS)
endfunction()

function(segloss_write_table DIR INC HEADERS ROWS_PROPERTY LIBS_PROPERTY)
    get_property(rows GLOBAL PROPERTY ${ROWS_PROPERTY})
    get_property(libs GLOBAL PROPERTY ${LIBS_PROPERTY})
    set(inc "// Generated by cmake/SeglossHalide.cmake from cmake/kernels.cmake: do not edit.\n")
    foreach (row IN LISTS rows)
        string(APPEND inc "${row}\n")
    endforeach ()
    set(hdr "// Generated by cmake/SeglossHalide.cmake from cmake/kernels.cmake: do not edit.\n#pragma once\n")
    foreach (lib IN LISTS libs)
        string(APPEND hdr "#include \"${lib}.h\"\n")
    endforeach ()
    file(CONFIGURE OUTPUT "${DIR}/${INC}.inc" CONTENT "${inc}")
    file(CONFIGURE OUTPUT "${DIR}/${HEADERS}.h" CONTENT "${hdr}")
endfunction()
