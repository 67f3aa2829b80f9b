// RUN: tpuc-opt %s --assign-layer-id -split-input-file | FileCheck %s

// Tests that layers are numbered in program order and weights get no id.
// CHECK-LABEL: func.func @chain
func.func @chain(%arg0: tensor<1x3x4x4xf32>) -> tensor<1x3x4x4xf32> {
  // CHECK: tpu.input {{.*}}layer_id = 0 : i64, name = "in"
  %0 = tpu.input %arg0 {name = "in"} : (tensor<1x3x4x4xf32>) -> tensor<1x3x4x4xf32>
  // CHECK: tpu.load_weight {name = "w"}
  %w = tpu.load_weight {name = "w"} : tensor<3x3x1x1xf32>
  // CHECK: tpu.conv_2d {{.*}}layer_id = 1 : i64, name = "c"
  %1 = tpu.conv_2d %0, %w {name = "c", strides = array<i64: 1, 1>, pads = array<i64: 0, 0, 0, 0>, dilations = array<i64: 1, 1>} : (tensor<1x3x4x4xf32>, tensor<3x3x1x1xf32>) -> tensor<1x3x4x4xf32>
  // CHECK: tpu.relu {{.*}}layer_id = 2 : i64, name = "r"
  %2 = tpu.relu %1 {name = "r"} : (tensor<1x3x4x4xf32>) -> tensor<1x3x4x4xf32>
  return %2 : tensor<1x3x4x4xf32>
}

// -----

// Tests that existing ids are replaced, not kept, so running the pass twice is stable.
// CHECK-LABEL: func.func @renumber
func.func @renumber(%arg0: tensor<4xf32>) -> tensor<4xf32> {
  // CHECK: layer_id = 0 : i64, name = "a"
  %0 = tpu.relu %arg0 {name = "a", layer_id = 41} : (tensor<4xf32>) -> tensor<4xf32>
  // CHECK: layer_id = 1 : i64, name = "b"
  %1 = tpu.relu %0 {name = "b", layer_id = 40} : (tensor<4xf32>) -> tensor<4xf32>
  return %1 : tensor<4xf32>
}

// -----

// Tests that numbering continues across functions and includes custom ops.
// CHECK-LABEL: func.func @first
func.func @first(%arg0: tensor<4xf32>) -> tensor<4xf32> {
  // CHECK: layer_id = 0 : i64, name = "f1"
  %0 = tpu.relu %arg0 {name = "f1"} : (tensor<4xf32>) -> tensor<4xf32>
  return %0 : tensor<4xf32>
}
// CHECK-LABEL: func.func @second
func.func @second(%arg0: tensor<4xf32>) -> tensor<4xf32> {
  // CHECK: tpu.custom_op {{.*}}layer_id = 1 : i64, name = "c1"
  %0 = tpu.custom_op %arg0 {name = "c1", operation_name = "x", param = {}, tpu = false, do_quant = false, quant = {}} : (tensor<4xf32>) -> tensor<4xf32>
  return %0 : tensor<4xf32>
}
