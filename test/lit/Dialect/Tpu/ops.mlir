// RUN: tpuc-opt %s | tpuc-opt | FileCheck %s
// RUN: tpuc-opt %s --mlir-print-op-generic | tpuc-opt | FileCheck %s

// Tests that every tpu op survives a print/parse round trip, in the custom and the generic form.

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

// CHECK-LABEL: func.func @input_preprocess_fields
func.func @input_preprocess_fields(%arg0: tensor<1x3x4x4xf32>) -> tensor<1x3x4x4xf32> {
  // CHECK: tpu.input %{{.*}} {name = "img", preprocess = {channel_order = "bgr", crop = array<i64: 4, 4>, mean = array<f32: 1.000000e+00, 2.000000e+00, 3.000000e+00>, resize = array<i64: 8>, scale = array<f32: 5.000000e-01>}}
  %0 = tpu.input %arg0 {name = "img", preprocess = {channel_order = "bgr", crop = array<i64: 4, 4>, mean = array<f32: 1.0, 2.0, 3.0>, resize = array<i64: 8>, scale = array<f32: 0.5>}} : (tensor<1x3x4x4xf32>) -> tensor<1x3x4x4xf32>
  return %0 : tensor<1x3x4x4xf32>
}

// CHECK-LABEL: func.func @depthwise_no_bias
func.func @depthwise_no_bias(%arg0: tensor<1x8x5x5xf32>, %w: tensor<8x1x3x3xf32>) -> tensor<1x8x5x5xf32> {
  // CHECK: tpu.conv_2d %{{.*}}, %{{.*}} {dilations = array<i64: 2, 2>, group = 8 : i64
  %0 = tpu.conv_2d %arg0, %w {name = "dw", strides = array<i64: 1, 1>, pads = array<i64: 2, 2, 2, 2>, dilations = array<i64: 2, 2>, group = 8} : (tensor<1x8x5x5xf32>, tensor<8x1x3x3xf32>) -> tensor<1x8x5x5xf32>
  return %0 : tensor<1x8x5x5xf32>
}

// CHECK-LABEL: func.func @deconv
func.func @deconv(%arg0: tensor<1x4x5x5xf32>, %w: tensor<4x3x3x3xf32>, %b: tensor<6xf32>) -> tensor<1x6x10x10xf32> {
  // CHECK: tpu.deconv_2d %{{.*}}, %{{.*}}, %{{.*}} {dilations = array<i64: 1, 1>, group = 2 : i64, name = "up", output_padding = array<i64: 1, 1>, pads = array<i64: 1, 1, 1, 1>, strides = array<i64: 2, 2>} : (tensor<1x4x5x5xf32>, tensor<4x3x3x3xf32>, tensor<6xf32>) -> tensor<1x6x10x10xf32>
  %0 = tpu.deconv_2d %arg0, %w, %b {name = "up", strides = array<i64: 2, 2>, pads = array<i64: 1, 1, 1, 1>, dilations = array<i64: 1, 1>, output_padding = array<i64: 1, 1>, group = 2} : (tensor<1x4x5x5xf32>, tensor<4x3x3x3xf32>, tensor<6xf32>) -> tensor<1x6x10x10xf32>
  return %0 : tensor<1x6x10x10xf32>
}

// CHECK-LABEL: func.func @fully_connected
func.func @fully_connected(%arg0: tensor<2x16xf32>, %w: tensor<10x16xf32>, %b: tensor<10xf32>, %arg1: tensor<1x5x16xf32>) -> (tensor<2x10xf32>, tensor<1x5x10xf32>) {
  // CHECK: tpu.fully_connected %{{.*}}, %{{.*}}, %{{.*}} {do_relu = true, name = "fc"} : (tensor<2x16xf32>, tensor<10x16xf32>, tensor<10xf32>) -> tensor<2x10xf32>
  %0 = tpu.fully_connected %arg0, %w, %b {name = "fc", do_relu = true} : (tensor<2x16xf32>, tensor<10x16xf32>, tensor<10xf32>) -> tensor<2x10xf32>
  // CHECK: tpu.fully_connected %{{.*}}, %{{.*}} {name = "fc3"} : (tensor<1x5x16xf32>, tensor<10x16xf32>) -> tensor<1x5x10xf32>
  %1 = tpu.fully_connected %arg1, %w {name = "fc3"} : (tensor<1x5x16xf32>, tensor<10x16xf32>) -> tensor<1x5x10xf32>
  return %0, %1 : tensor<2x10xf32>, tensor<1x5x10xf32>
}

