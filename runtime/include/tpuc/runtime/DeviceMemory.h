//===- DeviceMemory.h - global memory as the TPU sees it --------*- C++ -*-===//
//
// Global memory (DRAM) of the simulated device: one flat byte array that holds every region a
// program uses (shared neuron, weight, private neuron, io buffers), and the eight base registers.
// A TDMA global address field holds 0x1_0000_0000 + offset; the effective byte index in `bytes` is
// field - 0x1_0000_0000 + baseReg[sel] (cv183x-isa.md §1.4). Accesses are bounds-checked and throw
// Error when they leave the array.
//
//===----------------------------------------------------------------------===//
#pragma once

#include <array>
#include <cstdint>
#include <vector>

namespace tpuc::runtime {

inline constexpr uint64_t kGlobalMemStart = 0x1'0000'0000ULL;

struct DeviceMemory {
  std::vector<uint8_t> bytes;
  std::array<uint64_t, 8> baseReg{}; ///< byte index in `bytes` of each region's start
};

} // namespace tpuc::runtime
