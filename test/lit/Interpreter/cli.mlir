// Tests that tpuc-interpreter runs a function of tpu ops on an input npz, writes the function's
// results under their op names and, with --dump-all-tensor, every op's result under its name.

// RUN: rm -rf %t && mkdir -p %t
// RUN: %PYTHON %S/Inputs/npz_tool.py write %t/in.npz data=1,-2,3,-4,5,-6,7,-8:1x2x2x2
// RUN: %PYTHON %S/Inputs/npz_tool.py write %t/weights.npz scale=2,-1:2 bias=0.5,1:2
// RUN: tpuc-interpreter %s --weight-file %t/weights.npz --tensor-in %t/in.npz --tensor-out %t/out.npz --dump-all-tensor=%t/all.npz
// RUN: %PYTHON %S/Inputs/npz_tool.py print %t/out.npz | FileCheck %s --check-prefix=OUT
// RUN: %PYTHON %S/Inputs/npz_tool.py print %t/all.npz | FileCheck %s --check-prefix=ALL

// OUT: pool float32 [1, 2, 1, 1]: 2.25 4
// OUT-NOT: scaled

// ALL: data float32 [1, 2, 2, 2]: 1 -2 3 -4 5 -6 7 -8
// ALL-NEXT: scaled float32 [1, 2, 2, 2]: 2.5 0 6.5 0 0 7 0 9
// ALL-NEXT: pool float32 [1, 2, 1, 1]: 2.25 4

module attributes {tpu.weight_file = "missing.npz"} {
  func.func @main(%arg0: tensor<1x2x2x2xf32>) -> tensor<1x2x1x1xf32> {
    %0 = tpu.input %arg0 {name = "data"} : (tensor<1x2x2x2xf32>) -> tensor<1x2x2x2xf32>
    %1 = tpu.load_weight {name = "scale"} : tensor<2xf32>
    %2 = tpu.load_weight {name = "bias"} : tensor<2xf32>
    %3 = tpu.scale %0, %1, %2 {name = "scaled", do_relu = true} : (tensor<1x2x2x2xf32>, tensor<2xf32>, tensor<2xf32>) -> tensor<1x2x2x2xf32>
    %4 = tpu.pool_avg_2d %3 {name = "pool", kernel_shape = array<i64: 2, 2>, strides = array<i64: 1, 1>, pads = array<i64: 0, 0, 0, 0>} : (tensor<1x2x2x2xf32>) -> tensor<1x2x1x1xf32>
    return %4 : tensor<1x2x1x1xf32>
  }
}