// CHECK-LABEL: func.func @matmul
func.func @matmul(%a: tensor<2x1x4x8xf32>, %b: tensor<3x8x5xf32>) -> tensor<2x3x4x5xf32> {
  // CHECK: tpu.matmul %{{.*}}, %{{.*}} {name = "mm"} : (tensor<2x1x4x8xf32>, tensor<3x8x5xf32>) -> tensor<2x3x4x5xf32>
  %0 = tpu.matmul %a, %b {name = "mm"} : (tensor<2x1x4x8xf32>, tensor<3x8x5xf32>) -> tensor<2x3x4x5xf32>
  return %0 : tensor<2x3x4x5xf32>
}

// CHECK-LABEL: func.func @pooling
func.func @pooling(%arg0: tensor<1x4x7x7xf32>) -> (tensor<1x4x4x4xf32>, tensor<1x4x3x3xf32>, tensor<1x4x1x1xf32>) {
  // CHECK: tpu.pool_max_2d %{{.*}} {ceil_mode = true, kernel_shape = array<i64: 2, 2>, name = "mp", pads = array<i64: 0, 0, 0, 0>, strides = array<i64: 2, 2>} : (tensor<1x4x7x7xf32>) -> tensor<1x4x4x4xf32>
  %0 = tpu.pool_max_2d %arg0 {name = "mp", kernel_shape = array<i64: 2, 2>, strides = array<i64: 2, 2>, pads = array<i64: 0, 0, 0, 0>, ceil_mode = true} : (tensor<1x4x7x7xf32>) -> tensor<1x4x4x4xf32>
  // CHECK: tpu.pool_avg_2d %{{.*}} {count_include_pad = true, do_relu = true, kernel_shape = array<i64: 3, 3>, name = "ap", pads = array<i64: 1, 1, 1, 1>, strides = array<i64: 3, 3>} : (tensor<1x4x7x7xf32>) -> tensor<1x4x3x3xf32>
  %1 = tpu.pool_avg_2d %arg0 {name = "ap", kernel_shape = array<i64: 3, 3>, strides = array<i64: 3, 3>, pads = array<i64: 1, 1, 1, 1>, count_include_pad = true, do_relu = true} : (tensor<1x4x7x7xf32>) -> tensor<1x4x3x3xf32>
  // CHECK: tpu.pool_avg_2d %{{.*}} {kernel_shape = array<i64: 7, 7>, name = "gap", pads = array<i64: 0, 0, 0, 0>, strides = array<i64: 1, 1>} : (tensor<1x4x7x7xf32>) -> tensor<1x4x1x1xf32>
  %2 = tpu.pool_avg_2d %arg0 {name = "gap", kernel_shape = array<i64: 7, 7>, strides = array<i64: 1, 1>, pads = array<i64: 0, 0, 0, 0>} : (tensor<1x4x7x7xf32>) -> tensor<1x4x1x1xf32>
  return %0, %1, %2 : tensor<1x4x4x4xf32>, tensor<1x4x3x3xf32>, tensor<1x4x1x1xf32>
}

