# SPDX-License-Identifier: Apache-2.0
# Cross-compiles segloss for 64-bit ARM Linux (edge boards) with Debian's g++-aarch64-linux-gnu.
# The Halide generators run on the build machine: point segloss-halide_generators_ROOT at a host
# build of segloss (README, "Cross-compiling for an aarch64 board").
set(CMAKE_SYSTEM_NAME Linux)
set(CMAKE_SYSTEM_PROCESSOR aarch64)
set(CMAKE_LIBRARY_ARCHITECTURE aarch64-linux-gnu)

set(CMAKE_C_COMPILER aarch64-linux-gnu-gcc)
set(CMAKE_CXX_COMPILER aarch64-linux-gnu-g++)

# Target libraries: the cross toolchain's own folder, and SEGLOSS_AARCH64_SYSROOT, the arm64
# packages that tools/aarch64-sysroot.sh unpacks (NIfTI, zlib). Headers and CMake packages of
# header-only or arch-independent dependencies (Catch2, DLPack, Halide's helpers and runtime
# headers) come from the build machine.
if (NOT SEGLOSS_AARCH64_SYSROOT AND DEFINED ENV{SEGLOSS_AARCH64_SYSROOT})
    set(SEGLOSS_AARCH64_SYSROOT "$ENV{SEGLOSS_AARCH64_SYSROOT}")
endif ()
# try_compile projects read this file again: hand the folder on to them.
set(ENV{SEGLOSS_AARCH64_SYSROOT} "${SEGLOSS_AARCH64_SYSROOT}")
set(CMAKE_FIND_ROOT_PATH ${SEGLOSS_AARCH64_SYSROOT} /usr/aarch64-linux-gnu)
set(CMAKE_FIND_ROOT_PATH_MODE_PROGRAM NEVER)
set(CMAKE_FIND_ROOT_PATH_MODE_LIBRARY ONLY)
set(CMAKE_FIND_ROOT_PATH_MODE_INCLUDE BOTH)
set(CMAKE_FIND_ROOT_PATH_MODE_PACKAGE BOTH)

# Runs aarch64 programs on the build machine (tests, Catch2's test discovery) with Debian's
# qemu-user; a board runs them natively. The library path puts the cross toolchain's C library
# first: where arm64 multiarch packages are installed too, their libc.so.6 would otherwise meet
# the toolchain's ld.so of another glibc build (seen: every pthread_create hung). The sysroot's
# folder is there for the libraries' own dependencies (libnifti2 -> libznz), which an
# executable's RUNPATH does not cover.
find_program(SEGLOSS_QEMU_AARCH64 qemu-aarch64)
if (SEGLOSS_QEMU_AARCH64)
    set(_segloss_guest_libs /usr/aarch64-linux-gnu/lib)
    if (SEGLOSS_AARCH64_SYSROOT)
        string(APPEND _segloss_guest_libs ":${SEGLOSS_AARCH64_SYSROOT}/usr/lib/aarch64-linux-gnu")
    endif ()
    set(CMAKE_CROSSCOMPILING_EMULATOR
        "${SEGLOSS_QEMU_AARCH64};-L;/usr/aarch64-linux-gnu;-E;LD_LIBRARY_PATH=${_segloss_guest_libs}")
endif ()
