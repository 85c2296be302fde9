#!/bin/sh
# SPDX-License-Identifier: Apache-2.0
# An installed segloss as another project sees it: `cmake --install` of the build into a
# staging prefix, the tree moved elsewhere (the CMake package and the .pc file must not depend
# on where it was installed), then this folder's project built with find_package(segloss)
# (C on the shared library, C++ on the static archive) and consumer.c built again with
# pkg-config alone (shared, then static); every program run; and, where the build has it, the
# PyTorch package imported from the prefix. The static program must not need libsegloss.so.
# usage: run.sh BUILD_DIR CMAKE GENERATOR
set -eu
build=$1 cmake=$2 generator=$3
here=$(cd "$(dirname "$0")" && pwd)
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

"$cmake" --install "$build" --prefix "$tmp/staging" > "$tmp/install.log"
mv "$tmp/staging" "$tmp/prefix"
prefix="$tmp/prefix"
test -x "$prefix/bin/segloss"
"$prefix/bin/segloss" version

"$cmake" -S "$here" -B "$tmp/build" -G "$generator" -DCMAKE_BUILD_TYPE=Release -DCMAKE_PREFIX_PATH="$prefix" \
    > "$tmp/configure.log" || { cat "$tmp/configure.log"; exit 1; }
"$cmake" --build "$tmp/build" > "$tmp/build.log" || { cat "$tmp/build.log"; exit 1; }
"$tmp/build/consumer_c_shared"
"$tmp/build/consumer_cpp_static"
if readelf -d "$tmp/build/consumer_cpp_static" | grep -q 'libsegloss'; then
    echo "consumer_cpp_static needs libsegloss.so: the static archive was not used"
    exit 1
fi

pc=$(find "$prefix" -name segloss.pc)
export PKG_CONFIG_PATH="$(dirname "$pc")"
test "$(pkg-config --modversion segloss)" = "$("$prefix/bin/segloss" version | cut -d' ' -f2)"
# shellcheck disable=SC2046 # pkg-config's flags are meant to be split
cc -std=c99 -o "$tmp/pc_consumer" "$here/consumer.c" $(pkg-config --cflags --libs segloss) -lm
LD_LIBRARY_PATH="$(pkg-config --variable=libdir segloss)" "$tmp/pc_consumer"
# Static through pkg-config, as docs/api.md says: the archive by name and the private libraries.
# shellcheck disable=SC2046
cc -std=c99 -o "$tmp/pc_static_consumer" "$here/consumer.c" $(pkg-config --cflags segloss) \
    -L"$(pkg-config --variable=libdir segloss)" -l:libsegloss.a \
    $(pkg-config --static --libs segloss | sed 's/ -lsegloss / /')
"$tmp/pc_static_consumer"
if readelf -d "$tmp/pc_static_consumer" | grep -q 'libsegloss'; then
    echo "pc_static_consumer needs libsegloss.so"
    exit 1
fi
# The Python package, where the build has the PyTorch extension: importable from the prefix.
if [ -f "$build/python/segloss/_segloss_torch.so" ]; then
    PYTHONPATH="$prefix/lib/python3/dist-packages" /usr/bin/python3 -c '
import torch
from segloss.torch import DiceLoss
x = torch.zeros(1, 2, 2, requires_grad=True)
v = DiceLoss()(x, torch.tensor([[0, 1]]))
v.backward()
s = 1e-5
assert abs(v.item() - (1 - (1 + s) / (2 + s))) < 1e-6, v.item()
print("installed segloss.torch: OK")'
fi
echo "installed tree: find_package and pkg-config consumers OK"
