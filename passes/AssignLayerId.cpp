//===- AssignLayerId.cpp - number tpu layers in program order -------------===//
#include "passes/Passes.h"

namespace tpuc {
#define GEN_PASS_DEF_ASSIGNLAYERID
#include "passes/Passes.h.inc"
} // namespace tpuc

using namespace mlir;

namespace {
struct AssignLayerIdPass : tpuc::impl::AssignLayerIdBase<AssignLayerIdPass> {
  void runOnOperation() override {
    int64_t next = 0;
    getOperation()->walk<WalkOrder::PreOrder>(
        [&](tpuc::tpu::TpuLayerOp layer) { layer.assignLayerId(next++); });
  }
};
} // namespace
