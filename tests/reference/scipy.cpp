// SPDX-License-Identifier: Apache-2.0
#include "reference/scipy.h"

#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iomanip>
#include <sstream>
#include <string>

#include <catch2/catch.hpp>

namespace segloss::ref {

bool scipy_available() { return std::system("/usr/bin/python3 -c 'import scipy.ndimage' 2>/dev/null") == 0; }

// The mask goes as raw bytes (z, y, x), the distances come back as raw float64.
std::vector<double> scipy_edt(const Mask &m, const std::array<double, 3> &s) {
    const std::string stem = (std::filesystem::temp_directory_path() / ("segloss_edt_" + std::to_string(getpid()))).string();
    const std::string in = stem + "_mask.bin", out = stem + "_edt.bin";
    {
        std::ofstream f(in, std::ios::binary);
        f.write(reinterpret_cast<const char *>(m.values.data()), static_cast<std::streamsize>(m.values.size()));
    }
    std::ostringstream cmd;
    cmd << std::setprecision(17) << "/usr/bin/python3 -c \"import sys, numpy as np; from scipy import ndimage; "
        << "m = np.fromfile(sys.argv[1], np.uint8).reshape(" << m.extents[2] << ", " << m.extents[1] << ", "
        << m.extents[0] << "); ndimage.distance_transform_edt(m, sampling=(" << s[2] << ", " << s[1] << ", " << s[0]
        << ")).astype(np.float64).tofile(sys.argv[2])\" " << in << " " << out;
    REQUIRE(std::system(cmd.str().c_str()) == 0);
    std::vector<double> d(m.values.size());
    std::ifstream f(out, std::ios::binary);
    f.read(reinterpret_cast<char *>(d.data()), static_cast<std::streamsize>(d.size() * sizeof(double)));
    REQUIRE(f.gcount() == static_cast<std::streamsize>(d.size() * sizeof(double)));
    std::remove(in.c_str());
    std::remove(out.c_str());
    return d;
}

}  // namespace segloss::ref
