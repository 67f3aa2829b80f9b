// RUN: tpuc-opt %s -split-input-file -verify-diagnostics --group-ops | FileCheck %s
// RUN: tpuc-opt %s -split-input-file -verify-diagnostics --group-ops="local-intermediates=1" | FileCheck %s --check-prefix=LOCAL
// RUN: tpuc-opt %s -split-input-file --group-ops="max-group-layers=2" 2>/dev/null | FileCheck %s --check-prefix=CAP

// Tests a residual block (conv, conv, add of the block input): one group of three layers.
// CHECK-LABEL: func.func @residual
// CHECK: tpu.conv_2d {{.*}}name = "c1"{{.*}}tpu.layer_group = 0 : i64
// CHECK: tpu.conv_2d {{.*}}name = "c2"{{.*}}tpu.layer_group = 0 : i64
// CHECK: tpu.eltwise_add {{.*}}name = "add"{{.*}}tpu.layer_group = 0 : i64
// CHECK-NOT: tpu.layer_group_local
// With local-intermediates, the two convolutions' results (used only inside the group) stay in
// local memory; the group's output does not.
// With at most two layers per group, the add stays alone.
// CAP-LABEL: func.func @residual
// CAP: name = "c1"{{.*}}tpu.layer_group = 0 : i64
// CAP: name = "c2"{{.*}}tpu.layer_group = 0 : i64
// CAP: name = "add"
// CAP-NOT: tpu.layer_group
// CAP-SAME: -> tensor<1x32x16x16xi8>
// LOCAL-LABEL: func.func @residual
// LOCAL: name = "c1"{{.*}}tpu.layer_group = 0 : i64, tpu.layer_group_local
// LOCAL: name = "c2"{{.*}}tpu.layer_group = 0 : i64, tpu.layer_group_local
// LOCAL: name = "add"
// LOCAL-NOT: tpu.layer_group_local
// LOCAL-SAME: -> tensor<1x32x16x16xi8>
// expected-remark @below {{group-ops: 1 layer groups of 3 layers in total}}
module {
  func.func @residual(%arg0: tensor<1x32x16x16xi8>) -> tensor<1x32x16x16xi8> {
    %w1 = tpu.load_weight {name = "w1"} : tensor<32x32x3x3xi8>
    %w2 = tpu.load_weight {name = "w2"} : tensor<32x32x3x3xi8>
    %0 = tpu.conv_2d %arg0, %w1 {name = "c1", strides = array<i64: 1, 1>, pads = array<i64: 1, 1, 1, 1>, dilations = array<i64: 1, 1>, do_relu = true} : (tensor<1x32x16x16xi8>, tensor<32x32x3x3xi8>) -> tensor<1x32x16x16xi8>
    %1 = tpu.conv_2d %0, %w2 {name = "c2", strides = array<i64: 1, 1>, pads = array<i64: 1, 1, 1, 1>, dilations = array<i64: 1, 1>} : (tensor<1x32x16x16xi8>, tensor<32x32x3x3xi8>) -> tensor<1x32x16x16xi8>
    %2 = tpu.eltwise_add %1, %arg0 {name = "add", do_relu = true} : (tensor<1x32x16x16xi8>, tensor<1x32x16x16xi8>) -> tensor<1x32x16x16xi8>
    return %2 : tensor<1x32x16x16xi8>
  }
}

// -----

