// RUN: tpuc-opt %s -split-input-file -verify-diagnostics --tg-fuse-leakyrelu | FileCheck %s

// Tests that a conv_2d + leaky_relu pair is reported as not fused (the convolution kernel has no
// leaky-relu epilogue) and both layers stay.
// CHECK-LABEL: func.func @pair
// CHECK: tpu.conv_2d
// CHECK: tpu.leaky_relu
func.func @pair(%arg0: tensor<1x3x4x4xi8>, %w: tensor<2x3x1x1xi8>) -> tensor<1x2x4x4xi8> {
  %0 = tpu.conv_2d %arg0, %w {name = "conv", strides = array<i64: 1, 1>, pads = array<i64: 0, 0, 0, 0>, dilations = array<i64: 1, 1>} : (tensor<1x3x4x4xi8>, tensor<2x3x1x1xi8>) -> tensor<1x2x4x4xi8>
  // expected-remark @+1 {{tg-fuse-leakyrelu: leaky_relu 'lrelu' not fused into conv_2d 'conv': the INT8 convolution kernel has no leaky-relu epilogue}}
  %1 = tpu.leaky_relu %0 {name = "lrelu", negative_slope = 0.1 : f32} : (tensor<1x2x4x4xi8>) -> tensor<1x2x4x4xi8>
  return %1 : tensor<1x2x4x4xi8>
}

// -----

// Tests that a leaky_relu whose conv has other users is no candidate, and that the pass says so
// when there is no candidate at all.
// CHECK-LABEL: func.func @shared
// expected-remark @below {{tg-fuse-leakyrelu: no conv_2d + leaky_relu pair; nothing fused}}
module {
  func.func @shared(%arg0: tensor<1x3x4x4xi8>, %w: tensor<2x3x1x1xi8>) -> (tensor<1x2x4x4xi8>, tensor<1x2x4x4xi8>) {
    %0 = tpu.conv_2d %arg0, %w {name = "conv", strides = array<i64: 1, 1>, pads = array<i64: 0, 0, 0, 0>, dilations = array<i64: 1, 1>} : (tensor<1x3x4x4xi8>, tensor<2x3x1x1xi8>) -> tensor<1x2x4x4xi8>
    %1 = tpu.leaky_relu %0 {name = "lrelu", negative_slope = 0.1 : f32} : (tensor<1x2x4x4xi8>) -> tensor<1x2x4x4xi8>
    return %0, %1 : tensor<1x2x4x4xi8>, tensor<1x2x4x4xi8>
  }
}
