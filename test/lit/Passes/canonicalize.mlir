// RUN: rm -rf %t && mkdir -p %t && cd %t
// RUN: %PYTHON -c "import numpy as np; r = np.random.default_rng(3); f = lambda *s: r.standard_normal(s).astype(np.float32); a = dict(w=f(4, 3, 3, 3), dw=f(4, 1, 3, 3), cb=f(4), s=f(4), sb=f(4), mean=f(4), var=r.uniform(0.1, 2.0, 4).astype(np.float32), gamma=f(4), beta=f(4)); [np.savez(f'fold{i}.npz', **a) for i in range(1, 7)]"
// RUN: cd %t && %PYTHON -c "import numpy as np; r = np.random.default_rng(4); f = lambda *s: r.standard_normal(s).astype(np.float32); np.savez('net.npz', w1=f(8, 3, 3, 3), b1=f(8), m1=f(8), v1=r.uniform(0.5, 2.0, 8).astype(np.float32), g1=f(8), be1=f(8), w2=f(8, 8, 3, 3), s2=f(8), sb2=f(8), s3=f(8)); np.savez('in.npz', data=f(1, 3, 9, 9))"
// RUN: cd %t && tpuc-opt %s -split-input-file -verify-diagnostics --canonicalize | FileCheck %s
// RUN: cd %t && %PYTHON %S/Inputs/check_weights.py fold-conv fold1.npz fold1_fold.npz --filter w --bias cb --scale s --shift sb --result sc_filter sc_bias
// RUN: cd %t && %PYTHON %S/Inputs/check_weights.py keeps fold1.npz fold1_fold.npz
// RUN: cd %t && %PYTHON %S/Inputs/check_weights.py fold-conv fold1.npz fold1_fold.npz --filter w --bn mean var gamma beta --eps 1e-3 --result bn2_filter bn2_bias
// RUN: cd %t && %PYTHON %S/Inputs/check_weights.py fold-conv fold2.npz fold2_fold.npz --filter w --bn mean var gamma beta --eps 1e-5 --result bn_filter bn_bias
// RUN: cd %t && %PYTHON %S/Inputs/check_weights.py fold-conv fold3.npz fold3_fold.npz --filter dw --bias cb --scale s --result dsc_filter dsc_bias
// RUN: cd %t && %PYTHON -c "import numpy as np; import sys; sys.path.insert(0, '%S/Inputs'); from check_weights import *; a = load('fold4.npz'); o = load('fold4_fold.npz'); s = a['gamma'] / np.sqrt(a['var'].astype(np.float64) + float(np.float32(1e-5))); w1 = a['w'] * s.reshape(4, 1, 1, 1); b1 = (a['cb'] - a['mean']) * s + a['beta']; expect('sc_filter', o['sc_filter'], w1 * a['s'].reshape(4, 1, 1, 1)); expect('sc_bias', o['sc_bias'], b1 * a['s'] + a['sb'])"
// RUN: cd %t && %PYTHON -c "import os; assert not os.path.exists('fold5_fold.npz') and not os.path.exists('fold6_fold.npz'), 'a weight file was written without a fold'"
// The last case is also a file of its own (split-file): the interpreter gives the same results
// (up to float rounding) before and after canonicalization.
// RUN: cd %t && rm net_fold.npz && split-file %s %t
// RUN: cd %t && tpuc-interpreter numerics.mlir --tensor-in in.npz --tensor-out before.npz
// RUN: cd %t && tpuc-opt numerics.mlir --canonicalize -o folded.mlir
// RUN: cd %t && FileCheck %s --check-prefix=FOLDED < folded.mlir
// RUN: cd %t && tpuc-interpreter folded.mlir --tensor-in in.npz --tensor-out after.npz
// RUN: cd %t && %PYTHON -c "import numpy as np; a = np.load('before.npz'); b = np.load('after.npz'); assert sorted(a.files) == sorted(b.files) == ['out', 'relu1'], b.files; [np.testing.assert_allclose(b[k], a[k], rtol=1e-4, atol=1e-4) for k in a.files]"
// FOLDED-COUNT-2: tpu.conv_2d
// FOLDED-NOT: tpu.batch_norm
// FOLDED-NOT: tpu.scale
// FOLDED-NOT: tpu.relu

