// RUN: tpuc-opt %s -split-input-file -verify-diagnostics --tpu-lower | FileCheck %s

// Tests that a quantized module whose every op has a kernel or a CPU function passes unchanged.
// CHECK-LABEL: func.func @ok
// CHECK: tpu.quant {{.*}}name = "in_quant"
// CHECK: tpu.conv_2d
// CHECK: tpu.softmax
func.func @ok(%arg0: tensor<1x3x4x4xf32>) -> tensor<1x2x4x4xf32> {
  %0 = tpu.input %arg0 {name = "in"} : (tensor<1x3x4x4xf32>) -> tensor<1x3x4x4xf32>
  %1 = tpu.quant %0 {from = "FP32", to = "INT8", scale = 1.0 : f32, name = "in_quant"} : (tensor<1x3x4x4xf32>) -> tensor<1x3x4x4xi8>
  %w = tpu.load_weight {name = "w"} : tensor<2x3x1x1xi8>
  %2 = tpu.conv_2d %1, %w {name = "conv", strides = array<i64: 1, 1>, pads = array<i64: 0, 0, 0, 0>, dilations = array<i64: 1, 1>} : (tensor<1x3x4x4xi8>, tensor<2x3x1x1xi8>) -> tensor<1x2x4x4xi8>
  %3 = tpu.quant %2 {from = "INT8", to = "FP32", scale = 1.0 : f32, name = "sm_in0_dequant"} : (tensor<1x2x4x4xi8>) -> tensor<1x2x4x4xf32>
  %4 = tpu.softmax %3 {name = "sm", axis = 1 : i64} : (tensor<1x2x4x4xf32>) -> tensor<1x2x4x4xf32>
  return %4 : tensor<1x2x4x4xf32>
}

// -----

// Tests that an INT8 deconvolution is accepted (the convolution kernel with inserted zeros).
// CHECK-LABEL: func.func @deconv
// CHECK: tpu.deconv_2d
func.func @deconv(%arg0: tensor<1x2x4x4xi8>, %w: tensor<2x2x2x2xi8>) -> tensor<1x2x8x8xi8> {
  %0 = tpu.deconv_2d %arg0, %w {name = "up", strides = array<i64: 2, 2>, pads = array<i64: 0, 0, 0, 0>, dilations = array<i64: 1, 1>} : (tensor<1x2x4x4xi8>, tensor<2x2x2x2xi8>) -> tensor<1x2x8x8xi8>
  return %0 : tensor<1x2x8x8xi8>
}

// -----

// Tests that a dilated deconvolution is refused, naming the layer.
func.func @deconv_dilated(%arg0: tensor<1x2x4x4xi8>, %w: tensor<2x2x2x2xi8>) -> tensor<1x2x9x9xi8> {
  // expected-error @+1 {{tpu-lower: tpu.deconv_2d 'up': the INT8 layer kernel does not support dilated deconvolution}}
  %0 = tpu.deconv_2d %arg0, %w {name = "up", strides = array<i64: 2, 2>, pads = array<i64: 0, 0, 0, 0>, dilations = array<i64: 2, 2>} : (tensor<1x2x4x4xi8>, tensor<2x2x2x2xi8>) -> tensor<1x2x9x9xi8>
  return %0 : tensor<1x2x9x9xi8>
}

// -----

// Tests that an INT8 layer without a kernel is an error naming the op and the layer.
func.func @lrn(%arg0: tensor<1x4x4x4xi8>) -> tensor<1x4x4x4xi8> {
  // expected-error @+1 {{tpu-lower: tpu.lrn 'n': no INT8 TPU kernel and no runtime CPU function implements it}}
  %0 = tpu.lrn %arg0 {name = "n", local_size = 3 : i64, alpha = 1.0e-4 : f32, beta = 0.75 : f32, k = 1.0 : f32} : (tensor<1x4x4x4xi8>) -> tensor<1x4x4x4xi8>
  return %0 : tensor<1x4x4x4xi8>
}

// -----

// Tests that a layer that was not quantized is an error: only INT8 layers have kernels.
func.func @fp32(%arg0: tensor<1x2x4x4xf32>) -> tensor<1x2x4x4xf32> {
  // expected-error @+1 {{tpu-lower: tpu.relu 'r': only INT8 layers have TPU kernels; this one is not INT8 (run --tpu-quant first)}}
  %0 = tpu.relu %arg0 {name = "r"} : (tensor<1x2x4x4xf32>) -> tensor<1x2x4x4xf32>
  return %0 : tensor<1x2x4x4xf32>
}

// -----

// Tests that a TPU custom op is accepted (its plugin emits it at code generation).
// CHECK-LABEL: func.func @custom
// CHECK: tpu.custom_op %arg0 {{.*}}name = "c"
func.func @custom(%arg0: tensor<4xi8>) -> tensor<4xi8> {
  %0 = tpu.custom_op %arg0 {name = "c", operation_name = "my_op", param = {}, tpu = true, do_quant = true, quant = {}} : (tensor<4xi8>) -> tensor<4xi8>
  return %0 : tensor<4xi8>
}

// -----