// CHECK-LABEL: func.func @unary
func.func @unary(%x: tensor<1x4x2x2xf32>) -> tensor<1x4x2x2xf32> {
  // CHECK: tpu.sigmoid %{{.*}} {name = "u0"} : (tensor<1x4x2x2xf32>) -> tensor<1x4x2x2xf32>
  %0 = tpu.sigmoid %x {name = "u0"} : (tensor<1x4x2x2xf32>) -> tensor<1x4x2x2xf32>
  // CHECK: tpu.tanh %{{.*}} {name = "u1"}
  %1 = tpu.tanh %0 {name = "u1"} : (tensor<1x4x2x2xf32>) -> tensor<1x4x2x2xf32>
  // CHECK: tpu.sqrt %{{.*}} {name = "u2"}
  %2 = tpu.sqrt %1 {name = "u2"} : (tensor<1x4x2x2xf32>) -> tensor<1x4x2x2xf32>
  // CHECK: tpu.reciprocal %{{.*}} {name = "u3"}
  %3 = tpu.reciprocal %2 {name = "u3"} : (tensor<1x4x2x2xf32>) -> tensor<1x4x2x2xf32>
  // CHECK: tpu.exp %{{.*}} {name = "u4"}
  %4 = tpu.exp %3 {name = "u4"} : (tensor<1x4x2x2xf32>) -> tensor<1x4x2x2xf32>
  // CHECK: tpu.mish %{{.*}} {name = "u5"}
  %5 = tpu.mish %4 {name = "u5"} : (tensor<1x4x2x2xf32>) -> tensor<1x4x2x2xf32>
  // CHECK: tpu.silu %{{.*}} {name = "u6"}
  %6 = tpu.silu %5 {name = "u6"} : (tensor<1x4x2x2xf32>) -> tensor<1x4x2x2xf32>
  // CHECK: tpu.hard_swish %{{.*}} {name = "u7"}
  %7 = tpu.hard_swish %6 {name = "u7"} : (tensor<1x4x2x2xf32>) -> tensor<1x4x2x2xf32>
  // CHECK: tpu.hard_sigmoid %{{.*}} {alpha = 2.000000e-01 : f32, beta = 5.000000e-01 : f32, name = "u8"}
  %8 = tpu.hard_sigmoid %7 {name = "u8", alpha = 0.2 : f32, beta = 0.5 : f32} : (tensor<1x4x2x2xf32>) -> tensor<1x4x2x2xf32>
  // CHECK: tpu.leaky_relu %{{.*}} {name = "u9", negative_slope = 1.000000e-01 : f32}
  %9 = tpu.leaky_relu %8 {name = "u9", negative_slope = 0.1 : f32} : (tensor<1x4x2x2xf32>) -> tensor<1x4x2x2xf32>
  // CHECK: tpu.clip %{{.*}} {max = 6.000000e+00 : f32, min = 0xFF800000 : f32, name = "u10"}
  %10 = tpu.clip %9 {name = "u10", min = 0xFF800000 : f32, max = 6.0 : f32} : (tensor<1x4x2x2xf32>) -> tensor<1x4x2x2xf32>
  // CHECK: tpu.power %{{.*}} {name = "u11", power = 2.000000e+00 : f32, scale = 1.000000e+00 : f32, shift = 0.000000e+00 : f32}
  %11 = tpu.power %10 {name = "u11", power = 2.0 : f32, scale = 1.0 : f32, shift = 0.0 : f32} : (tensor<1x4x2x2xf32>) -> tensor<1x4x2x2xf32>
  return %11 : tensor<1x4x2x2xf32>
}

// CHECK-LABEL: func.func @eltwise
func.func @eltwise(%a: tensor<1x4x2x2xf32>, %b: tensor<4x1x1xf32>, %c: tensor<1x4x2x2xf32>) -> (tensor<1x4x2x2xf32>, tensor<1x4x2x2xf32>, tensor<1x4x2x2xf32>, tensor<1x4x2x2xf32>) {
  // CHECK: tpu.eltwise_add %{{.*}}, %{{.*}}, %{{.*}} {coeff = array<f32: 1.000000e+00, -1.000000e+00, 5.000000e-01>, do_relu = true, name = "add"} : (tensor<1x4x2x2xf32>, tensor<4x1x1xf32>, tensor<1x4x2x2xf32>) -> tensor<1x4x2x2xf32>
  %0 = tpu.eltwise_add %a, %b, %c {name = "add", coeff = array<f32: 1.0, -1.0, 0.5>, do_relu = true} : (tensor<1x4x2x2xf32>, tensor<4x1x1xf32>, tensor<1x4x2x2xf32>) -> tensor<1x4x2x2xf32>
  // CHECK: tpu.eltwise_mul %{{.*}}, %{{.*}} {name = "mul"} : (tensor<1x4x2x2xf32>, tensor<4x1x1xf32>) -> tensor<1x4x2x2xf32>
  %1 = tpu.eltwise_mul %a, %b {name = "mul"} : (tensor<1x4x2x2xf32>, tensor<4x1x1xf32>) -> tensor<1x4x2x2xf32>
  // CHECK: tpu.eltwise_max %{{.*}}, %{{.*}} {name = "max"}
  %2 = tpu.eltwise_max %a, %c {name = "max"} : (tensor<1x4x2x2xf32>, tensor<1x4x2x2xf32>) -> tensor<1x4x2x2xf32>
  // CHECK: tpu.eltwise_min %{{.*}}, %{{.*}} {name = "min"}
  %3 = tpu.eltwise_min %a, %c {name = "min"} : (tensor<1x4x2x2xf32>, tensor<1x4x2x2xf32>) -> tensor<1x4x2x2xf32>
  return %0, %1, %2, %3 : tensor<1x4x2x2xf32>, tensor<1x4x2x2xf32>, tensor<1x4x2x2xf32>, tensor<1x4x2x2xf32>
}

