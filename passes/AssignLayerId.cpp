//===- AssignLayerId.cpp - number tpu layers in program order -------------===//
#include "passes/Passes.h"
#include "passes/support/LayerAttrs.h"

namespace tpuc {
#define GEN_PASS_DEF_ASSIGNLAYERID
#include "passes/Passes.h.inc"
} // namespace tpuc

using namespace mlir;

namespace {
struct AssignLayerIdPass : tpuc::impl::AssignLayerIdBase<AssignLayerIdPass> {
  void runOnOperation() override { tpuc::assignLayerIds(getOperation()); }
};
} // namespace
