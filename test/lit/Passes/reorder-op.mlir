// RUN: tpuc-opt %s -split-input-file -verify-diagnostics --reorder-op | FileCheck %s

// Tests that the pass says what it did not do and leaves the module unchanged.
// CHECK-LABEL: module
// CHECK: tpu.relu %arg0 {name = "r"}
// expected-remark @below {{reorder-op: not implemented; ops keep their program order}}
module {
  func.func @main(%arg0: tensor<4xi8>) -> tensor<4xi8> {
    %0 = tpu.relu %arg0 {name = "r"} : (tensor<4xi8>) -> tensor<4xi8>
    return %0 : tensor<4xi8>
  }
}

// -----

// Tests an empty module: the same message, nothing else.
// expected-remark @below {{reorder-op: not implemented; ops keep their program order}}
module {
}