// Tests that a scale after a single-user conv folds into the conv's filter and bias; the conv
// takes the scale's name, id and quantization state. A second pair of the function (conv
// without bias and batch_norm) folds in the same rewrite, into the same new file.
// CHECK-LABEL: module attributes {tpu.weight_file = "fold1_fold.npz"}
// CHECK-LABEL: func.func @conv_scale
// CHECK-DAG: %[[W:.*]] = tpu.load_weight {name = "sc_filter"} : tensor<4x3x3x3xf32>
// CHECK-DAG: %[[B:.*]] = tpu.load_weight {name = "sc_bias"} : tensor<4xf32>
// CHECK: %[[C:.*]] = tpu.conv_2d %arg0, %[[W]], %[[B]] {dilations = array<i64: 1, 1>, layer_id = 7 : i64, name = "sc", pads = array<i64: 0, 0, 0, 0>, quant = {mode = "NONE"}, strides = array<i64: 1, 1>}
// CHECK-DAG: %[[W2:.*]] = tpu.load_weight {name = "bn2_filter"} : tensor<4x3x3x3xf32>
// CHECK-DAG: %[[B2:.*]] = tpu.load_weight {name = "bn2_bias"} : tensor<4xf32>
// CHECK: %[[C2:.*]] = tpu.conv_2d %arg0, %[[W2]], %[[B2]] {{.*}}name = "bn2"
// CHECK-NOT: tpu.scale
// CHECK-NOT: tpu.batch_norm
// CHECK-NOT: tpu.load_weight
// CHECK: return %[[C]], %[[C2]]
module attributes {tpu.weight_file = "fold1.npz"} {
func.func @conv_scale(%arg0: tensor<1x3x6x6xf32>) -> (tensor<1x4x4x4xf32>, tensor<1x4x4x4xf32>) {
  %w = tpu.load_weight {name = "w"} : tensor<4x3x3x3xf32>
  %cb = tpu.load_weight {name = "cb"} : tensor<4xf32>
  %0 = tpu.conv_2d %arg0, %w, %cb {name = "c", layer_id = 6, strides = array<i64: 1, 1>, pads = array<i64: 0, 0, 0, 0>, dilations = array<i64: 1, 1>} : (tensor<1x3x6x6xf32>, tensor<4x3x3x3xf32>, tensor<4xf32>) -> tensor<1x4x4x4xf32>
  %s = tpu.load_weight {name = "s"} : tensor<4xf32>
  %sb = tpu.load_weight {name = "sb"} : tensor<4xf32>
  %1 = tpu.scale %0, %s, %sb {name = "sc", layer_id = 7, quant = {mode = "NONE"}} : (tensor<1x4x4x4xf32>, tensor<4xf32>, tensor<4xf32>) -> tensor<1x4x4x4xf32>
  %2 = tpu.conv_2d %arg0, %w {name = "c2", strides = array<i64: 1, 1>, pads = array<i64: 0, 0, 0, 0>, dilations = array<i64: 1, 1>} : (tensor<1x3x6x6xf32>, tensor<4x3x3x3xf32>) -> tensor<1x4x4x4xf32>
  %m = tpu.load_weight {name = "mean"} : tensor<4xf32>
  %v = tpu.load_weight {name = "var"} : tensor<4xf32>
  %g = tpu.load_weight {name = "gamma"} : tensor<4xf32>
  %b = tpu.load_weight {name = "beta"} : tensor<4xf32>
  %3 = tpu.batch_norm %2, %m, %v, %g, %b {name = "bn2", epsilon = 1.0e-3 : f32} : (tensor<1x4x4x4xf32>, tensor<4xf32>, tensor<4xf32>, tensor<4xf32>, tensor<4xf32>) -> tensor<1x4x4x4xf32>
  return %1, %3 : tensor<1x4x4x4xf32>, tensor<1x4x4x4xf32>
}
}

// -----

// Tests that a batch_norm after a conv without bias folds into it (the conv gains a bias).
// CHECK-LABEL: module attributes {tpu.weight_file = "fold2_fold.npz"}
// CHECK-LABEL: func.func @conv_batch_norm
// CHECK-DAG: %[[W:.*]] = tpu.load_weight {name = "bn_filter"} : tensor<4x3x3x3xf32>
// CHECK-DAG: %[[B:.*]] = tpu.load_weight {name = "bn_bias"} : tensor<4xf32>
// CHECK: tpu.conv_2d %arg0, %[[W]], %[[B]] {{.*}}name = "bn"
// CHECK-NOT: tpu.batch_norm
module attributes {tpu.weight_file = "fold2.npz"} {
func.func @conv_batch_norm(%arg0: tensor<1x3x6x6xf32>) -> tensor<1x4x4x4xf32> {
  %w = tpu.load_weight {name = "w"} : tensor<4x3x3x3xf32>
  %0 = tpu.conv_2d %arg0, %w {name = "c", strides = array<i64: 1, 1>, pads = array<i64: 0, 0, 0, 0>, dilations = array<i64: 1, 1>} : (tensor<1x3x6x6xf32>, tensor<4x3x3x3xf32>) -> tensor<1x4x4x4xf32>
  %m = tpu.load_weight {name = "mean"} : tensor<4xf32>
  %v = tpu.load_weight {name = "var"} : tensor<4xf32>
  %g = tpu.load_weight {name = "gamma"} : tensor<4xf32>
  %b = tpu.load_weight {name = "beta"} : tensor<4xf32>
  %1 = tpu.batch_norm %0, %m, %v, %g, %b {name = "bn", epsilon = 1.0e-5 : f32} : (tensor<1x4x4x4xf32>, tensor<4xf32>, tensor<4xf32>, tensor<4xf32>, tensor<4xf32>) -> tensor<1x4x4x4xf32>
  return %1 : tensor<1x4x4x4xf32>
}
}

// -----

// Tests that a scale without bias folds into a depthwise conv, and that the scale's do_relu
// moves to the conv.
// CHECK-LABEL: module attributes {tpu.weight_file = "fold3_fold.npz"}
// CHECK-LABEL: func.func @depthwise_scale_relu
// CHECK: tpu.conv_2d %arg0, {{.*}} {dilations = array<i64: 1, 1>, do_relu = true, group = 4 : i64, name = "dsc"
module attributes {tpu.weight_file = "fold3.npz"} {
func.func @depthwise_scale_relu(%arg0: tensor<1x4x6x6xf32>) -> tensor<1x4x4x4xf32> {
  %w = tpu.load_weight {name = "dw"} : tensor<4x1x3x3xf32>
  %cb = tpu.load_weight {name = "cb"} : tensor<4xf32>
  %0 = tpu.conv_2d %arg0, %w, %cb {name = "c", group = 4, strides = array<i64: 1, 1>, pads = array<i64: 0, 0, 0, 0>, dilations = array<i64: 1, 1>} : (tensor<1x4x6x6xf32>, tensor<4x1x3x3xf32>, tensor<4xf32>) -> tensor<1x4x4x4xf32>
  %s = tpu.load_weight {name = "s"} : tensor<4xf32>
  %1 = tpu.scale %0, %s {name = "dsc", do_relu = true} : (tensor<1x4x4x4xf32>, tensor<4xf32>) -> tensor<1x4x4x4xf32>
  return %1 : tensor<1x4x4x4xf32>
}
}

