//===- Npz.h - NumPy .npy / .npz files --------------------------*- C++ -*-===//
//
// Reads .npz archives (zip of .npy members, stored or deflate-compressed, zip64 aware) and writes
// them with stored members. Arrays are little-endian, C order; supported element types are the
// NumPy descriptors f4 f8 f2 i1 u1 i2 u2 i4 u4 i8 u8 b1.
//
//===----------------------------------------------------------------------===//
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <vector>

namespace tpuc::runtime {

struct NpyArray {
  std::string descr; ///< NumPy descriptor, e.g. "<f4", "|i1"
  std::vector<int64_t> shape;
  std::vector<uint8_t> data; ///< C-order element bytes

  size_t elementSize() const;
  size_t count() const;
};

struct NpzEntry {
  std::string name; ///< member name without ".npy"
  NpyArray array;
};

NpyArray parseNpy(std::span<const uint8_t> bytes, const std::string &what);
std::vector<uint8_t> serializeNpy(const NpyArray &array);

std::vector<NpzEntry> parseNpz(std::span<const uint8_t> bytes, const std::string &what);
std::vector<uint8_t> serializeNpz(const std::vector<NpzEntry> &entries);

std::vector<NpzEntry> readNpzFile(const std::string &path);
void writeNpzFile(const std::string &path, const std::vector<NpzEntry> &entries);

std::vector<uint8_t> readBinaryFile(const std::string &path);
void writeBinaryFile(const std::string &path, std::span<const uint8_t> bytes);

} // namespace tpuc::runtime
