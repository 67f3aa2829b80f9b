//===- TpuQuant.cpp - fp32 to INT8 quantization ---------------------------===//
//
// --tpu-quant: rewrites a calibrated fp32 module into the INT8 form the CV183x executes. The
// representation (types, weights, quant fields, integer formulas) is specified in
// docs/quantization.md and in the pass description (Passes.td).
//
//===----------------------------------------------------------------------===//
#include "passes/Passes.h"
#include "passes/TpuQuantParams.h"
#include "passes/support/ModuleWeights.h"
#include "runtime/sdk/CustomOpAttributes.h"
#include "runtime/sdk/PluginHost.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/IR/Builders.h"
#include "llvm/ADT/TypeSwitch.h"

#include <cmath>
#include <functional>

namespace tpuc {
#define GEN_PASS_DEF_TPUQUANT
#include "passes/Passes.h.inc"
} // namespace tpuc

using namespace mlir;
using namespace tpuc;
using namespace tpuc::quant;

bool tpuc::quant::keepsInputThreshold(Operation *op) {
  if (auto interp = dyn_cast<tpu::InterpOp>(op))
    return interp.getMode() == "nearest";
  return isa<tpu::PoolMax2DOp, tpu::ReluOp, tpu::ReshapeOp, tpu::PermuteOp, tpu::SliceOp,
             tpu::CropOp, tpu::PadOp, tpu::UpsampleOp, tpu::PixelShuffleOp, tpu::ReorgOp,
             tpu::ShuffleChannelOp>(op);
}

namespace {

/// Element bytes of a staged int array, little-endian.
template <typename T> std::vector<uint8_t> toBytes(llvm::ArrayRef<T> values) {
  std::vector<uint8_t> bytes;
  bytes.reserve(values.size() * sizeof(T));
  for (T v : values) {
    auto u = static_cast<std::make_unsigned_t<T>>(v);
    for (size_t i = 0; i < sizeof(T); ++i)
      bytes.push_back(static_cast<uint8_t>(static_cast<uint64_t>(u) >> (8 * i)));
  }
  return bytes;
}

class Quantizer {
public:
  Quantizer(ModuleOp module, WeightEdit &edit, bool perChannel)
      : module(module), edit(edit), perChannel(perChannel), builder(module.getContext()),
        i8(builder.getIntegerType(8)) {}

  LogicalResult run(func::FuncOp func);
  /// True once a weight array was staged (the weight file must then be rewritten).
  bool stagedAny = false;

private:
  // Failure with a message naming the layer.
  LogicalResult fail(Operation *op, const llvm::Twine &message) {
    return op->emitError("tpu-quant: layer '") << layerName(op) << "': " << message;
  }
  static StringRef layerName(Operation *op) {
    if (auto layer = dyn_cast<tpu::TpuLayerOp>(op))
      return layer.getLayerName();
    return op->getName().getStringRef();
  }
  FailureOr<double> thresholdOf(Operation *user, Value value);
  FailureOr<double> ownThreshold(Operation *op);
  void setResultInt8(Operation *op);
  void setQuant(Operation *op, StringRef paramType, ArrayRef<int64_t> multiplier,
                ArrayRef<int64_t> rshift, std::optional<bool> perChannelFlag = std::nullopt);
  void forwardThreshold(Operation *op, double threshold);
  Value loadWeight(Location loc, StringRef baseName, ArrayRef<int64_t> shape, Type element,
                   std::string descr, std::vector<uint8_t> bytes);
  tpu::QuantOp createQuantOp(Location loc, Value input, StringRef name, StringRef from,
                             StringRef to, double threshold);