// Tests that a TPU custom op with a weight operand is refused: plugin code generation receives
// activation addresses only.
func.func @custom_weight(%arg0: tensor<4xi8>) -> tensor<4xi8> {
  %1 = tpu.load_weight {name = "w"} : tensor<4xi8>
  // expected-error @+1 {{tpu-lower: tpu.custom_op 'cw': custom op 'my_op' runs on the TPU with a weight operand; plugin code generation receives activation addresses only}}
  %2 = tpu.custom_op %arg0, %1 {name = "cw", operation_name = "my_op", param = {}, tpu = true, do_quant = true, quant = {}} : (tensor<4xi8>, tensor<4xi8>) -> tensor<4xi8>
  return %2 : tensor<4xi8>
}

// -----

// Tests that a CPU custom op is accepted.
// CHECK-LABEL: func.func @cpu_custom
// CHECK: tpu.custom_op
func.func @cpu_custom(%arg0: tensor<4xf32>) -> tensor<4xf32> {
  %0 = tpu.custom_op %arg0 {name = "c", operation_name = "my_op", param = {}, tpu = false, do_quant = false, quant = {}} : (tensor<4xf32>) -> tensor<4xf32>
  return %0 : tensor<4xf32>
}

// -----

// Tests that shapes the layer kernels cannot handle are errors at tpu-lower already.
func.func @limits(%a: tensor<1x4x4x4xi8>, %b: tensor<1x1x4x4xi8>, %c: tensor<2x3x4x5xi8>) -> (tensor<1x4x4x4xi8>, tensor<1x4x4x4xi8>, tensor<2x3x6x7xi8>) {
  // expected-error @+1 {{tpu-lower: tpu.eltwise_add 'add': the INT8 layer kernel does not support broadcast inputs (every input must have the output's shape)}}
  %0 = tpu.eltwise_add %a, %b {name = "add"} : (tensor<1x4x4x4xi8>, tensor<1x1x4x4xi8>) -> tensor<1x4x4x4xi8>
  // expected-error @+1 {{tpu-lower: tpu.eltwise_mul 'mul': the INT8 layer kernel does not support this broadcast (one input of the output's shape, the other the same or (N or 1, C, 1, 1))}}
  %1 = tpu.eltwise_mul %a, %b {name = "mul"} : (tensor<1x4x4x4xi8>, tensor<1x1x4x4xi8>) -> tensor<1x4x4x4xi8>
  // expected-error @+1 {{tpu-lower: tpu.pad 'pad': the INT8 layer kernel does not support pad mode 'edge' (constant only)}}
  %2 = tpu.pad %c {name = "pad", pads = array<i64: 0, 0, 1, 1, 0, 0, 1, 1>, mode = "edge"} : (tensor<2x3x4x5xi8>) -> tensor<2x3x6x7xi8>
  return %0, %1, %2 : tensor<1x4x4x4xi8>, tensor<1x4x4x4xi8>, tensor<2x3x6x7xi8>
}

// -----

// Tests the broadcasts the kernels do support: eltwise_mul by a per-channel operand.
// CHECK-LABEL: func.func @supported
// CHECK: tpu.eltwise_mul
func.func @supported(%a: tensor<1x4x4x4xi8>, %s: tensor<1x4x1x1xi8>) -> tensor<1x4x4x4xi8> {
  %0 = tpu.eltwise_mul %s, %a {name = "mul"} : (tensor<1x4x1x1xi8>, tensor<1x4x4x4xi8>) -> tensor<1x4x4x4xi8>
  return %0 : tensor<1x4x4x4xi8>
}

// -----

// Tests the rank limits of the data-movement kernels: a 5-D permute whose leading unit dimension
// stays in place is accepted (no error), one that moves it is not, nor a 5-D slice.
func.func @ranks(%a: tensor<1x2x4x3x3xi8>, %b: tensor<1x1x4x3x3xi8>) -> (tensor<1x4x2x3x3xi8>, tensor<1x1x4x3x3xi8>, tensor<1x2x4x3x1xi8>) {
  %0 = tpu.permute %a {name = "ok", order = array<i64: 0, 2, 1, 3, 4>} : (tensor<1x2x4x3x3xi8>) -> tensor<1x4x2x3x3xi8>
  // expected-error @+1 {{tpu-lower: tpu.permute 'moved': the INT8 layer kernel does not support a permutation of more than four dimensions}}
  %1 = tpu.permute %b {name = "moved", order = array<i64: 1, 0, 2, 3, 4>} : (tensor<1x1x4x3x3xi8>) -> tensor<1x1x4x3x3xi8>
  // expected-error @+1 {{tpu-lower: tpu.slice 'sl': the INT8 layer kernel does not support rank > 4}}
  %2 = tpu.slice %a {name = "sl", offsets = array<i64: 0, 0, 0, 0, 0>, steps = array<i64: 1, 1, 1, 1, 1>} : (tensor<1x2x4x3x3xi8>) -> tensor<1x2x4x3x1xi8>
  return %0, %1, %2 : tensor<1x4x2x3x3xi8>, tensor<1x1x4x3x3xi8>, tensor<1x2x4x3x1xi8>
}

// -----

