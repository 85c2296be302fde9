# SPDX-License-Identifier: Apache-2.0
# segloss_find_optional(<setting> <out> <package> [find_package args...]): an optional Debian
# package (libtorch-dev's Torch, libopenmpi-dev's MPI) as a setting says: AUTO uses it when it
# is installed, ON requires it, OFF leaves it out. <out> is TRUE when it is to be used. A macro:
# find_package's variables (TORCH_LIBRARIES, MPI::MPI_C, ...) land in the caller's scope.
macro(segloss_find_optional SETTING OUT PACKAGE)
    set(${OUT} FALSE)
    if (NOT "${SETTING}" STREQUAL "OFF")
        if ("${SETTING}" STREQUAL "ON")
            find_package(${PACKAGE} ${ARGN} REQUIRED)
        else ()
            find_package(${PACKAGE} ${ARGN} QUIET)
        endif ()
        set(${OUT} ${${PACKAGE}_FOUND})
    endif ()
endmacro()
