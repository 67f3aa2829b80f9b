//===- LayerAttrs.h - moving a layer's identity between ops -----*- C++ -*-===//
#ifndef TPUC_PASSES_SUPPORT_LAYERATTRS_H
#define TPUC_PASSES_SUPPORT_LAYERATTRS_H

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

} // namespace tpuc

#endif // TPUC_PASSES_SUPPORT_LAYERATTRS_H
