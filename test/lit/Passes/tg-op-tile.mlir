// RUN: tpuc-opt %s -split-input-file -verify-diagnostics --tg-op-tile | FileCheck %s

// Tests that the pass says what it did not do and leaves the module unchanged.
// CHECK-LABEL: module
// CHECK: tpu.relu %arg0 {name = "r"}
// expected-remark @below {{tg-op-tile: nothing tiled in the IR; each layer kernel tiles its work to local memory when the command buffer is generated}}
module {
  func.func @main(%arg0: tensor<4xi8>) -> tensor<4xi8> {
    %0 = tpu.relu %arg0 {name = "r"} : (tensor<4xi8>) -> tensor<4xi8>
    return %0 : tensor<4xi8>
  }
}

// -----

// Tests an empty module: the same message, nothing else.
// expected-remark @below {{tg-op-tile: nothing tiled in the IR; each layer kernel tiles its work to local memory when the command buffer is generated}}
module {
}