// -----

// Tests that conv -> batch_norm -> scale -> relu becomes one conv with do_relu, named after the
// relu, and that both folds go to one new weight file.
// CHECK-LABEL: module attributes {tpu.weight_file = "fold4_fold.npz"}
// CHECK-LABEL: func.func @conv_bn_scale_relu
// CHECK-DAG: %[[W:.*]] = tpu.load_weight {name = "sc_filter"}
// CHECK-DAG: %[[B:.*]] = tpu.load_weight {name = "sc_bias"}
// CHECK: %[[C:.*]] = tpu.conv_2d %arg0, %[[W]], %[[B]] {dilations = array<i64: 1, 1>, do_relu = true, name = "r"
// CHECK-NEXT: return %[[C]]
module attributes {tpu.weight_file = "fold4.npz"} {
func.func @conv_bn_scale_relu(%arg0: tensor<1x3x6x6xf32>) -> tensor<1x4x4x4xf32> {
  %w = tpu.load_weight {name = "w"} : tensor<4x3x3x3xf32>
  %cb = tpu.load_weight {name = "cb"} : tensor<4xf32>
  %0 = tpu.conv_2d %arg0, %w, %cb {name = "c", strides = array<i64: 1, 1>, pads = array<i64: 0, 0, 0, 0>, dilations = array<i64: 1, 1>} : (tensor<1x3x6x6xf32>, tensor<4x3x3x3xf32>, tensor<4xf32>) -> tensor<1x4x4x4xf32>
  %m = tpu.load_weight {name = "mean"} : tensor<4xf32>
  %v = tpu.load_weight {name = "var"} : tensor<4xf32>
  %g = tpu.load_weight {name = "gamma"} : tensor<4xf32>
  %b = tpu.load_weight {name = "beta"} : tensor<4xf32>
  %1 = tpu.batch_norm %0, %m, %v, %g, %b {name = "bn", epsilon = 1.0e-5 : f32} : (tensor<1x4x4x4xf32>, tensor<4xf32>, tensor<4xf32>, tensor<4xf32>, tensor<4xf32>) -> tensor<1x4x4x4xf32>
  %s = tpu.load_weight {name = "s"} : tensor<4xf32>
  %sb = tpu.load_weight {name = "sb"} : tensor<4xf32>
  %2 = tpu.scale %1, %s, %sb {name = "sc"} : (tensor<1x4x4x4xf32>, tensor<4xf32>, tensor<4xf32>) -> tensor<1x4x4x4xf32>
  %3 = tpu.relu %2 {name = "r"} : (tensor<1x4x4x4xf32>) -> tensor<1x4x4x4xf32>
  return %3 : tensor<1x4x4x4xf32>
}
}

// -----

// Tests that nothing folds into a conv with a second user, a conv with a fused relu, or from a
// scale whose factors are an activation; no weight file is written.
// CHECK-LABEL: module attributes {tpu.weight_file = "fold5.npz"}
// CHECK-LABEL: func.func @no_fold
// CHECK: %[[C1:.*]] = tpu.conv_2d {{.*}}name = "c1"
// CHECK: tpu.scale %[[C1]]
// CHECK: %[[C2:.*]] = tpu.conv_2d {{.*}}do_relu = true, name = "c2"
// CHECK: tpu.scale %[[C2]]
// CHECK: %[[C3:.*]] = tpu.conv_2d {{.*}}name = "c3"
// CHECK: tpu.scale %[[C3]], %arg1
module attributes {tpu.weight_file = "fold5.npz"} {
func.func @no_fold(%arg0: tensor<1x3x6x6xf32>, %arg1: tensor<4xf32>) -> (tensor<1x4x4x4xf32>, tensor<1x4x4x4xf32>, tensor<1x4x4x4xf32>, tensor<1x4x4x4xf32>) {
  %w = tpu.load_weight {name = "w"} : tensor<4x3x3x3xf32>
  %s = tpu.load_weight {name = "s"} : tensor<4xf32>
  %0 = tpu.conv_2d %arg0, %w {name = "c1", strides = array<i64: 1, 1>, pads = array<i64: 0, 0, 0, 0>, dilations = array<i64: 1, 1>} : (tensor<1x3x6x6xf32>, tensor<4x3x3x3xf32>) -> tensor<1x4x4x4xf32>
  %1 = tpu.scale %0, %s {name = "s1"} : (tensor<1x4x4x4xf32>, tensor<4xf32>) -> tensor<1x4x4x4xf32>
  %2 = tpu.conv_2d %arg0, %w {name = "c2", do_relu = true, strides = array<i64: 1, 1>, pads = array<i64: 0, 0, 0, 0>, dilations = array<i64: 1, 1>} : (tensor<1x3x6x6xf32>, tensor<4x3x3x3xf32>) -> tensor<1x4x4x4xf32>
  %3 = tpu.scale %2, %s {name = "s2"} : (tensor<1x4x4x4xf32>, tensor<4xf32>) -> tensor<1x4x4x4xf32>
  %4 = tpu.conv_2d %arg0, %w {name = "c3", strides = array<i64: 1, 1>, pads = array<i64: 0, 0, 0, 0>, dilations = array<i64: 1, 1>} : (tensor<1x3x6x6xf32>, tensor<4x3x3x3xf32>) -> tensor<1x4x4x4xf32>
  %5 = tpu.scale %4, %arg1 {name = "s3"} : (tensor<1x4x4x4xf32>, tensor<4xf32>) -> tensor<1x4x4x4xf32>
  return %0, %1, %3, %5 : tensor<1x4x4x4xf32>, tensor<1x4x4x4xf32>, tensor<1x4x4x4xf32>, tensor<1x4x4x4xf32>
}
}

