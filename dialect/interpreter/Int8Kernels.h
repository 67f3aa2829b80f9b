//===- Int8Kernels.h - parameters and factories of the INT8 kernels -*- C++ -*-===//
//
// Kernels of layers quantized by --tpu-quant (quant.mode = "INT8", i8 result). Operands and
// results hold int8 codes (as floats, like every interpreter tensor); each kernel computes exactly
// the integer formula of docs/quantization.md with tpuc::arith (runtime/include/tpuc/Arith.h).
// Integer parameters that do not fit a float exactly (int32 biases) are passed here as integers,
// read from the weight file by the MLIR-facing code.
//
//===----------------------------------------------------------------------===//
#pragma once

#include "dialect/interpreter/Kernels.h"

#include <cstdint>
#include <memory>
#include <vector>

namespace tpuc::interpreter {

/// How an accumulator becomes int8.
enum class Int8RequantKind {
  /// RSHIFT_ONLY: sat8(relu(roundingRightShift(acc, rshift))) (requantPerTensor).
  RshiftOnly,
  /// RSHIFT_AND_M_I32: sat8(relu(roundingRightShiftAway(srdhm(acc, multiplier), rshift)))
  /// (requantQdm).
  Qdm,
};

/// The integer rescale of a layer: `multiplier` and `rshift` hold one entry shared by all output
/// channels or one per output channel (RshiftOnly has no multiplier).
struct Int8Requant {
  Int8RequantKind kind = Int8RequantKind::Qdm;
  std::vector<int64_t> multiplier;
  std::vector<int64_t> rshift;
  bool doRelu = false;
};

/// conv_2d: acc = sum xq * wq + bias[oc]. `bias` holds the exact integer bias per output channel
/// (empty when the layer has none; the bias operand, if any, is then only shape-checked).
std::unique_ptr<Kernel> makeInt8Conv2D(const ConvParams &params, Int8Requant requant,
                                       std::vector<int64_t> bias);
/// deconv_2d (filter [C_in, C_out / group, kh, kw]), same accumulator and rescale.
std::unique_ptr<Kernel> makeInt8Deconv2D(const ConvParams &params, Int8Requant requant,
                                         std::vector<int64_t> bias);
/// fully_connected: acc[m, n] = sum_k x[m, k] * wq[n, k] + bias[n].
std::unique_ptr<Kernel> makeInt8FullyConnected(bool hasBias, Int8Requant requant,
                                               std::vector<int64_t> bias);
/// matmul (numpy batch broadcast): acc = sum_k a[.., k] * b[k, ..], one shared rescale.
std::unique_ptr<Kernel> makeInt8MatMul(Int8Requant requant);
/// scale: acc = xq * wq[c] + bias[c] per channel (axis 1).
std::unique_ptr<Kernel> makeInt8Scale(bool hasBias, Int8Requant requant, std::vector<int64_t> bias);

/// eltwise_add / eltwise_max / eltwise_min with per-input int8 multipliers and one rshift
/// (RSHIFT_AND_M_I8); eltwise_mul with one QDM pair (RSHIFT_AND_M_I32). Operands broadcast.
struct Int8EltwiseParams {
  EltwiseKind kind = EltwiseKind::Add;
  std::vector<int64_t> multiplier;
  std::vector<int64_t> rshift;
  bool doRelu = false;
};
std::unique_ptr<Kernel> makeInt8Eltwise(const Int8EltwiseParams &params);

/// pool_avg_2d: y = sat8(relu(roundingRightShift(multiplier * sum_window q, rshift))).
std::unique_ptr<Kernel> makeInt8AvgPool(const PoolParams &params, int64_t multiplier,
                                        int64_t rshift);

/// leaky_relu: (m_pos, r_pos) for q >= 0, (m_neg, r_neg) for q < 0.
std::unique_ptr<Kernel> makeInt8LeakyRelu(int64_t multiplierPos, int64_t rshiftPos,
                                          int64_t multiplierNeg, int64_t rshiftNeg);
/// prelu: (m_pos, r_pos) for q >= 0; the slope operand holds the int8 multiplier of each channel
/// for q < 0, shifted by r_neg.
std::unique_ptr<Kernel> makeInt8PRelu(int64_t multiplierPos, int64_t rshiftPos, int64_t rshiftNeg);

/// concat: input i becomes sat8(roundingRightShift(q * m_i, r_i)) before concatenation.
std::unique_ptr<Kernel> makeInt8Concat(int64_t axis, std::vector<int64_t> multiplier,
                                       std::vector<int64_t> rshift);

} // namespace tpuc::interpreter
