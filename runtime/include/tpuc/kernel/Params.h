//===- Params.h - parameters of the CV183x kernel operations --*- C++ -*-===//
//
// Operand and parameter structs of the TIU operations of tpuc::kernel::Context. Field meanings
// follow cv183x-isa.md §2.4 (descriptor fill rules) and §5 (arithmetic).
//
//===----------------------------------------------------------------------===//
#pragma once

#include "tpuc/kernel/Types.h"

#include <cstdint>

namespace tpuc::kernel {

/// Operand b of an element-wise operation: a local tensor or a scalar constant held in the
/// descriptor. Integer constants are 8-bit (16-bit for add), bf16 constants a bf16 pattern.
struct Operand {
  LocalTensor tensor;
  bool isConst = false;
  bool isBf16Const = false;
  int32_t value = 0; ///< integer constant
  uint16_t bf16 = 0; ///< bf16 constant (bit pattern)

  Operand(const LocalTensor &t) : tensor(t) {} // NOLINT: implicit on purpose
  /// An integer constant.
  static Operand scalar(int32_t v) {
    Operand o;
    o.isConst = true;
    o.value = v;
    return o;
  }
  /// A bf16 constant, rounded to nearest even from `f`.
  static Operand scalarBf16(float f);

private:
  Operand() = default;
};

/// Partial-sum mode of convolution and matrix multiplication (ps32_md, cv183x-isa.md §5.4). The
/// 32-bit partial sums live in the result tensor as four byte planes `N * n_stride` apart, so a
/// result used with these modes must be allocated with N x 4 (allocPartialSum).
enum class PartialSum : uint8_t {
  None = 0,       ///< single pass
  Final = 1,      ///< add the stored partial sum, then post-process into the 8-bit result
  Write = 2,      ///< write the raw 32-bit accumulator (no bias, no ReLU, no shift)
  Accumulate = 3, ///< add the stored partial sum and write the 32-bit sum again
};

/// Convolution (cv183x-isa.md §2.4 "Conv"), 8-bit or bf16. Shapes: ifmap (N, IC, H, W) with the
/// default EU-aligned
/// layout; weight (1, OC, 1, kh * kw * IC) as returned by Context::allocConvWeight (one output
/// channel per lane, bytes ordered [ky][kx][ic]); ofmap (N, OC, OH, OW).
/// Quantisation: per tensor (rshift, optional Int16 `bias` of shape (1, OC, 1, 1)) or per channel
/// (`channelParams` from Context::allocChannelParams: 9-byte records {int32 bias, uint32
/// multiplier, uint8 shift} with a bias, 5-byte records {multiplier, shift} without).
struct ConvParams {
  LocalTensor ofmap, ifmap, weight;
  LocalTensor bias;          ///< per-tensor Int16 bias; leave invalid for none
  LocalTensor channelParams; ///< per-channel records; valid selects per-channel quantisation
  uint32_t kh = 1, kw = 1;
  uint32_t strideH = 1, strideW = 1;
  uint32_t dilationH = 1, dilationW = 1;
  uint32_t padTop = 0, padBottom = 0, padLeft = 0, padRight = 0;
  /// Zeros (padValue) inserted between input rows/columns and after the last one (deconvolution).
  uint32_t insH = 0, insW = 0, insLastH = 0, insLastW = 0;
  int32_t padValue = 0; ///< value of padded and inserted positions (int8)
  uint32_t rshift = 0;  ///< per-tensor right shift
  bool relu = false;
  PartialSum psum = PartialSum::None;
};

/// Depthwise convolution (tsk_typ 1, eu 2). weight (1, C, kh, kw): channel c's kernel on lane
/// c mod 32. Quantisation as for ConvParams.
struct DepthwiseParams {
  LocalTensor ofmap, ifmap, weight;
  LocalTensor bias;
  LocalTensor channelParams;
  uint32_t kh = 1, kw = 1;
  uint32_t strideH = 1, strideW = 1;
  uint32_t dilationH = 1, dilationW = 1;
  uint32_t padTop = 0, padBottom = 0, padLeft = 0, padRight = 0;
  uint32_t insH = 0, insW = 0, insLastH = 0, insLastW = 0;
  int32_t padValue = 0;
  uint32_t rshift = 0;
  bool relu = false;
};

/// Max, average and min pooling. ifmap and ofmap use the default layout.
struct PoolParams {
  LocalTensor ofmap, ifmap;
  uint32_t kh = 1, kw = 1;
  uint32_t strideH = 1, strideW = 1;
  uint32_t padTop = 0, padBottom = 0, padLeft = 0, padRight = 0;
  uint32_t insH = 0, insW = 0, insLastH = 0, insLastW = 0;
  /// Value of padded positions for average pooling (int8). Max/min pooling always pad with the
  /// neutral element (the smallest / largest value of the type).
  int32_t padValue = 0;
  uint32_t avgMultiplier = 1; ///< average pooling: 8-bit unsigned multiplier of the window sum
  uint32_t rshift = 0;        ///< average pooling: right shift after the multiply
  /// Bf16 average pooling: multiplier of the window sum; 0 selects 1 / (kh * kw).
  float avgScale = 0.0f;
};

/// Matrix multiplication res = left x right (+ bias) (tsk_typ 2). left is M x K, right K x N, res
/// M x N; right and res must have the same lane split (W). Bf16 matrices throughout select the
/// bf16 data path (optional bias: a 2-row Bf16 matrix of fp32 high and low halves, packFp32Bias).
/// Quantisation per tensor (rshift) or with a 32-bit multiplier (`multiplier` != 0, QDM pipeline of
/// cv183x-isa.md §5.2). bias: an Int8 matrix of 2 rows (per tensor: the low and high bytes of int16
/// biases) or 4 rows (multiplier mode: the four bytes of int32 biases) and N columns. A res of
/// dtype Int16 receives 16-bit results (two planes of M rows).
struct MatMulParams {
  LocalMatrix res, left, right;
  LocalMatrix bias; ///< optional
  uint32_t rshift = 0;
  uint32_t lshift = 0;
  bool relu = false;
  bool addResult = false; ///< accumulate into the existing 16-bit result (res must be Int16)
  int32_t multiplier = 0; ///< nonzero selects the 32-bit multiplier pipeline
  PartialSum psum = PartialSum::None;
};

/// Per-channel quantisation record of convolution and depthwise (cv183x-isa.md §5.2).
struct ChannelQuant {
  int32_t bias = 0;
  uint32_t multiplier = 0;
  uint8_t rshift = 0;
};

/// Splits fp32 biases into the two bf16 rows of a bf16 convolution or matmul bias: out[0..count)
/// the high 16 bits, out[count..2 count) the low 16 bits (the global image loaded into the tensor
/// of Context::allocConvBias(oc, DType::Bf16) or a 2-row Bf16 bias matrix).
void packFp32Bias(const float *bias, uint32_t count, uint16_t *out);

/// Packs `count` records into `out` (9 bytes each with a bias, 5 without): the global-memory image
/// that Context::load copies into a tensor from Context::allocChannelParams.
void packChannelParams(const ChannelQuant *records, uint32_t count, bool withBias, uint8_t *out);

} // namespace tpuc::kernel