// -----

// Tests that quantized layers are not folded: a scale after an INT8 conv, and a relu after an
// INT8 eltwise_add, stay.
// CHECK-LABEL: func.func @quantized_layers
// CHECK: tpu.conv_2d
// CHECK: tpu.scale
// CHECK: tpu.eltwise_add
// CHECK: tpu.relu
module attributes {tpu.weight_file = "fold5.npz"} {
func.func @quantized_layers(%arg0: tensor<1x3x6x6xf32>, %x: tensor<1x4x4x4xf32>) -> (tensor<1x4x4x4xf32>, tensor<1x4x4x4xf32>) {
  %w = tpu.load_weight {name = "w"} : tensor<4x3x3x3xf32>
  %0 = tpu.conv_2d %arg0, %w {name = "qc", quant = {mode = "INT8", threshold_max = 4.0 : f64}, strides = array<i64: 1, 1>, pads = array<i64: 0, 0, 0, 0>, dilations = array<i64: 1, 1>} : (tensor<1x3x6x6xf32>, tensor<4x3x3x3xf32>) -> tensor<1x4x4x4xf32>
  %s = tpu.load_weight {name = "s"} : tensor<4xf32>
  %1 = tpu.scale %0, %s {name = "qs"} : (tensor<1x4x4x4xf32>, tensor<4xf32>) -> tensor<1x4x4x4xf32>
  %2 = tpu.eltwise_add %x, %x {name = "qa", quant = {mode = "INT8", rshift = [1], multiplier = [1, 1]}} : (tensor<1x4x4x4xf32>, tensor<1x4x4x4xf32>) -> tensor<1x4x4x4xf32>
  %3 = tpu.relu %2 {name = "qr", quant = {mode = "INT8"}} : (tensor<1x4x4x4xf32>) -> tensor<1x4x4x4xf32>
  return %1, %3 : tensor<1x4x4x4xf32>, tensor<1x4x4x4xf32>
}
}

// -----

// Tests that a fold whose weights cannot be read leaves the IR alone with a warning.
// CHECK-LABEL: module attributes {tpu.weight_file = "fold6.npz"}
// CHECK-LABEL: func.func @unreadable_weight
// CHECK: tpu.conv_2d
// CHECK: tpu.scale
module attributes {tpu.weight_file = "fold6.npz"} {
func.func @unreadable_weight(%arg0: tensor<1x3x6x6xf32>) -> tensor<1x4x4x4xf32> {
  %w = tpu.load_weight {name = "w"} : tensor<4x3x3x3xf32>
  %0 = tpu.conv_2d %arg0, %w {name = "c", strides = array<i64: 1, 1>, pads = array<i64: 0, 0, 0, 0>, dilations = array<i64: 1, 1>} : (tensor<1x3x6x6xf32>, tensor<4x3x3x3xf32>) -> tensor<1x4x4x4xf32>
  %s = tpu.load_weight {name = "missing"} : tensor<4xf32>
  // expected-warning @+1 {{canonicalize: 'sc' not folded into its convolution: weight file 'fold6.npz': has no array 'missing'}}
  %1 = tpu.scale %0, %s {name = "sc"} : (tensor<1x4x4x4xf32>, tensor<4xf32>) -> tensor<1x4x4x4xf32>
  return %1 : tensor<1x4x4x4xf32>
}
}

// -----

