//===- Dce.cpp - remove ops whose results are unused ----------------------===//
#include "passes/Passes.h"

#include "mlir/Interfaces/SideEffectInterfaces.h"

namespace tpuc {
#define GEN_PASS_DEF_DCE
#include "passes/Passes.h.inc"
} // namespace tpuc

using namespace mlir;

namespace {
struct DcePass : tpuc::impl::DceBase<DcePass> {
  using Base::Base;

  void runOnOperation() override {
    // Users come after their producers in a block: visiting ops in reverse erases a dead chain
    // in one sweep; repeat for chains through nested regions.
    bool changed = true;
    while (changed) {
      changed = false;
      std::vector<Operation *> ops;
      getOperation().walk([&](Operation *op) { ops.push_back(op); });
      for (Operation *op : llvm::reverse(ops)) {
        if (op->getNumResults() == 0 || !op->use_empty() || op->getNumRegions() != 0)
          continue;
        // A model input stays an input even when nothing reads it.
        if (isa<tpuc::tpu::InputOp>(op))
          continue;
        if (!isMemoryEffectFree(op))
          continue;
        op->erase();
        changed = true;
      }
    }
  }
};
} // namespace