// Tests that an argmax of the dequantized int8 logits becomes a max pooling over the axis on the
// TPU (the per-tile maxima) and the CPU function argmax_v3 reading the int8 logits and the maxima.
// CHECK-LABEL: func.func @argmax
// CHECK: %[[L:.*]] = tpu.relu %arg0 {name = "logits"
// CHECK: tpu.quant %[[L]] {{.*}}name = "logits_dequant"
// CHECK: %[[V:.*]] = tpu.reshape %[[L]] {name = "amax_tiles", quant = {mode = "INT8", threshold_max = 2.000000e+00 : f64}} : (tensor<1x10xi8>) -> tensor<1x1x10x1xi8>
// CHECK: %[[M:.*]] = tpu.pool_max_2d %[[V]] {kernel_shape = array<i64: 10, 1>, name = "amax_tile_max", pads = array<i64: 0, 0, 0, 0>, quant = {mode = "INT8", threshold_max = 2.000000e+00 : f64}, strides = array<i64: 1, 1>} : (tensor<1x1x10x1xi8>) -> tensor<1x1x1x1xi8>
// CHECK: %[[A:.*]] = tpu.custom_op %[[L]], %[[M]] {do_quant = false, layer_id = 7 : i64, name = "amax", operation_name = "argmax_v3", param = {axis = 1 : i32, scale = 1.000000e+00 : f32}, quant = {mode = "NONE"}, tpu = false} : (tensor<1x10xi8>, tensor<1x1x1x1xi8>) -> tensor<1x1xf32>
// CHECK: return %[[A]]
func.func @argmax(%arg0: tensor<1x10xi8>) -> tensor<1x1xf32> {
  %0 = tpu.relu %arg0 {name = "logits", quant = {mode = "INT8", multiplier = array<i64: 3>, threshold_max = 2.0 : f64}} : (tensor<1x10xi8>) -> tensor<1x10xi8>
  %1 = tpu.quant %0 {from = "INT8", to = "FP32", scale = 63.5 : f32, name = "logits_dequant"} : (tensor<1x10xi8>) -> tensor<1x10xf32>
  %2 = tpu.argmax %1 {name = "amax", axis = 1 : i64, layer_id = 7 : i64} : (tensor<1x10xf32>) -> tensor<1x1xf32>
  return %2 : tensor<1x1xf32>
}

// -----

// Tests an argmax over a middle axis of 300 elements: the axis is transposed to the end, each
// row padded with -128 to two tiles of 256, one maximum per tile; argmax_v3 reads the transposed
// data along its last axis.
// CHECK-LABEL: func.func @argmax_tiles
// CHECK: %[[V:.*]] = tpu.reshape %[[L:.*]] {name = "seg_data", {{.*}} -> tensor<1x1x300x2xi8>
// CHECK: %[[T:.*]] = tpu.permute %[[V]] {name = "seg_trans", order = array<i64: 0, 1, 3, 2>, {{.*}} -> tensor<1x1x2x300xi8>
// CHECK: %[[R:.*]] = tpu.reshape %[[T]] {name = "seg_rows", {{.*}} -> tensor<1x2x300xi8>
// CHECK: %[[P:.*]] = tpu.pad %[[R]] {const_val = -1.280000e+02 : f32, name = "seg_padded", pads = array<i64: 0, 0, 0, 0, 0, 212>, {{.*}} -> tensor<1x2x512xi8>
// CHECK: %[[X:.*]] = tpu.reshape %[[P]] {name = "seg_tiles", {{.*}} -> tensor<1x4x256x1xi8>
// CHECK: %[[M:.*]] = tpu.pool_max_2d %[[X]] {kernel_shape = array<i64: 256, 1>, name = "seg_tile_max", {{.*}} -> tensor<1x4x1x1xi8>
// CHECK: tpu.custom_op %[[T]], %[[M]] {{.*}}operation_name = "argmax_v3", param = {axis = 3 : i32, scale = 1.000000e+00 : f32}{{.*}} -> tensor<1x1x2xf32>
func.func @argmax_tiles(%arg0: tensor<1x300x2xi8>) -> tensor<1x1x2xf32> {
  %0 = tpu.relu %arg0 {name = "scores", quant = {mode = "INT8", threshold_max = 4.0 : f64}} : (tensor<1x300x2xi8>) -> tensor<1x300x2xi8>
  %1 = tpu.argmax %0 {name = "seg", axis = 1 : i64} : (tensor<1x300x2xi8>) -> tensor<1x1x2xf32>
  return %1 : tensor<1x1x2xf32>
}

// -----

// Tests that an argmax of an fp32 tensor (no int8 data to reduce on the TPU) is refused.
func.func @argmax_fp32(%arg0: tensor<1x10xf32>) -> tensor<1x1xf32> {
  // expected-error @+1 {{tpu-lower: tpu.argmax 'amax': the input must be an int8 tensor (or its dequantization); an fp32 argmax has no kernel}}
  %0 = tpu.argmax %arg0 {name = "amax", axis = 1 : i64} : (tensor<1x10xf32>) -> tensor<1x1xf32>
  return %0 : tensor<1x1xf32>
}
