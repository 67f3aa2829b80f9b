//===- LocalMemory.cpp - lane-organised local memory and operand views ----===//
#include "LocalMemory.h"

#include "tpuc/runtime/Error.h"

namespace tpuc::runtime {

LocalTensor::LocalTensor(LocalMemory &mem, uint32_t addr, Shape4 shape, Strides4 strides,
                         unsigned elemBytes, unsigned planes, int64_t planeStride,
                         const std::string &what)
    : lanes_(mem.lanes()), laneBytes_(mem.laneBytes()), shape_(shape), strides_(strides),
      planeStride_(planeStride) {
  startLane_ = addr / laneBytes_;
  offset_ = addr % laneBytes_;
  auto fail = [&](const std::string &why) {
    throw Error("local-memory overflow: " + what + " (address " + std::to_string(addr) +
                ", shape " + std::to_string(shape.n) + "x" + std::to_string(shape.c) + "x" +
                std::to_string(shape.h) + "x" + std::to_string(shape.w) + "): " + why);
  };
  if (startLane_ >= lanes_)
    fail("start lane " + std::to_string(startLane_) + " is beyond the " + std::to_string(lanes_) +
         " lanes");
  base_ = mem.data() + offset_;
  if (shape.count() == 0)
    return;
  if (strides.n < 0 || strides.c < 0 || strides.h < 0 || strides.w < 0 || planeStride < 0)
    fail("negative stride");
  int64_t lastRound = (startLane_ + shape.c - 1) / lanes_;
  int64_t end = offset_ + lastRound * strides.c + (shape.n - 1) * strides.n +
                (shape.h - 1) * strides.h + (shape.w - 1) * strides.w + elemBytes +
                (planes - 1) * planeStride;
  if (end > laneBytes_)
    fail("reaches per-lane offset " + std::to_string(end) + " > " + std::to_string(laneBytes_));
}

} // namespace tpuc::runtime
