//===- TpuInterfaces.td - interfaces shared by tpu ops -----*- tablegen -*-===//
#ifndef TPUC_DIALECT_TPUINTERFACES_TD
#define TPUC_DIALECT_TPUINTERFACES_TD

include "mlir/IR/OpBase.td"

def Tpu_LayerOpInterface : OpInterface<"TpuLayerOp"> {
  let cppNamespace = "::tpuc::tpu";
  let description = [{
    A layer of the network: it has a unique `name` (the tensor name used by npz dumps, op_info.csv
    and calibration tables), an optional `layer_id` assigned by --assign-layer-id, and quantization
    state in the `quant` dictionary: `mode` (NONE | INT8 | BF16), `param_type`, `threshold_max`,
    `threshold_min`, `is_perchannel`, `is_asymmetric`, `zero_point`, and the computed `rshift` and
    `multiplier` arrays.
  }];
  let methods = [
    InterfaceMethod<"Returns the layer name.", "::llvm::StringRef", "getLayerName", (ins), [{}],
      [{ return ::tpuc::tpu::detail::getLayerName($_op); }]>,
    InterfaceMethod<"Returns the layer id, or -1 when none is assigned.", "int64_t", "getAssignedLayerId",
      (ins), [{}], [{ return ::tpuc::tpu::detail::getLayerId($_op); }]>,
    InterfaceMethod<"Sets the layer id.", "void", "assignLayerId", (ins "int64_t":$id), [{}],
      [{ ::tpuc::tpu::detail::setLayerId($_op, id); }]>,
    InterfaceMethod<"Returns the quantization mode (NONE, INT8 or BF16).", "::llvm::StringRef",
      "getQuantMode", (ins), [{}], [{ return ::tpuc::tpu::detail::getQuantMode($_op); }]>,
    InterfaceMethod<"Returns threshold_max of the output, if calibrated.", "std::optional<double>",
      "getThreshold", (ins), [{}], [{ return ::tpuc::tpu::detail::getThreshold($_op); }]>,
    InterfaceMethod<"Stores a quantization field (threshold_max, rshift, multiplier, ...).", "void",
      "setQuantField", (ins "::llvm::StringRef":$key, "::mlir::Attribute":$value), [{}],
      [{ ::tpuc::tpu::detail::setQuantField($_op, key, value); }]>,
  ];
  let verify = [{ return ::tpuc::tpu::detail::verifyLayerOp($_op); }];
}

#endif // TPUC_DIALECT_TPUINTERFACES_TD