  LogicalResult quantizeInput(tpu::InputOp op);
  LogicalResult quantizeWeighted(Operation *op, Value filter, std::optional<Value> bias,
                                 int64_t channels, std::function<int64_t(int64_t)> channelOf,
                                 bool sharedQdm = false);
  LogicalResult quantizeMatMul(tpu::MatMulOp op);
  LogicalResult quantizeEltwiseRescale(Operation *op, ArrayRef<double> coeffs);
  LogicalResult quantizeEltwiseMul(tpu::EltwiseMulOp op);
  LogicalResult quantizeAvgPool(tpu::PoolAvg2DOp op);
  LogicalResult quantizeForward(Operation *op);
  LogicalResult quantizeLeakyRelu(tpu::LeakyReluOp op);
  LogicalResult quantizePRelu(tpu::PReluOp op);
  LogicalResult quantizeLut(Operation *op, std::function<double(double)> f);
  LogicalResult quantizeConcat(tpu::ConcatOp op);
  LogicalResult quantizePad(tpu::PadOp op);
  LogicalResult keepFp32(Operation *op);
  LogicalResult quantizeCustomOp(tpu::CustomOp op);
  LogicalResult dequantizeResults(func::FuncOp func);
  void foldFp32RoundTrips();
  LogicalResult requireActivations(Operation *op);

public:
  /// Plugin libraries implementing quantizeInt8 of do_quant custom ops (loaded on first use).
  std::vector<std::string> customOpPlugins;

private:
  bool customOpPluginsLoaded = false;
  /// The FP32 -> INT8 conversions inserted for the users of fp32 values (graph inputs, results of
  /// fp32 layers); foldFp32RoundTrips connects their fp32 users back to the fp32 value.
  SmallVector<tpu::QuantOp> fp32ToInt8;
  sdk::CustomOpLibraries customOpLibraries;
  ModuleOp module;
  WeightEdit &edit;
  bool perChannel;
  OpBuilder builder;
  Type i8;
};

FailureOr<double> Quantizer::thresholdOf(Operation *user, Value value) {
  if (auto layer = value.getDefiningOp<tpu::TpuLayerOp>())
    if (std::optional<double> thr = layer.getThreshold(); thr && *thr > 0)
      return *thr;
  (void)fail(user, "an operand has no calibrated producer layer (threshold_max)");
  return failure();
}

FailureOr<double> Quantizer::ownThreshold(Operation *op) {
  if (std::optional<double> thr = cast<tpu::TpuLayerOp>(op).getThreshold(); thr && *thr > 0)
    return *thr;
  (void)fail(op, "no threshold (quant.threshold_max > 0); run --import-calibration-table first");
  return failure();
}

void Quantizer::setResultInt8(Operation *op) {
  for (Value result : op->getResults())
    if (auto type = dyn_cast<RankedTensorType>(result.getType()))
      result.setType(RankedTensorType::get(type.getShape(), i8));
}

void Quantizer::setQuant(Operation *op, StringRef paramType, ArrayRef<int64_t> multiplier,
                         ArrayRef<int64_t> rshift, std::optional<bool> perChannelFlag) {
  auto layer = cast<tpu::TpuLayerOp>(op);
  layer.setQuantField("mode", builder.getStringAttr("INT8"));
  layer.setQuantField("param_type", builder.getStringAttr(paramType));
  if (!multiplier.empty())
    layer.setQuantField("multiplier", builder.getDenseI64ArrayAttr(multiplier));
  if (!rshift.empty())
    layer.setQuantField("rshift", builder.getDenseI64ArrayAttr(rshift));
  if (perChannelFlag)
    layer.setQuantField("is_perchannel", builder.getBoolAttr(*perChannelFlag));
}

void Quantizer::forwardThreshold(Operation *op, double threshold) {
  auto layer = cast<tpu::TpuLayerOp>(op);
  layer.setQuantField("threshold_max", builder.getF64FloatAttr(threshold));
  layer.setQuantField("threshold_min", builder.getF64FloatAttr(-threshold));
}

Value Quantizer::loadWeight(Location loc, StringRef baseName, ArrayRef<int64_t> shape, Type element,
                            std::string descr, std::vector<uint8_t> bytes) {
  weights::NamedArray array{baseName.str(), std::move(descr),
                            std::vector<int64_t>(shape.begin(), shape.end()), std::move(bytes)};
  std::string name = edit.stage(std::move(array));
  stagedAny = true;
  return tpu::LoadWeightOp::create(builder, loc, RankedTensorType::get(shape, element),
                                   builder.getStringAttr(name));
}

tpu::QuantOp Quantizer::createQuantOp(Location loc, Value input, StringRef name, StringRef from,
                                      StringRef to, double threshold) {
  auto inType = cast<RankedTensorType>(input.getType());
  Type element = to == "INT8" ? i8 : builder.getF32Type();
  NamedAttrList quantFields;
  quantFields.set("mode", builder.getStringAttr(to == "INT8" ? "INT8" : "NONE"));
  quantFields.set("threshold_max", builder.getF64FloatAttr(threshold));
  quantFields.set("threshold_min", builder.getF64FloatAttr(-threshold));
  auto op = tpu::QuantOp::create(builder, loc, RankedTensorType::get(inType.getShape(), element),
                                 input, builder.getStringAttr(from), builder.getStringAttr(to),
                                 builder.getF32FloatAttr(static_cast<float>(127.0 / threshold)),
                                 builder.getI64IntegerAttr(0), builder.getStringAttr(name),
                                 IntegerAttr(), quantFields.getDictionary(builder.getContext()));
  return op;
}

LogicalResult Quantizer::requireActivations(Operation *op) {
  for (Value operand : op->getOperands()) {
    if (operand.getDefiningOp<tpu::LoadWeightOp>())
      return fail(op, "a constant (load_weight) operand is not supported in INT8");
    auto type = cast<RankedTensorType>(operand.getType());
    if (type.getElementType() != i8)
      return fail(op, "operand is not an int8 activation");
  }
  return success();
}

LogicalResult Quantizer::quantizeInput(tpu::InputOp op) {
  FailureOr<double> thr = ownThreshold(op);
  if (failed(thr))
    return failure();
  cast<tpu::TpuLayerOp>(op.getOperation()).setQuantField("mode", builder.getStringAttr("NONE"));
  builder.setInsertionPointAfter(op);
  tpu::QuantOp quantOp = createQuantOp(op.getLoc(), op.getOutput(), (op.getName() + "_quant").str(),
                                       "FP32", "INT8", *thr);
  op.getOutput().replaceAllUsesExcept(quantOp.getOutput(), quantOp);
  fp32ToInt8.push_back(quantOp);
  return success();
}

LogicalResult Quantizer::quantizeWeighted(Operation *op, Value filter, std::optional<Value> bias,
                                          int64_t channels,
                                          std::function<int64_t(int64_t)> channelOf,
                                          bool sharedQdm) {
  Value input = op->getOperand(0);
  if (cast<RankedTensorType>(input.getType()).getElementType() != i8)
    return fail(op, "input is not an int8 activation");
  auto filterWeight = filter.getDefiningOp<tpu::LoadWeightOp>();
  if (!filterWeight)
    return fail(op, "the filter must be a load_weight to be quantized");
  tpu::LoadWeightOp biasWeight;
  if (bias && *bias) {
    biasWeight = bias->getDefiningOp<tpu::LoadWeightOp>();
    if (!biasWeight)
      return fail(op, "the bias must be a load_weight to be quantized");
  }
  FailureOr<double> thrIn = thresholdOf(op, input), thrOut = ownThreshold(op);
  if (failed(thrIn) || failed(thrOut))
    return failure();
  auto w = edit.readF32(filterWeight);
  if (!w)
    return fail(op, llvm::toString(w.takeError()));
  std::vector<float> b(channels, 0.0f);
  if (biasWeight) {
    auto read = edit.readF32(biasWeight);
    if (!read)
      return fail(op, llvm::toString(read.takeError()));
    if (static_cast<int64_t>(read->size()) != channels)
      return fail(op, "bias has " + llvm::Twine(read->size()) + " elements, expected " +
                          llvm::Twine(channels));
    b = std::move(*read);
  }
  std::string name = cast<tpu::TpuLayerOp>(op).getLayerName().str();
  auto filterShape = cast<RankedTensorType>(filter.getType()).getShape();
  builder.setInsertionPoint(op);
  Location loc = op->getLoc();

  if (!perChannel) {
    // Per tensor (§5.1): one weight scale s = thrIn * 2^r / thrOut, 16-bit bias.
    double maxW = 0;
    for (float v : *w)
      maxW = std::max(maxW, std::fabs(double(v)));
    double ratio = maxW > 0 ? 127.0 * *thrOut / (*thrIn * maxW) : 1.0;
    if (ratio < 1)
      return fail(op, "per-tensor rshift would be negative (output threshold " +
                          std::to_string(*thrOut) + " too small for the weights); use per-channel");
    unsigned r = std::min<unsigned>(31, static_cast<unsigned>(std::floor(std::log2(ratio))));
    double scale = *thrIn * std::ldexp(1.0, r) / *thrOut;
    std::vector<int8_t> q = quantizeWithScale(*w, scale);
    op->setOperand(
        1, loadWeight(loc, name + "_quant_filter", filterShape, i8, "|i1", toBytes<int8_t>(q)));
    if (biasWeight) {
      std::vector<int16_t> qb;
      for (float v : b)
        qb.push_back(static_cast<int16_t>(roundClamped(v * scale * 127.0 / *thrIn, -32768, 32767)));
      op->setOperand(2, loadWeight(loc, name + "_quant_bias", {channels},
                                   builder.getIntegerType(16), "<i2", toBytes<int16_t>(qb)));
    }
    setQuant(op, "RSHIFT_ONLY", {}, {int64_t(r)}, false);
  } else {
    // Per channel (§5.2): int8 filter, int32 bias, QDM multiplier and shift per channel.
    // sharedQdm: one weight scale and one (multiplier, rshift) for the whole filter (the
    // hardware matrix multiply has a single quan_m), bias still per output channel.
    QuantizedFilter q = sharedQdm
                            ? quantizeFilterPerChannel(*w, 1, [](int64_t) { return int64_t{0}; })
                            : quantizeFilterPerChannel(*w, channels, channelOf);
    std::vector<int32_t> qb(channels);
    std::vector<int64_t> multipliers(channels), rshifts(channels);
    std::vector<uint8_t> records;
    for (int64_t c = 0; c < channels; ++c) {
      int64_t k = sharedQdm ? 0 : c;
      // acc = real * accScale. An all-zero channel only adds its bias: any accumulator scale
      // works, the one giving the rescale factor 1/2 is used.
      double accScale = q.scales[k] > 0 ? q.scales[k] * 127.0 / *thrIn : 2.0 * 127.0 / *thrOut;
      // (127 / To) / accScale = Ti * max|w_c| / (127 * To), in float32 as the vendor computes it.
      std::optional<QdmScale> qdm =
          qdmScaleFor(q.scales[k] > 0 ? float32QdmFactor(*thrIn, q.maxAbs[k], *thrOut)
                                      : (127.0 / *thrOut) / accScale);
      if (!qdm)
        return fail(op, "channel " + llvm::Twine(c) + " needs a rescale factor >= 1 (output " +
                            "threshold " + std::to_string(*thrOut) + " too small for the range)");
      // The bias in the accumulator's units, derived from the QDM pair in float32 as the vendor
      // toolchain does (docs/quantization.md).
      qb[c] = q.scales[k] > 0
                  ? quantizeBiasQdm(b[c], *thrOut, qdm->multiplier, qdm->rshift)
                  : static_cast<int32_t>(roundClamped(b[c] * accScale, INT32_MIN, INT32_MAX));
      multipliers[c] = qdm->multiplier;
      rshifts[c] = qdm->rshift;
      appendQdmChannelRecord(records, qb[c], static_cast<uint32_t>(qdm->multiplier),
                             static_cast<uint8_t>(qdm->rshift));
    }
    // The weights too are quantized from the QDM pair of their channel (all-zero channels stay 0).
    for (int64_t i = 0, e = static_cast<int64_t>(w->size()); i < e; ++i) {
      int64_t k = sharedQdm ? 0 : channelOf(i);
      q.values[i] = quantizeWeightQdm((*w)[i], *thrIn, *thrOut, multipliers[k],
                                      static_cast<unsigned>(rshifts[k]));
    }
    op->setOperand(1, loadWeight(loc, name + "_quant_filter", filterShape, i8, "|i1",
                                 toBytes<int8_t>(q.values)));
    if (biasWeight)
      op->setOperand(2, loadWeight(loc, name + "_quant_bias", {channels},
                                   builder.getIntegerType(32), "<i4", toBytes<int32_t>(qb)));
    if (sharedQdm) {
      setQuant(op, "RSHIFT_AND_M_I32", {multipliers[0]}, {rshifts[0]}, false);
    } else {
      stagedAny = true;
      edit.stage(weights::NamedArray{
          name + "_quant_chan_param", "|u1", {channels, 9}, std::move(records)});
      setQuant(op, "RSHIFT_AND_M_I32", multipliers, rshifts, true);
    }
  }
  for (Operation *old :
       {filterWeight.getOperation(), biasWeight ? biasWeight.getOperation() : nullptr})
    if (old && old->use_empty())
      old->erase();
  setResultInt8(op);
  return success();
}

LogicalResult Quantizer::quantizeMatMul(tpu::MatMulOp op) {
  if (failed(requireActivations(op)))
    return failure();
  FailureOr<double> lhs = thresholdOf(op, op.getLhs()), rhs = thresholdOf(op, op.getRhs()),
                    out = ownThreshold(op);
  if (failed(lhs) || failed(rhs) || failed(out))
    return failure();
  std::optional<QdmScale> qdm = qdmScaleFor(float32QdmFactor(*lhs, *rhs, *out));
  if (!qdm)
    return fail(op, "rescale factor >= 1 (output threshold too small)");
  setQuant(op, "RSHIFT_AND_M_I32", {qdm->multiplier}, {int64_t(qdm->rshift)}, false);
  setResultInt8(op);
  return success();
}

LogicalResult Quantizer::quantizeEltwiseMul(tpu::EltwiseMulOp op) {
  if (failed(requireActivations(op)))
    return failure();
  if (op.getInputs().size() != 2)
    return fail(op, "INT8 eltwise_mul takes exactly two inputs, got " +
                        llvm::Twine(op.getInputs().size()));
  FailureOr<double> a = thresholdOf(op, op.getInputs()[0]), b = thresholdOf(op, op.getInputs()[1]),
                    out = ownThreshold(op);
  if (failed(a) || failed(b) || failed(out))
    return failure();
  std::optional<QdmScale> qdm = qdmScaleFor(float32QdmFactor(*a, *b, *out));
  if (!qdm)
    return fail(op, "rescale factor >= 1 (output threshold too small)");
  setQuant(op, "RSHIFT_AND_M_I32", {qdm->multiplier}, {int64_t(qdm->rshift)}, false);
  setResultInt8(op);
  return success();
}

// Per-input int8 multipliers and one common shift: add (weighted by coeff), max and min.
LogicalResult Quantizer::quantizeEltwiseRescale(Operation *op, ArrayRef<double> coeffs) {
  if (failed(requireActivations(op)))
    return failure();
  FailureOr<double> out = ownThreshold(op);
  if (failed(out))
    return failure();
  std::vector<double> scales;
  double maxAbs = 0;
  for (auto [i, input] : llvm::enumerate(op->getOperands())) {
    FailureOr<double> thr = thresholdOf(op, input);
    if (failed(thr))
      return failure();
    scales.push_back(coeffs[i] * *thr / *out);
    maxAbs = std::max(maxAbs, std::fabs(scales.back()));
  }
  std::optional<unsigned> rshift = commonRshiftFor(maxAbs);
  if (!rshift)
    return fail(op, "an input rescale factor exceeds 127 (output threshold too small)");
  // Truncated toward zero, as the vendor toolchain does for element-wise multipliers.
  std::vector<int64_t> multipliers;
  for (double s : scales)
    multipliers.push_back(static_cast<int64_t>(std::trunc(std::ldexp(s, int(*rshift)))));
  setQuant(op, "RSHIFT_AND_M_I8", multipliers, {int64_t(*rshift)}, false);
  setResultInt8(op);
  return success();
}

LogicalResult Quantizer::quantizeAvgPool(tpu::PoolAvg2DOp op) {
  if (failed(requireActivations(op)))
    return failure();
  ArrayRef<int64_t> pads = op.getPads(), kernel = op.getKernelShape();
  if (!op.getCountIncludePad() && llvm::any_of(pads, [](int64_t p) { return p != 0; }))
    return fail(op, "average pooling with padding and count_include_pad = false has no INT8 "
                    "scheme (the hardware divides every window by kh * kw)");
  FailureOr<double> in = thresholdOf(op, op.getInput()), out = ownThreshold(op);
  if (failed(in) || failed(out))
    return failure();
  double factor = *in / (*out * double(kernel[0] * kernel[1]));
  std::optional<unsigned> rshift = commonRshiftFor(factor);
  if (!rshift)
    return fail(op, "rescale factor exceeds 127 (output threshold too small)");
  // Truncated toward zero, as the vendor toolchain does.
  std::optional<Int8Scale> s =
      Int8Scale{static_cast<int64_t>(std::trunc(std::ldexp(factor, int(*rshift)))), *rshift};
  setQuant(op, "RSHIFT_AND_M_I8", {s->multiplier}, {int64_t(s->rshift)}, false);
  setResultInt8(op);
  return success();
}

// The result takes the input's threshold and is computed on the int8 values directly.
LogicalResult Quantizer::quantizeForward(Operation *op) {
  if (failed(requireActivations(op)))
    return failure();
  FailureOr<double> in = thresholdOf(op, op->getOperand(0));
  if (failed(in))
    return failure();
  forwardThreshold(op, *in);
  setQuant(op, "NONE", {}, {});
  setResultInt8(op);
  return success();
}

LogicalResult Quantizer::quantizePad(tpu::PadOp op) {
  if (failed(quantizeForward(op)))
    return failure();
  FailureOr<double> in = thresholdOf(op, op.getInput());
  double value = roundClamped(op.getConstVal().convertToDouble() * 127.0 / *in, -128, 127);
  op.setConstValAttr(builder.getF32FloatAttr(static_cast<float>(value)));
  return success();
}

LogicalResult Quantizer::quantizeLeakyRelu(tpu::LeakyReluOp op) {
  if (failed(requireActivations(op)))
    return failure();
  FailureOr<double> in = thresholdOf(op, op.getInput()), out = ownThreshold(op);
  if (failed(in) || failed(out))
    return failure();
  double slope = op.getNegativeSlope().convertToDouble();
  // The positive side is the identity (1, 0) when the thresholds agree, as in the vendor models.
  std::optional<Int8Scale> pos = *in == *out ? Int8Scale{1, 0} : int8ScaleFor(*in / *out);
  std::optional<Int8Scale> neg = int8ScaleFor(slope * *in / *out);
  if (!pos || !neg)
    return fail(op, "rescale factor exceeds 127 (output threshold too small)");
  setQuant(op, "RSHIFT_AND_M_I8", {pos->multiplier, neg->multiplier},
           {int64_t(pos->rshift), int64_t(neg->rshift)}, false);
  setResultInt8(op);
  return success();
}

LogicalResult Quantizer::quantizePRelu(tpu::PReluOp op) {
  Value input = op.getInput();
  if (cast<RankedTensorType>(input.getType()).getElementType() != i8)
    return fail(op, "input is not an int8 activation");
  auto slopeWeight = op.getSlope().getDefiningOp<tpu::LoadWeightOp>();
  if (!slopeWeight)
    return fail(op, "the slope must be a load_weight to be quantized");
  FailureOr<double> in = thresholdOf(op, input), out = ownThreshold(op);
  if (failed(in) || failed(out))
    return failure();
  auto slopes = edit.readF32(slopeWeight);
  if (!slopes)
    return fail(op, llvm::toString(slopes.takeError()));
  double maxAbs = 0;
  for (float s : *slopes)
    maxAbs = std::max(maxAbs, std::fabs(double(s) * *in / *out));
  std::optional<Int8Scale> pos = int8ScaleFor(*in / *out);
  std::optional<unsigned> negShift = commonRshiftFor(maxAbs);
  if (!pos || !negShift)
    return fail(op, "rescale factor exceeds 127 (output threshold too small)");
  std::vector<int8_t> negMultipliers;
  for (float s : *slopes)
    negMultipliers.push_back(static_cast<int8_t>(
        roundClamped(std::ldexp(double(s) * *in / *out, int(*negShift)), -127, 127)));
  builder.setInsertionPoint(op);
  auto shape = cast<RankedTensorType>(op.getSlope().getType()).getShape();
  op->setOperand(1, loadWeight(op.getLoc(), (op.getName() + "_quant_slope").str(), shape, i8, "|i1",
                               toBytes<int8_t>(negMultipliers)));
  if (slopeWeight->use_empty())
    slopeWeight->erase();
  setQuant(op, "RSHIFT_AND_M_I8", {pos->multiplier}, {int64_t(pos->rshift), int64_t(*negShift)},
           true);
  setResultInt8(op);
  return success();
}

LogicalResult Quantizer::quantizeLut(Operation *op, std::function<double(double)> f) {
  if (failed(requireActivations(op)))
    return failure();
  FailureOr<double> in = thresholdOf(op, op->getOperand(0)), out = ownThreshold(op);
  if (failed(in) || failed(out))
    return failure();
  std::vector<int8_t> table = makeInt8Table(*in, *out, f);
  std::string name = cast<tpu::TpuLayerOp>(op).getLayerName().str();
  builder.setInsertionPoint(op);
  Value tableValue =
      loadWeight(op->getLoc(), name + "_quant_lut", {256}, i8, "|i1", toBytes<int8_t>(table));
  auto type = cast<RankedTensorType>(op->getResult(0).getType());
  SmallVector<NamedAttribute> attrs;
  for (StringRef key : {"name", "layer_id", "quant"})
    if (Attribute value = op->getAttr(key))
      attrs.push_back(builder.getNamedAttr(key, value));
  auto lut = tpu::LutOp::create(builder, op->getLoc(),
                                TypeRange{RankedTensorType::get(type.getShape(), i8)},
                                ValueRange{op->getOperand(0), tableValue}, attrs);
  setQuant(lut, "LUT_INT8", {}, {}, false);
  op->getResult(0).replaceAllUsesWith(lut.getOutput());
  op->erase();
  return success();
}

LogicalResult Quantizer::quantizeConcat(tpu::ConcatOp op) {
  if (failed(requireActivations(op)))
    return failure();
  FailureOr<double> out = ownThreshold(op);
  if (failed(out))
    return failure();
  std::vector<int64_t> multipliers, rshifts;
  for (Value input : op.getInputs()) {
    FailureOr<double> thr = thresholdOf(op, input);
    if (failed(thr))
      return failure();
    if (*thr == *out) {
      multipliers.push_back(1);
      rshifts.push_back(0);
      continue;
    }
    std::optional<Int8Scale> s = int8ScaleFor(*thr / *out);
    if (!s)
      return fail(op, "an input rescale factor exceeds 127 (output threshold too small)");
    multipliers.push_back(s->multiplier);
    rshifts.push_back(s->rshift);
  }
  setQuant(op, "RSHIFT_AND_M_I8", multipliers, rshifts, false);
  setResultInt8(op);
  return success();
}

// Layers without an INT8 scheme run in fp32: int8 operands are dequantized before them and the
// result is quantized again (with the layer's threshold) for int8 consumers.
LogicalResult Quantizer::keepFp32(Operation *op) {
  builder.setInsertionPoint(op);
  std::string name = cast<tpu::TpuLayerOp>(op).getLayerName().str();
  for (OpOperand &operand : op->getOpOperands()) {
    auto type = dyn_cast<RankedTensorType>(operand.get().getType());
    if (!type || type.getElementType() != i8)
      continue;
    FailureOr<double> thr = thresholdOf(op, operand.get());
    if (failed(thr))
      return failure();
    tpu::QuantOp dequant =
        createQuantOp(op->getLoc(), operand.get(),
                      name + "_in" + std::to_string(operand.getOperandNumber()) + "_dequant",
                      "INT8", "FP32", *thr);
    operand.set(dequant.getOutput());
  }
  cast<tpu::TpuLayerOp>(op).setQuantField("mode", builder.getStringAttr("NONE"));
  Value result = op->getResult(0);
  bool hasLayerUser =
      llvm::any_of(result.getUsers(), [](Operation *user) { return !isa<func::ReturnOp>(user); });
  if (!hasLayerUser)
    return success();
  FailureOr<double> out = ownThreshold(op);
  if (failed(out))
    return failure();
  builder.setInsertionPointAfter(op);
  tpu::QuantOp quantOp = createQuantOp(op->getLoc(), result, name + "_quant", "FP32", "INT8", *out);
  result.replaceUsesWithIf(quantOp.getOutput(), [&](OpOperand &use) {
    return use.getOwner() != quantOp && !isa<func::ReturnOp>(use.getOwner());
  });
  fp32ToInt8.push_back(quantOp);
  return success();
}

// Plugin quantization: a custom op with do_quant = true is quantized by its plugin's
// quantizeInt8 (cvi/CustomOp.h) from the thresholds of its operands' producers and its own
// (threshold_overwrite was applied to them by --import-calibration-table). The plugin's param,
// with what quantizeInt8 added, replaces the op's `param`; its param type and per-channel flag
// go to the quant fields, mode INT8, and the result becomes int8. Other custom ops stay fp32.
LogicalResult Quantizer::quantizeCustomOp(tpu::CustomOp op) {
  if (!op.getDoQuant())
    return keepFp32(op);
  if (failed(requireActivations(op)))
    return failure();
  FailureOr<double> out = ownThreshold(op);
  if (failed(out))
    return failure();
  std::vector<float> inputs;
  for (Value operand : op.getInputs()) {
    FailureOr<double> thr = thresholdOf(op, operand);
    if (failed(thr))
      return failure();
    inputs.push_back(static_cast<float>(*thr));
  }
  StringRef overwrite = op.getThresholdOverwrite();
  if (overwrite != "none" && !inputs.empty() &&
      std::fabs(inputs[0] - *out) > 1e-6 * std::max(double(inputs[0]), *out))
    return fail(op, "threshold_overwrite = " + overwrite + " but its threshold " +
                        std::to_string(*out) + " differs from its input's " +
                        std::to_string(inputs[0]) +
                        "; import the calibration table with --import-calibration-table");
  if (!customOpPluginsLoaded) {
    customOpPluginsLoaded = true;
    for (const std::string &path : customOpPlugins) {
      std::string error;
      if (!customOpLibraries.add(path, error))
        return fail(op, error);
    }
  }
  cvi::OpParam param;
  std::string error;
  if (!sdk::toOpParam(op.getParam(), param, error))
    return fail(op, error);
  auto instance = customOpLibraries.create(op.getPluginOpName().str(), op.getName().str(), param,
                                           error, "--custom-op-plugin");
  if (!instance)
    return fail(op, error);
  sdk::QuantizeResult result;
  if (!instance->quantizeInt8(static_cast<float>(*out), inputs, result, error))
    return fail(op, error);
  op.setParamAttr(sdk::toDictionary(op.getContext(), result.param));
  setQuant(op, result.paramType.empty() ? "NONE" : result.paramType, {}, {}, result.perchannel);
  setResultInt8(op);
  return success();
}

// An fp32 value (a graph input, the result of an fp32 layer) is converted to INT8 for its users
// before they are quantized; the users that stay fp32 then convert it back
// (`<user>_in<k>_dequant`). Such a round trip only loses precision, so the fp32 users read the
// fp32 value directly, as in the vendor toolchain (a conversion only where the modes differ), and
// the INT8 conversion is kept only while INT8 users remain.
void Quantizer::foldFp32RoundTrips() {
  for (tpu::QuantOp quantOp : fp32ToInt8) {
    Value fp32 = quantOp.getInput();
    for (Operation *user : llvm::make_early_inc_range(quantOp.getOutput().getUsers())) {
      auto dequant = dyn_cast<tpu::QuantOp>(user);
      if (!dequant || dequant.getFrom() != "INT8" || dequant.getTo() != "FP32" ||
          dequant.getOutput().getType() != fp32.getType())
        continue;
      dequant.getOutput().replaceAllUsesWith(fp32);
      dequant->erase();
    }
    if (quantOp.getOutput().use_empty())
      quantOp->erase();
  }
  fp32ToInt8.clear();
}

LogicalResult Quantizer::dequantizeResults(func::FuncOp func) {
  for (Block &block : func.getBody()) {
    auto ret = dyn_cast<func::ReturnOp>(block.getTerminator());
    if (!ret)
      continue;
    builder.setInsertionPoint(ret);
    for (OpOperand &operand : ret->getOpOperands()) {
      auto type = dyn_cast<RankedTensorType>(operand.get().getType());
      if (!type || type.getElementType() != i8)
        continue;
      Operation *producer = operand.get().getDefiningOp();
      if (!producer)
        continue;
      FailureOr<double> thr = thresholdOf(ret, operand.get());
      if (failed(thr))
        return failure();
      tpu::QuantOp dequant =
          createQuantOp(ret.getLoc(), operand.get(), (layerName(producer) + "_dequant").str(),
                        "INT8", "FP32", *thr);
      operand.set(dequant.getOutput());
    }
  }
  return success();
}

double sigmoid(double x) { return 1.0 / (1.0 + std::exp(-x)); }

// sigmoid and softmax results lie in [0, 1]: their int8 form uses the threshold 1.0 whatever the
// calibration table says, as the vendor toolchain does (docs/quantization.md).
constexpr double kUnitRangeThreshold = 1.0;

LogicalResult Quantizer::run(func::FuncOp func) {
  SmallVector<Operation *> ops;
  func.walk([&](Operation *op) {
    if (isa<tpu::TpuLayerOp>(op))
      ops.push_back(op);
  });
  for (Operation *op : ops) {
    if (tpu::TpuLayerOp(op).getQuantMode() == "INT8" && isa<tpu::QuantOp, tpu::LutOp>(op))
      return fail(op, "the module is already quantized");
    if (isa<tpu::QuantOp>(op))
      continue;
    if (failed(ownThreshold(op)))
      return failure();
    if (DictionaryAttr quant = op->getAttrOfType<DictionaryAttr>("quant"))
      if (auto asym = quant.getAs<BoolAttr>("is_asymmetric"); asym && asym.getValue())
        return fail(op, "asymmetric quantization is not supported");
  }
  for (Operation *op : ops) {
    auto kernel = [](Operation *o) -> int64_t {
      auto shape = cast<RankedTensorType>(o->getOperand(1).getType()).getShape();
      int64_t n = 1;
      for (size_t i = 1; i < shape.size(); ++i)
        n *= shape[i];
      return n;
    };
    if (keepsInputThreshold(op) && !isa<tpu::PadOp>(op)) {
      if (failed(quantizeForward(op)))
        return failure();
      continue;
    }
    LogicalResult result =
        llvm::TypeSwitch<Operation *, LogicalResult>(op)
            .Case([&](tpu::InputOp o) { return quantizeInput(o); })
            .Case([&](tpu::Conv2DOp o) {
              int64_t perChannel = kernel(o);
              return quantizeWeighted(o, o.getFilter(), o.getBias(),
                                      o.getFilter().getType().getShape()[0],
                                      [=](int64_t i) { return i / perChannel; });
            })
            .Case([&](tpu::FullyConnectedOp o) {
              int64_t k = kernel(o);
              return quantizeWeighted(
                  o, o.getFilter(), o.getBias(), o.getFilter().getType().getShape()[0],
                  [=](int64_t i) { return i / k; }, /*sharedQdm=*/true);
            })
            .Case([&](tpu::DeConv2DOp o) {
              auto shape = o.getFilter().getType().getShape();
              int64_t group = o.getGroup(), perGroupOut = shape[1], khw = shape[2] * shape[3];
              int64_t inPerGroup = shape[0] / group;
              return quantizeWeighted(o, o.getFilter(), o.getBias(), perGroupOut * group,
                                      [=](int64_t i) {
                                        int64_t c = i / (perGroupOut * khw);
                                        int64_t local = (i / khw) % perGroupOut;
                                        return (c / inPerGroup) * perGroupOut + local;
                                      });
            })
            .Case([&](tpu::ScaleOp o) {
              return quantizeWeighted(o, o.getScale(), o.getBias(),
                                      o.getScale().getType().getNumElements(),
                                      [](int64_t i) { return i; });
            })
            .Case([&](tpu::MatMulOp o) { return quantizeMatMul(o); })
            .Case([&](tpu::EltwiseAddOp o) {
              std::vector<double> coeffs(o.getInputs().size(), 1.0);
              if (auto c = o.getCoeff())
                for (size_t i = 0; i < coeffs.size() && i < c->size(); ++i)
                  coeffs[i] = (*c)[i];
              return quantizeEltwiseRescale(o, coeffs);
            })
            .Case<tpu::EltwiseMaxOp, tpu::EltwiseMinOp>([&](Operation *o) {
              return quantizeEltwiseRescale(o, std::vector<double>(o->getNumOperands(), 1.0));
            })
            .Case([&](tpu::EltwiseMulOp o) { return quantizeEltwiseMul(o); })
            .Case([&](tpu::PoolAvg2DOp o) { return quantizeAvgPool(o); })
            .Case([&](tpu::PadOp o) { return quantizePad(o); })
            .Case([&](tpu::InterpOp o) { return keepFp32(o); }) // not nearest (above)
            .Case([&](tpu::LeakyReluOp o) { return quantizeLeakyRelu(o); })
            .Case([&](tpu::PReluOp o) { return quantizePRelu(o); })
            .Case([&](tpu::ConcatOp o) { return quantizeConcat(o); })
            .Case([&](tpu::SigmoidOp o) {
              forwardThreshold(o, kUnitRangeThreshold);
              return quantizeLut(o, sigmoid);
            })
            .Case([&](tpu::SoftmaxOp o) {
              forwardThreshold(o, kUnitRangeThreshold);
              return keepFp32(o);
            })
            .Case([&](tpu::TanHOp o) {
              return quantizeLut(o, [](double x) { return std::tanh(x); });
            })
            .Case(
                [&](tpu::ExpOp o) { return quantizeLut(o, [](double x) { return std::exp(x); }); })
            .Case([&](tpu::SqrtOp o) {
              return quantizeLut(o, [](double x) { return std::sqrt(x); });
            })
            .Case([&](tpu::ReciprocalOp o) {
              return quantizeLut(o, [](double x) { return 1.0 / x; });
            })
            .Case([&](tpu::SiLUOp o) {
              return quantizeLut(o, [](double x) { return x * sigmoid(x); });
            })
            .Case([&](tpu::MishOp o) {
              return quantizeLut(o,
                                 [](double x) { return x * std::tanh(std::log1p(std::exp(x))); });
            })
            .Case([&](tpu::HardSwishOp o) {
              return quantizeLut(
                  o, [](double x) { return x * std::min(std::max(x + 3.0, 0.0), 6.0) / 6.0; });
            })
            .Case([&](tpu::HardSigmoidOp o) {
              double alpha = o.getAlpha().convertToDouble(), beta = o.getBeta().convertToDouble();
              return quantizeLut(
                  o, [=](double x) { return std::max(0.0, std::min(1.0, alpha * x + beta)); });
            })
            .Case([&](tpu::ClipOp o) {
              double lo = o.getMin().convertToDouble(), hi = o.getMax().convertToDouble();
              return quantizeLut(o, [=](double x) { return std::min(std::max(x, lo), hi); });
            })
            .Case([&](tpu::PowerOp o) {
              double p = o.getPower().convertToDouble(), s = o.getScale().convertToDouble(),
                     t = o.getShift().convertToDouble();
              return quantizeLut(o, [=](double x) { return std::pow(t + s * x, p); });
            })
            .Case([&](tpu::CustomOp o) { return quantizeCustomOp(o); })
            .Case<tpu::QuantOp>([&](Operation *) { return success(); })
            .Default([&](Operation *o) { return keepFp32(o); });
    if (failed(result))
      return failure();
  }
  foldFp32RoundTrips();
  return dequantizeResults(func);
}

struct TpuQuantPass : tpuc::impl::TpuQuantBase<TpuQuantPass> {
  using Base::Base;

  void runOnOperation() override {
    ModuleOp module = getOperation();
    if (quantMode != "int8") {
      module.emitError("tpu-quant: quant-mode '")
          << quantMode << "' is not supported (supported: int8, symmetric)";
      return signalPassFailure();
    }
    WeightEdit edit(module);
    Quantizer quantizer(module, edit, perChannel);
    quantizer.customOpPlugins.assign(customOpPlugin.begin(), customOpPlugin.end());
    if (quantizer.customOpPlugins.empty())
      quantizer.customOpPlugins = sdk::commandLinePlugins();
    for (auto func : llvm::to_vector(module.getOps<func::FuncOp>()))
      if (failed(quantizer.run(func)))
        return signalPassFailure();
    if (!quantizer.stagedAny)
      return;
    if (llvm::Error error = edit.commit("int8", weightOutput)) {
      module.emitError("tpu-quant: ") << llvm::toString(std::move(error));
      return signalPassFailure();
    }
  }
};

} // namespace