// CHECK-LABEL: func.func @per_channel
func.func @per_channel(%x: tensor<2x4x3x3xf32>, %gate: tensor<2x4x1x1xf32>, %c: tensor<4xf32>, %c4: tensor<1x4x1x1xf32>) -> (tensor<2x4x3x3xf32>, tensor<2x4x3x3xf32>, tensor<2x4x3x3xf32>, tensor<2x4x3x3xf32>, tensor<2x4x3x3xf32>) {
  // CHECK: tpu.broadcast_mul %{{.*}}, %{{.*}} {name = "se"} : (tensor<2x4x3x3xf32>, tensor<2x4x1x1xf32>) -> tensor<2x4x3x3xf32>
  %0 = tpu.broadcast_mul %x, %gate {name = "se", axis = 1} : (tensor<2x4x3x3xf32>, tensor<2x4x1x1xf32>) -> tensor<2x4x3x3xf32>
  // CHECK: tpu.batch_norm %{{.*}}, %{{.*}}, %{{.*}}, %{{.*}}, %{{.*}} {epsilon = 9.99999974E-6 : f32, name = "bn"}
  %1 = tpu.batch_norm %x, %c, %c, %c, %c4 {name = "bn", epsilon = 1.0e-5 : f32} : (tensor<2x4x3x3xf32>, tensor<4xf32>, tensor<4xf32>, tensor<4xf32>, tensor<1x4x1x1xf32>) -> tensor<2x4x3x3xf32>
  // CHECK: tpu.scale %{{.*}}, %{{.*}}, %{{.*}} {do_relu = true, name = "sc"}
  %2 = tpu.scale %x, %c, %c {name = "sc", do_relu = true} : (tensor<2x4x3x3xf32>, tensor<4xf32>, tensor<4xf32>) -> tensor<2x4x3x3xf32>
  // CHECK: tpu.scale %{{.*}}, %{{.*}} {name = "sc_nobias"} : (tensor<2x4x3x3xf32>, tensor<4xf32>) -> tensor<2x4x3x3xf32>
  %3 = tpu.scale %x, %c {name = "sc_nobias"} : (tensor<2x4x3x3xf32>, tensor<4xf32>) -> tensor<2x4x3x3xf32>
  // CHECK: tpu.prelu %{{.*}}, %{{.*}} {name = "pr"}
  %4 = tpu.prelu %x, %c {name = "pr"} : (tensor<2x4x3x3xf32>, tensor<4xf32>) -> tensor<2x4x3x3xf32>
  return %0, %1, %2, %3, %4 : tensor<2x4x3x3xf32>, tensor<2x4x3x3xf32>, tensor<2x4x3x3xf32>, tensor<2x4x3x3xf32>, tensor<2x4x3x3xf32>
}

