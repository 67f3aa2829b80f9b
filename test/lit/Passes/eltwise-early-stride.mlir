// RUN: tpuc-opt %s -split-input-file --eltwise-early-stride | FileCheck %s
// The last case is also a file of its own (split-file): the interpreter gives the same results
// before and after the pass.
// RUN: rm -rf %t && mkdir -p %t && split-file %s %t && cd %t
// RUN: %PYTHON -c "import numpy as np; r = np.random.default_rng(11); f = lambda *s: r.standard_normal(s).astype(np.float32); np.savez('es.npz', w1=f(16, 8, 1, 1), b1=f(16), w2=f(4, 8, 1, 1), w3=f(6, 8, 1, 1)); np.savez('in.npz', x=f(1, 8, 7, 7), y=f(1, 8, 7, 7), z=f(1, 8, 1, 7))"
// RUN: cd %t && tpuc-interpreter numerics.mlir --tensor-in in.npz --tensor-out before.npz
// RUN: cd %t && tpuc-opt numerics.mlir --eltwise-early-stride -o strided.mlir
// RUN: cd %t && tpuc-interpreter strided.mlir --tensor-in in.npz --tensor-out after.npz
// RUN: cd %t && %PYTHON -c "import numpy as np; a = np.load('before.npz'); b = np.load('after.npz'); assert sorted(a.files) == sorted(b.files) == ['branch1', 'branch2a', 'strided23'], b.files; [np.testing.assert_array_equal(b[k], a[k]) for k in a.files]"

// Tests that the stride of the 1x1 stride-2 convolutions reading an eltwise_add moves before it:
// each input is sliced with steps 2, the add works on the strided shape and keeps its name and
// flags, and the convolutions get stride 1.
// CHECK-LABEL: func.func @resnet_downsample
// CHECK: %[[S0:.*]] = tpu.slice %arg0 {name = "add_early_stride_0", offsets = array<i64: 0, 0, 0, 0>, steps = array<i64: 1, 1, 2, 2>} : (tensor<1x8x8x8xf32>) -> tensor<1x8x4x4xf32>
// CHECK: %[[S1:.*]] = tpu.slice %arg1 {name = "add_early_stride_1", offsets = array<i64: 0, 0, 0, 0>, steps = array<i64: 1, 1, 2, 2>} : (tensor<1x8x8x8xf32>) -> tensor<1x8x4x4xf32>
// CHECK: %[[A:.*]] = tpu.eltwise_add %[[S0]], %[[S1]] {coeff = array<f32: 1.000000e+00, -1.000000e+00>, do_relu = true, name = "add", quant = {threshold_max = 3.000000e+00 : f64}} : (tensor<1x8x4x4xf32>, tensor<1x8x4x4xf32>) -> tensor<1x8x4x4xf32>
// CHECK: tpu.conv_2d %[[A]], %{{.*}} {dilations = array<i64: 1, 1>, name = "branch1", pads = array<i64: 0, 0, 0, 0>, strides = array<i64: 1, 1>} : (tensor<1x8x4x4xf32>, tensor<16x8x1x1xf32>) -> tensor<1x16x4x4xf32>
// CHECK: tpu.conv_2d %[[A]], %{{.*}} {dilations = array<i64: 1, 1>, name = "branch2a", pads = array<i64: 0, 0, 0, 0>, strides = array<i64: 1, 1>} : (tensor<1x8x4x4xf32>, tensor<4x8x1x1xf32>) -> tensor<1x4x4x4xf32>
func.func @resnet_downsample(%x: tensor<1x8x8x8xf32>, %y: tensor<1x8x8x8xf32>) -> (tensor<1x16x4x4xf32>, tensor<1x4x4x4xf32>) {
  %0 = tpu.eltwise_add %x, %y {name = "add", do_relu = true, coeff = array<f32: 1.0, -1.0>, quant = {threshold_max = 3.0 : f64}} : (tensor<1x8x8x8xf32>, tensor<1x8x8x8xf32>) -> tensor<1x8x8x8xf32>
  %w1 = tpu.load_weight {name = "w1"} : tensor<16x8x1x1xf32>
  %1 = tpu.conv_2d %0, %w1 {name = "branch1", strides = array<i64: 2, 2>, pads = array<i64: 0, 0, 0, 0>, dilations = array<i64: 1, 1>} : (tensor<1x8x8x8xf32>, tensor<16x8x1x1xf32>) -> tensor<1x16x4x4xf32>
  %w2 = tpu.load_weight {name = "w2"} : tensor<4x8x1x1xf32>
  %2 = tpu.conv_2d %0, %w2 {name = "branch2a", strides = array<i64: 2, 2>, pads = array<i64: 0, 0, 0, 0>, dilations = array<i64: 1, 1>} : (tensor<1x8x8x8xf32>, tensor<4x8x1x1xf32>) -> tensor<1x4x4x4xf32>
  return %1, %2 : tensor<1x16x4x4xf32>, tensor<1x4x4x4xf32>
}

