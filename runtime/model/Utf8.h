//===- Utf8.h - UTF-8 validation for names read from files ------*- C++ -*-===//
#pragma once

#include <string>

namespace tpuc::runtime {

/// True when `s` is well-formed UTF-8 (no truncated or stray continuation bytes).
inline bool isValidUtf8(const std::string &s) {
  size_t i = 0;
  while (i < s.size()) {
    auto c = static_cast<unsigned char>(s[i]);
    size_t extra = c < 0x80 ? 0 : (c >> 5) == 6 ? 1 : (c >> 4) == 14 ? 2 : (c >> 3) == 30 ? 3 : 4;
    if (extra == 4 || i + extra >= s.size() + (extra ? 0 : 1))
      return false;
    for (size_t k = 1; k <= extra; ++k)
      if ((static_cast<unsigned char>(s[i + k]) >> 6) != 2)
        return false;
    i += extra + 1;
  }
  return true;
}

} // namespace tpuc::runtime
