//===- TpuOps.cpp - operations of the tpu dialect -------------------------===//
#include "dialect/TpuOps.h"

#include "mlir/IR/Builders.h"
#include "llvm/ADT/STLExtras.h"
#include "llvm/ADT/StringExtras.h"
#include "llvm/ADT/StringSwitch.h"

using namespace mlir;
using namespace tpuc::tpu;

//===----------------------------------------------------------------------===//
// TpuLayerOp: name, layer id and quantization state
//===----------------------------------------------------------------------===//

namespace tpuc::tpu::detail {

llvm::StringRef getLayerName(Operation *op) {
  if (auto name = op->getAttrOfType<StringAttr>("name"))
    return name.getValue();
  return {};
}

int64_t getLayerId(Operation *op) {
  if (auto id = op->getAttrOfType<IntegerAttr>("layer_id"))
    return id.getInt();
  return -1;
}

void setLayerId(Operation *op, int64_t id) {
  op->setAttr("layer_id", IntegerAttr::get(IntegerType::get(op->getContext(), 64), id));
}

static DictionaryAttr getQuant(Operation *op) {
  return op->getAttrOfType<DictionaryAttr>("quant");
}

llvm::StringRef getQuantMode(Operation *op) {
  if (DictionaryAttr quant = getQuant(op))
    if (auto mode = quant.getAs<StringAttr>("mode"))
      return mode.getValue();
  return "NONE";
}

std::optional<double> getThreshold(Operation *op) {
  if (DictionaryAttr quant = getQuant(op))
    if (auto thr = quant.getAs<FloatAttr>("threshold_max"))
      return thr.getValueAsDouble();
  return std::nullopt;
}

void setQuantField(Operation *op, llvm::StringRef key, Attribute value) {
  NamedAttrList fields;
  if (DictionaryAttr quant = getQuant(op))
    fields.append(quant.getValue());
  fields.set(key, value);
  op->setAttr("quant", fields.getDictionary(op->getContext()));
}

static bool isIntegerArray(Attribute attr) {
  if (isa<DenseI64ArrayAttr, DenseI32ArrayAttr>(attr))
    return true;
  auto array = dyn_cast<ArrayAttr>(attr);
  return array && llvm::all_of(array, [](Attribute a) { return isa<IntegerAttr>(a); });
}

// Checks one entry of a `quant` dictionary: known key, value of the right kind.
static LogicalResult verifyQuantEntry(Operation *op, NamedAttribute entry) {
  StringRef key = entry.getName().getValue();
  Attribute value = entry.getValue();
  auto expectString = [&](ArrayRef<StringRef> allowed) -> LogicalResult {
    auto str = dyn_cast<StringAttr>(value);
    if (str && llvm::is_contained(allowed, str.getValue()))
      return success();
    return op->emitOpError("quant.") << key << " must be one of " << llvm::join(allowed, ", ")
                                     << ", got " << value;
  };
  if (key == "mode")
    return expectString({"NONE", "INT8", "BF16"});
  if (key == "param_type")
    return expectString({"NONE", "THRESHOLD", "SCALE", "RSHIFT_ONLY", "RSHIFT_AND_M_I8",
                         "RSHIFT_AND_M_I32", "LUT_INT8", "LUT_BF16"});
  if (key == "threshold_max" || key == "threshold_min") {
    if (!isa<FloatAttr>(value))
      return op->emitOpError("quant.") << key << " must be a float, got " << value;
    return success();
  }
  if (key == "is_perchannel" || key == "is_asymmetric") {
    if (!isa<BoolAttr>(value))
      return op->emitOpError("quant.") << key << " must be a bool, got " << value;
    return success();
  }
  if (key == "zero_point") {
    if (!isa<IntegerAttr>(value))
      return op->emitOpError("quant.") << key << " must be an integer, got " << value;
    return success();
  }
  if (key == "rshift" || key == "multiplier") {
    if (!isIntegerArray(value))
      return op->emitOpError("quant.") << key << " must be an array of integers, got " << value;
    return success();
  }
  return op->emitOpError("quant has unknown field '")
         << key
         << "' (expected mode, param_type, threshold_max, threshold_min, is_perchannel, "
            "is_asymmetric, zero_point, rshift, multiplier)";
}

LogicalResult verifyLayerOp(Operation *op) {
  if (getLayerName(op).empty())
    return op->emitOpError("requires a non-empty 'name' (the layer's tensor name)");
  if (auto id = op->getAttrOfType<IntegerAttr>("layer_id"); id && id.getInt() < 0)
    return op->emitOpError("layer_id must be >= 0, got ") << id.getInt();
  if (DictionaryAttr quant = getQuant(op))
    for (NamedAttribute entry : quant)
      if (failed(verifyQuantEntry(op, entry)))
        return failure();
  return success();
}

} // namespace tpuc::tpu::detail

#include "dialect/TpuInterfaces.cpp.inc"

//===----------------------------------------------------------------------===//
// Op verifiers
//===----------------------------------------------------------------------===//

