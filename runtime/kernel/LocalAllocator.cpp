//===- LocalAllocator.cpp - per-lane local-memory allocator ---------------===//
#include "LocalAllocator.h"

#include <algorithm>

namespace tpuc::kernel {

namespace {
uint32_t alignUp(uint32_t x, uint32_t a) { return (x + a - 1) / a * a; }
} // namespace

bool LocalAllocator::allocate(uint32_t size, uint32_t align, int bank, uint32_t &offset,
                              std::string &why) {
  if (size == 0)
    size = 1;
  uint32_t lo = 0, hi = laneBytes;
  if (bank >= 0) {
    if (static_cast<uint64_t>(bank) * bankBytes >= laneBytes) {
      why = "bank " + std::to_string(bank) + " does not exist (" +
            std::to_string(laneBytes / bankBytes) + " banks)";
      return false;
    }
    lo = static_cast<uint32_t>(bank) * bankBytes;
    if (size <= bankBytes)
      hi = lo + bankBytes;
  }
  // Walk the gaps between allocated blocks in address order.
  auto fitsGap = [&](uint32_t gapStart, uint32_t gapEnd) {
    uint32_t start = alignUp(std::max(gapStart, lo), align);
    uint64_t end = uint64_t{start} + size;
    if (end <= gapEnd && end <= hi && start < hi) {
      offset = start;
      return true;
    }
    return false;
  };
  auto findGap = [&] {
    uint32_t cursor = 0;
    for (const auto &[off, sz] : blocks) {
      if (fitsGap(cursor, off))
        return true;
      cursor = std::max(cursor, off + sz);
    }
    return fitsGap(cursor, laneBytes);
  };
  if (!findGap()) {
    why = "needs " + std::to_string(size) + " bytes per lane" +
          (bank >= 0 ? " in bank " + std::to_string(bank) : std::string()) + ", " +
          std::to_string(usedBytes) + " of " + std::to_string(laneBytes) +
          " bytes per lane are in use, largest free block " + std::to_string(largestFree());
    return false;
  }
  blocks.emplace(offset, size);
  usedBytes += size;
  peakBytes = std::max(peakBytes, usedBytes);
  return true;
}

bool LocalAllocator::release(uint32_t offset) {
  auto it = blocks.find(offset);
  if (it == blocks.end())
    return false;
  usedBytes -= it->second;
  blocks.erase(it);
  return true;
}

uint32_t LocalAllocator::largestFree() const {
  uint32_t best = 0, cursor = 0;
  for (const auto &[off, sz] : blocks) {
    if (off > cursor)
      best = std::max(best, off - cursor);
    cursor = std::max(cursor, off + sz);
  }
  if (laneBytes > cursor)
    best = std::max(best, laneBytes - cursor);
  return best;
}

} // namespace tpuc::kernel
