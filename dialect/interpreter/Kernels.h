//===- Kernels.h - attributes and factories of the fp32 kernels -*- C++ -*-===//
//
// One parameter struct per kernel family, filled from an op's attributes by the MLIR-facing code,
// and the factory making its Kernel. Factories do not validate (they cannot throw); Kernel::check
// does, when the op is added to a Program.
//
//===----------------------------------------------------------------------===//
#pragma once

#include "dialect/interpreter/Kernel.h"

#include <array>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

namespace tpuc::interpreter {

class CustomOpRegistry;

/// Passes its single operand through (tpu.input).
std::unique_ptr<Kernel> makeIdentity();

//===----------------------------------------------------------------------===//
// Convolution, matrix products, pooling
//===----------------------------------------------------------------------===//

struct ConvParams {
  std::array<int64_t, 2> strides{1, 1};
  std::array<int64_t, 4> pads{0, 0, 0, 0}; ///< top, left, bottom, right
  std::array<int64_t, 2> dilations{1, 1};
  std::array<int64_t, 2> outputPadding{0, 0}; ///< deconvolution only
  int64_t group = 1;
  bool hasBias = false;
  bool doRelu = false;
};
/// NCHW input, OIHW filter (I = C / group), optional bias of O elements.
std::unique_ptr<Kernel> makeConv2D(const ConvParams &params);
/// Transposed convolution, filter [C_in, C_out / group, kh, kw] (ONNX ConvTranspose).
std::unique_ptr<Kernel> makeDeconv2D(const ConvParams &params);

/// output[m, n] = sum_k input[m, k] * filter[n, k] + bias[n]; input rows are its elements
/// grouped by K = filter's second dimension.
std::unique_ptr<Kernel> makeFullyConnected(bool hasBias, bool doRelu);
/// numpy.matmul, batch dimensions broadcast.
std::unique_ptr<Kernel> makeMatMul(bool doRelu);

enum class PoolKind { Max, Average };
struct PoolParams {
  PoolKind kind = PoolKind::Max;
  std::array<int64_t, 2> kernel{1, 1};
  std::array<int64_t, 2> strides{1, 1};
  std::array<int64_t, 4> pads{0, 0, 0, 0}; ///< top, left, bottom, right
  bool ceilMode = false;
  bool countIncludePad = false;
  bool doRelu = false;
};
std::unique_ptr<Kernel> makePool2D(const PoolParams &params);

//===----------------------------------------------------------------------===//
// Element-wise
//===----------------------------------------------------------------------===//

enum class UnaryKind {
  Relu,
  Sigmoid,
  TanH,
  Sqrt,
  Reciprocal,
  Exp,
  Mish,
  SiLU,
  HardSwish,
  HardSigmoid, ///< a = alpha, b = beta
  LeakyRelu,   ///< a = negative_slope
  Clip,        ///< a = min, b = max
  Power,       ///< a = power, b = scale, c = shift
};
struct UnaryParams {
  UnaryKind kind = UnaryKind::Relu;
  float a = 0, b = 0, c = 0;
};
std::unique_ptr<Kernel> makeUnary(const UnaryParams &params);

enum class EltwiseKind { Add, Mul, Max, Min };
struct EltwiseParams {
  EltwiseKind kind = EltwiseKind::Add;
  std::vector<float> coeff; ///< add only; empty = all ones
  bool doRelu = false;
};
/// Two or more operands, numpy-broadcast to the result shape.
std::unique_ptr<Kernel> makeEltwise(const EltwiseParams &params);

/// input * scale, scale numpy-broadcast to the input and covering its dimension `axis`.
std::unique_ptr<Kernel> makeBroadcastMul(int64_t axis, bool doRelu);

//===----------------------------------------------------------------------===//
// Per-channel and normalization layers
//===----------------------------------------------------------------------===//

std::unique_ptr<Kernel> makeBatchNorm(float epsilon);
std::unique_ptr<Kernel> makeScale(bool hasBias, bool doRelu);
std::unique_ptr<Kernel> makePRelu();

struct LrnParams {
  int64_t size = 1;
  float alpha = 1e-4f, beta = 0.75f, k = 1.0f;
  int64_t part = 0; ///< 0: the whole Lrn; 1, 2, 3: one stage of tpu.lrn_part
};
std::unique_ptr<Kernel> makeLrn(const LrnParams &params);

struct NormalizeParams {
  bool acrossSpatial = false;
  bool channelShared = false;
  float eps = 1e-10f;
};
std::unique_ptr<Kernel> makeNormalize(const NormalizeParams &params);

std::unique_ptr<Kernel> makeSoftmax(int64_t axis);
std::unique_ptr<Kernel> makeReduceMean(std::vector<int64_t> axes, bool keepdims);
/// Index (as f32) of the first maximum along `axis`; fp32 values or int8 codes alike.
std::unique_ptr<Kernel> makeArgMax(int64_t axis);

//===----------------------------------------------------------------------===//
// Data movement
//===----------------------------------------------------------------------===//

std::unique_ptr<Kernel> makeConcat(int64_t axis);
std::unique_ptr<Kernel> makeReshape();
std::unique_ptr<Kernel> makePermute(std::vector<int64_t> order);
std::unique_ptr<Kernel> makeSlice(std::vector<int64_t> offsets, std::vector<int64_t> steps);
std::unique_ptr<Kernel> makeCrop(std::vector<int64_t> offsets);

enum class PadMode { Constant, Reflect, Edge };
std::unique_ptr<Kernel> makePad(std::vector<int64_t> pads, float value, PadMode mode);

std::unique_ptr<Kernel> makeUpsample(int64_t scaleH, int64_t scaleW);

enum class ResizeMode { Nearest, Bilinear };
enum class CoordinateMode {
  HalfPixel,
  PytorchHalfPixel,
  AlignCorners,
  Asymmetric,
};
enum class NearestRounding { RoundPreferFloor, RoundPreferCeil, Floor, Ceil };
struct InterpParams {
  ResizeMode mode = ResizeMode::Bilinear;
  CoordinateMode coordinates = CoordinateMode::HalfPixel;
  NearestRounding rounding = NearestRounding::RoundPreferFloor;
};
std::unique_ptr<Kernel> makeInterp(const InterpParams &params);

/// ONNX DepthToSpace; `crd` selects CRD order, else DCR.
std::unique_ptr<Kernel> makePixelShuffle(int64_t factor, bool crd);
/// ONNX SpaceToDepth.
std::unique_ptr<Kernel> makeReorg(int64_t stride);
std::unique_ptr<Kernel> makeShuffleChannel(int64_t group);

//===----------------------------------------------------------------------===//
// Preprocessing, quantization, detection, custom ops
//===----------------------------------------------------------------------===//

struct PreprocessParams {
  std::vector<int64_t> channelOrder;
  std::vector<float> mean, scale;
};
std::unique_ptr<Kernel> makePreprocess(const PreprocessParams &params);

enum class NumberFormat { Fp32, Int8, Uint8, Bf16 };
struct QuantParams {
  NumberFormat from = NumberFormat::Fp32, to = NumberFormat::Int8;
  float scale = 1.0f;
  int64_t zeroPoint = 0;
  /// INT8 (zero point 0) -> FP32, as the backend computes it on the TPU: the bf16 cast
  /// x = bf16(q * bf16(outputStep)) (arith::dequantInt8Bf16, docs/quantization.md) instead of
  /// q / scale.
  bool bf16OutputCast = false;
  float outputStep = 0.0f; ///< threshold / 127 for bf16OutputCast
};
std::unique_ptr<Kernel> makeQuant(const QuantParams &params);

/// Table lookup indexed by the input byte; `signedInput` tells how the input's values map to
/// bytes (int8 two's complement or uint8).
std::unique_ptr<Kernel> makeLut(bool signedInput, bool hasMantissa);

enum class BoxCoding { CenterSize, Corner, CornerSize };
struct DetectionOutputParams {
  int64_t numClasses = 0;
  bool shareLocation = true;
  int64_t backgroundLabelId = 0;
  float nmsThreshold = 0.45f;
  int64_t topK = -1;
  BoxCoding coding = BoxCoding::CenterSize;
  int64_t keepTopK = -1;
  float confidenceThreshold = 0.0f;
};
/// Caffe SSD DetectionOutput over (loc, conf, priorbox).
std::unique_ptr<Kernel> makeDetectionOutput(const DetectionOutputParams &params);

/// One value of a custom op's `param` dictionary.
struct CustomParamValue {
  enum class Kind { Int, Float, Bool, String };
  Kind kind = Kind::Int;
  bool isArray = false;
  unsigned intWidth = 32; ///< bit width of integer values
  std::vector<int64_t> ints;
  std::vector<double> floats;
  std::vector<bool> bools;
  std::vector<std::string> strings;
};
struct CustomOpParams {
  std::string operationName;
  std::vector<std::pair<std::string, CustomParamValue>> params;
  /// The op is quantized (quant.mode = "INT8"): its operands and result hold int8 codes.
  bool int8 = false;
  /// With int8: the threshold of each operand (0 when unknown) and of the result.
  std::vector<double> operandThresholds;
  double threshold = 0.0;
};
/// tpu.custom_op: delegates to the implementation of `operationName` found in `registry`.
std::unique_ptr<Kernel> makeCustomOp(CustomOpParams params,
                                     std::shared_ptr<CustomOpRegistry> registry);

} // namespace tpuc::interpreter