// Tests that a relu fuses into every producer with a do_relu flag, which takes the relu's name.
// CHECK-LABEL: func.func @relu_fusion
// CHECK-NOT: tpu.relu
// CHECK-DAG: tpu.conv_2d {{.*}}do_relu = true, name = "r_conv"
// CHECK-DAG: tpu.deconv_2d {{.*}}do_relu = true, name = "r_deconv"
// CHECK-DAG: tpu.fully_connected {{.*}}do_relu = true, name = "r_fc"
// CHECK-DAG: tpu.matmul {{.*}}do_relu = true, name = "r_matmul"
// CHECK-DAG: tpu.eltwise_add {{.*}}do_relu = true, name = "r_add"
// CHECK-DAG: tpu.eltwise_mul {{.*}}do_relu = true, name = "r_mul"
// CHECK-DAG: tpu.eltwise_max {{.*}}do_relu = true, name = "r_max"
// CHECK-DAG: tpu.eltwise_min {{.*}}do_relu = true, name = "r_min"
// CHECK-DAG: tpu.scale {{.*}}do_relu = true, name = "r_scale"
// CHECK-DAG: tpu.broadcast_mul {{.*}}do_relu = true, name = "r_bmul"
// CHECK-DAG: tpu.pool_max_2d {{.*}}do_relu = true, {{.*}}name = "r_maxpool"
// CHECK-DAG: tpu.pool_avg_2d {{.*}}do_relu = true, {{.*}}name = "r_avgpool"
func.func @relu_fusion(%x: tensor<1x4x4x4xf32>, %y: tensor<1x4x4x4xf32>, %fc_in: tensor<2x8xf32>, %lhs: tensor<2x3x4xf32>, %rhs: tensor<2x4x5xf32>, %se: tensor<1x4x1x1xf32>) -> (tensor<1x4x2x2xf32>, tensor<1x2x8x8xf32>, tensor<2x3xf32>, tensor<2x3x5xf32>, tensor<1x4x4x4xf32>, tensor<1x4x4x4xf32>, tensor<1x4x4x4xf32>, tensor<1x4x4x4xf32>, tensor<1x4x4x4xf32>, tensor<1x4x4x4xf32>, tensor<1x4x2x2xf32>, tensor<1x4x2x2xf32>) {
  %w = tpu.load_weight {name = "w"} : tensor<4x4x3x3xf32>
  %c = tpu.conv_2d %x, %w {name = "conv", strides = array<i64: 1, 1>, pads = array<i64: 0, 0, 0, 0>, dilations = array<i64: 1, 1>} : (tensor<1x4x4x4xf32>, tensor<4x4x3x3xf32>) -> tensor<1x4x2x2xf32>
  %r0 = tpu.relu %c {name = "r_conv"} : (tensor<1x4x2x2xf32>) -> tensor<1x4x2x2xf32>
  %dw = tpu.load_weight {name = "dw"} : tensor<4x2x2x2xf32>
  %d = tpu.deconv_2d %x, %dw {name = "deconv", strides = array<i64: 2, 2>, pads = array<i64: 0, 0, 0, 0>, dilations = array<i64: 1, 1>} : (tensor<1x4x4x4xf32>, tensor<4x2x2x2xf32>) -> tensor<1x2x8x8xf32>
  %r1 = tpu.relu %d {name = "r_deconv"} : (tensor<1x2x8x8xf32>) -> tensor<1x2x8x8xf32>
  %fw = tpu.load_weight {name = "fw"} : tensor<3x8xf32>
  %f = tpu.fully_connected %fc_in, %fw {name = "fc"} : (tensor<2x8xf32>, tensor<3x8xf32>) -> tensor<2x3xf32>
  %r2 = tpu.relu %f {name = "r_fc"} : (tensor<2x3xf32>) -> tensor<2x3xf32>
  %m = tpu.matmul %lhs, %rhs {name = "matmul"} : (tensor<2x3x4xf32>, tensor<2x4x5xf32>) -> tensor<2x3x5xf32>
  %r3 = tpu.relu %m {name = "r_matmul"} : (tensor<2x3x5xf32>) -> tensor<2x3x5xf32>
  %a = tpu.eltwise_add %x, %y {name = "add"} : (tensor<1x4x4x4xf32>, tensor<1x4x4x4xf32>) -> tensor<1x4x4x4xf32>
  %r4 = tpu.relu %a {name = "r_add"} : (tensor<1x4x4x4xf32>) -> tensor<1x4x4x4xf32>
  %mu = tpu.eltwise_mul %x, %y {name = "mul"} : (tensor<1x4x4x4xf32>, tensor<1x4x4x4xf32>) -> tensor<1x4x4x4xf32>
  %r5 = tpu.relu %mu {name = "r_mul"} : (tensor<1x4x4x4xf32>) -> tensor<1x4x4x4xf32>
  %mx = tpu.eltwise_max %x, %y {name = "max"} : (tensor<1x4x4x4xf32>, tensor<1x4x4x4xf32>) -> tensor<1x4x4x4xf32>
  %r6 = tpu.relu %mx {name = "r_max"} : (tensor<1x4x4x4xf32>) -> tensor<1x4x4x4xf32>
  %mn = tpu.eltwise_min %x, %y {name = "min"} : (tensor<1x4x4x4xf32>, tensor<1x4x4x4xf32>) -> tensor<1x4x4x4xf32>
  %r7 = tpu.relu %mn {name = "r_min"} : (tensor<1x4x4x4xf32>) -> tensor<1x4x4x4xf32>
  %sw = tpu.load_weight {name = "s"} : tensor<4xf32>
  %sc = tpu.scale %x, %sw {name = "scale"} : (tensor<1x4x4x4xf32>, tensor<4xf32>) -> tensor<1x4x4x4xf32>
  %r8 = tpu.relu %sc {name = "r_scale"} : (tensor<1x4x4x4xf32>) -> tensor<1x4x4x4xf32>
  %bm = tpu.broadcast_mul %x, %se {name = "bmul"} : (tensor<1x4x4x4xf32>, tensor<1x4x1x1xf32>) -> tensor<1x4x4x4xf32>
  %r9 = tpu.relu %bm {name = "r_bmul"} : (tensor<1x4x4x4xf32>) -> tensor<1x4x4x4xf32>
  %pm = tpu.pool_max_2d %x {name = "maxpool", kernel_shape = array<i64: 2, 2>, strides = array<i64: 2, 2>, pads = array<i64: 0, 0, 0, 0>} : (tensor<1x4x4x4xf32>) -> tensor<1x4x2x2xf32>
  %r10 = tpu.relu %pm {name = "r_maxpool"} : (tensor<1x4x2x2xf32>) -> tensor<1x4x2x2xf32>
  %pa = tpu.pool_avg_2d %x {name = "avgpool", kernel_shape = array<i64: 2, 2>, strides = array<i64: 2, 2>, pads = array<i64: 0, 0, 0, 0>} : (tensor<1x4x4x4xf32>) -> tensor<1x4x2x2xf32>
  %r11 = tpu.relu %pa {name = "r_avgpool"} : (tensor<1x4x2x2xf32>) -> tensor<1x4x2x2xf32>
  return %r0, %r1, %r2, %r3, %r4, %r5, %r6, %r7, %r8, %r9, %r10, %r11 : tensor<1x4x2x2xf32>, tensor<1x2x8x8xf32>, tensor<2x3xf32>, tensor<2x3x5xf32>, tensor<1x4x4x4xf32>, tensor<1x4x4x4xf32>, tensor<1x4x4x4xf32>, tensor<1x4x4x4xf32>, tensor<1x4x4x4xf32>, tensor<1x4x4x4xf32>, tensor<1x4x2x2xf32>, tensor<1x4x2x2xf32>
}

