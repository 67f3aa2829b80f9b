//===- Layers.h - global-memory INT8 layer kernels for CV183x --*- C++ -*-===//
//
// One function per INT8 layer that emits the complete layer into a tpuc::kernel::Context: given
// the global (DDR) addresses of the inputs, the weights/parameters and the output, it tiles the
// work to fit local memory, loads, computes and stores (double-buffered where simple). The
// arithmetic of every layer is the contract of docs/quantization.md; parameter names follow it.
//
// Addresses are GlobalAddr {region, offset} (Types.h): the region selects the base register
// (0 shared neuron, 1 weight, 2 private neuron, 3..7 io); offsets are region-relative.
// GlobalTensor operands may carry strides (e.g. a channel range of a larger tensor); W elements
// must be contiguous.
//
// Errors: no function throws or aborts. Each emitXxx returns ctx.ok(). A layer that the kernel
// cannot emit (unsupported parameter, shapes that disagree, local memory too small) records an
// error in the Context whose message starts with "<op> '<name>': "; an error raised by a Context
// operation inside the layer gets the same prefix. A Context that already holds an error is left
// untouched and the function returns false.
//
// Packed weight layouts: some operands are stored in DDR in the layout the hardware loads (the
// vendor toolchain does the same at weight-writing time). The host-side pack* helpers below
// produce them from the layouts of the quantized npz (docs/quantization.md).
//
// This header does not require exceptions or RTTI.
//
//===----------------------------------------------------------------------===//
#pragma once

#include "tpuc/kernel/Context.h"
#include "tpuc/kernel/Types.h"

#include <array>
#include <cstdint>
#include <string>
#include <vector>

namespace tpuc::kernel::layers {

/// Options shared by all layer emitters.
struct EmitOptions {
  /// Local memory (bytes per lane) the layer may use; 0 = everything free at entry. Tiles are
  /// chosen to fit in min(this, ctx.lmemLargestFree()). All local memory the layer allocates is
  /// freed before it returns.
  uint32_t lmemBudget = 0;
  /// Allocate two buffer sets so loads of tile i+1 overlap the computation of tile i.
  bool doubleBuffer = true;
};

/// Name and debug layer id of a layer: every layer struct starts with these.
struct LayerBase {
  std::string name;     ///< used in error messages
  uint32_t layerId = 0; ///< written into the descriptors (Context::setLayerId); < 65536
};

//===----------------------------------------------------------------------===//
// Convolution (conv_2d, depthwise / grouped)
//===----------------------------------------------------------------------===//

/// INT8 2-D convolution. input (N, IC, H, W) int8, output (N, OC, OH, OW) int8 with
///   OH = (H' + padTop + padBottom - dilationH * (kh - 1) - 1) / strideH + 1 (same for OW),
///   H' = (H - 1) * (insH + 1) + 1 the input height with inserted zeros.
/// Filter in DDR: int8 [OC][kh][kw][IC / group] (packConvFilter converts from the npz's
/// [OC][IC/group][kh][kw]). For depthwise (group == IC == OC) that is the same as [C][kh][kw].
///
/// Quantisation (docs/quantization.md "conv_2d ... per channel" / "per tensor"):
///  - perChannel: chanParam = uint8 [OC][9] (`<name>_quant_chan_param`: int32 bq_c, uint32
///    multiplier_c, uint8 rshift_c; little-endian), or [OC][5] {multiplier, rshift} when
///    chanParamHasBias is false. y = sat8(relu(rshift_away(srdhm(acc + bq_c, m_c), r_c))).
///  - per tensor: rshift, optional bias int16 [OC] (`<name>_quant_bias`, little-endian) when
///    hasBias; y = sat8(relu(rshift_up(acc + bq, rshift))).
/// Tiling: output channels (multiples of the 32 lanes) x output rows (with the input halo) x
/// batch; when the weights of one output-channel tile do not fit, input channels are split and
/// accumulated with 32-bit partial sums (ps32).
struct Conv2dLayer : LayerBase {
  GlobalTensor input;  ///< (N, IC, H, W) int8
  GlobalTensor output; ///< (N, OC, OH, OW) int8
  GlobalAddr filter;   ///< int8 [OC][kh][kw][IC/group]
  uint32_t group = 1;
  uint32_t kh = 1, kw = 1;
  uint32_t strideH = 1, strideW = 1;
  uint32_t dilationH = 1, dilationW = 1;
  uint32_t padTop = 0, padBottom = 0, padLeft = 0, padRight = 0;
  /// Zeros inserted between input rows / columns (0..15): a deconvolution (deconv_2d) with
  /// stride s is this convolution with insH = insW = s - 1, stride 1, pads kernel - 1 - pad (plus
  /// the output padding at the bottom / right) and the filter flipped in kh and kw with input and
  /// output channels exchanged per group (packDeconvFilter).
  uint32_t insH = 0, insW = 0;
  int32_t padValue = 0; ///< int8 value of padded and inserted positions
  bool doRelu = false;

