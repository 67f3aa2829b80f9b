//===- CmdStream.cpp - cmd_hdr record stream of a CMDBUF ------------------===//
#include "CmdStream.h"

#include "tpuc/runtime/Descriptors.h"
#include "tpuc/runtime/Error.h"

#include <cstdio>
#include <string>

namespace tpuc::runtime {

namespace {
constexpr size_t kHeaderBytes = 8;
constexpr size_t kCpuBodyBytes = 224; // bm_regcpu.h: 56 words

std::string hex(uint64_t v) {
  char buf[32];
  std::snprintf(buf, sizeof(buf), "0x%llx", static_cast<unsigned long long>(v));
  return buf;
}
} // namespace

std::vector<CmdRecord> parseCmdStream(std::span<const uint8_t> cmdbuf, const ChipInfo &chip) {
  std::vector<CmdRecord> records;
  size_t off = 0;
  while (off < cmdbuf.size()) {
    std::string where = "cmdbuf record at offset " + std::to_string(off);
    if (cmdbuf.size() - off < kHeaderBytes)
      throw Error(where + ": truncated header (" + std::to_string(cmdbuf.size() - off) +
                  " bytes left, need 8)");
    const uint8_t *h = cmdbuf.data() + off;
    if (h[0] != chip.cmdMagic)
      throw Error(where + ": magic " + hex(h[0]) + " does not match " + std::string(chip.name) +
                  " (" + hex(chip.cmdMagic) + ")");
    uint32_t mask = h[4] | h[5] << 8 | h[6] << 16 | static_cast<uint32_t>(h[7]) << 24;
    unsigned engine = h[2] & 0xF;
    size_t len = h[1];
    size_t expected;
    EngineId id;
    switch (engine) {
    case 0:
      id = EngineId::TIU;
      expected = kTiuBytes;
      break;
    case 2:
      id = EngineId::TDMA;
      expected = kTdmaBytes;
      break;
    case 1:
      // A CPU record is a sync-segment break; its length may come from `mask` (len 0).
      id = EngineId::CPU;
      if (len == 0)
        len = mask;
      expected = len;
      if (len != kCpuBodyBytes)
        throw Error(where + ": CPU record body of " + std::to_string(len) + " bytes, expected " +
                    std::to_string(kCpuBodyBytes));
      break;
    default:
      throw Error(where + ": unknown engine id " + std::to_string(engine));
    }
    if (len != expected)
      throw Error(where + ": " + (id == EngineId::TIU ? "TIU" : "TDMA") + " body length " +
                  std::to_string(len) + ", expected " + std::to_string(expected));
    if (cmdbuf.size() - off - kHeaderBytes < len)
      throw Error(where + ": truncated record (body needs " + std::to_string(len) + " bytes, " +
                  std::to_string(cmdbuf.size() - off - kHeaderBytes) + " left)");
    records.push_back({id, static_cast<uint32_t>(off), cmdbuf.subspan(off + kHeaderBytes, len)});
    off += kHeaderBytes + len;
  }
  return records;
}

} // namespace tpuc::runtime
