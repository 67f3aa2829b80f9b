// RUN: tpuc-opt %s -split-input-file --dce | FileCheck %s

// Tests that a dead chain of layers and an unused weight are removed, live ops are kept.
// CHECK-LABEL: func.func @dead
// CHECK-NOT: name = "dead1"
// CHECK-NOT: name = "dead2"
// CHECK-NOT: name = "unused"
// CHECK: tpu.relu %arg0 {name = "live"}
// CHECK-NEXT: return
func.func @dead(%arg0: tensor<4xi8>) -> tensor<4xi8> {
  %w = tpu.load_weight {name = "unused"} : tensor<4xi8>
  %0 = tpu.relu %arg0 {name = "dead1"} : (tensor<4xi8>) -> tensor<4xi8>
  %1 = tpu.relu %0 {name = "dead2"} : (tensor<4xi8>) -> tensor<4xi8>
  %2 = tpu.relu %arg0 {name = "live"} : (tensor<4xi8>) -> tensor<4xi8>
  return %2 : tensor<4xi8>
}

// -----

// Tests that an unused model input is kept.
// CHECK-LABEL: func.func @unused_input
// CHECK: tpu.input %arg1 {name = "unused_in"}
func.func @unused_input(%arg0: tensor<4xi8>, %arg1: tensor<4xf32>) -> tensor<4xi8> {
  %0 = tpu.input %arg1 {name = "unused_in"} : (tensor<4xf32>) -> tensor<4xf32>
  return %arg0 : tensor<4xi8>
}

// -----

// Tests that a module without dead ops is unchanged.
// CHECK-LABEL: func.func @alive
// CHECK: tpu.relu %arg0 {name = "a"}
// CHECK: tpu.relu %0 {name = "b"}
func.func @alive(%arg0: tensor<4xi8>) -> tensor<4xi8> {
  %0 = tpu.relu %arg0 {name = "a"} : (tensor<4xi8>) -> tensor<4xi8>
  %1 = tpu.relu %0 {name = "b"} : (tensor<4xi8>) -> tensor<4xi8>
  return %1 : tensor<4xi8>
}
