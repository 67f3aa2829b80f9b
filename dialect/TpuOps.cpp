//===- TpuOps.cpp - operations of the tpu dialect -------------------------===//
#include "dialect/TpuOps.h"
#include "dialect/TpuOpsSupport.h"

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

static DictionaryAttr getQuant(Operation *op) { return op->getAttrOfType<DictionaryAttr>("quant"); }

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
    return op->emitOpError("quant.")
           << key << " must be one of " << llvm::join(allowed, ", ") << ", got " << value;
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
      return emitOpError("param '")
             << param.getName().getValue()
             << "' must be an int, float, bool, str or a list of them, got " << value;
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
