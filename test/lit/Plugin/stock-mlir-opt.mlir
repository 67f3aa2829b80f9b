// RUN: %stock_mlir_opt --load-dialect-plugin=%tpu_plugin --load-pass-plugin=%tpu_plugin --pass-pipeline='builtin.module(assign-layer-id)' %s | FileCheck %s

// Tests that the stock mlir-opt of the LLVM/MLIR wheels parses tpu IR and runs a tpu pass through
// the plugin.
// CHECK: tpu.relu %{{.*}} {layer_id = 0 : i64, name = "r0"}
// CHECK: tpu.relu %{{.*}} {layer_id = 1 : i64, name = "r1"}
func.func @net(%arg0: tensor<4xf32>) -> tensor<4xf32> {
  %0 = tpu.relu %arg0 {name = "r0"} : (tensor<4xf32>) -> tensor<4xf32>
  %1 = tpu.relu %0 {name = "r1"} : (tensor<4xf32>) -> tensor<4xf32>
  return %1 : tensor<4xf32>
}
