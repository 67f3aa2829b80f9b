//===- OpTranslation.cpp - tpu op -> kernel ---------------------------------===//

#include "dialect/interpreter/OpTranslation.h"
#include "dialect/interpreter/CustomOpRegistry.h"
#include "dialect/interpreter/Int8Kernels.h"
#include "dialect/interpreter/Kernels.h"

#include "dialect/TpuOps.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "llvm/ADT/STLExtras.h"
#include "llvm/ADT/StringSwitch.h"
#include "llvm/ADT/TypeSwitch.h"

#include "tpuc/Arith.h"

#include <array>

using namespace mlir;

namespace tpuc::interpreter {
namespace {

using KernelOrError = llvm::Expected<std::unique_ptr<Kernel>>;

llvm::Error error(const llvm::Twine &message) {
  return llvm::createStringError(llvm::inconvertibleErrorCode(), message);
}

template <size_t N>
llvm::Error copyArray(ArrayRef<int64_t> values, std::array<int64_t, N> &out, StringRef what) {
  if (values.size() != N)
    return error(llvm::Twine("expects ") + llvm::Twine(N) + " values in '" + what + "', got " +
                 llvm::Twine(values.size()));
  std::copy(values.begin(), values.end(), out.begin());
  return llvm::Error::success();
}

std::vector<int64_t> toVector(ArrayRef<int64_t> values) { return {values.begin(), values.end()}; }
std::vector<float> toVector(ArrayRef<float> values) { return {values.begin(), values.end()}; }

int64_t signedInt(IntegerAttr attr, int64_t fallback = 0) {
  return attr ? attr.getValue().getSExtValue() : fallback;
}

// Conv-like attributes shared by conv_2d and deconv_2d.
template <typename ConvOp> llvm::Expected<ConvParams> convParams(ConvOp op) {
  ConvParams p;
  if (auto err = copyArray(op.getStrides(), p.strides, "strides"))
    return std::move(err);
  if (auto err = copyArray(op.getPads(), p.pads, "pads"))
    return std::move(err);
  if (auto err = copyArray(op.getDilations(), p.dilations, "dilations"))
    return std::move(err);
  p.group = signedInt(op.getGroupAttr(), 1);
  p.hasBias = bool(op.getBias());
  p.doRelu = op.getDoRelu();
  return p;
}

template <typename PoolOp> llvm::Expected<PoolParams> poolParams(PoolOp op, PoolKind kind) {
  PoolParams p;
  p.kind = kind;
  if (auto err = copyArray(op.getKernelShape(), p.kernel, "kernel_shape"))
    return std::move(err);
  if (auto err = copyArray(op.getStrides(), p.strides, "strides"))
    return std::move(err);
  if (auto err = copyArray(op.getPads(), p.pads, "pads"))
    return std::move(err);
  p.ceilMode = op.getCeilMode();
  p.doRelu = op.getDoRelu();
  return p;
}

KernelOrError unary(UnaryKind kind, float a = 0, float b = 0, float c = 0) {
  return makeUnary(UnaryParams{kind, a, b, c});
}

KernelOrError eltwise(EltwiseKind kind, bool doRelu, std::vector<float> coeff = {}) {
  return makeEltwise(EltwiseParams{kind, std::move(coeff), doRelu});
}

llvm::Expected<NumberFormat> numberFormat(StringRef text) {
  std::string upper = text.upper();
  if (upper == "NONE" || upper == "FP32" || upper == "F32")
    return NumberFormat::Fp32;
  if (upper == "INT8")
    return NumberFormat::Int8;
  if (upper == "UINT8")
    return NumberFormat::Uint8;
  if (upper == "BF16")
    return NumberFormat::Bf16;
  return error("unknown number format '" + text + "' (expected NONE, FP32, INT8, UINT8 or BF16)");
}

KernelOrError interp(tpu::InterpOp op) {
  InterpParams p;
  StringRef mode = op.getMode();
  if (mode == "nearest")
    p.mode = ResizeMode::Nearest;
  else if (mode == "bilinear" || mode == "linear")
    p.mode = ResizeMode::Bilinear;
  else
    return error("unsupported mode '" + mode + "' (expected nearest or bilinear)");
  StringRef coordinates = op.getCoordinateTransformationMode();
  std::optional<CoordinateMode> coordinateMode =
      llvm::StringSwitch<std::optional<CoordinateMode>>(coordinates)
          .Case("half_pixel", CoordinateMode::HalfPixel)
          .Case("pytorch_half_pixel", CoordinateMode::PytorchHalfPixel)
          .Case("align_corners", CoordinateMode::AlignCorners)
          .Case("asymmetric", CoordinateMode::Asymmetric)
          .Default(std::nullopt);
  if (!coordinateMode)
    return error("unsupported coordinate_transformation_mode '" + coordinates +
                 "' (expected half_pixel, pytorch_half_pixel, align_corners or asymmetric)");
  p.coordinates = *coordinateMode;
  // ONNX's nearest_mode, round_prefer_floor unless the op carries a `nearest_mode` attribute.
  if (auto rounding = op->getAttrOfType<StringAttr>("nearest_mode")) {
    std::optional<NearestRounding> value =
        llvm::StringSwitch<std::optional<NearestRounding>>(rounding.getValue())
            .Case("round_prefer_floor", NearestRounding::RoundPreferFloor)
            .Case("round_prefer_ceil", NearestRounding::RoundPreferCeil)
            .Case("floor", NearestRounding::Floor)
            .Case("ceil", NearestRounding::Ceil)
            .Default(std::nullopt);
    if (!value)
      return error("unsupported nearest_mode '" + rounding.getValue() + "'");
    p.rounding = *value;
  }
  return makeInterp(p);
}

KernelOrError detectionOutput(tpu::DetectionOutputOp op) {
  DetectionOutputParams p;
  p.numClasses = signedInt(op.getNumClassesAttr());
  p.shareLocation = op.getShareLocation();
  p.backgroundLabelId = signedInt(op.getBackgroundLabelIdAttr());
  p.nmsThreshold = op.getNmsThreshold().convertToFloat();
  p.topK = signedInt(op.getTopKAttr(), -1);
  p.keepTopK = signedInt(op.getKeepTopKAttr(), -1);
  p.confidenceThreshold = op.getConfidenceThreshold().convertToFloat();
  StringRef code = op.getCodeType();
  if (code.ends_with("CENTER_SIZE"))
    p.coding = BoxCoding::CenterSize;
  else if (code.ends_with("CORNER_SIZE"))
    p.coding = BoxCoding::CornerSize;
  else if (code.ends_with("CORNER"))
    p.coding = BoxCoding::Corner;
  else
    return error("unsupported code_type '" + code +
                 "' (expected CENTER_SIZE, CORNER or "
                 "CORNER_SIZE)");
  return makeDetectionOutput(p);
}

// One entry of a custom op's `param` dictionary.
llvm::Expected<CustomParamValue> customParam(StringRef name, Attribute value) {
  using Kind = CustomParamValue::Kind;
  CustomParamValue v;
  auto addScalar = [&](Attribute element) -> bool {
    if (auto flag = dyn_cast<BoolAttr>(element)) {
      v.kind = Kind::Bool;
      v.bools.push_back(flag.getValue());
    } else if (auto integer = dyn_cast<IntegerAttr>(element)) {
      v.kind = Kind::Int;
      unsigned width =
          integer.getType().isIntOrIndex() ? integer.getType().getIntOrFloatBitWidth() : 64;
      v.intWidth = integer.getType().isIndex() ? 64 : width;
      v.ints.push_back(integer.getType().isUnsignedInteger()
                           ? int64_t(integer.getValue().getZExtValue())
                           : integer.getValue().getSExtValue());
    } else if (auto real = dyn_cast<FloatAttr>(element)) {
      v.kind = Kind::Float;
      v.floats.push_back(real.getValueAsDouble());
    } else if (auto text = dyn_cast<StringAttr>(element)) {
      v.kind = Kind::String;
      v.strings.push_back(text.getValue().str());
    } else {
      return false;
    }
    return true;
  };
  if (auto array = dyn_cast<ArrayAttr>(value)) {
    v.isArray = true;
    for (Attribute element : array)
      if (!addScalar(element))
        return error("param '" + name + "' holds an unsupported value");
    return v;
  }
  if (auto ints = dyn_cast<DenseI64ArrayAttr>(value)) {
    v = CustomParamValue{Kind::Int, true, 64, toVector(ints.asArrayRef())};
    return v;
  }
  if (auto ints = dyn_cast<DenseI32ArrayAttr>(value)) {
    v = CustomParamValue{Kind::Int, true, 32, {}};
    v.ints.assign(ints.asArrayRef().begin(), ints.asArrayRef().end());
    return v;
  }
  if (auto floats = dyn_cast<DenseF32ArrayAttr>(value)) {
    v.kind = Kind::Float;
    v.isArray = true;
    v.floats.assign(floats.asArrayRef().begin(), floats.asArrayRef().end());
    return v;
  }
  if (auto floats = dyn_cast<DenseF64ArrayAttr>(value)) {
    v.kind = Kind::Float;
    v.isArray = true;
    v.floats.assign(floats.asArrayRef().begin(), floats.asArrayRef().end());
    return v;
  }
  if (auto bools = dyn_cast<DenseBoolArrayAttr>(value)) {
    v.kind = Kind::Bool;
    v.isArray = true;
    v.bools.assign(bools.asArrayRef().begin(), bools.asArrayRef().end());
    return v;
  }
  if (!addScalar(value))
    return error("param '" + name + "' holds an unsupported value");
  return v;
}

KernelOrError customOp(tpu::CustomOp op, const std::shared_ptr<CustomOpRegistry> &customOps) {
  CustomOpParams params;
  params.operationName = op.getPluginOpName().str();
  if (params.operationName.empty())
    return error("has no 'operation_name' naming the plugin op that implements it");
  for (NamedAttribute entry : op.getParam()) {
    auto value = customParam(entry.getName().getValue(), entry.getValue());
    if (!value)
      return value.takeError();
    params.params.emplace_back(entry.getName().getValue().str(), std::move(*value));
  }
  if (tpu::detail::getQuantMode(op) == "INT8") {
    params.int8 = true;
    params.threshold = tpu::detail::getThreshold(op).value_or(0.0);
    for (Value operand : op->getOperands()) {
      Operation *producer = operand.getDefiningOp();
      params.operandThresholds.push_back(
          producer ? tpu::detail::getThreshold(producer).value_or(0.0) : 0.0);
    }
  }
  return makeCustomOp(std::move(params), customOps);
}

KernelOrError translateFp32(Operation *op, const std::shared_ptr<CustomOpRegistry> &customOps) {
  return llvm::TypeSwitch<Operation *, KernelOrError>(op)
      .Case([](tpu::InputOp) { return makeIdentity(); })
      .Case([](tpu::Conv2DOp op) -> KernelOrError {
        auto p = convParams(op);
        if (!p)
          return p.takeError();
        return makeConv2D(*p);
      })
      .Case([](tpu::DeConv2DOp op) -> KernelOrError {
        auto p = convParams(op);
        if (!p)
          return p.takeError();
        if (auto err = copyArray(op.getOutputPadding(), p->outputPadding, "output_padding"))
          return std::move(err);
        return makeDeconv2D(*p);
      })
      .Case([](tpu::FullyConnectedOp op) {
        return makeFullyConnected(bool(op.getBias()), op.getDoRelu());
      })
      .Case([](tpu::MatMulOp op) { return makeMatMul(op.getDoRelu()); })
      .Case([](tpu::PoolMax2DOp op) -> KernelOrError {
        auto p = poolParams(op, PoolKind::Max);
        if (!p)
          return p.takeError();
        return makePool2D(*p);
      })
      .Case([](tpu::PoolAvg2DOp op) -> KernelOrError {
        auto p = poolParams(op, PoolKind::Average);
        if (!p)
          return p.takeError();
        p->countIncludePad = op.getCountIncludePad();
        return makePool2D(*p);
      })
      // Unary activations.
      .Case([](tpu::ReluOp) { return unary(UnaryKind::Relu); })
      .Case([](tpu::SigmoidOp) { return unary(UnaryKind::Sigmoid); })
      .Case([](tpu::TanHOp) { return unary(UnaryKind::TanH); })
      .Case([](tpu::SqrtOp) { return unary(UnaryKind::Sqrt); })
      .Case([](tpu::ReciprocalOp) { return unary(UnaryKind::Reciprocal); })
      .Case([](tpu::ExpOp) { return unary(UnaryKind::Exp); })
      .Case([](tpu::MishOp) { return unary(UnaryKind::Mish); })
      .Case([](tpu::SiLUOp) { return unary(UnaryKind::SiLU); })
      .Case([](tpu::HardSwishOp) { return unary(UnaryKind::HardSwish); })
      .Case([](tpu::HardSigmoidOp op) {
        return unary(UnaryKind::HardSigmoid, op.getAlpha().convertToFloat(),
                     op.getBeta().convertToFloat());
      })
      .Case([](tpu::LeakyReluOp op) {
        return unary(UnaryKind::LeakyRelu, op.getNegativeSlope().convertToFloat());
      })
      .Case([](tpu::ClipOp op) {
        return unary(UnaryKind::Clip, op.getMin().convertToFloat(), op.getMax().convertToFloat());
      })
      .Case([](tpu::PowerOp op) {
        return unary(UnaryKind::Power, op.getPower().convertToFloat(),
                     op.getScale().convertToFloat(), op.getShift().convertToFloat());
      })
      // Element-wise over several operands.
      .Case([](tpu::EltwiseAddOp op) {
        std::vector<float> coeff;
        if (auto values = op.getCoeff())
          coeff = toVector(*values);
        return eltwise(EltwiseKind::Add, op.getDoRelu(), std::move(coeff));
      })
      .Case([](tpu::EltwiseMulOp op) { return eltwise(EltwiseKind::Mul, op.getDoRelu()); })
      .Case([](tpu::EltwiseMaxOp op) { return eltwise(EltwiseKind::Max, op.getDoRelu()); })
      .Case([](tpu::EltwiseMinOp op) { return eltwise(EltwiseKind::Min, op.getDoRelu()); })
      .Case([](tpu::BroadcastMulOp op) {
        return makeBroadcastMul(signedInt(op.getAxisAttr(), 1), op.getDoRelu());
      })
      // Per-channel and normalization layers.
      .Case([](tpu::BatchNormOp op) { return makeBatchNorm(op.getEpsilon().convertToFloat()); })
      .Case([](tpu::ScaleOp op) { return makeScale(bool(op.getBias()), op.getDoRelu()); })
      .Case([](tpu::PReluOp) { return makePRelu(); })
      .Case([](tpu::LrnOp op) {
        return makeLrn(LrnParams{signedInt(op.getLocalSizeAttr()), op.getAlpha().convertToFloat(),
                                 op.getBeta().convertToFloat(), op.getK().convertToFloat(), 0});
      })
      .Case([](tpu::LrnPartOp op) -> KernelOrError {
        int64_t part = signedInt(op.getPartAttr());
        if (part < 1 || part > 3)
          return error("part must be 1, 2 or 3, got " + llvm::Twine(part));
        return makeLrn(LrnParams{signedInt(op.getLocalSizeAttr()), op.getAlpha().convertToFloat(),
                                 op.getBeta().convertToFloat(), op.getK().convertToFloat(), part});
      })
      .Case([](tpu::NormalizeOp op) {
        return makeNormalize(NormalizeParams{op.getAcrossSpatial(), op.getChannelShared(),
                                             op.getEps().convertToFloat()});
      })
      .Case([](tpu::SoftmaxOp op) { return makeSoftmax(signedInt(op.getAxisAttr())); })
      .Case([](tpu::ReduceMeanOp op) {
        return makeReduceMean(toVector(op.getAxes()), op.getKeepdims());
      })
      .Case([](tpu::ArgMaxOp op) { return makeArgMax(signedInt(op.getAxisAttr())); })
      // Data movement.
      .Case([](tpu::ConcatOp op) { return makeConcat(signedInt(op.getAxisAttr())); })
      .Case([](tpu::ReshapeOp) { return makeReshape(); })
      .Case([](tpu::PermuteOp op) { return makePermute(toVector(op.getOrder())); })
      .Case([](tpu::SliceOp op) {
        return makeSlice(toVector(op.getOffsets()), toVector(op.getSteps()));
      })
      .Case([](tpu::CropOp op) { return makeCrop(toVector(op.getOffsets())); })
      .Case([](tpu::PadOp op) -> KernelOrError {
        StringRef mode = op.getMode();
        std::optional<PadMode> padMode = llvm::StringSwitch<std::optional<PadMode>>(mode)
                                             .Case("constant", PadMode::Constant)
                                             .Case("reflect", PadMode::Reflect)
                                             .Case("edge", PadMode::Edge)
                                             .Default(std::nullopt);
        if (!padMode)
          return error("unsupported mode '" + mode + "' (expected constant, reflect or edge)");
        return makePad(toVector(op.getPads()), op.getConstVal().convertToFloat(), *padMode);
      })
      .Case([](tpu::UpsampleOp op) {
        return makeUpsample(signedInt(op.getScaleHAttr()), signedInt(op.getScaleWAttr()));
      })
      .Case([](tpu::InterpOp op) { return interp(op); })
      .Case([](tpu::PixelShuffleOp op) -> KernelOrError {
        StringRef mode = op.getMode();
        if (mode != "DCR" && mode != "CRD")
          return error("unsupported mode '" + mode + "' (expected DCR or CRD)");
        return makePixelShuffle(signedInt(op.getUpscaleFactorAttr()), mode == "CRD");
      })
      .Case([](tpu::ReorgOp op) { return makeReorg(signedInt(op.getStrideAttr())); })
      .Case(
          [](tpu::ShuffleChannelOp op) { return makeShuffleChannel(signedInt(op.getGroupAttr())); })
      // Preprocessing, quantization, detection.
      .Case([](tpu::PreprocessOp op) {
        return makePreprocess(PreprocessParams{toVector(op.getChannelOrder()),
                                               toVector(op.getMean()), toVector(op.getScale())});
      })
      .Case([](tpu::QuantOp op) -> KernelOrError {
        auto from = numberFormat(op.getFrom());
        if (!from)
          return from.takeError();
        auto to = numberFormat(op.getTo());
        if (!to)
          return to.takeError();
        QuantParams p{*from, *to, op.getScale().convertToFloat(), signedInt(op.getZeroPointAttr())};
        // INT8 -> FP32 runs on the TPU with its bf16 cast, for a function result as for an
        // operand of an fp32 layer (docs/backend.md "Where ops run", docs/quantization.md).
        if (*from == NumberFormat::Int8 && *to == NumberFormat::Fp32 && p.zeroPoint == 0) {
          p.bf16OutputCast = true;
          std::optional<double> threshold = tpu::detail::getThreshold(op);
          p.outputStep = threshold && *threshold > 0 ? float(*threshold / 127.0) : 1.0f / p.scale;
        }
        return makeQuant(p);
      })
      .Case([](tpu::LutOp op) {
        Type element = cast<ShapedType>(op.getInput().getType()).getElementType();
        bool isUnsigned = element.isUnsignedInteger();
        return makeLut(!isUnsigned, bool(op.getMantissa()));
      })
      .Case([](tpu::DetectionOutputOp op) { return detectionOutput(op); })
      .Case([&](tpu::CustomOp op) { return customOp(op, customOps); })
      .Default([](Operation *op) -> KernelOrError {
        return error("unsupported operation '" + op->getName().getStringRef() +
                     "': the fp32 interpreter has no kernel for it");
      });
}

//===----------------------------------------------------------------------===//
// INT8 layers (docs/quantization.md)
//===----------------------------------------------------------------------===//

// i8 (signless or signed) results: int8 codes. ui8 is no INT8 activation type.
bool hasInt8Result(Operation *op) {
  if (op->getNumResults() != 1)
    return false;
  auto type = dyn_cast<ShapedType>(op->getResult(0).getType());
  return type &&
         (type.getElementType().isSignlessInteger(8) || type.getElementType().isSignedInteger(8));
}

// The integers of a quant field: array<i64: ...>, array<i32: ...>, [1, 2] or a single integer.
llvm::Expected<std::vector<int64_t>> quantIntegers(Operation *op, StringRef key) {
  std::vector<int64_t> values;
  auto quant = op->getAttrOfType<DictionaryAttr>("quant");
  Attribute attr = quant ? quant.get(key) : Attribute();
  if (!attr)
    return values;
  if (auto ints = dyn_cast<DenseI64ArrayAttr>(attr))
    return toVector(ints.asArrayRef());
  if (auto ints = dyn_cast<DenseI32ArrayAttr>(attr)) {
    values.assign(ints.asArrayRef().begin(), ints.asArrayRef().end());
    return values;
  }
  if (auto integer = dyn_cast<IntegerAttr>(attr)) {
    values.push_back(integer.getValue().getSExtValue());
    return values;
  }
  if (auto array = dyn_cast<ArrayAttr>(attr)) {
    for (Attribute element : array) {
      auto integer = dyn_cast<IntegerAttr>(element);
      if (!integer)
        return error("quant." + key + " must hold integers");
      values.push_back(integer.getValue().getSExtValue());
    }
    return values;
  }
  return error("quant." + key + " must be an integer array");
}

StringRef quantParamType(Operation *op) {
  if (auto quant = op->getAttrOfType<DictionaryAttr>("quant"))
    if (auto type = quant.getAs<StringAttr>("param_type"))
      return type.getValue();
  return "NONE";
}

bool quantIsPerChannel(Operation *op) {
  if (auto quant = op->getAttrOfType<DictionaryAttr>("quant"))
    if (auto flag = quant.getAs<BoolAttr>("is_perchannel"))
      return flag.getValue();
  return false;
}

llvm::Error expectParamType(Operation *op, ArrayRef<StringRef> allowed) {
  StringRef type = quantParamType(op);
  if (llvm::is_contained(allowed, type))
    return llvm::Error::success();
  std::string names;
  for (StringRef name : allowed)
    names += (names.empty() ? "" : " or ") + name.str();
  return error("INT8 layer has quant.param_type '" + type + "'; expected " + names);
}

// The exact integers of the weight array behind `value` (a tpu.load_weight).
llvm::Expected<std::vector<int64_t>> integerWeight(Value value, StringRef what,
                                                   const IntegerArrayLookup &integerArrays) {
  auto weight = value.getDefiningOp<tpu::LoadWeightOp>();
  if (!weight)
    return error("the " + what + " of an INT8 layer must be a tpu.load_weight");
  auto found = integerArrays(weight.getName());
  if (!found)
    return found.takeError();
  if (!*found)
    return error("the " + what + " '" + weight.getName() +
                 "' is not an integer array of the weight file");
  return **found;
}

// Requantization and exact bias of conv_2d, deconv_2d, fully_connected and scale. Per channel,
// `<name>_quant_chan_param` (the records code generation loads) is used when the weight file has
// it, and must agree with the op's multiplier, rshift and bias.
llvm::Error accumulatorParams(Operation *op, Value bias, int64_t channels, bool doRelu,
                              const IntegerArrayLookup &integerArrays, Int8Requant &requant,
                              std::vector<int64_t> &biasValues) {
  if (auto err = expectParamType(op, {"RSHIFT_AND_M_I32", "RSHIFT_ONLY"}))
    return err;
  requant.kind =
      quantParamType(op) == "RSHIFT_ONLY" ? Int8RequantKind::RshiftOnly : Int8RequantKind::Qdm;
  requant.doRelu = doRelu;
  auto multiplier = quantIntegers(op, "multiplier");
  if (!multiplier)
    return multiplier.takeError();
  auto rshift = quantIntegers(op, "rshift");
  if (!rshift)
    return rshift.takeError();
  requant.multiplier = std::move(*multiplier);
  requant.rshift = std::move(*rshift);
  if (bias) {
    auto values = integerWeight(bias, "bias", integerArrays);
    if (!values)
      return values.takeError();
    biasValues = std::move(*values);
  }
  if (requant.kind != Int8RequantKind::Qdm || !quantIsPerChannel(op))
    return llvm::Error::success();
  std::string name = tpu::detail::getLayerName(op).str() + "_quant_chan_param";
  auto records = integerArrays(name);
  if (!records)
    return records.takeError();
  if (!*records)
    return llvm::Error::success();
  const std::vector<int64_t> &bytes = **records;
  if (int64_t(bytes.size()) != channels * 9)
    return error("'" + name + "' has " + llvm::Twine(bytes.size()) + " bytes; expected " +
                 llvm::Twine(channels) + " records of 9");
  std::vector<int64_t> recordBias, recordMultiplier, recordShift;
  for (int64_t c = 0; c < channels; ++c) {
    uint8_t record[9];
    for (int i = 0; i < 9; ++i)
      record[i] = uint8_t(bytes[c * 9 + i]);
    arith::QdmChannelParams q = arith::readQdmChannelParams(record);
    recordBias.push_back(q.bias);
    recordMultiplier.push_back(q.multiplier);
    recordShift.push_back(q.rshift);
  }
  auto agrees = [](const std::vector<int64_t> &given, const std::vector<int64_t> &records) {
    return given.empty() || given == records;
  };
  if (!agrees(requant.multiplier, recordMultiplier) || !agrees(requant.rshift, recordShift) ||
      !agrees(biasValues, recordBias))
    return error("'" + name + "' disagrees with the layer's quant.multiplier, quant.rshift or " +
                 "bias");
  requant.multiplier = std::move(recordMultiplier);
  requant.rshift = std::move(recordShift);
  biasValues = std::move(recordBias);
  return llvm::Error::success();
}

llvm::Expected<std::pair<int64_t, int64_t>> singlePair(Operation *op, size_t index = 0,
                                                       size_t multiplierIndex = 0) {
  auto multiplier = quantIntegers(op, "multiplier");
  if (!multiplier)
    return multiplier.takeError();
  auto rshift = quantIntegers(op, "rshift");
  if (!rshift)
    return rshift.takeError();
  if (multiplier->size() <= multiplierIndex || rshift->size() <= index)
    return error("INT8 layer needs quant.multiplier and quant.rshift (" +
                 llvm::Twine(multiplierIndex + 1) + " and " + llvm::Twine(index + 1) +
                 " entries at least)");
  return std::make_pair((*multiplier)[multiplierIndex], (*rshift)[index]);
}

KernelOrError int8Eltwise(Operation *op, EltwiseKind kind, bool doRelu) {
  if (auto err = expectParamType(
          op, {kind == EltwiseKind::Mul ? StringRef("RSHIFT_AND_M_I32") : "RSHIFT_AND_M_I8"}))
    return std::move(err);
  Int8EltwiseParams p;
  p.kind = kind;
  p.doRelu = doRelu;
  auto multiplier = quantIntegers(op, "multiplier");
  if (!multiplier)
    return multiplier.takeError();
  auto rshift = quantIntegers(op, "rshift");
  if (!rshift)
    return rshift.takeError();
  p.multiplier = std::move(*multiplier);
  p.rshift = std::move(*rshift);
  return makeInt8Eltwise(p);
}

template <typename ConvOp>
KernelOrError int8Conv(ConvOp op, int64_t channels, const IntegerArrayLookup &integerArrays,
                       bool deconv) {
  auto p = convParams(op);
  if (!p)
    return p.takeError();
  if constexpr (std::is_same_v<ConvOp, tpu::DeConv2DOp>)
    if (auto err = copyArray(op.getOutputPadding(), p->outputPadding, "output_padding"))
      return std::move(err);
  Int8Requant requant;
  std::vector<int64_t> bias;
  if (auto err =
          accumulatorParams(op, op.getBias(), channels, p->doRelu, integerArrays, requant, bias))
    return std::move(err);
  return deconv ? makeInt8Deconv2D(*p, std::move(requant), std::move(bias))
                : makeInt8Conv2D(*p, std::move(requant), std::move(bias));
}

// Layers that only move, select or compare int8 codes: their fp32 kernels are exact on codes.
bool movesCodes(Operation *op) {
  if (auto interp = dyn_cast<tpu::InterpOp>(op))
    return interp.getMode() == "nearest";
  return isa<tpu::PoolMax2DOp, tpu::ReluOp, tpu::ReshapeOp, tpu::PermuteOp, tpu::SliceOp,
             tpu::CropOp, tpu::PadOp, tpu::UpsampleOp, tpu::PixelShuffleOp, tpu::ReorgOp,
             tpu::ShuffleChannelOp>(op);
}

KernelOrError translateInt8(Operation *op, const std::shared_ptr<CustomOpRegistry> &customOps,
                            const IntegerArrayLookup &integerArrays) {
  auto shapeOf = [](Value value) { return cast<ShapedType>(value.getType()).getShape(); };
  return llvm::TypeSwitch<Operation *, KernelOrError>(op)
      .Case([&](tpu::Conv2DOp op) {
        return int8Conv(op, shapeOf(op.getFilter())[0], integerArrays, false);
      })
      .Case([&](tpu::DeConv2DOp op) {
        return int8Conv(op, shapeOf(op.getFilter())[1] * signedInt(op.getGroupAttr(), 1),
                        integerArrays, true);
      })
      .Case([&](tpu::FullyConnectedOp op) -> KernelOrError {
        Int8Requant requant;
        std::vector<int64_t> bias;
        if (auto err = accumulatorParams(op, op.getBias(), shapeOf(op.getFilter())[0],
                                         op.getDoRelu(), integerArrays, requant, bias))
          return std::move(err);
        return makeInt8FullyConnected(bool(op.getBias()), std::move(requant), std::move(bias));
      })
      .Case([&](tpu::ScaleOp op) -> KernelOrError {
        Int8Requant requant;
        std::vector<int64_t> bias;
        if (auto err = accumulatorParams(op, op.getBias(),
                                         cast<ShapedType>(op.getScale().getType()).getNumElements(),
                                         op.getDoRelu(), integerArrays, requant, bias))
          return std::move(err);
        return makeInt8Scale(bool(op.getBias()), std::move(requant), std::move(bias));
      })
      .Case([&](tpu::MatMulOp op) -> KernelOrError {
        Int8Requant requant;
        std::vector<int64_t> bias;
        if (auto err =
                accumulatorParams(op, Value(), 1, op.getDoRelu(), integerArrays, requant, bias))
          return std::move(err);
        return makeInt8MatMul(std::move(requant));
      })
      .Case([](tpu::EltwiseAddOp op) { return int8Eltwise(op, EltwiseKind::Add, op.getDoRelu()); })
      .Case([](tpu::EltwiseMaxOp op) { return int8Eltwise(op, EltwiseKind::Max, op.getDoRelu()); })
      .Case([](tpu::EltwiseMinOp op) { return int8Eltwise(op, EltwiseKind::Min, op.getDoRelu()); })
      .Case([](tpu::EltwiseMulOp op) { return int8Eltwise(op, EltwiseKind::Mul, op.getDoRelu()); })
      .Case([](tpu::PoolAvg2DOp op) -> KernelOrError {
        if (auto err = expectParamType(op, {"RSHIFT_AND_M_I8"}))
          return std::move(err);
        auto p = poolParams(op, PoolKind::Average);
        if (!p)
          return p.takeError();
        p->countIncludePad = op.getCountIncludePad();
        auto pair = singlePair(op);
        if (!pair)
          return pair.takeError();
        return makeInt8AvgPool(*p, pair->first, pair->second);
      })
      .Case([](tpu::LeakyReluOp op) -> KernelOrError {
        if (auto err = expectParamType(op, {"RSHIFT_AND_M_I8"}))
          return std::move(err);
        auto pos = singlePair(op, 0, 0);
        if (!pos)
          return pos.takeError();
        auto neg = singlePair(op, 1, 1);
        if (!neg)
          return neg.takeError();
        return makeInt8LeakyRelu(pos->first, pos->second, neg->first, neg->second);
      })
      .Case([](tpu::PReluOp op) -> KernelOrError {
        if (auto err = expectParamType(op, {"RSHIFT_AND_M_I8"}))
          return std::move(err);
        auto pos = singlePair(op, 0, 0);
        if (!pos)
          return pos.takeError();
        auto neg = singlePair(op, 1, 0);
        if (!neg)
          return neg.takeError();
        return makeInt8PRelu(pos->first, pos->second, neg->second);
      })
      .Case([](tpu::ConcatOp op) -> KernelOrError {
        if (auto err = expectParamType(op, {"RSHIFT_AND_M_I8"}))
          return std::move(err);
        auto multiplier = quantIntegers(op, "multiplier");
        if (!multiplier)
          return multiplier.takeError();
        auto rshift = quantIntegers(op, "rshift");
        if (!rshift)
          return rshift.takeError();
        return makeInt8Concat(signedInt(op.getAxisAttr()), std::move(*multiplier),
                              std::move(*rshift));
      })
      .Case([&](tpu::CustomOp op) { return customOp(op, customOps); })
      .Default([&](Operation *op) -> KernelOrError {
        if (movesCodes(op)) {
          if (auto err = expectParamType(op, {"NONE"}))
            return std::move(err);
          return translateFp32(op, customOps);
        }
        return error("'" + op->getName().getStringRef() +
                     "' with an int8 result has no INT8 kernel in the interpreter");
      });
}

} // namespace

KernelOrError translateOp(Operation *op, const std::shared_ptr<CustomOpRegistry> &customOps,
                          const IntegerArrayLookup &integerArrays) {
  bool int8Layer = hasInt8Result(op) && !isa<tpu::InputOp, tpu::QuantOp, tpu::LutOp>(op);
  if (int8Layer || (isa<tpu::CustomOp>(op) && tpu::detail::getQuantMode(op) == "INT8"))
    return translateInt8(op, customOps, integerArrays);
  return translateFp32(op, customOps);
}

double int8Step(Operation *op) {
  if (!hasInt8Result(op))
    return 0.0;
  if (std::optional<double> threshold = tpu::detail::getThreshold(op); threshold && *threshold > 0)
    return *threshold / 127.0;
  if (auto quant = dyn_cast<tpu::QuantOp>(op))
    if (float scale = quant.getScale().convertToFloat(); scale > 0)
      return 1.0 / double(scale);
  return 0.0;
}

} // namespace tpuc::interpreter
