//===- Chip.cpp - CV18xx chip descriptions --------------------------------===//
//
// Values from cv183x-isa.md: magic bytes (§1.1), geometry (§6), clocks (§8.1). Geometry of the
// other chips is not stated there and is left 0 ("unknown"); only cv183x is executed.
//
//===----------------------------------------------------------------------===//
#include "tpuc/runtime/Chip.h"

#include <array>

namespace tpuc::runtime {

namespace {
constexpr double kDramClockMHz = 1886.0;
constexpr unsigned kDramBytesPerCycle = 4;

const std::array<ChipInfo, 4> &chipTable() {
  static const std::array<ChipInfo, 4> table{{
      {"cv183x", 0xA5, 32, 16, 32768, 8, 650.0, kDramClockMHz, kDramBytesPerCycle},
      {"cv182x", 0xA6, 0, 0, 0, 0, 750.0, kDramClockMHz, kDramBytesPerCycle},
      {"cv181x", 0xA7, 0, 0, 0, 0, 500.0, kDramClockMHz, kDramBytesPerCycle},
      {"cv180x", 0xA8, 0, 0, 0, 0, 500.0, kDramClockMHz, kDramBytesPerCycle},
  }};
  return table;
}
} // namespace

const ChipInfo &ChipInfo::cv183x() { return chipTable()[0]; }

const ChipInfo *ChipInfo::lookup(std::string_view name) {
  for (const ChipInfo &c : chipTable())
    if (c.name == name)
      return &c;
  return nullptr;
}

} // namespace tpuc::runtime