// -----

// Tests odd sizes (ceil(7 / 2) = 4), unequal strides, one slice for an input used twice, and an
// input broadcast along H that keeps step 1 there.
// CHECK-LABEL: func.func @odd_sizes_and_broadcast
// CHECK: %[[S0:.*]] = tpu.slice %arg0 {name = "mul_early_stride_0", offsets = array<i64: 0, 0, 0, 0>, steps = array<i64: 1, 1, 2, 3>} : (tensor<1x2x7x7xf32>) -> tensor<1x2x4x3xf32>
// CHECK: %[[S1:.*]] = tpu.slice %arg1 {name = "mul_early_stride_1", offsets = array<i64: 0, 0, 0, 0>, steps = array<i64: 1, 1, 1, 3>} : (tensor<1x2x1x7xf32>) -> tensor<1x2x1x3xf32>
// CHECK: %[[M:.*]] = tpu.eltwise_mul %[[S0]], %[[S0]], %[[S1]] {name = "mul"} : (tensor<1x2x4x3xf32>, tensor<1x2x4x3xf32>, tensor<1x2x1x3xf32>) -> tensor<1x2x4x3xf32>
// CHECK: tpu.conv_2d %[[M]], {{.*}}strides = array<i64: 1, 1>} : (tensor<1x2x4x3xf32>, tensor<3x2x1x1xf32>) -> tensor<1x3x4x3xf32>
func.func @odd_sizes_and_broadcast(%x: tensor<1x2x7x7xf32>, %y: tensor<1x2x1x7xf32>) -> tensor<1x3x4x3xf32> {
  %0 = tpu.eltwise_mul %x, %x, %y {name = "mul"} : (tensor<1x2x7x7xf32>, tensor<1x2x7x7xf32>, tensor<1x2x1x7xf32>) -> tensor<1x2x7x7xf32>
  %w = tpu.load_weight {name = "w"} : tensor<3x2x1x1xf32>
  %1 = tpu.conv_2d %0, %w {name = "c", strides = array<i64: 2, 3>, pads = array<i64: 0, 0, 0, 0>, dilations = array<i64: 1, 1>} : (tensor<1x2x7x7xf32>, tensor<3x2x1x1xf32>) -> tensor<1x3x4x3xf32>
  return %1 : tensor<1x3x4x3xf32>
}

// -----

// Tests that eltwise_max and eltwise_min are handled too.
// CHECK-LABEL: func.func @max_min
// CHECK: tpu.eltwise_max {{.*}} -> tensor<1x2x2x2xf32>
// CHECK: tpu.eltwise_min {{.*}} -> tensor<1x2x2x2xf32>
func.func @max_min(%x: tensor<1x2x4x4xf32>, %y: tensor<1x2x4x4xf32>) -> (tensor<1x2x2x2xf32>, tensor<1x2x2x2xf32>) {
  %w = tpu.load_weight {name = "w"} : tensor<2x2x1x1xf32>
  %0 = tpu.eltwise_max %x, %y {name = "max"} : (tensor<1x2x4x4xf32>, tensor<1x2x4x4xf32>) -> tensor<1x2x4x4xf32>
  %1 = tpu.conv_2d %0, %w {name = "c1", strides = array<i64: 2, 2>, pads = array<i64: 0, 0, 0, 0>, dilations = array<i64: 1, 1>} : (tensor<1x2x4x4xf32>, tensor<2x2x1x1xf32>) -> tensor<1x2x2x2xf32>
  %2 = tpu.eltwise_min %x, %y {name = "min"} : (tensor<1x2x4x4xf32>, tensor<1x2x4x4xf32>) -> tensor<1x2x4x4xf32>
  %3 = tpu.conv_2d %2, %w {name = "c2", strides = array<i64: 2, 2>, pads = array<i64: 0, 0, 0, 0>, dilations = array<i64: 1, 1>} : (tensor<1x2x4x4xf32>, tensor<2x2x1x1xf32>) -> tensor<1x2x2x2xf32>
  return %1, %3 : tensor<1x2x2x2xf32>, tensor<1x2x2x2xf32>
}

