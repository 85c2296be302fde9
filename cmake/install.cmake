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

# One static archive for consumers. The build's segloss_static holds the runtime's objects only
# and links the kernel libraries as separate targets, which an installed tree cannot name; this
# archive takes the members of all of them (GNU ar's MRI script), so that `-lsegloss` or
# segloss::segloss_static is the whole library.
get_property(_segloss_bundle_libs GLOBAL PROPERTY SEGLOSS_KERNEL_LIBS)
get_property(_segloss_bundle_gpu_libs GLOBAL PROPERTY SEGLOSS_GPU_KERNEL_LIBS)
get_property(_segloss_bundle_link_libs GLOBAL PROPERTY SEGLOSS_KERNEL_LINK_LIBS)  # extern stages
list(REMOVE_DUPLICATES _segloss_bundle_link_libs)
list(PREPEND _segloss_bundle_libs segloss_static)
list(APPEND _segloss_bundle_libs ${_segloss_bundle_gpu_libs} ${_segloss_bundle_link_libs} segloss_halide_runtime)
set(_segloss_bundle "${PROJECT_BINARY_DIR}/bundle/libsegloss.a")
set(_segloss_mri "create ${_segloss_bundle}\n")
set(_segloss_bundle_files)
foreach (lib IN LISTS _segloss_bundle_libs)
    string(APPEND _segloss_mri "addlib $<TARGET_FILE:${lib}>\n")
    list(APPEND _segloss_bundle_files "$<TARGET_FILE:${lib}>")
endforeach ()
string(APPEND _segloss_mri "save\nend\n")
file(GENERATE OUTPUT "${PROJECT_BINARY_DIR}/bundle/libsegloss.mri" CONTENT "${_segloss_mri}")
add_custom_command(OUTPUT "${_segloss_bundle}"
                   COMMAND "${CMAKE_COMMAND}" -E rm -f "${_segloss_bundle}"
                   COMMAND sh -c "\"${CMAKE_AR}\" -M < \"${PROJECT_BINARY_DIR}/bundle/libsegloss.mri\""
                   DEPENDS ${_segloss_bundle_libs} ${_segloss_bundle_files} "${PROJECT_BINARY_DIR}/bundle/libsegloss.mri"
                   COMMENT "Bundling the runtime and the kernels into bundle/libsegloss.a"
                   VERBATIM)
add_custom_target(segloss_bundle ALL DEPENDS "${_segloss_bundle}")

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
