# SPDX-License-Identifier: Apache-2.0
# What `cmake --install` puts in a prefix for consumers (docs/api.md, "Install and link"):
#   include/segloss/segloss.h, segloss.hpp          the C ABI and the C++ header
#   <libdir>/libsegloss.so.X.Y.Z (+ links)          exports segloss_* only (runtime/segloss.map)
#   <libdir>/libsegloss.a                           the runtime, every kernel, the Halide runtime
#   <libdir>/cmake/segloss/seglossConfig*.cmake     find_package(segloss): segloss::segloss,
#                                                   segloss::segloss_static
#   <libdir>/pkgconfig/segloss.pc                   pkg-config --cflags --libs segloss
#   bin/segloss                                     the CLI (tools/cli)
include(GNUInstallDirs)
include(CMakePackageConfigHelpers)

# One static archive of several: the members of every library in LIBS (GNU ar's MRI script),
# built by target NAME (in ALL when ALL is given).
function(segloss_archive_bundle NAME OUTPUT)
    cmake_parse_arguments(ARG "ALL" "" "LIBS" ${ARGN})
    set(mri "create ${OUTPUT}\n")
    set(files)
    foreach (lib IN LISTS ARG_LIBS)
        string(APPEND mri "addlib $<TARGET_FILE:${lib}>\n")
        list(APPEND files "$<TARGET_FILE:${lib}>")
    endforeach ()
    string(APPEND mri "save\nend\n")
    file(GENERATE OUTPUT "${OUTPUT}.mri" CONTENT "${mri}")
    add_custom_command(OUTPUT "${OUTPUT}"
                       COMMAND "${CMAKE_COMMAND}" -E rm -f "${OUTPUT}"
                       COMMAND sh -c "\"${CMAKE_AR}\" -M < \"${OUTPUT}.mri\""
                       DEPENDS ${ARG_LIBS} ${files} "${OUTPUT}.mri"
                       COMMENT "Bundling ${NAME}"
                       VERBATIM)
    if (ARG_ALL)
        add_custom_target(${NAME} ALL DEPENDS "${OUTPUT}")
    else ()
        add_custom_target(${NAME} DEPENDS "${OUTPUT}")
    endif ()
endfunction ()

# Every kernel library, the extern stages they call and the Halide runtime.
get_property(_segloss_kernel_archives GLOBAL PROPERTY SEGLOSS_KERNEL_LIBS)
get_property(_segloss_gpu_kernel_archives GLOBAL PROPERTY SEGLOSS_GPU_KERNEL_LIBS)
get_property(_segloss_extern_archives GLOBAL PROPERTY SEGLOSS_KERNEL_LINK_LIBS)  # extern stages
list(REMOVE_DUPLICATES _segloss_extern_archives)
list(APPEND _segloss_kernel_archives ${_segloss_gpu_kernel_archives} ${_segloss_extern_archives} segloss_halide_runtime)

# One static archive for consumers. The build's segloss_static holds the runtime's objects only
# and links the kernel libraries as separate targets, which an installed tree cannot name; this
# archive takes the members of all of them, so that `-lsegloss` or segloss::segloss_static is
# the whole library.
set(_segloss_bundle "${PROJECT_BINARY_DIR}/bundle/libsegloss.a")
segloss_archive_bundle(segloss_bundle "${_segloss_bundle}" ALL LIBS segloss_static ${_segloss_kernel_archives})

install(TARGETS segloss LIBRARY DESTINATION "${CMAKE_INSTALL_LIBDIR}")
install(FILES "${_segloss_bundle}" DESTINATION "${CMAKE_INSTALL_LIBDIR}")
install(DIRECTORY runtime/include/segloss DESTINATION "${CMAKE_INSTALL_INCLUDEDIR}")

set(_segloss_cmake_dir "${CMAKE_INSTALL_LIBDIR}/cmake/segloss")
configure_package_config_file(cmake/seglossConfig.cmake.in "${PROJECT_BINARY_DIR}/package/seglossConfig.cmake"
                              INSTALL_DESTINATION "${_segloss_cmake_dir}"
                              PATH_VARS CMAKE_INSTALL_INCLUDEDIR CMAKE_INSTALL_LIBDIR)
write_basic_package_version_file("${PROJECT_BINARY_DIR}/package/seglossConfigVersion.cmake"
                                 COMPATIBILITY SameMajorVersion)
install(FILES "${PROJECT_BINARY_DIR}/package/seglossConfig.cmake"
              "${PROJECT_BINARY_DIR}/package/seglossConfigVersion.cmake"
        DESTINATION "${_segloss_cmake_dir}")

# pkg-config: the prefix relative to the .pc file's folder, so that the tree can be moved or
# installed with `cmake --install --prefix P`.
file(RELATIVE_PATH SEGLOSS_PC_PREFIX_FROM_PCDIR "/p/${CMAKE_INSTALL_LIBDIR}/pkgconfig" "/p")
configure_file(cmake/segloss.pc.in "${PROJECT_BINARY_DIR}/package/segloss.pc" @ONLY)
install(FILES "${PROJECT_BINARY_DIR}/package/segloss.pc" DESTINATION "${CMAKE_INSTALL_LIBDIR}/pkgconfig")