  bool perChannel = true;
  GlobalAddr chanParam; ///< perChannel: uint8 [OC][9] (or [OC][5])
  bool chanParamHasBias = true;

  GlobalAddr bias;      ///< per tensor: int16 [OC], used when hasBias
  bool hasBias = false; ///< per tensor only
  uint32_t rshift = 0;  ///< per tensor only
};
bool emitConv2d(Context &ctx, const Conv2dLayer &layer, const EmitOptions &opts = {});

//===----------------------------------------------------------------------===//
// Fully connected and matmul (matmul_qm)
//===----------------------------------------------------------------------===//

/// INT8 fully_connected: output[m, n] = requant(Σ_k input[m, k] * filter[n, k] + bias[n]).
/// input M x K int8, output M x N int8 (GlobalMatrix, row strides allowed).
/// Filter in DDR: int8 [N][K] (the npz layout) or, with filterTransposed, [K][N].
/// Quantisation (docs/quantization.md "fully_connected"; one pair for the whole product):
///  - qdm (default, `RSHIFT_AND_M_I32`): one (multiplier, rshift); bias int32 [N]
///    packed as four byte planes [4][N] (packFcBiasInt32); y = requantQdm(acc + bq, m, r, relu).
///  - !qdm (`RSHIFT_ONLY`): rshift; bias int16 [N] packed as two byte planes [2][N]
///    (packFcBiasInt16); y = sat8(relu(rshift_up(acc + bq, rshift))).
/// Tiling over M, N and K (K split with 32-bit partial sums).
struct FullyConnectedLayer : LayerBase {
  GlobalMatrix input;  ///< M x K int8
  GlobalMatrix output; ///< M x N int8
  GlobalAddr filter;
  bool filterTransposed = false; ///< filter stored [K][N] instead of [N][K]
  GlobalAddr bias;               ///< packed bias planes, used when hasBias
  bool hasBias = false;
  bool qdm = true;
  int32_t multiplier = 0; ///< qdm
  uint32_t rshift = 0;
  bool doRelu = false;
};
bool emitFullyConnected(Context &ctx, const FullyConnectedLayer &layer,
                        const EmitOptions &opts = {});

/// INT8 matmul of two activations (docs/quantization.md "matmul"): for each batch b,
/// output[b] (M x N) = requantQdm(left[b] (M x K) x right[b] (K x N), multiplier, rshift, relu).
/// Batches are `batch` matrices, each `batchStride` bytes after the previous one (per operand).
struct MatMulLayer : LayerBase {
  GlobalMatrix left, right, output;
  uint32_t batch = 1;
  uint64_t leftBatchStride = 0, rightBatchStride = 0, outputBatchStride = 0;
  int32_t multiplier = 0;
  uint32_t rshift = 0;
  bool doRelu = false;
};
bool emitMatMul(Context &ctx, const MatMulLayer &layer, const EmitOptions &opts = {});

//===----------------------------------------------------------------------===//
// Pooling
//===----------------------------------------------------------------------===//

enum class PoolKind : uint8_t { Max, Avg };

/// INT8 pool_max_2d / pool_avg_2d. Max: window maximum, padding reads -128. Avg:
/// y = sat8(relu(rshift_up(multiplier * Σ_window q, rshift))), padded positions count 0.
/// A global average pool is kh = H, kw = W. Tiles: channel groups of the lanes, output rows (with
/// the window's input rows), batches; the input rows of one output row must fit local memory.
struct Pool2dLayer : LayerBase {
  PoolKind kind = PoolKind::Max;
  GlobalTensor input;  ///< (N, C, H, W) int8
  GlobalTensor output; ///< (N, C, OH, OW) int8
  uint32_t kh = 1, kw = 1;
  uint32_t strideH = 1, strideW = 1;
  uint32_t padTop = 0, padBottom = 0, padLeft = 0, padRight = 0;
  uint32_t multiplier = 1; ///< avg: int8 multiplier m (RSHIFT_AND_M_I8)
  uint32_t rshift = 0;     ///< avg
  bool doRelu = false;
};
bool emitPool2d(Context &ctx, const Pool2dLayer &layer, const EmitOptions &opts = {});

//===----------------------------------------------------------------------===//
// Element-wise
//===----------------------------------------------------------------------===//

enum class EltwiseKind : uint8_t { Add, Max, Min };

/// eltwise_add / eltwise_max / eltwise_min with 1 or more inputs of one shape (relu alone is
/// kind Max with one input, multiplier 1, rshift 0 and doRelu)
/// (docs/quantization.md): multipliers m_i (int8, one per input) and one rshift r.
///  add: y = sat8(relu(rshift_up(Σ_i q_i * m_i, r))), accumulated in 16 bits like the hardware
///       (exact for two inputs; with more, partial sums saturate at 16 bits)
///  max/min: y = relu(max_i / min_i sat8(rshift_up(q_i * m_i, r)))
struct EltwiseLayer : LayerBase {
  EltwiseKind kind = EltwiseKind::Add;
  std::vector<GlobalTensor> inputs; ///< int8, all of the output's shape
  GlobalTensor output;
  std::vector<int32_t> multipliers; ///< one per input
  uint32_t rshift = 0;
  bool doRelu = false;
};
bool emitEltwise(Context &ctx, const EltwiseLayer &layer, const EmitOptions &opts = {});

/// eltwise_mul (QDM): y = requantQdm(a * b, multiplier, rshift, relu). b has the shape of a, or
/// (N or 1, C, 1, 1) (broadcast over H, W).
struct EltwiseMulLayer : LayerBase {
  GlobalTensor a, b, output;
  int32_t multiplier = 0;
  uint32_t rshift = 0;
  bool doRelu = false;
};
bool emitEltwiseMul(Context &ctx, const EltwiseMulLayer &layer, const EmitOptions &opts = {});

//===----------------------------------------------------------------------===//
// Activations
//===----------------------------------------------------------------------===//

/// tpu.lut: y = table[u8(q)]; table = the 256 int8 bytes of `<name>_quant_lut` in DDR.
struct LutLayer : LayerBase {
  GlobalTensor input, output;
  GlobalAddr table;
};
bool emitLut(Context &ctx, const LutLayer &layer, const EmitOptions &opts = {});

/// leaky_relu: y = q >= 0 ? sat8(rshift_up(q * mPos, rPos)) : sat8(rshift_up(q * mNeg, rNeg)).
struct LeakyReluLayer : LayerBase {
  GlobalTensor input, output;
  int32_t mPos = 1;
  uint32_t rPos = 0;
  int32_t mNeg = 0;
  uint32_t rNeg = 0;
};
bool emitLeakyRelu(Context &ctx, const LeakyReluLayer &layer, const EmitOptions &opts = {});

/// prelu: y = q >= 0 ? sat8(rshift_up(q * mPos, rPos)) : sat8(rshift_up(q * slope[c], rNeg));
/// slope = `<name>_quant_slope`, int8 [C] in DDR.
struct PReluLayer : LayerBase {
  GlobalTensor input, output;
  GlobalAddr slope;
  int32_t mPos = 1;
  uint32_t rPos = 0;
  uint32_t rNeg = 0;
};
bool emitPRelu(Context &ctx, const PReluLayer &layer, const EmitOptions &opts = {});

//===----------------------------------------------------------------------===//
// Data movement
//===----------------------------------------------------------------------===//

/// concat along `axis` (0..3 of NCHW). Input i becomes sat8(rshift_up(q * multipliers[i],
/// rshifts[i])); (1, 0) (or empty vectors) is a plain copy.
struct ConcatLayer : LayerBase {
  std::vector<GlobalTensor> inputs;
  GlobalTensor output;
  uint32_t axis = 1;
  std::vector<int32_t> multipliers; ///< empty or one per input
  std::vector<uint32_t> rshifts;    ///< empty or one per input
  bool doRelu = false;
};
bool emitConcat(Context &ctx, const ConcatLayer &layer, const EmitOptions &opts = {});

/// upsample (nearest): output (N, C, H * scaleH, W * scaleW), output[h][w] = input[h/sh][w/sw].
struct UpsampleLayer : LayerBase {
  GlobalTensor input, output;
  uint32_t scaleH = 2, scaleW = 2;
};
bool emitUpsample(Context &ctx, const UpsampleLayer &layer, const EmitOptions &opts = {});

/// permute: output = transpose(input, order), order a permutation of {0, 1, 2, 3} (NCHW).
/// Any element type of 1 byte.
struct PermuteLayer : LayerBase {
  GlobalTensor input, output;
  std::array<uint32_t, 4> order{0, 1, 2, 3};
};
bool emitPermute(Context &ctx, const PermuteLayer &layer, const EmitOptions &opts = {});

/// reshape (as a copy): the elements of input, in NCHW order, into output (equal counts; both may
/// be strided).
struct ReshapeLayer : LayerBase {
  GlobalTensor input, output;
};
bool emitReshape(Context &ctx, const ReshapeLayer &layer, const EmitOptions &opts = {});

/// slice / crop: output[n][c][h][w] = input[o0 + n*s0][o1 + c*s1][o2 + h*s2][o3 + w*s3].
struct SliceLayer : LayerBase {
  GlobalTensor input, output;
  std::array<uint32_t, 4> offsets{0, 0, 0, 0};
  std::array<uint32_t, 4> steps{1, 1, 1, 1};
};
bool emitSlice(Context &ctx, const SliceLayer &layer, const EmitOptions &opts = {});

/// pad (constant): output = input surrounded by padsBegin/padsEnd (NCHW) elements of the int8
/// value constVal (docs/quantization.md: already rewritten to sat8(round(const_val * 127 / Ti))).
struct PadLayer : LayerBase {
  GlobalTensor input, output;
  std::array<uint32_t, 4> padsBegin{0, 0, 0, 0};
  std::array<uint32_t, 4> padsEnd{0, 0, 0, 0};
  int32_t constVal = 0;
};
bool emitPad(Context &ctx, const PadLayer &layer, const EmitOptions &opts = {});

//===----------------------------------------------------------------------===//
// Graph boundary
//===----------------------------------------------------------------------===//

/// Output dequantisation INT8 -> fp32 on the TPU, as vendor models do it (`<producer>_dequant`):
///   y = bf16_rne(q * bf16_rne(threshold / 127)), stored as fp32 (the bf16 bits in the high half,
///   the low half zero). output: (N, C, H, W) fp32, dense NCHW at `output`.
struct DequantLayer : LayerBase {
  GlobalTensor input; ///< int8
  GlobalAddr output;  ///< fp32, dense, input's shape
  float threshold = 0.0f;
};
bool emitDequant(Context &ctx, const DequantLayer &layer, const EmitOptions &opts = {});

//===----------------------------------------------------------------------===//
// Host-side packing of weight operands (write these images into the weight region)
//===----------------------------------------------------------------------===//

/// [OC][IC/g][kh][kw] -> [OC][kh][kw][IC/g] (Conv2dLayer::filter). `out` has oc * icPerGroup *
/// kh * kw bytes.
void packConvFilter(const int8_t *oihw, uint32_t oc, uint32_t icPerGroup, uint32_t kh, uint32_t kw,
                    int8_t *out);
/// deconv_2d filter [IC][OC/g][kh][kw] (the npz layout) -> the Conv2dLayer filter of the
/// equivalent convolution: [OC][kh][kw][IC/g] with the kernel flipped, output channel
/// g * OC/g + o reading input channels g * IC/g + i. `out` has ic * ocPerGroup * kh * kw bytes.
void packDeconvFilter(const int8_t *iohw, uint32_t ic, uint32_t ocPerGroup, uint32_t group,
                      uint32_t kh, uint32_t kw, int8_t *out);
/// int32 [N] -> four byte planes [4][N] (byte k of bias n at k * N + n).
void packFcBiasInt32(const int32_t *bias, uint32_t n, uint8_t *out);
/// int16 [N] -> two byte planes [2][N].
void packFcBiasInt16(const int16_t *bias, uint32_t n, uint8_t *out);

/// Output height/width of a window operation; 0 when the window does not fit.
uint32_t windowOutputSize(uint32_t in, uint32_t k, uint32_t stride, uint32_t dilation,
                          uint32_t padBefore, uint32_t padAfter);

} // namespace tpuc::kernel::layers
