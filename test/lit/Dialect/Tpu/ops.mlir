// RUN: tpuc-opt %s | tpuc-opt | FileCheck %s
// RUN: tpuc-opt %s --mlir-print-op-generic | tpuc-opt | FileCheck %s

// Tests that every tpu op survives a print/parse round trip.

// CHECK-LABEL: func.func @conv_relu
func.func @conv_relu(%arg0: tensor<1x3x8x8xf32>) -> tensor<1x4x4x4xf32> {
  // CHECK: tpu.input %{{.*}} {name = "data", preprocess = {mean = [1.000000e+00, 2.000000e+00, 3.000000e+00]}}
  %0 = tpu.input %arg0 {name = "data", preprocess = {mean = [1.0, 2.0, 3.0]}} : (tensor<1x3x8x8xf32>) -> tensor<1x3x8x8xf32>
  // CHECK: tpu.load_weight {name = "c1_w"} : tensor<4x3x3x3xf32>
  %w = tpu.load_weight {name = "c1_w"} : tensor<4x3x3x3xf32>
  %b = tpu.load_weight {name = "c1_b"} : tensor<4xf32>
  // CHECK: tpu.conv_2d %{{.*}}, %{{.*}}, %{{.*}} {dilations = array<i64: 1, 1>, do_relu = true, layer_id = 3 : i64, name = "c1", pads = array<i64: 1, 1, 1, 1>, quant = {mode = "INT8", rshift = array<i64: 7>, threshold_max = 2.500000e+00 : f64}, strides = array<i64: 2, 2>}
  %1 = tpu.conv_2d %0, %w, %b {name = "c1", layer_id = 3, strides = array<i64: 2, 2>, pads = array<i64: 1, 1, 1, 1>, dilations = array<i64: 1, 1>, group = 1, do_relu = true, quant = {mode = "INT8", threshold_max = 2.5 : f64, rshift = array<i64: 7>}} : (tensor<1x3x8x8xf32>, tensor<4x3x3x3xf32>, tensor<4xf32>) -> tensor<1x4x4x4xf32>
  // CHECK: tpu.relu %{{.*}} {name = "r1"} : (tensor<1x4x4x4xf32>) -> tensor<1x4x4x4xf32>
  %2 = tpu.relu %1 {name = "r1"} : (tensor<1x4x4x4xf32>) -> tensor<1x4x4x4xf32>
  return %2 : tensor<1x4x4x4xf32>
}

// CHECK-LABEL: func.func @depthwise_no_bias
func.func @depthwise_no_bias(%arg0: tensor<1x8x5x5xf32>, %w: tensor<8x1x3x3xf32>) -> tensor<1x8x5x5xf32> {
  // CHECK: tpu.conv_2d %{{.*}}, %{{.*}} {dilations = array<i64: 2, 2>, group = 8 : i64
  %0 = tpu.conv_2d %arg0, %w {name = "dw", strides = array<i64: 1, 1>, pads = array<i64: 2, 2, 2, 2>, dilations = array<i64: 2, 2>, group = 8} : (tensor<1x8x5x5xf32>, tensor<8x1x3x3xf32>) -> tensor<1x8x5x5xf32>
  return %0 : tensor<1x8x5x5xf32>
}

// CHECK-LABEL: func.func @custom
func.func @custom(%arg0: tensor<1x4x8x8xf32>, %arg1: tensor<1x4x8x8xf32>) -> tensor<1x4x8x8xf32> {
  // CHECK: tpu.custom_op %{{.*}}, %{{.*}} {chipname = "cv183x", do_quant = false, gaddr = 4096 : i64, layer_id = 7 : i64, name = "sm", operation_name = "mysoftmax", param = {axis = 1 : i32, flags = [true, false], names = ["a", "b"], scales = [1.000000e+00 : f32, 5.000000e-01 : f32], tag = "x"}, quant = {mode = "NONE", param_type = "NONE"}, tpu = false}
  %0 = tpu.custom_op %arg0, %arg1 {name = "sm", operation_name = "mysoftmax", param = {axis = 1 : i32, scales = [1.0 : f32, 0.5 : f32], flags = [true, false], names = ["a", "b"], tag = "x"}, tpu = false, do_quant = false, quant = {mode = "NONE", param_type = "NONE"}, layer_id = 7, gaddr = 4096, chipname = "cv183x"} : (tensor<1x4x8x8xf32>, tensor<1x4x8x8xf32>) -> tensor<1x4x8x8xf32>
  return %0 : tensor<1x4x8x8xf32>
}

// CHECK-LABEL: func.func @custom_backward
func.func @custom_backward(%arg0: tensor<1x4x8x8xi8>) -> tensor<1x4x8x8xi8> {
  // CHECK: threshold_overwrite = "backward"
  %0 = tpu.custom_op %arg0 {name = "lr", operation_name = "leaky_relu", param = {negative_slope = 0.1 : f32}, tpu = true, do_quant = true, threshold_overwrite = "backward", quant = {mode = "INT8", param_type = "RSHIFT_AND_M_I8", threshold_max = 4.0 : f64, is_perchannel = false, is_asymmetric = false, zero_point = 0 : i32, multiplier = [100, 10]}} : (tensor<1x4x8x8xi8>) -> tensor<1x4x8x8xi8>
  return %0 : tensor<1x4x8x8xi8>
}