// CHECK-LABEL: func.func @normalization
func.func @normalization(%x: tensor<1x8x3x3xf32>, %s: tensor<8xf32>, %s1: tensor<1xf32>) -> (tensor<1x8x3x3xf32>, tensor<1x8x3x3xf32>, tensor<1x8x3x3xf32>, tensor<1x8x3x3xf32>) {
  // CHECK: tpu.lrn %{{.*}} {alpha = 9.99999974E-5 : f32, beta = 7.500000e-01 : f32, local_size = 5 : i64, name = "lrn"}
  %0 = tpu.lrn %x {name = "lrn", local_size = 5, alpha = 1.0e-4 : f32, beta = 0.75 : f32} : (tensor<1x8x3x3xf32>) -> tensor<1x8x3x3xf32>
  // CHECK: tpu.lrn_part %{{.*}} {alpha = 9.99999974E-5 : f32, beta = 7.500000e-01 : f32, k = 2.000000e+00 : f32, local_size = 3 : i64, name = "lrn_sum", part = 2 : i64}
  %1 = tpu.lrn_part %x {name = "lrn_sum", part = 2, local_size = 3, alpha = 1.0e-4 : f32, beta = 0.75 : f32, k = 2.0 : f32} : (tensor<1x8x3x3xf32>) -> tensor<1x8x3x3xf32>
  // CHECK: tpu.normalize %{{.*}}, %{{.*}} {name = "l2n"} : (tensor<1x8x3x3xf32>, tensor<8xf32>) -> tensor<1x8x3x3xf32>
  %2 = tpu.normalize %x, %s {name = "l2n"} : (tensor<1x8x3x3xf32>, tensor<8xf32>) -> tensor<1x8x3x3xf32>
  // CHECK: tpu.normalize %{{.*}}, %{{.*}} {across_spatial = true, channel_shared = true, eps = 9.99999997E-7 : f32, name = "l2n_shared"}
  %3 = tpu.normalize %x, %s1 {name = "l2n_shared", across_spatial = true, channel_shared = true, eps = 1.0e-6 : f32} : (tensor<1x8x3x3xf32>, tensor<1xf32>) -> tensor<1x8x3x3xf32>
  return %0, %1, %2, %3 : tensor<1x8x3x3xf32>, tensor<1x8x3x3xf32>, tensor<1x8x3x3xf32>, tensor<1x8x3x3xf32>
}

// CHECK-LABEL: func.func @axes
func.func @axes(%x: tensor<2x3x4xf32>) -> (tensor<2x3x4xf32>, tensor<2x1x1xf32>, tensor<3xf32>) {
  // CHECK: tpu.softmax %{{.*}} {axis = -1 : i64, name = "sm"} : (tensor<2x3x4xf32>) -> tensor<2x3x4xf32>
  %0 = tpu.softmax %x {name = "sm", axis = -1} : (tensor<2x3x4xf32>) -> tensor<2x3x4xf32>
  // CHECK: tpu.reduce_mean %{{.*}} {axes = array<i64: 1, -1>, name = "rm"} : (tensor<2x3x4xf32>) -> tensor<2x1x1xf32>
  %1 = tpu.reduce_mean %x {name = "rm", axes = array<i64: 1, -1>} : (tensor<2x3x4xf32>) -> tensor<2x1x1xf32>
  // CHECK: tpu.reduce_mean %{{.*}} {axes = array<i64: 0, 2>, keepdims = false, name = "rm_drop"} : (tensor<2x3x4xf32>) -> tensor<3xf32>
  %2 = tpu.reduce_mean %x {name = "rm_drop", axes = array<i64: 0, 2>, keepdims = false} : (tensor<2x3x4xf32>) -> tensor<3xf32>
  return %0, %1, %2 : tensor<2x3x4xf32>, tensor<2x1x1xf32>, tensor<3xf32>
}

// Tests that argmax takes fp32 values or int8 codes and gives f32 indices, with or without the
// reduced dimension.
// CHECK-LABEL: func.func @argmax
func.func @argmax(%x: tensor<2x3x4xf32>, %q: tensor<1x10xi8>) -> (tensor<2x1x4xf32>, tensor<1xf32>) {
  // CHECK: tpu.argmax %{{.*}} {axis = -2 : i64, name = "am"} : (tensor<2x3x4xf32>) -> tensor<2x1x4xf32>
  %0 = tpu.argmax %x {name = "am", axis = -2} : (tensor<2x3x4xf32>) -> tensor<2x1x4xf32>
  // CHECK: tpu.argmax %{{.*}} {axis = 1 : i64, keepdims = false, name = "am8"} : (tensor<1x10xi8>) -> tensor<1xf32>
  %1 = tpu.argmax %q {name = "am8", axis = 1, keepdims = false} : (tensor<1x10xi8>) -> tensor<1xf32>
  return %0, %1 : tensor<2x1x4xf32>, tensor<1xf32>
}

