//===- TpuOpsQuant.cpp - quantization support ops -------------------------===//
//
// Verifiers of quant (type conversion between fp32, int8, uint8 and bf16) and lut (table
// lookup).
//
//===----------------------------------------------------------------------===//
#include "dialect/TpuOpsSupport.h"

#include "llvm/ADT/StringSwitch.h"

#include <optional>

using namespace mlir;
using namespace tpuc::tpu;
using namespace tpuc::tpu::detail;

namespace {

/// A value of quant's `from` / `to`: the element types it stands for and, for integer types, the
/// range of a zero point.
struct QuantKind {
  StringRef elementTypes;
  bool (*matches)(Type);
  std::optional<std::pair<int64_t, int64_t>> zeroPointRange;
};

bool isF32(Type type) { return type.isF32(); }
bool isBF16(Type type) { return type.isBF16(); }
bool isInt8(Type type) { return type.isSignlessInteger(8) || type.isSignedInteger(8); }
bool isUInt8(Type type) { return type.isUnsignedInteger(8); }

std::optional<QuantKind> getQuantKind(StringRef name) {
  return llvm::StringSwitch<std::optional<QuantKind>>(name)
      .Case("NONE", QuantKind{"f32", isF32, std::nullopt})
      .Case("FP32", QuantKind{"f32", isF32, std::nullopt})
      .Case("BF16", QuantKind{"bf16", isBF16, std::nullopt})
      .Case("INT8", QuantKind{"i8 or si8", isInt8, std::make_pair(-128, 127)})
      .Case("UINT8", QuantKind{"ui8", isUInt8, std::make_pair(0, 255)})
      .Default(std::nullopt);
}

constexpr int64_t kLutEntries = 256;

} // namespace

LogicalResult QuantOp::verify() {
  OpDiagnostics diag(getOperation());
  const std::initializer_list<StringRef> names = {"NONE", "FP32", "INT8", "UINT8", "BF16"};
  if (failed(checkOneOf(diag, getFrom(), names, "from")) ||
      failed(checkOneOf(diag, getTo(), names, "to")))
    return failure();
  QuantKind from = *getQuantKind(getFrom()), to = *getQuantKind(getTo());
  if (from.elementTypes == to.elementTypes)
    return emitOpError("from '") << getFrom() << "' and to '" << getTo()
                                 << "' must name different types (both are " << from.elementTypes
                                 << ")";
  auto inputType = cast<RankedTensorType>(getInput().getType());
  auto outputType = cast<RankedTensorType>(getOutput().getType());
  if (!from.matches(inputType.getElementType()))
    return emitOpError("input element type must be ")
           << from.elementTypes << " for from = " << getFrom() << ", got "
           << inputType.getElementType();
  if (!to.matches(outputType.getElementType()))
    return emitOpError("output element type must be ")
           << to.elementTypes << " for to = " << getTo() << ", got " << outputType.getElementType();
  if (inputType.getShape() != outputType.getShape())
    return emitOpError("output shape [")
           << outputType.getShape() << "] must equal the input shape [" << inputType.getShape()
           << "]";
  APFloat scale = getScale();
  if (!scale.isFinite() || scale.isNegative() || scale.isZero())
    return emitOpError("scale must be positive and finite, got ") << formatFloat(scale);
  int64_t zeroPoint = getZeroPoint();
  if (!from.zeroPointRange && !to.zeroPointRange && zeroPoint != 0)
    return emitOpError("zero_point must be 0 without an integer side, got ") << zeroPoint;
  for (const QuantKind &kind : {from, to}) {
    if (kind.zeroPointRange &&
        (zeroPoint < kind.zeroPointRange->first || zeroPoint > kind.zeroPointRange->second))
      return emitOpError("zero_point ")
             << zeroPoint << " is out of range [" << kind.zeroPointRange->first << ", "
             << kind.zeroPointRange->second << "] of " << kind.elementTypes;
  }
  return success();
}

LogicalResult LutOp::verify() {
  auto inputType = cast<RankedTensorType>(getInput().getType());
  auto tableType = cast<RankedTensorType>(getTable().getType());
  auto outputType = cast<RankedTensorType>(getOutput().getType());
  Type inputElement = inputType.getElementType(), tableElement = tableType.getElementType();
  if (tableType.getNumElements() != kLutEntries)
    return emitOpError("table must have ")
           << kLutEntries << " entries, got " << tableType.getNumElements();
  bool integerInput = isInt8(inputElement) || isUInt8(inputElement);
  if (!integerInput && !inputElement.isBF16())
    return emitOpError("input element type must be i8, si8, ui8 or bf16, got ") << inputElement;
  if (integerInput && !isInt8(tableElement) && !isUInt8(tableElement))
    return emitOpError("an 8-bit integer input needs an 8-bit integer table, got ") << tableElement;
  if (inputElement.isBF16() && !tableElement.isBF16())
    return emitOpError("a bf16 input needs a bf16 table, got ") << tableElement;
  if (Value mantissa = getMantissa()) {
    auto mantissaType = cast<RankedTensorType>(mantissa.getType());
    if (integerInput)
      return emitOpError("an integer input takes no mantissa table");
    if (mantissaType.getNumElements() != kLutEntries)
      return emitOpError("mantissa must have ")
             << kLutEntries << " entries, got " << mantissaType.getNumElements();
    if (mantissaType.getElementType() != tableElement)
      return emitOpError("mantissa element type must be the table's ")
             << tableElement << ", got " << mantissaType.getElementType();
  } else if (inputElement.isBF16()) {
    return emitOpError("a bf16 input needs the mantissa table");
  }
  if (outputType.getShape() != inputType.getShape())
    return emitOpError("output shape [")
           << outputType.getShape() << "] must equal the input shape [" << inputType.getShape()
           << "]";
  if (outputType.getElementType() != tableElement)
    return emitOpError("output element type must be the table's ")
           << tableElement << ", got " << outputType.getElementType();
  return success();
}
