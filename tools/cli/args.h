// SPDX-License-Identifier: Apache-2.0
// The flags of one command, walked in order: `--flag value` pairs and bare flags.
#pragma once

#include <stdexcept>
#include <string>

namespace segloss::cli {

class Args {
public:
    // The command's arguments are argv[first] .. argv[argc - 1].
    Args(int argc, char **argv, int first) : argc_(argc), argv_(argv), i_(first - 1) {}

    // Moves to the next flag; false after the last one.
    bool next() {
        if (++i_ >= argc_) return false;
        flag_ = argv_[i_];
        return true;
    }
    const std::string &flag() const { return flag_; }
    // The current flag's value (the following argument); throws "<flag>: missing value".
    std::string value() {
        if (i_ + 1 >= argc_) throw std::runtime_error(flag_ + ": missing value");
        return argv_[++i_];
    }

private:
    int argc_;
    char **argv_;
    int i_;
    std::string flag_;
};

}  // namespace segloss::cli
