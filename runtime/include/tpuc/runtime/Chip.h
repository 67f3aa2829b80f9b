//===- Chip.h - description of a CV18xx NPU as data -------------*- C++ -*-===//
#pragma once

#include <cstdint>
#include <string_view>

namespace tpuc::runtime {

/// Geometry and clocks of one chip. cv183x is the only one executed today; the others are data so
/// that they can follow without code changes in the loader. Geometry the documentation does not
/// state for a chip is 0.
struct ChipInfo {
  std::string_view name;
  uint8_t cmdMagic;     ///< cmd_hdr magic byte (0xA5 for cv183x)
  unsigned lanes;       ///< NPU_NUM
  unsigned eusPerLane;  ///< EU_NUM (int8); bf16 uses half of them
  unsigned lmemPerLane; ///< bytes of local memory per lane
  unsigned lmemBanks;   ///< banks per lane
  double tpuClockMHz;   ///< TIU/TDMA clock
  double dramClockMHz;  ///< DRAM clock
  unsigned dramBytesPerCycle;

  static const ChipInfo &cv183x();
  /// Returns nullptr for an unknown chip name.
  static const ChipInfo *lookup(std::string_view name);
};

} // namespace tpuc::runtime
