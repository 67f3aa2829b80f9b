//===- LocalMemory.h - lane-organised local memory and operand views --*- C++ -*-===//
//
// Local memory is `lanes` x `laneBytes` bytes. A local address A is lane-encoded (cv183x-isa.md
// §6): start lane L0 = A / laneBytes, per-lane offset o = A % laneBytes. Element (n, c, h, w) of a
// tensor starting at A lives on lane (L0 + c) % lanes at offset
//   o + ((L0 + c) / lanes) * cStr + n * nStr + h * hStr + w * wStr.
// LocalTensor validates the whole footprint once (naming the descriptor field on overflow) so that
// the execution loops can index without checks.
//
//===----------------------------------------------------------------------===//
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace tpuc::runtime {

class LocalMemory {
public:
  LocalMemory(unsigned lanes, unsigned laneBytes)
      : lanes_(lanes), laneBytes_(laneBytes), bytes_(size_t{lanes} * laneBytes) {}

  unsigned lanes() const { return lanes_; }
  unsigned laneBytes() const { return laneBytes_; }
  uint8_t *data() { return bytes_.data(); }
  const uint8_t *data() const { return bytes_.data(); }
  size_t size() const { return bytes_.size(); }

private:
  unsigned lanes_;
  unsigned laneBytes_;
  std::vector<uint8_t> bytes_;
};

/// Shape and byte strides of a 4-D operand.
struct Shape4 {
  uint32_t n = 1, c = 1, h = 1, w = 1;
  uint64_t count() const { return uint64_t{n} * c * h * w; }
};
struct Strides4 {
  int64_t n = 0, c = 0, h = 0, w = 0;
};

/// A tensor in local memory, checked against the lane size at construction.
class LocalTensor {
public:
  /// `elemBytes` is the size of one element in one plane; `planes` byte planes `planeStride` apart
  /// (16/32-bit values split into byte planes, cv183x-isa.md §2.5). `what` names the operand for
  /// error messages (e.g. "TIU descriptor #3 field res0_addr").
  LocalTensor(LocalMemory &mem, uint32_t addr, Shape4 shape, Strides4 strides, unsigned elemBytes,
              unsigned planes, int64_t planeStride, const std::string &what);

  /// Pointer to element (n=0, c, h=0, w=0) of plane 0.
  uint8_t *channel(uint32_t c) const {
    uint32_t l = startLane_ + c;
    return base_ + size_t{l % lanes_} * laneBytes_ + (l / lanes_) * strides_.c;
  }
  uint8_t *at(uint32_t n, uint32_t c, uint32_t h, uint32_t w) const {
    return channel(c) + n * strides_.n + h * strides_.h + w * strides_.w;
  }

  const Shape4 &shape() const { return shape_; }
  const Strides4 &strides() const { return strides_; }
  int64_t planeStride() const { return planeStride_; }
  uint32_t startLane() const { return startLane_; }
  uint32_t offset() const { return offset_; }

private:
  uint8_t *base_;
  unsigned lanes_, laneBytes_;
  uint32_t startLane_, offset_;
  Shape4 shape_;
  Strides4 strides_;
  int64_t planeStride_;
};

} // namespace tpuc::runtime
