// Tests that tpuc-interpreter reports the function input the input npz does not provide.

// RUN: rm -rf %t && mkdir -p %t
// RUN: %PYTHON %S/Inputs/npz_tool.py write %t/in.npz a=1,2:1x2 b=1,2:1x2
// RUN: not tpuc-interpreter %s --tensor-in %t/in.npz 2>&1 | FileCheck %s

// CHECK: error: missing input 'data' (the function takes 1 input(s); given 'a', 'b')

module {
  func.func @main(%arg0: tensor<1x2xf32>) -> tensor<1x2xf32> {
    %0 = tpu.input %arg0 {name = "data"} : (tensor<1x2xf32>) -> tensor<1x2xf32>
    %1 = tpu.relu %0 {name = "relu"} : (tensor<1x2xf32>) -> tensor<1x2xf32>
    return %1 : tensor<1x2xf32>
  }
}