// Tests that a layer without a group form (a concat) ends the current group: the stem
// convolution (3 input channels, padded to 4 with zero weights) -> conv -> relu -> pool form a
// group, the concat and the relu after it stay alone.
// CHECK-LABEL: func.func @broken
// CHECK: tpu.conv_2d {{.*}}name = "stem"{{.*}}tpu.layer_group = 0 : i64
// CHECK: tpu.conv_2d {{.*}}name = "c"{{.*}}tpu.layer_group = 0 : i64
// CHECK: tpu.relu {{.*}}name = "r"{{.*}}tpu.layer_group = 0 : i64
// CHECK: tpu.pool_max_2d {{.*}}name = "p"{{.*}}tpu.layer_group = 0 : i64
// CHECK: tpu.concat
// CHECK-NOT: tpu.layer_group
// CHECK: return
// expected-remark @below {{group-ops: 1 layer groups of 4 layers in total}}
module {
  func.func @broken(%arg0: tensor<1x3x16x16xi8>) -> tensor<1x16x8x8xi8> {
    %w0 = tpu.load_weight {name = "w0"} : tensor<8x3x3x3xi8>
    %w1 = tpu.load_weight {name = "w1"} : tensor<8x8x3x3xi8>
    %0 = tpu.conv_2d %arg0, %w0 {name = "stem", strides = array<i64: 1, 1>, pads = array<i64: 1, 1, 1, 1>, dilations = array<i64: 1, 1>} : (tensor<1x3x16x16xi8>, tensor<8x3x3x3xi8>) -> tensor<1x8x16x16xi8>
    %1 = tpu.conv_2d %0, %w1 {name = "c", strides = array<i64: 1, 1>, pads = array<i64: 1, 1, 1, 1>, dilations = array<i64: 1, 1>} : (tensor<1x8x16x16xi8>, tensor<8x8x3x3xi8>) -> tensor<1x8x16x16xi8>
    %2 = tpu.relu %1 {name = "r"} : (tensor<1x8x16x16xi8>) -> tensor<1x8x16x16xi8>
    %3 = tpu.pool_max_2d %2 {name = "p", kernel_shape = array<i64: 2, 2>, strides = array<i64: 2, 2>, pads = array<i64: 0, 0, 0, 0>} : (tensor<1x8x16x16xi8>) -> tensor<1x8x8x8xi8>
    %4 = tpu.concat %3, %3 {name = "cat", axis = 1 : i64} : (tensor<1x8x8x8xi8>, tensor<1x8x8x8xi8>) -> tensor<1x16x8x8xi8>
    %5 = tpu.relu %4 {name = "r2"} : (tensor<1x16x8x8xi8>) -> tensor<1x16x8x8xi8>
    return %5 : tensor<1x16x8x8xi8>
  }
}

// -----

// Tests the local-memory limit: rows of 4000 pixels. Two 3x3 convolutions in a group need, for
// one output row, 5 input rows, 3 intermediate rows and the output row (36,000 bytes per lane,
// more than the 32 KiB of a lane), so nothing is grouped (each runs alone, tiled by its kernel).
// CHECK-LABEL: func.func @too_big
// CHECK-NOT: tpu.layer_group
// expected-remark @below {{group-ops: 0 layer groups of 0 layers in total}}
module {
  func.func @too_big(%arg0: tensor<1x32x8x4000xi8>) -> tensor<1x32x8x4000xi8> {
    %w1 = tpu.load_weight {name = "w1"} : tensor<32x32x3x3xi8>
    %w2 = tpu.load_weight {name = "w2"} : tensor<32x32x3x3xi8>
    %0 = tpu.conv_2d %arg0, %w1 {name = "c1", strides = array<i64: 1, 1>, pads = array<i64: 1, 1, 1, 1>, dilations = array<i64: 1, 1>} : (tensor<1x32x8x4000xi8>, tensor<32x32x3x3xi8>) -> tensor<1x32x8x4000xi8>
    %1 = tpu.conv_2d %0, %w2 {name = "c2", strides = array<i64: 1, 1>, pads = array<i64: 1, 1, 1, 1>, dilations = array<i64: 1, 1>} : (tensor<1x32x8x4000xi8>, tensor<32x32x3x3xi8>) -> tensor<1x32x8x4000xi8>
    return %1 : tensor<1x32x8x4000xi8>
  }
}

// -----

// Tests weights that do not fit whole: two 3x3 convolutions of 512 channels (73 KiB of weights
// per lane each) run in output-channel tiles, so they still form a group.
// CHECK-LABEL: func.func @wide
// CHECK: name = "c1"{{.*}}tpu.layer_group = 0 : i64
// CHECK: name = "c2"{{.*}}tpu.layer_group = 0 : i64
// expected-remark @below {{group-ops: 1 layer groups of 2 layers in total}}
module {
  func.func @wide(%arg0: tensor<1x512x4x4xi8>) -> tensor<1x512x4x4xi8> {
    %w1 = tpu.load_weight {name = "w1"} : tensor<512x512x3x3xi8>
    %w2 = tpu.load_weight {name = "w2"} : tensor<512x512x3x3xi8>
    %0 = tpu.conv_2d %arg0, %w1 {name = "c1", strides = array<i64: 1, 1>, pads = array<i64: 1, 1, 1, 1>, dilations = array<i64: 1, 1>} : (tensor<1x512x4x4xi8>, tensor<512x512x3x3xi8>) -> tensor<1x512x4x4xi8>
    %1 = tpu.conv_2d %0, %w2 {name = "c2", strides = array<i64: 1, 1>, pads = array<i64: 1, 1, 1, 1>, dilations = array<i64: 1, 1>} : (tensor<1x512x4x4xi8>, tensor<512x512x3x3xi8>) -> tensor<1x512x4x4xi8>
    return %1 : tensor<1x512x4x4xi8>
  }
}