// CHECK-LABEL: func.func @data_movement
func.func @data_movement(%a: tensor<1x2x4x6xf32>, %b: tensor<1x3x4x6xf32>) -> (tensor<1x5x4x6xf32>, tensor<2x4x6xf32>, tensor<1x6x2x4xf32>, tensor<1x2x2x3xf32>, tensor<1x1x3x4xf32>, tensor<1x2x6x9xf32>) {
  // CHECK: tpu.concat %{{.*}}, %{{.*}} {axis = 1 : i64, name = "cat"} : (tensor<1x2x4x6xf32>, tensor<1x3x4x6xf32>) -> tensor<1x5x4x6xf32>
  %0 = tpu.concat %a, %b {name = "cat", axis = 1} : (tensor<1x2x4x6xf32>, tensor<1x3x4x6xf32>) -> tensor<1x5x4x6xf32>
  // CHECK: tpu.reshape %{{.*}} {name = "rs"} : (tensor<1x2x4x6xf32>) -> tensor<2x4x6xf32>
  %1 = tpu.reshape %a {name = "rs"} : (tensor<1x2x4x6xf32>) -> tensor<2x4x6xf32>
  // CHECK: tpu.permute %{{.*}} {name = "tr", order = array<i64: 0, 3, 1, 2>} : (tensor<1x2x4x6xf32>) -> tensor<1x6x2x4xf32>
  %2 = tpu.permute %a {name = "tr", order = array<i64: 0, 3, 1, 2>} : (tensor<1x2x4x6xf32>) -> tensor<1x6x2x4xf32>
  // CHECK: tpu.slice %{{.*}} {name = "sl", offsets = array<i64: 0, 0, 1, 0>, steps = array<i64: 1, 1, 2, 2>} : (tensor<1x2x4x6xf32>) -> tensor<1x2x2x3xf32>
  %3 = tpu.slice %a {name = "sl", offsets = array<i64: 0, 0, 1, 0>, steps = array<i64: 1, 1, 2, 2>} : (tensor<1x2x4x6xf32>) -> tensor<1x2x2x3xf32>
  // CHECK: tpu.crop %{{.*}} {name = "cr", offsets = array<i64: 0, 1, 1, 2>} : (tensor<1x2x4x6xf32>) -> tensor<1x1x3x4xf32>
  %4 = tpu.crop %a {name = "cr", offsets = array<i64: 0, 1, 1, 2>} : (tensor<1x2x4x6xf32>) -> tensor<1x1x3x4xf32>
  // CHECK: tpu.pad %{{.*}} {const_val = -1.000000e+00 : f32, name = "pd", pads = array<i64: 0, 0, 1, 1, 0, 0, 1, 2>} : (tensor<1x2x4x6xf32>) -> tensor<1x2x6x9xf32>
  %5 = tpu.pad %a {name = "pd", pads = array<i64: 0, 0, 1, 1, 0, 0, 1, 2>, const_val = -1.0 : f32} : (tensor<1x2x4x6xf32>) -> tensor<1x2x6x9xf32>
  return %0, %1, %2, %3, %4, %5 : tensor<1x5x4x6xf32>, tensor<2x4x6xf32>, tensor<1x6x2x4xf32>, tensor<1x2x2x3xf32>, tensor<1x1x3x4xf32>, tensor<1x2x6x9xf32>
}

// CHECK-LABEL: func.func @pad_modes
func.func @pad_modes(%a: tensor<1x2x4x6xf32>) -> (tensor<1x2x6x8xf32>, tensor<1x2x7x6xf32>) {
  // CHECK: tpu.pad %{{.*}} {mode = "reflect", name = "pr", pads = array<i64: 0, 0, 1, 1, 0, 0, 1, 1>}
  %0 = tpu.pad %a {name = "pr", pads = array<i64: 0, 0, 1, 1, 0, 0, 1, 1>, mode = "reflect"} : (tensor<1x2x4x6xf32>) -> tensor<1x2x6x8xf32>
  // CHECK: tpu.pad %{{.*}} {mode = "edge", name = "pe", pads = array<i64: 0, 0, 3, 0, 0, 0, 0, 0>}
  %1 = tpu.pad %a {name = "pe", pads = array<i64: 0, 0, 3, 0, 0, 0, 0, 0>, mode = "edge"} : (tensor<1x2x4x6xf32>) -> tensor<1x2x7x6xf32>
  return %0, %1 : tensor<1x2x6x8xf32>, tensor<1x2x7x6xf32>
}

