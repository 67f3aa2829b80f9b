// Tests that tpuc-interpreter exits non-zero with a message naming the op, its name and its
// location when a weight is missing, and when the input npz lacks the function's input.

// RUN: rm -rf %t && mkdir -p %t
// RUN: %PYTHON %S/Inputs/npz_tool.py write %t/in.npz data=1,2,3,4:1x4
// RUN: %PYTHON %S/Inputs/npz_tool.py write %t/other.npz other=1,2,3,4:1x4
// RUN: %PYTHON %S/Inputs/npz_tool.py write %t/weights.npz unrelated=1:1
// RUN: not tpuc-interpreter %s --weight-file %t/weights.npz --tensor-in %t/in.npz 2>&1 | FileCheck %s --check-prefix=WEIGHT
// RUN: not tpuc-interpreter %s --weight-file %t/weights.npz --tensor-in %t/other.npz --tensor-out %t/out.npz 2>&1 | FileCheck %s --check-prefix=WEIGHT
// RUN: not tpuc-interpreter %s --weight-file %t/missing.npz --tensor-in %t/in.npz 2>&1 | FileCheck %s --check-prefix=FILE

// WEIGHT: error: tpu.load_weight 'slope' at {{.*}}errors.mlir:[[@LINE+6]]:10: weight 'slope' is not in the weight file {{.*}}weights.npz
// FILE: error: tpu.load_weight 'slope' at {{.*}}errors.mlir:[[@LINE+5]]:10: cannot read the weight file: {{.*}}missing.npz

module attributes {tpu.weight_file = "weights.npz"} {
  func.func @main(%arg0: tensor<1x4xf32>) -> tensor<1x4xf32> {
    %0 = tpu.input %arg0 {name = "data"} : (tensor<1x4xf32>) -> tensor<1x4xf32>
    %1 = tpu.load_weight {name = "slope"} : tensor<4xf32>
    %2 = tpu.prelu %0, %1 {name = "prelu"} : (tensor<1x4xf32>, tensor<4xf32>) -> tensor<1x4xf32>
    return %2 : tensor<1x4xf32>
  }
}
