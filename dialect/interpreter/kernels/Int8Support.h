//===- Int8Support.h - helpers shared by the INT8 kernels -------*- C++ -*-===//
//
// For the kernel half of the interpreter only (compiled with exceptions).
//
//===----------------------------------------------------------------------===//
#pragma once

#include "dialect/interpreter/Int8Kernels.h"
#include "dialect/interpreter/kernels/KernelSupport.h"

#include "tpuc/Arith.h"

#include <cmath>
#include <vector>

namespace tpuc::interpreter {

/// The int8 codes held by `tensor` as T. Throws when a value is not an integer in [-128, 127]
/// (an INT8 layer fed by something that did not produce int8 codes).
template <typename T = int32_t> std::vector<T> int8Codes(const Tensor &tensor, const char *what) {
  std::vector<T> codes(size_t(tensor.count()));
  const float *values = tensor.values();
  for (size_t i = 0; i < codes.size(); ++i) {
    float v = values[i];
    if (!(v >= -128.0f && v <= 127.0f) || v != std::trunc(v))
      fail(what, " holds ", v, " at element ", i, ", which is not an int8 value");
    codes[i] = T(v);
  }
  return codes;
}

/// Throws unless `values` has `count` entries or a single one.
inline void expectPerChannel(const std::vector<int64_t> &values, int64_t count, const char *what) {
  if (values.size() != 1 && int64_t(values.size()) != count)
    fail("quant.", what, " has ", values.size(), " entries; expected 1 or ", count,
         " (one per output channel)");
}

inline void expectRshifts(const std::vector<int64_t> &rshift) {
  for (int64_t r : rshift)
    if (r < 0 || r > 63)
      fail("quant.rshift ", r, " is outside [0, 63]");
}

/// Validates `requant` for a layer of `channels` output channels.
inline void checkRequant(const Int8Requant &requant, int64_t channels) {
  expectPerChannel(requant.rshift, channels, "rshift");
  expectRshifts(requant.rshift);
  if (requant.kind == Int8RequantKind::Qdm) {
    expectPerChannel(requant.multiplier, channels, "multiplier");
    for (int64_t m : requant.multiplier)
      if (m < INT32_MIN || m > UINT32_MAX)
        fail("quant.multiplier ", m, " does not fit 32 bits");
  }
}

/// The int8 result of accumulator `acc` of output channel `channel`.
inline int32_t requantize(const Int8Requant &requant, int64_t acc, int64_t channel) {
  size_t i = requant.rshift.size() == 1 ? 0 : size_t(channel);
  unsigned r = unsigned(requant.rshift[i]);
  if (requant.kind == Int8RequantKind::RshiftOnly)
    return arith::requantPerTensor(acc, r, requant.doRelu, true);
  int64_t m = requant.multiplier[requant.multiplier.size() == 1 ? 0 : size_t(channel)];
  // The 32-bit multiplier field is read as two's-complement int32 (Arith.h, requantQdm).
  return arith::requantQdm(acc, int64_t(int32_t(uint32_t(m))), r, requant.doRelu, true);
}

/// Throws unless `bias` has one value per channel, or is empty for a layer without bias.
inline void expectBias(const std::vector<int64_t> &bias, bool hasBiasOperand, int64_t channels) {
  if (bias.empty() && !hasBiasOperand)
    return;
  if (int64_t(bias.size()) != channels)
    fail("the integer bias has ", bias.size(), " values for ", channels, " output channels");
}

} // namespace tpuc::interpreter
