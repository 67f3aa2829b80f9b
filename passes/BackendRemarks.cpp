//===- BackendRemarks.cpp - backend passes that report what they do not do ===//
//
// The vendor guide's backend command line names optimization passes that tpuc does not perform
// (or performs elsewhere, inside the layer kernels). They exist so the command line runs, and
// each says in a remark or warning exactly what it did not do. None changes the IR.
//
//===----------------------------------------------------------------------===//
#include "passes/Passes.h"
#include "passes/codegen/Backend.h"

namespace tpuc {
#define GEN_PASS_DEF_REORDEROP
#define GEN_PASS_DEF_TGFUSELEAKYRELU
#define GEN_PASS_DEF_CONVICALIGNMENT
#define GEN_PASS_DEF_DEEPFUSIONGROUPSLICE
#define GEN_PASS_DEF_DEEPFUSIONOPT
#define GEN_PASS_DEF_TGOPTILE
#define GEN_PASS_DEF_COMPRESSWEIGHT
#define GEN_PASS_DEF_COMPRESSACTIVATION
#include "passes/Passes.h.inc"
} // namespace tpuc

using namespace mlir;

namespace {

struct ReorderOpPass : tpuc::impl::ReorderOpBase<ReorderOpPass> {
  void runOnOperation() override {
    emitRemark(getOperation().getLoc(),
               "reorder-op: not implemented; ops keep their program order");
  }
};

struct TgFuseLeakyReluPass : tpuc::impl::TgFuseLeakyReluBase<TgFuseLeakyReluPass> {
  void runOnOperation() override {
    unsigned candidates = 0;
    getOperation().walk([&](tpuc::tpu::LeakyReluOp leaky) {
      auto conv = leaky.getInput().getDefiningOp<tpuc::tpu::Conv2DOp>();
      if (!conv || !conv->hasOneUse())
        return;
      ++candidates;
      leaky->emitRemark() << "tg-fuse-leakyrelu: leaky_relu '" << tpuc::backend::layerName(leaky)
                          << "' not fused into conv_2d '" << tpuc::backend::layerName(conv)
                          << "': the INT8 convolution kernel has no leaky-relu epilogue";
    });
    if (candidates == 0)
      emitRemark(getOperation().getLoc(),
                 "tg-fuse-leakyrelu: no conv_2d + leaky_relu pair; nothing fused");
  }
};

struct ConvIcAlignmentPass : tpuc::impl::ConvIcAlignmentBase<ConvIcAlignmentPass> {
  void runOnOperation() override {
    emitRemark(getOperation().getLoc(),
               "conv-ic-alignment: no filter padded; the convolution kernel handles any "
               "input-channel count");
  }
};

// --group-ops: codegen/LayerGroupsPass.cpp.

struct DeepFusionGroupSlicePass : tpuc::impl::DeepFusionGroupSliceBase<DeepFusionGroupSlicePass> {
  void runOnOperation() override {
    emitRemark(getOperation().getLoc(),
               "deep-fusion-group-slice: nothing to do; the layer groups of --group-ops are "
               "sliced along H by their emitter at code generation");
  }
};

struct DeepFusionOptPass : tpuc::impl::DeepFusionOptBase<DeepFusionOptPass> {
  void runOnOperation() override {
    emitRemark(getOperation().getLoc(),
               "deep-fusion-opt: nothing to do; the layer groups of --group-ops keep their "
               "intermediates in local memory when emitted");
  }
};

struct TgOpTilePass : tpuc::impl::TgOpTileBase<TgOpTilePass> {
  void runOnOperation() override {
    emitRemark(getOperation().getLoc(),
               "tg-op-tile: nothing tiled in the IR; each layer kernel tiles its work to local "
               "memory when the command buffer is generated");
  }
};

struct CompressWeightPass : tpuc::impl::CompressWeightBase<CompressWeightPass> {
  void runOnOperation() override {
    emitWarning(getOperation().getLoc(),
                "compress-weight: no weight was compressed; the layer kernels load "
                "uncompressed weights (TDMA decompression is not used)");
  }
};

struct CompressActivationPass : tpuc::impl::CompressActivationBase<CompressActivationPass> {
  void runOnOperation() override {
    emitWarning(getOperation().getLoc(),
                "compress-activation: no activation was compressed; the layer kernels read and "
                "write uncompressed tensors in global memory");
  }
};

} // namespace