LogicalResult LoadWeightOp::verify() {
  if (getName().empty())
    return emitOpError("requires a non-empty 'name' (the array name in the weight file)");
  return success();
}

LogicalResult Conv2DOp::verify() {
  auto inputType = cast<RankedTensorType>(getInput().getType());
  auto filterType = cast<RankedTensorType>(getFilter().getType());
  auto outputType = cast<RankedTensorType>(getOutput().getType());
  if (inputType.getRank() != 4)
    return emitOpError("input must be NCHW (rank 4), got rank ") << inputType.getRank();
  if (filterType.getRank() != 4)
    return emitOpError("filter must be OIHW (rank 4), got rank ") << filterType.getRank();
  if (outputType.getRank() != 4)
    return emitOpError("output must be NCHW (rank 4), got rank ") << outputType.getRank();
  if (getStrides().size() != 2 || getDilations().size() != 2 || getPads().size() != 4)
    return emitOpError("expects 2 strides, 2 dilations and 4 pads [top, left, bottom, right]");
  if (llvm::any_of(getStrides(), [](int64_t s) { return s <= 0; }) ||
      llvm::any_of(getDilations(), [](int64_t d) { return d <= 0; }))
    return emitOpError("strides and dilations must be positive");
  if (llvm::any_of(getPads(), [](int64_t p) { return p < 0; }))
    return emitOpError("pads must be non-negative");
  int64_t group = getGroup();
  ArrayRef<int64_t> in = inputType.getShape(), filter = filterType.getShape();
  if (group <= 0 || in[1] % group != 0 || filter[0] % group != 0)
    return emitOpError("group ") << group << " must divide input channels " << in[1]
                                 << " and output channels " << filter[0];
  if (filter[1] != in[1] / group)
    return emitOpError("filter expects ")
           << filter[1] << " input channels per group, but input has " << in[1] << " channels in "
           << group << " group(s)";
  if (Value bias = getBias()) {
    auto biasType = cast<RankedTensorType>(bias.getType());
    if (biasType.getNumElements() != filter[0])
      return emitOpError("bias must have ") << filter[0] << " elements (one per output channel), got "
                                            << biasType.getNumElements();
  }
  int64_t expected[4] = {in[0], filter[0], 0, 0};
  for (int i = 0; i < 2; ++i) {
    int64_t padded = in[2 + i] + getPads()[i] + getPads()[i + 2];
    int64_t extent = getDilations()[i] * (filter[2 + i] - 1) + 1;
    if (padded < extent)
      return emitOpError("kernel extent ") << extent << " exceeds padded input " << padded;
    expected[2 + i] = (padded - extent) / getStrides()[i] + 1;
  }
  if (outputType.getShape() != ArrayRef<int64_t>(expected))
    return emitOpError("output shape must be [")
           << llvm::make_range(expected, expected + 4) << "], got [" << outputType.getShape()
           << "]";
  return success();
}

//===----------------------------------------------------------------------===//
// CustomOp
//===----------------------------------------------------------------------===//

// A plugin parameter is an integer, float, bool or string, or an array of one of those kinds.
static bool isScalarParam(Attribute attr) {
  return isa<IntegerAttr, FloatAttr, BoolAttr, StringAttr>(attr);
}

static StringRef paramKind(Attribute attr) {
  if (isa<BoolAttr>(attr))
    return "bool";
  if (isa<IntegerAttr>(attr))
    return "int";
  if (isa<FloatAttr>(attr))
    return "float";
  return "str";
}

LogicalResult CustomOp::verify() {
  if (getName().empty())
    return emitOpError("requires a non-empty 'name'");
  if (getPluginOpName().empty())
    return emitOpError("requires a non-empty string 'operation_name' (the plugin op to call)");
  StringRef overwrite = getThresholdOverwrite();
  if (overwrite != "none" && overwrite != "forward" && overwrite != "backward")
    return emitOpError("threshold_overwrite must be none, forward or backward, got '")
           << overwrite << "'";
  for (NamedAttribute param : getParam()) {
    Attribute value = param.getValue();
    if (isScalarParam(value) || isa<DenseI64ArrayAttr, DenseI32ArrayAttr, DenseF32ArrayAttr,
                                    DenseF64ArrayAttr, DenseBoolArrayAttr>(value))
      continue;
    auto array = dyn_cast<ArrayAttr>(value);
    if (!array)
      return emitOpError("param '") << param.getName().getValue()
                                    << "' must be an int, float, bool, str or a list of them, got "
                                    << value;
    for (Attribute element : array) {
      if (!isScalarParam(element) || paramKind(element) != paramKind(array[0]))
        return emitOpError("param '")
               << param.getName().getValue()
               << "' must be a list of values of one kind (int, float, bool or str), got " << value;
    }
  }
  if (auto chip = getChipname();
      chip && !llvm::is_contained({"cv183x", "cv182x", "cv181x", "cv180x"}, *chip))
    return emitOpError("chipname must be cv183x, cv182x, cv181x or cv180x, got '") << *chip << "'";
  return success();
}

#define GET_OP_CLASSES
#include "dialect/TpuOps.cpp.inc"
