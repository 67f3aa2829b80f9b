//===- LocalAllocator.h - per-lane local-memory allocator -------*- C++ -*-===//
//
// Manages the per-lane address space [0, laneBytes) shared by all lanes (every allocation starts on
// lane 0 and occupies the same offsets in each lane it reaches). First fit over a sorted list of
// allocated blocks; blocks are 16-byte aligned; a placement may be restricted to a bank.
//
//===----------------------------------------------------------------------===//
#pragma once

#include <cstdint>
#include <map>
#include <string>

namespace tpuc::kernel {

class LocalAllocator {
public:
  LocalAllocator(uint32_t laneBytes, uint32_t bankBytes)
      : laneBytes(laneBytes), bankBytes(bankBytes) {}

  /// Allocates `size` bytes per lane aligned to `align`. bank >= 0 requests a start inside that
  /// bank (and no crossing of the bank end when size <= bankBytes). Returns false with `why` set
  /// when nothing fits.
  bool allocate(uint32_t size, uint32_t align, int bank, uint32_t &offset, std::string &why);
  /// Releases the block starting at `offset`; false if there is none.
  bool release(uint32_t offset);

  uint32_t used() const { return usedBytes; }
  uint32_t peak() const { return peakBytes; }
  uint32_t largestFree() const;

private:
  uint32_t laneBytes, bankBytes;
  std::map<uint32_t, uint32_t> blocks; ///< offset -> size
  uint32_t usedBytes = 0, peakBytes = 0;
};

} // namespace tpuc::kernel