// -----

// Tests that a relu stays after a producer with another user and after a producer without a
// do_relu flag.
// CHECK-LABEL: func.func @relu_kept
// CHECK: %[[A:.*]] = tpu.eltwise_add %arg0, %arg1 {name = "add"}
// CHECK: tpu.relu %[[A]] {name = "r1"}
// CHECK: %[[S:.*]] = tpu.sigmoid
// CHECK: tpu.relu %[[S]] {name = "r2"}
func.func @relu_kept(%x: tensor<1x4x4x4xf32>, %y: tensor<1x4x4x4xf32>) -> (tensor<1x4x4x4xf32>, tensor<1x4x4x4xf32>, tensor<1x4x4x4xf32>) {
  %a = tpu.eltwise_add %x, %y {name = "add"} : (tensor<1x4x4x4xf32>, tensor<1x4x4x4xf32>) -> tensor<1x4x4x4xf32>
  %r1 = tpu.relu %a {name = "r1"} : (tensor<1x4x4x4xf32>) -> tensor<1x4x4x4xf32>
  %s = tpu.sigmoid %x {name = "sig"} : (tensor<1x4x4x4xf32>) -> tensor<1x4x4x4xf32>
  %r2 = tpu.relu %s {name = "r2"} : (tensor<1x4x4x4xf32>) -> tensor<1x4x4x4xf32>
  return %a, %r1, %r2 : tensor<1x4x4x4xf32>, tensor<1x4x4x4xf32>, tensor<1x4x4x4xf32>
}

// -----

// Tests that a relu after a producer that already applies one is dropped even when the producer
// has other users.
// CHECK-LABEL: func.func @relu_after_relu_flag
// CHECK: %[[A:.*]] = tpu.eltwise_add %arg0, %arg1 {do_relu = true, name = "add"}
// CHECK-NOT: tpu.relu
// CHECK: return %[[A]], %[[A]]
func.func @relu_after_relu_flag(%x: tensor<1x4x4x4xf32>, %y: tensor<1x4x4x4xf32>) -> (tensor<1x4x4x4xf32>, tensor<1x4x4x4xf32>) {
  %a = tpu.eltwise_add %x, %y {name = "add", do_relu = true} : (tensor<1x4x4x4xf32>, tensor<1x4x4x4xf32>) -> tensor<1x4x4x4xf32>
  %r = tpu.relu %a {name = "r"} : (tensor<1x4x4x4xf32>) -> tensor<1x4x4x4xf32>
  return %a, %r : tensor<1x4x4x4xf32>, tensor<1x4x4x4xf32>
}

// -----

// Tests that relu of relu is one relu (the outer one, whose name the result has); an inner relu
// with another user stays for that user.
// CHECK-LABEL: func.func @relu_of_relu
// CHECK: %[[R1:.*]] = tpu.relu %arg0 {name = "outer"}
// CHECK-NOT: tpu.relu
// CHECK: return %[[R1]]
func.func @relu_of_relu(%x: tensor<4xf32>) -> tensor<4xf32> {
  %0 = tpu.relu %x {name = "inner"} : (tensor<4xf32>) -> tensor<4xf32>
  %1 = tpu.relu %0 {name = "outer"} : (tensor<4xf32>) -> tensor<4xf32>
  return %1 : tensor<4xf32>
}
// CHECK-LABEL: func.func @relu_of_shared_relu
// CHECK: %[[I:.*]] = tpu.relu %arg0 {name = "inner"}
// CHECK: %[[O:.*]] = tpu.relu %arg0 {name = "outer"}
// CHECK: return %[[I]], %[[O]]
func.func @relu_of_shared_relu(%x: tensor<4xf32>) -> (tensor<4xf32>, tensor<4xf32>) {
  %0 = tpu.relu %x {name = "inner"} : (tensor<4xf32>) -> tensor<4xf32>
  %1 = tpu.relu %0 {name = "outer"} : (tensor<4xf32>) -> tensor<4xf32>
  return %0, %1 : tensor<4xf32>, tensor<4xf32>
}

// -----

// Tests that a reshape to the same type is dropped, that reshape of reshape is one reshape, and
// that a reshape back to the original shape disappears.
// CHECK-LABEL: func.func @reshapes
// CHECK: %[[R:.*]] = tpu.reshape %arg0 {name = "r3"} : (tensor<1x4x2x2xf32>) -> tensor<16xf32>
// CHECK-NOT: tpu.reshape
// CHECK: return %arg0, %[[R]], %arg0
func.func @reshapes(%x: tensor<1x4x2x2xf32>) -> (tensor<1x4x2x2xf32>, tensor<16xf32>, tensor<1x4x2x2xf32>) {
  %0 = tpu.reshape %x {name = "same"} : (tensor<1x4x2x2xf32>) -> tensor<1x4x2x2xf32>
  %1 = tpu.reshape %x {name = "r1"} : (tensor<1x4x2x2xf32>) -> tensor<4x4xf32>
  %2 = tpu.reshape %1 {name = "r2"} : (tensor<4x4xf32>) -> tensor<2x8xf32>
  %3 = tpu.reshape %2 {name = "r3"} : (tensor<2x8xf32>) -> tensor<16xf32>
  %4 = tpu.reshape %1 {name = "back"} : (tensor<4x4xf32>) -> tensor<1x4x2x2xf32>
  return %0, %3, %4 : tensor<1x4x2x2xf32>, tensor<16xf32>, tensor<1x4x2x2xf32>
}

// -----

