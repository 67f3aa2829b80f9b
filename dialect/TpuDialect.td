//===- TpuDialect.td - the tpu dialect ---------------------*- tablegen -*-===//
#ifndef TPUC_DIALECT_TPUDIALECT_TD
#define TPUC_DIALECT_TPUDIALECT_TD

include "mlir/IR/OpBase.td"

def Tpu_Dialect : Dialect {
  let name = "tpu";
  let cppNamespace = "::tpuc::tpu";
  let summary = "Operations of the CV183x TPU compiler";
  let description = [{
    The `tpu` dialect models a neural network as the CV183x toolchain sees it: framework ops lowered
    to the vendor op table (Conv2D, PoolMax2D, EltwiseAdd, ...), weights loaded from a weight file,
    quantization state carried on every op (threshold, mode, rshift/multiplier) and user-defined
    `tpu.custom_op`s implemented by plugins.
  }];
  let dependentDialects = ["::mlir::func::FuncDialect"];
}

#endif // TPUC_DIALECT_TPUDIALECT_TD
