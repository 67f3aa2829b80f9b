// RUN: tpuc-opt %s -split-input-file -verify-diagnostics --deep-fusion-opt | FileCheck %s

// Tests that the pass says what it did not do and leaves the module unchanged.
// CHECK-LABEL: module
// CHECK: tpu.relu %arg0 {name = "r"}
// expected-remark @below {{deep-fusion-opt: nothing to do; the layer groups of --group-ops keep their intermediates in local memory when emitted}}
module {
  func.func @main(%arg0: tensor<4xi8>) -> tensor<4xi8> {
    %0 = tpu.relu %arg0 {name = "r"} : (tensor<4xi8>) -> tensor<4xi8>
    return %0 : tensor<4xi8>
  }
}

// -----

// Tests an empty module: the same message, nothing else.
// expected-remark @below {{deep-fusion-opt: nothing to do; the layer groups of --group-ops keep their intermediates in local memory when emitted}}
module {
}
