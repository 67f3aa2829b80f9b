//===- Passes.td - tpu passes ------------------------------*- tablegen -*-===//
//
// Pass flags follow the vendor toolchain's spellings (--assign-layer-id, --tpu-quant, ...), which
// its users type from habit.
//
//===----------------------------------------------------------------------===//
#ifndef TPUC_PASSES_TD
#define TPUC_PASSES_TD

include "mlir/Pass/PassBase.td"

def AssignLayerId : Pass<"assign-layer-id", "::mlir::ModuleOp"> {
  let summary = "Number every tpu layer in program order";
  let description = [{
    Gives every op implementing TpuLayerOp a `layer_id`: 0, 1, 2, ... in the order the ops appear
    in the module (functions in order, ops in pre-order). Ids depend only on the IR, not on source
    locations, so the same model always gets the same ids.

    Before:
    ```mlir
    %1 = tpu.relu %0 {name = "r1"} : (tensor<4xf32>) -> tensor<4xf32>
    %2 = tpu.relu %1 {name = "r2"} : (tensor<4xf32>) -> tensor<4xf32>
    ```
    After:
    ```mlir
    %1 = tpu.relu %0 {layer_id = 0 : i64, name = "r1"} : (tensor<4xf32>) -> tensor<4xf32>
    %2 = tpu.relu %1 {layer_id = 1 : i64, name = "r2"} : (tensor<4xf32>) -> tensor<4xf32>
    ```
  }];
}

def PrintTpuOpInfo : Pass<"print-tpu-op-info", "::mlir::ModuleOp"> {
  let summary = "Write op_info.csv: name, layer id, quantization mode and threshold of every layer";
  let description = [{
    Writes one line per tpu layer, in program order, without header:
    `name,layer_id,quant,threshold` where quant is NONE, INT8 or BF16 and threshold is the
    calibrated threshold_max (0 when not calibrated). The file name comes from the pass option or
    from the tool flag `--tpu-op-info-filename` (the vendor spelling); `-` writes to stdout.
  }];
  let options = [
    Option<"filename", "tpu-op-info-filename", "std::string", /*default=*/"\"\"",
           "File to write op_info.csv to ('-' for stdout)">,
  ];
}

#endif // TPUC_PASSES_TD
