//===- TpuOpsSupport.cpp - shared checks of tpu op verifiers --------------===//
#include "dialect/TpuOpsSupport.h"

#include "llvm/ADT/STLExtras.h"
#include "llvm/ADT/SmallBitVector.h"
#include "llvm/ADT/StringExtras.h"

#include <cstdio>

using namespace mlir;

namespace tpuc::tpu::detail {

FailureOr<RankedTensorType> getTensorType(const OpDiagnostics &diag, Value value, StringRef what) {
  if (!value)
    return diag.error("requires operand '", what, "'");
  auto type = dyn_cast<RankedTensorType>(value.getType());
  if (!type || !type.hasStaticShape())
    return diag.error(what, " must be a statically shaped tensor, got ", value.getType());
  return type;
}

FailureOr<RankedTensorType> getTensorOfRank(const OpDiagnostics &diag, Value value, StringRef what,
                                            int64_t rank, StringRef layout) {
  FailureOr<RankedTensorType> type = getTensorType(diag, value, what);
  if (failed(type))
    return failure();
  if (type->getRank() != rank)
    return diag.error(what, " must be ", layout, " (rank ", rank, "), got rank ", type->getRank());
  return type;
}

FailureOr<RankedTensorType> getTensorOfMinRank(const OpDiagnostics &diag, Value value,
                                               StringRef what, int64_t minRank) {
  FailureOr<RankedTensorType> type = getTensorType(diag, value, what);
  if (failed(type))
    return failure();
  if (type->getRank() < minRank)
    return diag.error(what, " must have rank ", minRank, " or more, got rank ", type->getRank());
  return type;
}

LogicalResult checkArraySize(const OpDiagnostics &diag, ArrayRef<int64_t> values, size_t size,
                             StringRef what, StringRef meaning) {
  if (values.size() == size)
    return success();
  return diag.error(what, " must have ", static_cast<int64_t>(size), " entries (", meaning,
                    "), got ", static_cast<int64_t>(values.size()));
}

LogicalResult checkPositive(const OpDiagnostics &diag, ArrayRef<int64_t> values, StringRef what,
                            bool allowZero) {
  for (int64_t value : values)
    if (value < 0 || (value == 0 && !allowZero))
      return diag.error(what, " must be ", allowZero ? "non-negative" : "positive", ", got [",
                        values, "]");
  return success();
}

FailureOr<int64_t> normalizeAxis(const OpDiagnostics &diag, int64_t axis, int64_t rank,
                                 StringRef what) {
  if (axis < -rank || axis >= rank)
    return diag.error(what, " ", axis, " is out of range [", -rank, ", ", rank, ") for rank ",
                      rank);
  return axis < 0 ? axis + rank : axis;
}

LogicalResult checkPerChannel(const OpDiagnostics &diag, Value value, StringRef what,
                              int64_t channels) {
  FailureOr<RankedTensorType> type = getTensorType(diag, value, what);
  if (failed(type))
    return failure();
  if (type->getNumElements() != channels)
    return diag.error(what, " must have ", channels, " elements (one per channel), got ",
                      type->getNumElements());
  return success();
}

FailureOr<SmallVector<int64_t>> broadcastShapes(const OpDiagnostics &diag, ArrayRef<int64_t> lhs,
                                                ArrayRef<int64_t> rhs, StringRef what) {
  size_t rank = std::max(lhs.size(), rhs.size());
  SmallVector<int64_t> result(rank);
  for (size_t i = 0; i < rank; ++i) {
    // Dimensions align at the end; a missing leading dimension counts as 1.
    int64_t l = i < rank - lhs.size() ? 1 : lhs[i - (rank - lhs.size())];
    int64_t r = i < rank - rhs.size() ? 1 : rhs[i - (rank - rhs.size())];
    if (l != r && l != 1 && r != 1)
      return diag.error(what, " shapes [", lhs, "] and [", rhs, "] do not broadcast (dimension ",
                        static_cast<int64_t>(i), ": ", l, " vs ", r, ")");
    result[i] = l == 1 ? r : l;
  }
  return result;
}

LogicalResult checkSameElementType(const OpDiagnostics &diag, ShapedType lhs, StringRef lhsName,
                                   ShapedType rhs, StringRef rhsName) {
  if (lhs.getElementType() == rhs.getElementType())
    return success();
  return diag.error(lhsName, " and ", rhsName, " must have the same element type, got ",
                    lhs.getElementType(), " and ", rhs.getElementType());
}

RankedTensorType tensorLike(ArrayRef<int64_t> shape, ShapedType like) {
  return RankedTensorType::get(shape, like.getElementType());
}

LogicalResult verifyResultType(Operation *op, Type inferred) {
  Type actual = op->getResult(0).getType();
  if (actual == inferred)
    return success();
  auto actualTensor = dyn_cast<RankedTensorType>(actual);
  auto inferredTensor = cast<RankedTensorType>(inferred);
  if (!actualTensor)
    return op->emitOpError("output must be ") << inferred << ", got " << actual;
  if (actualTensor.getShape() != inferredTensor.getShape())
    return op->emitOpError("output shape must be [")
           << inferredTensor.getShape() << "], got [" << actualTensor.getShape() << "]";
  if (actualTensor.getElementType() != inferredTensor.getElementType())
    return op->emitOpError("output element type must be ")
           << inferredTensor.getElementType() << " (the input's), got "
           << actualTensor.getElementType();
  return op->emitOpError("output must be ") << inferred << ", got " << actual;
}

void fillElidedTypes(ArrayRef<Type> inferred, SmallVectorImpl<Type> &returnTypes) {
  if (returnTypes.empty()) {
    returnTypes.append(inferred.begin(), inferred.end());
    return;
  }
  for (auto [slot, type] : llvm::zip(returnTypes, inferred))
    if (!slot)
      slot = type;
}

std::string formatFloat(double value) {
  char text[32];
  std::snprintf(text, sizeof(text), "%g", value);
  return text;
}

LogicalResult checkOneOf(const OpDiagnostics &diag, StringRef value, ArrayRef<StringRef> allowed,
                         StringRef what) {
  if (llvm::is_contained(allowed, value))
    return success();
  std::string choices = allowed.size() == 1
                            ? allowed.front().str()
                            : llvm::join(allowed.drop_back(), ", ") + " or " + allowed.back().str();
  return diag.error(what, " must be ", choices, ", got '", value, "'");
}

LogicalResult checkPermutation(const OpDiagnostics &diag, ArrayRef<int64_t> values,
                               StringRef what) {
  int64_t size = values.size();
  llvm::SmallBitVector seen(size);
  for (int64_t value : values) {
    if (value < 0 || value >= size || seen.test(value))
      return diag.error(what, " must be a permutation of 0 .. ", size - 1, ", got [", values, "]");
    seen.set(value);
  }
  return success();
}

} // namespace tpuc::tpu::detail
