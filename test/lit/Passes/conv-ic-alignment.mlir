// RUN: tpuc-opt %s -split-input-file -verify-diagnostics --conv-ic-alignment | FileCheck %s

// Tests that the pass says what it did not do and leaves the module unchanged.
// CHECK-LABEL: module
// CHECK: tpu.relu %arg0 {name = "r"}
// expected-remark @below {{conv-ic-alignment: no filter padded; the convolution kernel handles any input-channel count}}
module {
  func.func @main(%arg0: tensor<4xi8>) -> tensor<4xi8> {
    %0 = tpu.relu %arg0 {name = "r"} : (tensor<4xi8>) -> tensor<4xi8>
    return %0 : tensor<4xi8>
  }
}

// -----

// Tests an empty module: the same message, nothing else.
// expected-remark @below {{conv-ic-alignment: no filter padded; the convolution kernel handles any input-channel count}}
module {
}
