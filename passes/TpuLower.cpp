//===- TpuLower.cpp - check that every op has a kernel or a CPU function --===//
#include "passes/Passes.h"
#include "passes/codegen/Backend.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"

namespace tpuc {
#define GEN_PASS_DEF_TPULOWER
#include "passes/Passes.h.inc"
} // namespace tpuc

using namespace mlir;

namespace {
struct TpuLowerPass : tpuc::impl::TpuLowerBase<TpuLowerPass> {
  using Base::Base;

  void runOnOperation() override {
    if (mlir::failed(tpuc::backend::lowerArgMax(getOperation())))
      return signalPassFailure();
    bool failed = false;
    getOperation().walk([&](Operation *op) {
      if (op->getDialect() == nullptr || isa<ModuleOp, func::FuncOp>(op))
        return;
      if (op->getDialect()->getNamespace() != "tpu" && !isa<func::ReturnOp, func::CallOp>(op))
        return;
      std::string why;
      if (!tpuc::backend::placementOf(op, &why)) {
        op->emitError() << "tpu-lower: " << op->getName() << " '" << tpuc::backend::layerName(op)
                        << "': " << why;
        failed = true;
      }
    });
    if (failed)
      signalPassFailure();
  }
};
} // namespace
