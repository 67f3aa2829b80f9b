// RUN: rm -rf %t && mkdir -p %t && cd %t
// RUN: %PYTHON -c "import numpy as np; r = np.random.default_rng(5); f = lambda *s: r.standard_normal(s).astype(np.float32); np.savez('net.npz', w1=f(8, 3, 3, 3), b1=f(8), m1=f(8), v1=r.uniform(0.5, 2.0, 8).astype(np.float32), g1=f(8), be1=f(8), w2=f(8, 8, 3, 3), s2=f(8), sb2=f(8), w3=f(16, 8, 1, 1), b3=f(16), w4=f(4, 8, 1, 1)); np.savez('in.npz', data=f(1, 3, 10, 10))"
// RUN: cd %t && tpuc-interpreter %s --weight-file %t/net.npz --tensor-in in.npz --tensor-out reference.npz
// RUN: cd %t && tpuc-opt %s --assign-layer-id --convert-bn-to-scale --canonicalize --eltwise-early-stride --print-tpu-op-info --tpu-op-info-filename op_info.csv -o net_fp32.mlir
// RUN: cd %t && FileCheck %s < net_fp32.mlir
// RUN: cd %t && FileCheck %s --check-prefix=INFO < op_info.csv
// RUN: cd %t && tpuc-interpreter net_fp32.mlir --tensor-in in.npz --tensor-out optimized.npz
// RUN: cd %t && %PYTHON -c "import numpy as np; a = np.load('reference.npz'); b = np.load('optimized.npz'); assert sorted(a.files) == sorted(b.files), (a.files, b.files); [np.testing.assert_allclose(b[k], a[k], rtol=1e-4, atol=1e-4) for k in a.files]; print('outputs match')"

// Tests the fp32 optimization command line of the vendor guide, flag for flag, on a small
// residual block: batch_norm and scale fold into the convolutions, relus fuse, the stride-2 1x1
// convolutions after the residual add take an early stride, op_info.csv lists the layers with
// their ids, and the interpreter gives the same outputs before and after.
// CHECK: module attributes {tpu.weight_file = "net_bn_to_scale.npz"}
// CHECK-NOT: tpu.batch_norm
// CHECK-NOT: tpu.scale
// CHECK-NOT: tpu.relu
// CHECK: tpu.conv_2d {{.*}}do_relu = true, {{.*}}name = "relu1"
// CHECK: tpu.conv_2d {{.*}}name = "scale2"
// CHECK: tpu.slice
// CHECK: tpu.slice
// CHECK: tpu.eltwise_add {{.*}}do_relu = true, {{.*}}name = "relu_add"{{.*}} -> tensor<1x8x4x4xf32>
// CHECK: tpu.conv_2d {{.*}}name = "branch1"{{.*}}strides = array<i64: 1, 1>
// CHECK: tpu.conv_2d {{.*}}name = "branch2a"{{.*}}strides = array<i64: 1, 1>
// INFO: data,0,NONE,0.000000
// INFO-NEXT: relu1,1,NONE,0.000000
// INFO-NEXT: scale2,2,NONE,0.000000
// INFO-NEXT: relu_add_early_stride_0,3,NONE,0.000000
// INFO-NEXT: relu_add_early_stride_1,4,NONE,0.000000
// INFO-NEXT: relu_add,5,NONE,0.000000
// INFO-NEXT: branch1,6,NONE,0.000000
// INFO-NEXT: branch2a,7,NONE,0.000000
// INFO-EMPTY:
module attributes {tpu.weight_file = "net.npz"} {
func.func @main(%arg0: tensor<1x3x10x10xf32>) -> (tensor<1x16x4x4xf32>, tensor<1x4x4x4xf32>) {
  %0 = tpu.input %arg0 {name = "data"} : (tensor<1x3x10x10xf32>) -> tensor<1x3x10x10xf32>
  %w1 = tpu.load_weight {name = "w1"} : tensor<8x3x3x3xf32>
  %b1 = tpu.load_weight {name = "b1"} : tensor<8xf32>
  %1 = tpu.conv_2d %0, %w1, %b1 {name = "conv1", strides = array<i64: 1, 1>, pads = array<i64: 0, 0, 0, 0>, dilations = array<i64: 1, 1>} : (tensor<1x3x10x10xf32>, tensor<8x3x3x3xf32>, tensor<8xf32>) -> tensor<1x8x8x8xf32>
  %m1 = tpu.load_weight {name = "m1"} : tensor<8xf32>
  %v1 = tpu.load_weight {name = "v1"} : tensor<8xf32>
  %g1 = tpu.load_weight {name = "g1"} : tensor<8xf32>
  %be1 = tpu.load_weight {name = "be1"} : tensor<8xf32>
  %2 = tpu.batch_norm %1, %m1, %v1, %g1, %be1 {name = "bn1", epsilon = 1.0e-5 : f32} : (tensor<1x8x8x8xf32>, tensor<8xf32>, tensor<8xf32>, tensor<8xf32>, tensor<8xf32>) -> tensor<1x8x8x8xf32>
  %3 = tpu.relu %2 {name = "relu1"} : (tensor<1x8x8x8xf32>) -> tensor<1x8x8x8xf32>
  %w2 = tpu.load_weight {name = "w2"} : tensor<8x8x3x3xf32>
  %4 = tpu.conv_2d %3, %w2 {name = "conv2", strides = array<i64: 1, 1>, pads = array<i64: 1, 1, 1, 1>, dilations = array<i64: 1, 1>} : (tensor<1x8x8x8xf32>, tensor<8x8x3x3xf32>) -> tensor<1x8x8x8xf32>
  %s2 = tpu.load_weight {name = "s2"} : tensor<8xf32>
  %sb2 = tpu.load_weight {name = "sb2"} : tensor<8xf32>
  %5 = tpu.scale %4, %s2, %sb2 {name = "scale2"} : (tensor<1x8x8x8xf32>, tensor<8xf32>, tensor<8xf32>) -> tensor<1x8x8x8xf32>
  %6 = tpu.eltwise_add %3, %5 {name = "add"} : (tensor<1x8x8x8xf32>, tensor<1x8x8x8xf32>) -> tensor<1x8x8x8xf32>
  %7 = tpu.relu %6 {name = "relu_add"} : (tensor<1x8x8x8xf32>) -> tensor<1x8x8x8xf32>
  %w3 = tpu.load_weight {name = "w3"} : tensor<16x8x1x1xf32>
  %b3 = tpu.load_weight {name = "b3"} : tensor<16xf32>
  %8 = tpu.conv_2d %7, %w3, %b3 {name = "branch1", strides = array<i64: 2, 2>, pads = array<i64: 0, 0, 0, 0>, dilations = array<i64: 1, 1>} : (tensor<1x8x8x8xf32>, tensor<16x8x1x1xf32>, tensor<16xf32>) -> tensor<1x16x4x4xf32>
  %w4 = tpu.load_weight {name = "w4"} : tensor<4x8x1x1xf32>
  %9 = tpu.conv_2d %7, %w4 {name = "branch2a", strides = array<i64: 2, 2>, pads = array<i64: 0, 0, 0, 0>, dilations = array<i64: 1, 1>} : (tensor<1x8x8x8xf32>, tensor<4x8x1x1xf32>) -> tensor<1x4x4x4xf32>
  return %8, %9 : tensor<1x16x4x4xf32>, tensor<1x4x4x4xf32>
}
}
