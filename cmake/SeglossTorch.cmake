# SPDX-License-Identifier: Apache-2.0
# segloss_find_torch(<setting> <out>): Debian's libtorch-dev (TORCH_LIBRARIES, TORCH_CXX_FLAGS)
# as a setting says: AUTO uses it when it is installed, ON requires it, OFF leaves it out. <out>
# is TRUE when it is to be used. A macro: find_package's variables land in the caller's scope.
macro(segloss_find_torch SETTING OUT)
    set(${OUT} FALSE)
    if (NOT "${SETTING}" STREQUAL "OFF")
        if ("${SETTING}" STREQUAL "ON")
            find_package(Torch REQUIRED)
        else ()
            find_package(Torch QUIET)
        endif ()
        set(${OUT} ${Torch_FOUND})
    endif ()
endmacro()