// -----

// Tests a depthwise + pointwise pair whose intermediate is also returned (kept): one group.
// CHECK-LABEL: func.func @dw_pw
// CHECK: tpu.conv_2d {{.*}}name = "dw"{{.*}}tpu.layer_group = 0 : i64
// CHECK: tpu.conv_2d {{.*}}name = "pw"{{.*}}tpu.layer_group = 0 : i64
// The depthwise result is returned too: never local.
// LOCAL-LABEL: func.func @dw_pw
// LOCAL-NOT: tpu.layer_group_local
// LOCAL: return
// expected-remark @below {{group-ops: 1 layer groups of 2 layers in total}}
module {
  func.func @dw_pw(%arg0: tensor<1x16x32x32xi8>) -> (tensor<1x16x16x16xi8>, tensor<1x32x16x16xi8>) {
    %w1 = tpu.load_weight {name = "w1"} : tensor<16x1x3x3xi8>
    %w2 = tpu.load_weight {name = "w2"} : tensor<32x16x1x1xi8>
    %0 = tpu.conv_2d %arg0, %w1 {name = "dw", group = 16 : i64, strides = array<i64: 2, 2>, pads = array<i64: 1, 1, 1, 1>, dilations = array<i64: 1, 1>} : (tensor<1x16x32x32xi8>, tensor<16x1x3x3xi8>) -> tensor<1x16x16x16xi8>
    %1 = tpu.conv_2d %0, %w2 {name = "pw", strides = array<i64: 1, 1>, pads = array<i64: 0, 0, 0, 0>, dilations = array<i64: 1, 1>} : (tensor<1x16x16x16xi8>, tensor<32x16x1x1xi8>) -> tensor<1x32x16x16xi8>
    return %0, %1 : tensor<1x16x16x16xi8>, tensor<1x32x16x16xi8>
  }
}

// -----

// Tests a downsampling residual block in program order conv1, conv2, ds, add: the projection
// (ds) reads the block input while conv2 has no reader yet; the group still takes all four.
// CHECK-LABEL: func.func @downsample
// CHECK: name = "c1"{{.*}}tpu.layer_group = 0 : i64
// CHECK: name = "c2"{{.*}}tpu.layer_group = 0 : i64
// CHECK: name = "ds"{{.*}}tpu.layer_group = 0 : i64
// CHECK: name = "add"{{.*}}tpu.layer_group = 0 : i64
// expected-remark @below {{group-ops: 1 layer groups of 4 layers in total}}
module {
  func.func @downsample(%arg0: tensor<1x32x16x16xi8>) -> tensor<1x64x8x8xi8> {
    %w1 = tpu.load_weight {name = "w1"} : tensor<64x32x3x3xi8>
    %w2 = tpu.load_weight {name = "w2"} : tensor<64x64x3x3xi8>
    %w3 = tpu.load_weight {name = "w3"} : tensor<64x32x1x1xi8>
    %0 = tpu.conv_2d %arg0, %w1 {name = "c1", strides = array<i64: 2, 2>, pads = array<i64: 1, 1, 1, 1>, dilations = array<i64: 1, 1>, do_relu = true} : (tensor<1x32x16x16xi8>, tensor<64x32x3x3xi8>) -> tensor<1x64x8x8xi8>
    %1 = tpu.conv_2d %0, %w2 {name = "c2", strides = array<i64: 1, 1>, pads = array<i64: 1, 1, 1, 1>, dilations = array<i64: 1, 1>} : (tensor<1x64x8x8xi8>, tensor<64x64x3x3xi8>) -> tensor<1x64x8x8xi8>
    %2 = tpu.conv_2d %arg0, %w3 {name = "ds", strides = array<i64: 2, 2>, pads = array<i64: 0, 0, 0, 0>, dilations = array<i64: 1, 1>} : (tensor<1x32x16x16xi8>, tensor<64x32x1x1xi8>) -> tensor<1x64x8x8xi8>
    %3 = tpu.eltwise_add %1, %2 {name = "add", do_relu = true} : (tensor<1x64x8x8xi8>, tensor<1x64x8x8xi8>) -> tensor<1x64x8x8xi8>
    return %3 : tensor<1x64x8x8xi8>
  }
}

// -----

// Tests an empty module: the count only.
// expected-remark @below {{group-ops: 0 layer groups of 0 layers in total}}
module {
}
