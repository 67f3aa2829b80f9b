// RUN: tpuc-opt %s -split-input-file -verify-diagnostics --divide-ops-to-func | FileCheck %s

// Tests the routines of a model with an fp32 layer: the input `quant` and each CPU layer are
// routines of their own, each run of TPU layers is one routine (int8 -> fp32 dequantization
// included); weights are cloned into the
// routine that reads them; main keeps its inputs and calls the routines in order.
// CHECK-LABEL: func.func private @subfunc_0(%arg0: tensor<1x3x4x4xf32>) -> tensor<1x3x4x4xi8> attributes {tpu.cpu_function = "quant", tpu.routine = "cpu"}
// CHECK-NEXT:    tpu.quant %arg0 {{.*}}name = "in_quant"
// CHECK-NEXT:    return
// CHECK-LABEL: func.func private @subfunc_1(%arg0: tensor<1x3x4x4xi8>) -> tensor<1x2x4x4xf32> attributes {tpu.routine = "tpu"}
// CHECK-NEXT:    %[[W:.*]] = tpu.load_weight {name = "w"}
// CHECK-NEXT:    %[[C:.*]] = tpu.conv_2d %arg0, %[[W]]
// CHECK-NEXT:    %[[R:.*]] = tpu.relu %[[C]] {gaddr = 64 : i64, name = "r"}
// CHECK-NEXT:    %[[D:.*]] = tpu.quant %[[R]] {{.*}}name = "sm_in0_dequant"
// CHECK-NEXT:    return %[[D]]
// CHECK-LABEL: func.func private @subfunc_2({{.*}}) -> tensor<1x2x4x4xf32> attributes {tpu.cpu_function = "softmax", tpu.routine = "cpu"}
// CHECK-LABEL: func.func private @subfunc_3({{.*}}) -> tensor<1x2x4x4xi8> attributes {tpu.cpu_function = "quant", tpu.routine = "cpu"}
// CHECK-LABEL: func.func private @subfunc_4({{.*}}) -> tensor<1x2x4x4xf32> attributes {tpu.routine = "tpu"}
// CHECK-NEXT:    tpu.relu
// CHECK-NEXT:    tpu.quant {{.*}}name = "out"
// CHECK-LABEL: func.func @main
// CHECK-NEXT:    %[[IN:.*]] = tpu.input
// CHECK-NEXT:    %[[Q:.*]] = call @subfunc_0(%[[IN]])
// CHECK-NEXT:    %[[T:.*]] = call @subfunc_1(%[[Q]])
// CHECK-NEXT:    %[[S:.*]] = call @subfunc_2(%[[T]])
// CHECK-NEXT:    %[[SQ:.*]] = call @subfunc_3(%[[S]])
// CHECK-NEXT:    %[[O:.*]] = call @subfunc_4(%[[SQ]])
// CHECK-NEXT:    return %[[O]]
module {
  func.func @main(%arg0: tensor<1x3x4x4xf32>) -> tensor<1x2x4x4xf32> {
    %0 = tpu.input %arg0 {name = "in"} : (tensor<1x3x4x4xf32>) -> tensor<1x3x4x4xf32>
    %1 = tpu.quant %0 {from = "FP32", to = "INT8", scale = 1.0 : f32, name = "in_quant"} : (tensor<1x3x4x4xf32>) -> tensor<1x3x4x4xi8>
    %w = tpu.load_weight {name = "w"} : tensor<2x3x1x1xi8>
    %2 = tpu.conv_2d %1, %w {name = "conv", strides = array<i64: 1, 1>, pads = array<i64: 0, 0, 0, 0>, dilations = array<i64: 1, 1>} : (tensor<1x3x4x4xi8>, tensor<2x3x1x1xi8>) -> tensor<1x2x4x4xi8>
    %3 = tpu.relu %2 {name = "r", gaddr = 64 : i64} : (tensor<1x2x4x4xi8>) -> tensor<1x2x4x4xi8>
    %4 = tpu.quant %3 {from = "INT8", to = "FP32", scale = 1.0 : f32, name = "sm_in0_dequant"} : (tensor<1x2x4x4xi8>) -> tensor<1x2x4x4xf32>
    %5 = tpu.softmax %4 {name = "sm", axis = 1 : i64} : (tensor<1x2x4x4xf32>) -> tensor<1x2x4x4xf32>
    %6 = tpu.quant %5 {from = "FP32", to = "INT8", scale = 1.0 : f32, name = "sm_quant"} : (tensor<1x2x4x4xf32>) -> tensor<1x2x4x4xi8>
    %7 = tpu.relu %6 {name = "r2"} : (tensor<1x2x4x4xi8>) -> tensor<1x2x4x4xi8>
    %8 = tpu.quant %7 {from = "INT8", to = "FP32", scale = 1.0 : f32, name = "out"} : (tensor<1x2x4x4xi8>) -> tensor<1x2x4x4xf32>
    return %8 : tensor<1x2x4x4xf32>
  }
}

