// SPDX-License-Identifier: Apache-2.0
// Enum fields and arguments from C callers, read as the int the caller stored. C lets an enum
// object hold any int; C++ makes reading a value outside the enumerators' range through the
// enum type undefined (UBSan: "load of value ... is not a valid value for type"), so the
// validation reads them as integers before it has checked them.
#pragma once

#include <cstring>
#include <type_traits>

namespace segloss::rt {

template <typename E>
int enum_field(const E &field) {
    static_assert(std::is_enum_v<E> && sizeof(E) == sizeof(int), "a C enum");
    int v;
    std::memcpy(&v, &field, sizeof v);
    return v;
}

// value lies in [first, last] (enumerators of one enum).
template <typename E>
bool enum_in(const E &field, E first, E last) {
    const int v = enum_field(field);
    return v >= static_cast<int>(first) && v <= static_cast<int>(last);
}

}  // namespace segloss::rt
