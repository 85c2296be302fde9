#!/bin/sh
# SPDX-License-Identifier: Apache-2.0
# Runs a ThreadSanitizer program with address-space randomisation off where the system lets us:
# clang 14's ThreadSanitizer stops at start ("unexpected memory mapping") under the higher mmap
# randomisation of some recent kernels (vm.mmap_rnd_bits above 28).
if setarch "$(uname -m)" -R true 2>/dev/null; then
    exec setarch "$(uname -m)" -R "$@"
fi
exec "$@"