// -----

// Tests that on quantized IR each slice shares the quantization of the layer producing its
// input (mode, thresholds), and an input without a producer gets none.
// CHECK-LABEL: func.func @quantized
// CHECK: %[[R:.*]] = tpu.relu
// CHECK: tpu.slice %[[R]] {name = "qadd_early_stride_0", offsets = array<i64: 0, 0, 0, 0>, quant = {mode = "INT8", threshold_max = 2.000000e+00 : f64, threshold_min = -2.000000e+00 : f64}, steps = array<i64: 1, 1, 2, 2>} : (tensor<1x2x4x4xi8>) -> tensor<1x2x2x2xi8>
// CHECK: tpu.slice %arg1 {name = "qadd_early_stride_1", offsets = array<i64: 0, 0, 0, 0>, steps = array<i64: 1, 1, 2, 2>}
// CHECK: tpu.eltwise_add {{.*}}name = "qadd", quant = {mode = "INT8", multiplier = [3, 5], rshift = [7]
func.func @quantized(%x: tensor<1x2x4x4xi8>, %y: tensor<1x2x4x4xi8>) -> tensor<1x2x2x2xi8> {
  %r = tpu.relu %x {name = "r", quant = {mode = "INT8", param_type = "NONE", threshold_max = 2.0 : f64, threshold_min = -2.0 : f64, rshift = [1]}} : (tensor<1x2x4x4xi8>) -> tensor<1x2x4x4xi8>
  %0 = tpu.eltwise_add %r, %y {name = "qadd", quant = {mode = "INT8", rshift = [7], multiplier = [3, 5], threshold_max = 4.0 : f64}} : (tensor<1x2x4x4xi8>, tensor<1x2x4x4xi8>) -> tensor<1x2x4x4xi8>
  %w = tpu.load_weight {name = "w"} : tensor<2x2x1x1xi8>
  %1 = tpu.conv_2d %0, %w {name = "c", strides = array<i64: 2, 2>, pads = array<i64: 0, 0, 0, 0>, dilations = array<i64: 1, 1>, quant = {mode = "INT8"}} : (tensor<1x2x4x4xi8>, tensor<2x2x1x1xi8>) -> tensor<1x2x2x2xi8>
  return %1 : tensor<1x2x2x2xi8>
}

// -----

