//===- OpTranslation.h - tpu op -> kernel -----------------------*- C++ -*-===//
//
// MLIR-facing (compiled without exceptions): reads an op's attributes into the parameters of its
// kernel.
//
//===----------------------------------------------------------------------===//
#pragma once

#include "dialect/interpreter/Kernel.h"

#include "mlir/IR/Operation.h"
#include "llvm/Support/Error.h"

#include <memory>

namespace tpuc::interpreter {

class CustomOpRegistry;

/// The kernel computing `op` (a tpu layer op other than tpu.load_weight), or an error saying why
/// the op cannot be interpreted.
llvm::Expected<std::unique_ptr<Kernel>>
translateOp(mlir::Operation *op, const std::shared_ptr<CustomOpRegistry> &customOps);

} // namespace tpuc::interpreter
