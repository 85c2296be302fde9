// SPDX-License-Identifier: Apache-2.0
// Catch2's main() for cross builds: Debian's libCatch2WithMain.a is built for the build machine.
#define CATCH_CONFIG_MAIN
#include <catch2/catch.hpp>