// CHECK-LABEL: func.func @resize
func.func @resize(%x: tensor<1x8x4x6xf32>) -> (tensor<1x8x8x18xf32>, tensor<1x8x7x9xf32>, tensor<1x2x8x12xf32>, tensor<1x32x2x3xf32>, tensor<1x8x4x6xf32>) {
  // CHECK: tpu.upsample %{{.*}} {name = "us", scale_h = 2 : i64, scale_w = 3 : i64} : (tensor<1x8x4x6xf32>) -> tensor<1x8x8x18xf32>
  %0 = tpu.upsample %x {name = "us", scale_h = 2, scale_w = 3} : (tensor<1x8x4x6xf32>) -> tensor<1x8x8x18xf32>
  // CHECK: tpu.interp %{{.*}} {coordinate_transformation_mode = "align_corners", mode = "nearest", name = "ip"} : (tensor<1x8x4x6xf32>) -> tensor<1x8x7x9xf32>
  %1 = tpu.interp %x {name = "ip", mode = "nearest", coordinate_transformation_mode = "align_corners"} : (tensor<1x8x4x6xf32>) -> tensor<1x8x7x9xf32>
  // CHECK: tpu.pixel_shuffle %{{.*}} {mode = "DCR", name = "ps", upscale_factor = 2 : i64} : (tensor<1x8x4x6xf32>) -> tensor<1x2x8x12xf32>
  %2 = tpu.pixel_shuffle %x {name = "ps", upscale_factor = 2, mode = "DCR"} : (tensor<1x8x4x6xf32>) -> tensor<1x2x8x12xf32>
  // CHECK: tpu.reorg %{{.*}} {name = "ro", stride = 2 : i64} : (tensor<1x8x4x6xf32>) -> tensor<1x32x2x3xf32>
  %3 = tpu.reorg %x {name = "ro", stride = 2} : (tensor<1x8x4x6xf32>) -> tensor<1x32x2x3xf32>
  // CHECK: tpu.shuffle_channel %{{.*}} {group = 4 : i64, name = "sc"} : (tensor<1x8x4x6xf32>) -> tensor<1x8x4x6xf32>
  %4 = tpu.shuffle_channel %x {name = "sc", group = 4} : (tensor<1x8x4x6xf32>) -> tensor<1x8x4x6xf32>
  return %0, %1, %2, %3, %4 : tensor<1x8x8x18xf32>, tensor<1x8x7x9xf32>, tensor<1x2x8x12xf32>, tensor<1x32x2x3xf32>, tensor<1x8x4x6xf32>
}

// CHECK-LABEL: func.func @preprocess_and_detection
func.func @preprocess_and_detection(%img: tensor<1x3x4x4xui8>, %loc: tensor<1x32xf32>, %conf: tensor<1x24xf32>, %prior: tensor<1x2x32xf32>) -> (tensor<1x3x4x4xi8>, tensor<1x1x10x7xf32>) {
  // CHECK: tpu.preprocess %{{.*}} {channel_order = array<i64: 2, 1, 0>, mean = array<f32: 1.000000e+00, 2.000000e+00, 3.000000e+00>, name = "pre", scale = array<f32: 5.000000e-01, 5.000000e-01, 5.000000e-01>} : (tensor<1x3x4x4xui8>) -> tensor<1x3x4x4xi8>
  %0 = tpu.preprocess %img {name = "pre", channel_order = array<i64: 2, 1, 0>, mean = array<f32: 1.0, 2.0, 3.0>, scale = array<f32: 0.5, 0.5, 0.5>} : (tensor<1x3x4x4xui8>) -> tensor<1x3x4x4xi8>
  // CHECK: tpu.detection_output %{{.*}}, %{{.*}}, %{{.*}} {confidence_threshold = 0.00999999977 : f32, keep_top_k = 10 : i64, name = "det", nms_threshold = 4.500000e-01 : f32, num_classes = 3 : i64, top_k = 20 : i64} : (tensor<1x32xf32>, tensor<1x24xf32>, tensor<1x2x32xf32>) -> tensor<1x1x10x7xf32>
  %1 = tpu.detection_output %loc, %conf, %prior {name = "det", num_classes = 3, nms_threshold = 0.45 : f32, top_k = 20, keep_top_k = 10, confidence_threshold = 0.01 : f32} : (tensor<1x32xf32>, tensor<1x24xf32>, tensor<1x2x32xf32>) -> tensor<1x1x10x7xf32>
  return %0, %1 : tensor<1x3x4x4xi8>, tensor<1x1x10x7xf32>
}

