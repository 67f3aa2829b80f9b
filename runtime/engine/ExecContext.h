//===- ExecContext.h - state one descriptor executes against ----*- C++ -*-===//
#pragma once

#include "LocalMemory.h"

#include "tpuc/runtime/Chip.h"
#include "tpuc/runtime/DeviceMemory.h"

#include <string>
#include <string_view>

namespace tpuc::runtime {

struct ExecContext {
  const ChipInfo &chip;
  LocalMemory &lmem;
  DeviceMemory &mem;
  uint32_t index = 0;       ///< position of the record in the stream
  const char *kind = "TIU"; ///< "TIU" or "TDMA"

  /// "TIU descriptor #12 field res0_addr" for error messages.
  std::string where(std::string_view field) const {
    return std::string(kind) + " descriptor #" + std::to_string(index) + " field " +
           std::string(field);
  }
  std::string where() const { return std::string(kind) + " descriptor #" + std::to_string(index); }
};

} // namespace tpuc::runtime
