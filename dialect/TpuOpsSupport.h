//===- TpuOpsSupport.h - shared checks of tpu op verifiers ------*- C++ -*-===//
//
// Helpers used by the verifiers and the result type inference of the tpu ops (TpuOps*.cpp): one
// way to report a problem, whether an op is verified or inferred while being built, and the
// checks many ops share (ranks, axes, positive attribute arrays, per-channel operands).
//
//===----------------------------------------------------------------------===//
#ifndef TPUC_DIALECT_TPUOPSSUPPORT_H
#define TPUC_DIALECT_TPUOPSSUPPORT_H

#include "dialect/TpuOps.h"

#include "mlir/IR/Diagnostics.h"

#include <optional>

namespace tpuc::tpu::detail {

/// Reports "'<op name>' op <message>" at a location, like Operation::emitOpError. Without a
/// location nothing is reported; the checks only fail.
class OpDiagnostics {
public:
  OpDiagnostics(std::optional<mlir::Location> loc, llvm::StringRef opName)
      : loc(loc), opName(opName) {}
  explicit OpDiagnostics(mlir::Operation *op)
      : loc(op->getLoc()), opName(op->getName().getStringRef()) {}

  template <typename... Args> mlir::LogicalResult error(Args &&...args) const {
    return mlir::emitOptionalError(loc, "'", opName, "' op ", std::forward<Args>(args)...);
  }

  std::optional<mlir::Location> location() const { return loc; }

private:
  std::optional<mlir::Location> loc;
  llvm::StringRef opName;
};

/// The diagnostics of op type OpT while its result type is inferred.
template <typename OpT> OpDiagnostics inferenceDiagnostics(std::optional<mlir::Location> loc) {
  return OpDiagnostics(loc, OpT::getOperationName());
}

/// Checks the adaptor's attributes (presence and kinds) when a location is given to report on;
/// without one the caller guarantees them (the InferTypeOpInterface contract).
template <typename AdaptorT>
mlir::LogicalResult verifyAdaptor(AdaptorT &adaptor, std::optional<mlir::Location> loc) {
  return loc ? adaptor.verify(*loc) : mlir::success();
}

/// The ranked tensor type of `value`, or an error naming the operand `what`.
mlir::FailureOr<mlir::RankedTensorType> getTensorType(const OpDiagnostics &diag, mlir::Value value,
                                                      llvm::StringRef what);

/// Like getTensorType, also requiring `rank` dimensions; `layout` names them ("NCHW").
mlir::FailureOr<mlir::RankedTensorType> getTensorOfRank(const OpDiagnostics &diag,
                                                        mlir::Value value, llvm::StringRef what,
                                                        int64_t rank, llvm::StringRef layout);

/// Like getTensorType, also requiring at least `minRank` dimensions.
mlir::FailureOr<mlir::RankedTensorType> getTensorOfMinRank(const OpDiagnostics &diag,
                                                           mlir::Value value, llvm::StringRef what,
                                                           int64_t minRank);

/// Requires `values` to have `size` entries: "<what> must have <size> entries (<meaning>), got n".
mlir::LogicalResult checkArraySize(const OpDiagnostics &diag, llvm::ArrayRef<int64_t> values,
                                   size_t size, llvm::StringRef what, llvm::StringRef meaning);

/// Requires every entry of `values` to be > 0 (or >= 0 with `allowZero`).
mlir::LogicalResult checkPositive(const OpDiagnostics &diag, llvm::ArrayRef<int64_t> values,
                                  llvm::StringRef what, bool allowZero = false);

/// Requires `axis` in [-rank, rank) and returns it in [0, rank).
mlir::FailureOr<int64_t> normalizeAxis(const OpDiagnostics &diag, int64_t axis, int64_t rank,
                                       llvm::StringRef what = "axis");

/// Requires a per-channel operand: one element per channel (`channels`, dimension 1).
mlir::LogicalResult checkPerChannel(const OpDiagnostics &diag, mlir::Value value,
                                    llvm::StringRef what, int64_t channels);

/// The numpy broadcast of two shapes, or an error naming both.
mlir::FailureOr<llvm::SmallVector<int64_t>> broadcastShapes(const OpDiagnostics &diag,
                                                            llvm::ArrayRef<int64_t> lhs,
                                                            llvm::ArrayRef<int64_t> rhs,
                                                            llvm::StringRef what);

/// Requires `lhs` and `rhs` to have the same element type.
mlir::LogicalResult checkSameElementType(const OpDiagnostics &diag, mlir::ShapedType lhs,
                                         llvm::StringRef lhsName, mlir::ShapedType rhs,
                                         llvm::StringRef rhsName);

/// A result type of `shape` with the element type of `like`.
mlir::RankedTensorType tensorLike(llvm::ArrayRef<int64_t> shape, mlir::ShapedType like);

/// Compares an op's result type with the inferred one: "output shape must be [..], got [..]" or
/// "output element type must be X, got Y".
mlir::LogicalResult verifyResultType(mlir::Operation *op, mlir::Type inferred);

/// Copies `inferred` into the null (or all, when `returnTypes` is empty) entries of returnTypes.
void fillElidedTypes(llvm::ArrayRef<mlir::Type> inferred,
                     llvm::SmallVectorImpl<mlir::Type> &returnTypes);

/// A float as people write it: "6", "0.45", "1e-05", "inf", "nan".
std::string formatFloat(double value);
inline std::string formatFloat(const llvm::APFloat &value) {
  return formatFloat(value.convertToDouble());
}

/// Requires `value` to be one of `allowed`: "<what> must be a, b or c, got 'x'".
mlir::LogicalResult checkOneOf(const OpDiagnostics &diag, llvm::StringRef value,
                               llvm::ArrayRef<llvm::StringRef> allowed, llvm::StringRef what);

/// Requires `values` to be a permutation of 0 .. values.size() - 1.
mlir::LogicalResult checkPermutation(const OpDiagnostics &diag, llvm::ArrayRef<int64_t> values,
                                     llvm::StringRef what);

} // namespace tpuc::tpu::detail

#endif // TPUC_DIALECT_TPUOPSSUPPORT_H
