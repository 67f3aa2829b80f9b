// RUN: tpuc-opt %s -split-input-file -verify-diagnostics --compress-weight | FileCheck %s

// Tests that the pass says what it did not do and leaves the module unchanged.
// CHECK-LABEL: module
// CHECK: tpu.relu %arg0 {name = "r"}
// expected-warning @below {{compress-weight: no weight was compressed; the layer kernels load uncompressed weights (TDMA decompression is not used)}}
module {
  func.func @main(%arg0: tensor<4xi8>) -> tensor<4xi8> {
    %0 = tpu.relu %arg0 {name = "r"} : (tensor<4xi8>) -> tensor<4xi8>
    return %0 : tensor<4xi8>
  }
}

// -----

// Tests an empty module: the same message, nothing else.
// expected-warning @below {{compress-weight: no weight was compressed; the layer kernels load uncompressed weights (TDMA decompression is not used)}}
module {
}
