//===- TpuEngine.h - executes CV183x command buffers ------------*- C++ -*-===//
//
// The simulated TPU: TIU and TDMA engines over DeviceMemory plus a 32-lane x 32 KiB local memory.
// Executes a CMDBUF section (the raw cmd_hdr record stream as stored in a cvimodel, after LZ4
// decompression) bit-exactly, and optionally times it with the cycle model.
//
//===----------------------------------------------------------------------===//
#pragma once

#include "tpuc/runtime/Chip.h"
#include "tpuc/runtime/DeviceMemory.h"

#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <vector>

namespace tpuc::runtime {

/// One executed descriptor on the simulated timeline (cycle model).
struct DescriptorSlice {
  enum class Engine : uint8_t { TIU, TDMA };
  Engine engine;
  uint32_t index;   ///< position of the record in the stream
  uint32_t layerId; ///< layer id carried by the descriptor
  std::string op;   ///< e.g. "conv", "depthwise", "g2l", "l2g"
  uint64_t start;   ///< cycle at which it starts
  uint64_t end;     ///< cycle at which it completes
};

/// Timing of one command buffer: the critical path of the two engines under the id dependencies.
struct CmdbufProfile {
  uint64_t totalCycles = 0;
  uint64_t tiuBusyCycles = 0;
  uint64_t tdmaBusyCycles = 0;
  /// DRAM bytes the TDMA descriptors move, counted in whole bursts as the cycle model times them.
  uint64_t tdmaDramBytes = 0;
  std::vector<DescriptorSlice> slices;
};

class TpuEngine {
public:
  explicit TpuEngine(const ChipInfo &chip);
  ~TpuEngine();

  /// Executes every record of `cmdbuf` on `mem`. Throws Error on a malformed record, an unsupported
  /// task type or mode, or an address outside global/local memory. When `profile` is non-null the
  /// cycle model fills it.
  void run(std::span<const uint8_t> cmdbuf, DeviceMemory &mem, CmdbufProfile *profile = nullptr);

private:
  struct Impl;
  std::unique_ptr<Impl> impl;
};

} // namespace tpuc::runtime