// Tests that nothing changes when a user is not a strided 1x1 convolution reading the eltwise as
// input: another op, a returned value, a 3x3 kernel, padding, different strides, stride 1, or
// a convolution using the eltwise as its filter.
// CHECK-LABEL: func.func @no_candidates
// CHECK-NOT: tpu.slice
// CHECK-COUNT-6: tpu.eltwise_add {{.*}} -> tensor<1x4x4x4xf32>
// CHECK: tpu.eltwise_add {{.*}} -> tensor<4x4x1x1xf32>
// CHECK-NOT: tpu.slice
func.func @no_candidates(%x: tensor<1x4x4x4xf32>, %y: tensor<1x4x4x4xf32>, %u: tensor<4x4x1x1xf32>) -> (tensor<1x4x2x2xf32>, tensor<1x4x4x4xf32>, tensor<1x4x2x2xf32>, tensor<1x4x4x4xf32>, tensor<1x4x1x1xf32>, tensor<1x4x3x3xf32>, tensor<1x4x2x2xf32>, tensor<1x4x4x4xf32>, tensor<1x4x4x4xf32>, tensor<1x4x2x2xf32>) {
  %w = tpu.load_weight {name = "w"} : tensor<4x4x1x1xf32>
  %w3 = tpu.load_weight {name = "w3"} : tensor<4x4x3x3xf32>
  %a0 = tpu.eltwise_add %x, %y {name = "a0"} : (tensor<1x4x4x4xf32>, tensor<1x4x4x4xf32>) -> tensor<1x4x4x4xf32>
  %c0 = tpu.conv_2d %a0, %w {name = "c0", strides = array<i64: 2, 2>, pads = array<i64: 0, 0, 0, 0>, dilations = array<i64: 1, 1>} : (tensor<1x4x4x4xf32>, tensor<4x4x1x1xf32>) -> tensor<1x4x2x2xf32>
  %r0 = tpu.relu %a0 {name = "r0"} : (tensor<1x4x4x4xf32>) -> tensor<1x4x4x4xf32>
  %a1 = tpu.eltwise_add %x, %y {name = "a1"} : (tensor<1x4x4x4xf32>, tensor<1x4x4x4xf32>) -> tensor<1x4x4x4xf32>
  %c1 = tpu.conv_2d %a1, %w {name = "c1", strides = array<i64: 2, 2>, pads = array<i64: 0, 0, 0, 0>, dilations = array<i64: 1, 1>} : (tensor<1x4x4x4xf32>, tensor<4x4x1x1xf32>) -> tensor<1x4x2x2xf32>
  %a2 = tpu.eltwise_add %x, %y {name = "a2"} : (tensor<1x4x4x4xf32>, tensor<1x4x4x4xf32>) -> tensor<1x4x4x4xf32>
  %c2 = tpu.conv_2d %a2, %w3 {name = "c2", strides = array<i64: 2, 2>, pads = array<i64: 0, 0, 0, 0>, dilations = array<i64: 1, 1>} : (tensor<1x4x4x4xf32>, tensor<4x4x3x3xf32>) -> tensor<1x4x1x1xf32>
  %a3 = tpu.eltwise_add %x, %y {name = "a3"} : (tensor<1x4x4x4xf32>, tensor<1x4x4x4xf32>) -> tensor<1x4x4x4xf32>
  %c3 = tpu.conv_2d %a3, %w {name = "c3", strides = array<i64: 2, 2>, pads = array<i64: 1, 1, 0, 0>, dilations = array<i64: 1, 1>} : (tensor<1x4x4x4xf32>, tensor<4x4x1x1xf32>) -> tensor<1x4x3x3xf32>
  %a4 = tpu.eltwise_add %x, %y {name = "a4"} : (tensor<1x4x4x4xf32>, tensor<1x4x4x4xf32>) -> tensor<1x4x4x4xf32>
  %c4a = tpu.conv_2d %a4, %w {name = "c4a", strides = array<i64: 2, 2>, pads = array<i64: 0, 0, 0, 0>, dilations = array<i64: 1, 1>} : (tensor<1x4x4x4xf32>, tensor<4x4x1x1xf32>) -> tensor<1x4x2x2xf32>
  %c4b = tpu.conv_2d %a4, %w {name = "c4b", strides = array<i64: 1, 1>, pads = array<i64: 0, 0, 0, 0>, dilations = array<i64: 1, 1>} : (tensor<1x4x4x4xf32>, tensor<4x4x1x1xf32>) -> tensor<1x4x4x4xf32>
  %a5 = tpu.eltwise_add %x, %y {name = "a5"} : (tensor<1x4x4x4xf32>, tensor<1x4x4x4xf32>) -> tensor<1x4x4x4xf32>
  %c5 = tpu.conv_2d %a5, %w {name = "c5", strides = array<i64: 1, 1>, pads = array<i64: 0, 0, 0, 0>, dilations = array<i64: 1, 1>} : (tensor<1x4x4x4xf32>, tensor<4x4x1x1xf32>) -> tensor<1x4x4x4xf32>
  %a6 = tpu.eltwise_add %u, %u {name = "a6"} : (tensor<4x4x1x1xf32>, tensor<4x4x1x1xf32>) -> tensor<4x4x1x1xf32>
  %c6 = tpu.conv_2d %x, %a6 {name = "c6", strides = array<i64: 2, 2>, pads = array<i64: 0, 0, 0, 0>, dilations = array<i64: 1, 1>} : (tensor<1x4x4x4xf32>, tensor<4x4x1x1xf32>) -> tensor<1x4x2x2xf32>
  return %c0, %r0, %c1, %a1, %c2, %c3, %c4a, %c4b, %c5, %c6 : tensor<1x4x2x2xf32>, tensor<1x4x4x4xf32>, tensor<1x4x2x2xf32>, tensor<1x4x4x4xf32>, tensor<1x4x1x1xf32>, tensor<1x4x3x3xf32>, tensor<1x4x2x2xf32>, tensor<1x4x4x4xf32>, tensor<1x4x4x4xf32>, tensor<1x4x2x2xf32>
}

// -----

