// SPDX-License-Identifier: Apache-2.0
#include "npy.h"

#include <cstdio>
#include <cstring>
#include <fstream>
#include <regex>

namespace segloss::cli {

int64_t NpyArray::numel() const {
    int64_t n = 1;
    for (int64_t e : shape) n *= e;
    return n;
}

namespace {

[[noreturn]] void bad(const std::string &path, const std::string &why) {
    throw std::runtime_error(path + ": " + why);
}

int item_size(const std::string &descr) {
    if (descr == "<f4" || descr == "<i4") return 4;
    if (descr == "<f8" || descr == "<i8") return 8;
    if (descr == "|u1" || descr == "<u1" || descr == "|b1") return 1;
    return 0;
}

}  // namespace

NpyArray read_npy(const std::string &path) {
    std::ifstream in(path, std::ios::binary);
    if (!in) bad(path, "cannot open");
    char magic[8];
    if (!in.read(magic, 8) || std::memcmp(magic, "\x93NUMPY", 6) != 0) bad(path, "not a .npy file");
    const int major = static_cast<unsigned char>(magic[6]);
    uint32_t header_len = 0;
    if (major == 1) {
        unsigned char b[2];
        if (!in.read(reinterpret_cast<char *>(b), 2)) bad(path, "truncated header");
        header_len = b[0] | (b[1] << 8);
    } else if (major == 2 || major == 3) {
        unsigned char b[4];
        if (!in.read(reinterpret_cast<char *>(b), 4)) bad(path, "truncated header");
        header_len = b[0] | (b[1] << 8) | (b[2] << 16) | (uint32_t(b[3]) << 24);
    } else {
        bad(path, "unsupported .npy version " + std::to_string(major));
    }
    if (header_len > (1u << 20)) bad(path, "header too long");
    std::string header(header_len, '\0');
    if (!in.read(&header[0], header_len)) bad(path, "truncated header");

    NpyArray a;
    std::smatch m;
    if (!std::regex_search(header, m, std::regex("'descr'\\s*:\\s*'([^']*)'"))) bad(path, "no descr in header");
    a.descr = m[1];
    if (!item_size(a.descr)) {
        bad(path, "dtype " + a.descr + " is not supported (float32/float64 logits; int32/int64/uint8 targets; masks also bool; little-endian)");
    }
    if (!std::regex_search(header, m, std::regex("'fortran_order'\\s*:\\s*(True|False)"))) bad(path, "no fortran_order");
    if (m[1] == "True") bad(path, "Fortran-order arrays are not supported (save with np.ascontiguousarray)");
    if (!std::regex_search(header, m, std::regex("'shape'\\s*:\\s*\\(([^)]*)\\)"))) bad(path, "no shape in header");
    std::string dims = m[1];
    std::regex num("[0-9]+");
    for (auto it = std::sregex_iterator(dims.begin(), dims.end(), num); it != std::sregex_iterator(); ++it) {
        a.shape.push_back(std::stoll(it->str()));
    }
    const int64_t bytes = a.numel() * item_size(a.descr);
    if (a.numel() <= 0 || bytes > (int64_t(1) << 40)) bad(path, "empty or implausibly large array");
    a.data.resize(static_cast<size_t>(bytes));
    if (!in.read(reinterpret_cast<char *>(a.data.data()), bytes)) bad(path, "file shorter than its header says");
    return a;
}

void write_npy_f32(const std::string &path, const std::vector<int64_t> &shape, const float *data) {
    std::string dims;
    int64_t n = 1;
    for (int64_t e : shape) {
        dims += std::to_string(e) + ", ";
        n *= e;
    }
    if (shape.size() > 1) dims.erase(dims.size() - 2);  // (a, b) but (a,) for one dimension
    else dims.erase(dims.size() - 1);
    std::string header = "{'descr': '<f4', 'fortran_order': False, 'shape': (" + dims + "), }";
    const size_t total = 10 + header.size() + 1;
    header.append((64 - total % 64) % 64, ' ');
    header += '\n';
    const std::string tmp = path + ".tmp";
    {
        std::ofstream out(tmp, std::ios::binary);
        if (!out) throw std::runtime_error(path + ": cannot write");
        out.write("\x93NUMPY\x01\x00", 8);
        const unsigned char len[2] = {static_cast<unsigned char>(header.size() & 0xff),
                                      static_cast<unsigned char>(header.size() >> 8)};
        out.write(reinterpret_cast<const char *>(len), 2);
        out << header;
        out.write(reinterpret_cast<const char *>(data), n * static_cast<int64_t>(sizeof(float)));
        if (!out) {
            std::remove(tmp.c_str());
            throw std::runtime_error(path + ": write failed");
        }
    }
    if (std::rename(tmp.c_str(), path.c_str()) != 0) {
        std::remove(tmp.c_str());
        throw std::runtime_error(path + ": cannot rename the written file into place");
    }
}

}  // namespace segloss::cli