// -----

// Tests a CPU custom op (its routine names the plugin function) and a TPU routine with two
// results, one used by a later routine and one returned.
// CHECK-LABEL: func.func private @subfunc_0(%arg0: tensor<4xi8>) -> (tensor<4xi8>, tensor<4xi8>) attributes {tpu.routine = "tpu"}
// CHECK-LABEL: func.func private @subfunc_1(%arg0: tensor<4xi8>) -> tensor<4xi8> attributes {tpu.cpu_function = "my_cpu_op", tpu.routine = "cpu"}
// CHECK-LABEL: func.func @main
// CHECK:         %[[T:.*]]:2 = call @subfunc_0(%arg0)
// CHECK-NEXT:    %[[C:.*]] = call @subfunc_1(%[[T]]#0)
// CHECK-NEXT:    return %[[T]]#1, %[[C]]
module {
  func.func @main(%arg0: tensor<4xi8>) -> (tensor<4xi8>, tensor<4xi8>) {
    %0 = tpu.relu %arg0 {name = "a"} : (tensor<4xi8>) -> tensor<4xi8>
    %1 = tpu.relu %arg0 {name = "b"} : (tensor<4xi8>) -> tensor<4xi8>
    %2 = tpu.custom_op %0 {name = "c", operation_name = "my_cpu_op", param = {k = 3 : i32}, tpu = false, do_quant = false, quant = {}} : (tensor<4xi8>) -> tensor<4xi8>
    return %1, %2 : tensor<4xi8>, tensor<4xi8>
  }
}

// -----

// Tests that an op without kernel or CPU function is an error naming it.
module {
  func.func @main(%arg0: tensor<1x4x4x4xi8>) -> tensor<1x4x4x4xi8> {
    // expected-error @+1 {{divide-ops-to-func: tpu.lrn 'n': no INT8 TPU kernel and no runtime CPU function implements it}}
    %0 = tpu.lrn %arg0 {name = "n", local_size = 3 : i64, alpha = 1.0e-4 : f32, beta = 0.75 : f32, k = 1.0 : f32} : (tensor<1x4x4x4xi8>) -> tensor<1x4x4x4xi8>
    return %0 : tensor<1x4x4x4xi8>
  }
}

// -----

// Tests that a module without main is an error.
// expected-error @below {{divide-ops-to-func: no function 'main' to divide}}
module {
  func.func @a(%arg0: tensor<4xi8>) -> tensor<4xi8> {
    return %arg0 : tensor<4xi8>
  }
  func.func @b(%arg0: tensor<4xi8>) -> tensor<4xi8> {
    return %arg0 : tensor<4xi8>
  }
}

// -----

// Tests that dividing twice is an error.
// expected-error @below {{divide-ops-to-func: the module is already divided}}
module {
  func.func private @subfunc_0(%arg0: tensor<4xi8>) -> tensor<4xi8> attributes {tpu.routine = "tpu"} {
    %0 = tpu.relu %arg0 {name = "a"} : (tensor<4xi8>) -> tensor<4xi8>
    return %0 : tensor<4xi8>
  }
  func.func @main(%arg0: tensor<4xi8>) -> tensor<4xi8> {
    %0 = call @subfunc_0(%arg0) : (tensor<4xi8>) -> tensor<4xi8>
    return %0 : tensor<4xi8>
  }
}
