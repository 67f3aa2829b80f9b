//===- LayerAttrs.h - moving a layer's identity between ops -----*- C++ -*-===//
#ifndef TPUC_PASSES_SUPPORT_LAYERATTRS_H
#define TPUC_PASSES_SUPPORT_LAYERATTRS_H

#include "dialect/TpuOps.h"

#include "mlir/IR/Operation.h"

namespace tpuc {

/// Makes `to` the layer `from` was: copies `from`'s name and, when present, its layer_id and
/// quant dictionary (removing those of `to` otherwise). Used when an op takes over the result
/// tensor of another one, so that the tensor keeps its name and calibration.
inline void takeLayerIdentity(mlir::Operation *to, mlir::Operation *from) {
  for (llvm::StringRef key : {"name", "layer_id", "quant"}) {
    if (mlir::Attribute value = from->getAttr(key))
      to->setAttr(key, value);
    else
      to->removeAttr(key);
  }
}

/// Numbers every tpu layer under `root` 0, 1, 2, ... in program order (functions in order, ops
/// in pre-order), replacing existing ids.
inline void assignLayerIds(mlir::Operation *root) {
  int64_t next = 0;
  root->walk<mlir::WalkOrder::PreOrder>(
      [&](tpu::TpuLayerOp layer) { layer.assignLayerId(next++); });
}

/// True when some tpu layer under `root` has a layer id.
inline bool hasLayerIds(mlir::Operation *root) {
  return root
      ->walk([](tpu::TpuLayerOp layer) {
        return layer.getAssignedLayerId() >= 0 ? mlir::WalkResult::interrupt()
                                               : mlir::WalkResult::advance();
      })
      .wasInterrupted();
}

} // namespace tpuc

#endif // TPUC_PASSES_SUPPORT_LAYERATTRS_H
