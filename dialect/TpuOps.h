//===- TpuOps.h - operations of the tpu dialect -----------------*- C++ -*-===//
#ifndef TPUC_DIALECT_TPUOPS_H
#define TPUC_DIALECT_TPUOPS_H

#include "dialect/TpuDialect.h"
#include "mlir/IR/BuiltinAttributes.h"
#include "mlir/IR/BuiltinTypes.h"
#include "mlir/IR/OpDefinition.h"
#include "mlir/IR/OpImplementation.h"
#include "mlir/Interfaces/InferTypeOpInterface.h"
#include "mlir/Interfaces/SideEffectInterfaces.h"

#include <optional>

namespace tpuc::tpu::detail {
// Shared implementation of TpuLayerOp over the `name`, `layer_id` and `quant` attributes.
llvm::StringRef getLayerName(mlir::Operation *op);
int64_t getLayerId(mlir::Operation *op);
void setLayerId(mlir::Operation *op, int64_t id);
llvm::StringRef getQuantMode(mlir::Operation *op);
std::optional<double> getThreshold(mlir::Operation *op);
void setQuantField(mlir::Operation *op, llvm::StringRef key, mlir::Attribute value);
mlir::LogicalResult verifyLayerOp(mlir::Operation *op);
} // namespace tpuc::tpu::detail

#include "dialect/TpuInterfaces.h.inc"

#define GET_OP_CLASSES
#include "dialect/TpuOps.h.inc"

#endif // TPUC_DIALECT_TPUOPS_H