// Tests that ops that do nothing fold to their input: identity permute, whole-tensor slice and
// crop, zero pads, 1x1 upsample, single-input concat, 1x1 stride-1 pools, factor-1 pixel
// shuffle and reorg, channel shuffle with one group or one channel per group.
// CHECK-LABEL: func.func @identities
// CHECK-NOT: tpu.
// CHECK: return %arg0, %arg0, %arg0, %arg0, %arg0, %arg0, %arg0, %arg0, %arg0, %arg0, %arg0, %arg0
func.func @identities(%x: tensor<1x4x2x2xf32>) -> (tensor<1x4x2x2xf32>, tensor<1x4x2x2xf32>, tensor<1x4x2x2xf32>, tensor<1x4x2x2xf32>, tensor<1x4x2x2xf32>, tensor<1x4x2x2xf32>, tensor<1x4x2x2xf32>, tensor<1x4x2x2xf32>, tensor<1x4x2x2xf32>, tensor<1x4x2x2xf32>, tensor<1x4x2x2xf32>, tensor<1x4x2x2xf32>) {
  %0 = tpu.permute %x {name = "p", order = array<i64: 0, 1, 2, 3>} : (tensor<1x4x2x2xf32>) -> tensor<1x4x2x2xf32>
  %1 = tpu.slice %x {name = "s", offsets = array<i64: 0, 0, 0, 0>, steps = array<i64: 1, 1, 1, 1>} : (tensor<1x4x2x2xf32>) -> tensor<1x4x2x2xf32>
  %2 = tpu.crop %x {name = "c", offsets = array<i64: 0, 0, 0, 0>} : (tensor<1x4x2x2xf32>) -> tensor<1x4x2x2xf32>
  %3 = tpu.pad %x {name = "pad", pads = array<i64: 0, 0, 0, 0, 0, 0, 0, 0>} : (tensor<1x4x2x2xf32>) -> tensor<1x4x2x2xf32>
  %4 = tpu.upsample %x {name = "u", scale_h = 1, scale_w = 1} : (tensor<1x4x2x2xf32>) -> tensor<1x4x2x2xf32>
  %5 = tpu.concat %x {name = "cat", axis = 1} : (tensor<1x4x2x2xf32>) -> tensor<1x4x2x2xf32>
  %6 = tpu.pool_max_2d %x {name = "pm", kernel_shape = array<i64: 1, 1>, strides = array<i64: 1, 1>, pads = array<i64: 0, 0, 0, 0>} : (tensor<1x4x2x2xf32>) -> tensor<1x4x2x2xf32>
  %7 = tpu.pool_avg_2d %x {name = "pa", kernel_shape = array<i64: 1, 1>, strides = array<i64: 1, 1>, pads = array<i64: 0, 0, 0, 0>} : (tensor<1x4x2x2xf32>) -> tensor<1x4x2x2xf32>
  %8 = tpu.pixel_shuffle %x {name = "ps", upscale_factor = 1} : (tensor<1x4x2x2xf32>) -> tensor<1x4x2x2xf32>
  %9 = tpu.reorg %x {name = "ro", stride = 1} : (tensor<1x4x2x2xf32>) -> tensor<1x4x2x2xf32>
  %10 = tpu.shuffle_channel %x {name = "sc1", group = 1} : (tensor<1x4x2x2xf32>) -> tensor<1x4x2x2xf32>
  %11 = tpu.shuffle_channel %x {name = "sc4", group = 4} : (tensor<1x4x2x2xf32>) -> tensor<1x4x2x2xf32>
  return %0, %1, %2, %3, %4, %5, %6, %7, %8, %9, %10, %11 : tensor<1x4x2x2xf32>, tensor<1x4x2x2xf32>, tensor<1x4x2x2xf32>, tensor<1x4x2x2xf32>, tensor<1x4x2x2xf32>, tensor<1x4x2x2xf32>, tensor<1x4x2x2xf32>, tensor<1x4x2x2xf32>, tensor<1x4x2x2xf32>, tensor<1x4x2x2xf32>, tensor<1x4x2x2xf32>, tensor<1x4x2x2xf32>
}

// -----

