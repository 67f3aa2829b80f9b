//===- Passes.h - tpu passes ------------------------------------*- C++ -*-===//
#ifndef TPUC_PASSES_PASSES_H
#define TPUC_PASSES_PASSES_H

#include "dialect/TpuOps.h"
#include "mlir/IR/BuiltinOps.h"
#include "mlir/Pass/Pass.h"

#include <memory>

namespace tpuc {

#define GEN_PASS_DECL
#include "passes/Passes.h.inc"

#define GEN_PASS_REGISTRATION
#include "passes/Passes.h.inc"

} // namespace tpuc

#endif // TPUC_PASSES_PASSES_H
