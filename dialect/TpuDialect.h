//===- TpuDialect.h - the tpu dialect ---------------------------*- C++ -*-===//
#ifndef TPUC_DIALECT_TPUDIALECT_H
#define TPUC_DIALECT_TPUDIALECT_H

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/IR/Dialect.h"

#include "dialect/TpuOpsDialect.h.inc"

#endif // TPUC_DIALECT_TPUDIALECT_H