// Tests that the same ops are kept when they do something.
// CHECK-LABEL: func.func @not_identities
// CHECK: tpu.permute
// CHECK: tpu.slice
// CHECK: tpu.crop
// CHECK: tpu.pad
// CHECK: tpu.upsample
// CHECK: tpu.concat
// CHECK: tpu.pool_max_2d
// CHECK: tpu.pool_avg_2d
// CHECK: tpu.pixel_shuffle
// CHECK: tpu.reorg
// CHECK: tpu.shuffle_channel
func.func @not_identities(%x: tensor<1x4x2x2xf32>) -> (tensor<1x4x2x2xf32>, tensor<1x4x1x2xf32>, tensor<1x4x1x1xf32>, tensor<1x4x4x2xf32>, tensor<1x4x4x4xf32>, tensor<1x8x2x2xf32>, tensor<1x4x2x2xf32>, tensor<1x4x1x1xf32>, tensor<1x1x4x4xf32>, tensor<1x16x1x1xf32>, tensor<1x4x2x2xf32>) {
  %0 = tpu.permute %x {name = "p", order = array<i64: 0, 1, 3, 2>} : (tensor<1x4x2x2xf32>) -> tensor<1x4x2x2xf32>
  %1 = tpu.slice %x {name = "s", offsets = array<i64: 0, 0, 0, 0>, steps = array<i64: 1, 1, 2, 1>} : (tensor<1x4x2x2xf32>) -> tensor<1x4x1x2xf32>
  %2 = tpu.crop %x {name = "c", offsets = array<i64: 0, 0, 1, 1>} : (tensor<1x4x2x2xf32>) -> tensor<1x4x1x1xf32>
  %3 = tpu.pad %x {name = "pad", pads = array<i64: 0, 0, 1, 0, 0, 0, 1, 0>} : (tensor<1x4x2x2xf32>) -> tensor<1x4x4x2xf32>
  %4 = tpu.upsample %x {name = "u", scale_h = 2, scale_w = 2} : (tensor<1x4x2x2xf32>) -> tensor<1x4x4x4xf32>
  %5 = tpu.concat %x, %x {name = "cat", axis = 1} : (tensor<1x4x2x2xf32>, tensor<1x4x2x2xf32>) -> tensor<1x8x2x2xf32>
  %6 = tpu.pool_max_2d %x {name = "pm", do_relu = true, kernel_shape = array<i64: 1, 1>, strides = array<i64: 1, 1>, pads = array<i64: 0, 0, 0, 0>} : (tensor<1x4x2x2xf32>) -> tensor<1x4x2x2xf32>
  %7 = tpu.pool_avg_2d %x {name = "pa", kernel_shape = array<i64: 2, 2>, strides = array<i64: 1, 1>, pads = array<i64: 0, 0, 0, 0>} : (tensor<1x4x2x2xf32>) -> tensor<1x4x1x1xf32>
  %8 = tpu.pixel_shuffle %x {name = "ps", upscale_factor = 2} : (tensor<1x4x2x2xf32>) -> tensor<1x1x4x4xf32>
  %9 = tpu.reorg %x {name = "ro", stride = 2} : (tensor<1x4x2x2xf32>) -> tensor<1x16x1x1xf32>
  %10 = tpu.shuffle_channel %x {name = "sc", group = 2} : (tensor<1x4x2x2xf32>) -> tensor<1x4x2x2xf32>
  return %0, %1, %2, %3, %4, %5, %6, %7, %8, %9, %10 : tensor<1x4x2x2xf32>, tensor<1x4x1x2xf32>, tensor<1x4x1x1xf32>, tensor<1x4x4x2xf32>, tensor<1x4x4x4xf32>, tensor<1x8x2x2xf32>, tensor<1x4x2x2xf32>, tensor<1x4x1x1xf32>, tensor<1x1x4x4xf32>, tensor<1x16x1x1xf32>, tensor<1x4x2x2xf32>
}

// -----

//--- numerics.mlir
// Tests a network whose batch_norm, scales and relus all fold away (checked with the
// interpreter by the RUN lines above).
// CHECK-LABEL: module attributes {tpu.weight_file = "net_fold.npz"}
module attributes {tpu.weight_file = "net.npz"} {
func.func @main(%arg0: tensor<1x3x9x9xf32>) -> (tensor<1x8x7x7xf32>, tensor<1x8x7x7xf32>) {
  %0 = tpu.input %arg0 {name = "data"} : (tensor<1x3x9x9xf32>) -> tensor<1x3x9x9xf32>
  %w1 = tpu.load_weight {name = "w1"} : tensor<8x3x3x3xf32>
  %b1 = tpu.load_weight {name = "b1"} : tensor<8xf32>
  %1 = tpu.conv_2d %0, %w1, %b1 {name = "conv1", strides = array<i64: 1, 1>, pads = array<i64: 0, 0, 0, 0>, dilations = array<i64: 1, 1>} : (tensor<1x3x9x9xf32>, tensor<8x3x3x3xf32>, tensor<8xf32>) -> tensor<1x8x7x7xf32>
  %m1 = tpu.load_weight {name = "m1"} : tensor<8xf32>
  %v1 = tpu.load_weight {name = "v1"} : tensor<8xf32>
  %g1 = tpu.load_weight {name = "g1"} : tensor<8xf32>
  %be1 = tpu.load_weight {name = "be1"} : tensor<8xf32>
  %2 = tpu.batch_norm %1, %m1, %v1, %g1, %be1 {name = "bn1", epsilon = 1.0e-5 : f32} : (tensor<1x8x7x7xf32>, tensor<8xf32>, tensor<8xf32>, tensor<8xf32>, tensor<8xf32>) -> tensor<1x8x7x7xf32>
  %3 = tpu.relu %2 {name = "relu1"} : (tensor<1x8x7x7xf32>) -> tensor<1x8x7x7xf32>
  %w2 = tpu.load_weight {name = "w2"} : tensor<8x8x3x3xf32>
  %4 = tpu.conv_2d %3, %w2 {name = "conv2", strides = array<i64: 1, 1>, pads = array<i64: 1, 1, 1, 1>, dilations = array<i64: 1, 1>} : (tensor<1x8x7x7xf32>, tensor<8x8x3x3xf32>) -> tensor<1x8x7x7xf32>
  %s2 = tpu.load_weight {name = "s2"} : tensor<8xf32>
  %sb2 = tpu.load_weight {name = "sb2"} : tensor<8xf32>
  %5 = tpu.scale %4, %s2, %sb2 {name = "scale2"} : (tensor<1x8x7x7xf32>, tensor<8xf32>, tensor<8xf32>) -> tensor<1x8x7x7xf32>
  %s3 = tpu.load_weight {name = "s3"} : tensor<8xf32>
  %6 = tpu.scale %5, %s3 {name = "scale3", do_relu = true} : (tensor<1x8x7x7xf32>, tensor<8xf32>) -> tensor<1x8x7x7xf32>
  %7 = tpu.relu %6 {name = "out"} : (tensor<1x8x7x7xf32>) -> tensor<1x8x7x7xf32>
  return %3, %7 : tensor<1x8x7x7xf32>, tensor<1x8x7x7xf32>
}
}