// CHECK-LABEL: func.func @quantization
func.func @quantization(%x: tensor<1x4x2x2xf32>, %t8: tensor<256xi8>, %tb: tensor<1x1x32x8xbf16>, %mb: tensor<256xbf16>) -> (tensor<1x4x2x2xf32>, tensor<1x4x2x2xbf16>) {
  // CHECK: tpu.quant %{{.*}} {from = "NONE", name = "q", scale = 1.270000e+02 : f32, to = "INT8"} : (tensor<1x4x2x2xf32>) -> tensor<1x4x2x2xi8>
  %0 = tpu.quant %x {name = "q", from = "NONE", to = "INT8", scale = 127.0 : f32} : (tensor<1x4x2x2xf32>) -> tensor<1x4x2x2xi8>
  // CHECK: tpu.lut %{{.*}}, %{{.*}} {name = "lut8"} : (tensor<1x4x2x2xi8>, tensor<256xi8>) -> tensor<1x4x2x2xi8>
  %1 = tpu.lut %0, %t8 {name = "lut8"} : (tensor<1x4x2x2xi8>, tensor<256xi8>) -> tensor<1x4x2x2xi8>
  // CHECK: tpu.quant %{{.*}} {from = "INT8", name = "dq", scale = 1.270000e+02 : f32, to = "FP32"} : (tensor<1x4x2x2xi8>) -> tensor<1x4x2x2xf32>
  %2 = tpu.quant %1 {name = "dq", from = "INT8", to = "FP32", scale = 127.0 : f32} : (tensor<1x4x2x2xi8>) -> tensor<1x4x2x2xf32>
  // CHECK: tpu.quant %{{.*}} {from = "NONE", name = "qb", scale = 1.000000e+00 : f32, to = "BF16"} : (tensor<1x4x2x2xf32>) -> tensor<1x4x2x2xbf16>
  %3 = tpu.quant %x {name = "qb", from = "NONE", to = "BF16", scale = 1.0 : f32} : (tensor<1x4x2x2xf32>) -> tensor<1x4x2x2xbf16>
  // CHECK: tpu.lut %{{.*}}, %{{.*}}, %{{.*}} {name = "lutb"} : (tensor<1x4x2x2xbf16>, tensor<1x1x32x8xbf16>, tensor<256xbf16>) -> tensor<1x4x2x2xbf16>
  %4 = tpu.lut %3, %tb, %mb {name = "lutb"} : (tensor<1x4x2x2xbf16>, tensor<1x1x32x8xbf16>, tensor<256xbf16>) -> tensor<1x4x2x2xbf16>
  return %2, %4 : tensor<1x4x2x2xf32>, tensor<1x4x2x2xbf16>
}

// CHECK-LABEL: func.func @quant_uint8
func.func @quant_uint8(%x: tensor<1x3x2x2xui8>) -> tensor<1x3x2x2xf32> {
  // CHECK: tpu.quant %{{.*}} {from = "UINT8", name = "u8", scale = 2.550000e+02 : f32, to = "NONE", zero_point = 128 : i64} : (tensor<1x3x2x2xui8>) -> tensor<1x3x2x2xf32>
  %0 = tpu.quant %x {name = "u8", from = "UINT8", to = "NONE", scale = 255.0 : f32, zero_point = 128} : (tensor<1x3x2x2xui8>) -> tensor<1x3x2x2xf32>
  return %0 : tensor<1x3x2x2xf32>
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
