#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# The aarch64 libraries that a cross build of segloss links (NIfTI for `segloss eval`, with its
# zlib), unpacked from Debian's arm64 packages into a folder, without installing them: Debian's
# libnifti2-dev cannot be installed for two architectures at once. Usage:
#   tools/aarch64-sysroot.sh DIR      then configure with -DSEGLOSS_AARCH64_SYSROOT=DIR
set -euo pipefail
DIR="$(realpath -m "${1:?usage: tools/aarch64-sysroot.sh DIR}")"
PACKAGES=(libnifti2-dev libnifti2-2 libznz-dev libznz3 zlib1g-dev zlib1g)
SUDO=""
[[ $(id -u) -ne 0 ]] && SUDO=sudo

if [[ -f "$DIR/.segloss-sysroot" ]]; then exit 0; fi
if ! dpkg --print-foreign-architectures | grep -qx arm64; then
    $SUDO dpkg --add-architecture arm64
    $SUDO apt-get update
fi
mkdir -p "$DIR/debs"
(cd "$DIR/debs" && apt-get download "${PACKAGES[@]/%/:arm64}")
for deb in "$DIR"/debs/*.deb; do
    dpkg-deb -x "$deb" "$DIR"
done
# Merged /usr, as on Debian 12 itself (zlib ships in /lib), so that one folder holds every
# library and the linker finds the dependencies of libnifti2.so next to it.
if [[ -d "$DIR/lib" && ! -L "$DIR/lib" ]]; then
    cp -a "$DIR/lib/." "$DIR/usr/lib/"
    rm -rf "$DIR/lib"
    ln -s usr/lib "$DIR/lib"
fi
# Absolute symlinks in the packages (libz.so -> /lib/...) must point into the folder.
find "$DIR" -type l -lname '/*' | while read -r link; do
    ln -sfn "$DIR$(readlink "$link")" "$link"
done
touch "$DIR/.segloss-sysroot"