// Tests that when layers have ids, all layers are numbered again so the new slices get ids.
// CHECK-LABEL: func.func @layer_ids
// CHECK: tpu.slice %arg0 {layer_id = 0 : i64, name = "ida_early_stride_0"
// CHECK: tpu.slice %arg1 {layer_id = 1 : i64, name = "ida_early_stride_1"
// CHECK: tpu.eltwise_add {{.*}}layer_id = 2 : i64, name = "ida"
// CHECK: tpu.conv_2d {{.*}}layer_id = 3 : i64, name = "idc"
func.func @layer_ids(%x: tensor<1x2x4x4xf32>, %y: tensor<1x2x4x4xf32>) -> tensor<1x2x2x2xf32> {
  %0 = tpu.eltwise_add %x, %y {name = "ida", layer_id = 5} : (tensor<1x2x4x4xf32>, tensor<1x2x4x4xf32>) -> tensor<1x2x4x4xf32>
  %w = tpu.load_weight {name = "w"} : tensor<2x2x1x1xf32>
  %1 = tpu.conv_2d %0, %w {name = "idc", layer_id = 9, strides = array<i64: 2, 2>, pads = array<i64: 0, 0, 0, 0>, dilations = array<i64: 1, 1>} : (tensor<1x2x4x4xf32>, tensor<2x2x1x1xf32>) -> tensor<1x2x2x2xf32>
  return %1 : tensor<1x2x2x2xf32>
}

// -----

//--- numerics.mlir
// Tests a residual-block junction (add with coefficients and relu, two stride-2 branches) and a
// max with a broadcast input feeding a (2, 3)-strided conv, on odd sizes.
// CHECK-LABEL: func.func @main
// CHECK-COUNT-2: tpu.slice
// CHECK: tpu.eltwise_add {{.*}} -> tensor<1x8x4x4xf32>
// CHECK-COUNT-2: tpu.slice
// CHECK: tpu.eltwise_max {{.*}} -> tensor<1x8x4x3xf32>
module attributes {tpu.weight_file = "es.npz"} {
func.func @main(%arg0: tensor<1x8x7x7xf32>, %arg1: tensor<1x8x7x7xf32>, %arg2: tensor<1x8x1x7xf32>) -> (tensor<1x16x4x4xf32>, tensor<1x4x4x4xf32>, tensor<1x6x4x3xf32>) {
  %x = tpu.input %arg0 {name = "x"} : (tensor<1x8x7x7xf32>) -> tensor<1x8x7x7xf32>
  %y = tpu.input %arg1 {name = "y"} : (tensor<1x8x7x7xf32>) -> tensor<1x8x7x7xf32>
  %z = tpu.input %arg2 {name = "z"} : (tensor<1x8x1x7xf32>) -> tensor<1x8x1x7xf32>
  %0 = tpu.eltwise_add %x, %y {name = "add", do_relu = true, coeff = array<f32: 1.0, -0.5>} : (tensor<1x8x7x7xf32>, tensor<1x8x7x7xf32>) -> tensor<1x8x7x7xf32>
  %w1 = tpu.load_weight {name = "w1"} : tensor<16x8x1x1xf32>
  %b1 = tpu.load_weight {name = "b1"} : tensor<16xf32>
  %1 = tpu.conv_2d %0, %w1, %b1 {name = "branch1", strides = array<i64: 2, 2>, pads = array<i64: 0, 0, 0, 0>, dilations = array<i64: 1, 1>} : (tensor<1x8x7x7xf32>, tensor<16x8x1x1xf32>, tensor<16xf32>) -> tensor<1x16x4x4xf32>
  %w2 = tpu.load_weight {name = "w2"} : tensor<4x8x1x1xf32>
  %2 = tpu.conv_2d %0, %w2 {name = "branch2a", strides = array<i64: 2, 2>, pads = array<i64: 0, 0, 0, 0>, dilations = array<i64: 1, 1>} : (tensor<1x8x7x7xf32>, tensor<4x8x1x1xf32>) -> tensor<1x4x4x4xf32>
  %3 = tpu.eltwise_max %x, %z {name = "max"} : (tensor<1x8x7x7xf32>, tensor<1x8x1x7xf32>) -> tensor<1x8x7x7xf32>
  %w3 = tpu.load_weight {name = "w3"} : tensor<6x8x1x1xf32>
  %4 = tpu.conv_2d %3, %w3 {name = "strided23", strides = array<i64: 2, 3>, pads = array<i64: 0, 0, 0, 0>, dilations = array<i64: 1, 1>} : (tensor<1x8x7x7xf32>, tensor<6x8x1x1xf32>) -> tensor<1x6x4x3xf32>
  return %1, %2, %4 : tensor<1x16x4x4xf32>, tensor<1x4x4x4xf32>, tensor<1x6x4x3xf32>
}
}
