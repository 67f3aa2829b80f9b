//===- CmdStream.h - cmd_hdr record stream of a CMDBUF ----------*- C++ -*-===//
//
// Splits a CMDBUF section (cv183x-isa.md §1.1) into records. Each record is an 8-byte header
// {magic, len, engine_id, flags, mask} followed by `len` bytes of descriptor body.
//
//===----------------------------------------------------------------------===//
#pragma once

#include "tpuc/runtime/Chip.h"

#include <cstdint>
#include <span>
#include <vector>

namespace tpuc::runtime {

enum class EngineId : uint8_t { TIU = 0, CPU = 1, TDMA = 2 };

struct CmdRecord {
  EngineId engine;
  uint32_t offset;               ///< byte offset of the header in the stream
  std::span<const uint8_t> body; ///< descriptor body (112 bytes TIU, 64 TDMA)
};

/// Parses every record. Throws Error naming the offending offset for a wrong magic, an unknown
/// engine id, a body length that does not match the engine, or a record cut off by the end.
std::vector<CmdRecord> parseCmdStream(std::span<const uint8_t> cmdbuf, const ChipInfo &chip);

} // namespace tpuc::runtime
