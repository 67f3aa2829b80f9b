// Tests that tpuc-interpreter runs an INT8 module (the form --tpu-quant writes) with the integer
// formulas of docs/quantization.md: input quant sat8(round(x * 127 / T)), a per-channel QDM
// conv_2d (int32 bias, multiplier 2^30 = 1/2, rshift 2), and the TPU's bf16 output cast
// bf16(q * bf16(T / 127)) at the function result (here with two ties rounded to even). The dumps
// hold int8 codes and their `<name>_scale` (T / 127).

// RUN: rm -rf %t && mkdir -p %t
// RUN: %PYTHON %S/Inputs/npz_tool.py write %t/in.npz x=0.5,-0.25,1,-1:1x1x2x2
// RUN: %PYTHON -c "import numpy as np; np.savez('%t/w.npz', w=np.array([3], np.int8).reshape(1, 1, 1, 1), b=np.array([-5], np.int32))"
// RUN: tpuc-interpreter %s --weight-file %t/w.npz --tensor-in %t/in.npz --tensor-out %t/out.npz --dump-all-tensor=%t/all.npz
// RUN: %PYTHON %S/Inputs/npz_tool.py print %t/out.npz | FileCheck %s --check-prefix=OUT
// RUN: %PYTHON %S/Inputs/npz_tool.py print %t/all.npz | FileCheck %s --check-prefix=ALL

// OUT: conv_dequant float32 [1, 1, 2, 2]: 0.3789 -0.2051 0.7383 -0.7578

// ALL: x float32 [1, 1, 2, 2]: 0.5 -0.25 1 -1
// ALL-NEXT: x_quant int8 [1, 1, 2, 2]: 64 -32 127 -127
// ALL-NEXT: x_quant_scale float32 []: 0.007874
// ALL-NEXT: conv int8 [1, 1, 2, 2]: 24 -13 47 -48
// ALL-NEXT: conv_scale float32 []: 0.01575
// ALL-NEXT: conv_dequant float32 [1, 1, 2, 2]: 0.3789 -0.2051 0.7383 -0.7578

module attributes {tpu.weight_file = "missing.npz"} {
  func.func @main(%arg0: tensor<1x1x2x2xf32>) -> tensor<1x1x2x2xf32> {
    %0 = tpu.input %arg0 {name = "x", quant = {mode = "NONE", threshold_max = 1.0 : f64}} : (tensor<1x1x2x2xf32>) -> tensor<1x1x2x2xf32>
    %1 = tpu.quant %0 {from = "FP32", to = "INT8", scale = 127.0 : f32, name = "x_quant", quant = {mode = "INT8", threshold_max = 1.0 : f64}} : (tensor<1x1x2x2xf32>) -> tensor<1x1x2x2xi8>
    %2 = tpu.load_weight {name = "w"} : tensor<1x1x1x1xi8>
    %3 = tpu.load_weight {name = "b"} : tensor<1xi32>
    %4 = tpu.conv_2d %1, %2, %3 {name = "conv", strides = array<i64: 1, 1>, pads = array<i64: 0, 0, 0, 0>, dilations = array<i64: 1, 1>, quant = {mode = "INT8", param_type = "RSHIFT_AND_M_I32", is_perchannel = true, multiplier = array<i64: 1073741824>, rshift = array<i64: 2>, threshold_max = 2.0 : f64}} : (tensor<1x1x2x2xi8>, tensor<1x1x1x1xi8>, tensor<1xi32>) -> tensor<1x1x2x2xi8>
    %5 = tpu.quant %4 {from = "INT8", to = "FP32", scale = 63.5 : f32, name = "conv_dequant", quant = {mode = "NONE", threshold_max = 2.0 : f64}} : (tensor<1x1x2x2xi8>) -> tensor<1x1x2x2xf32>
    return %5 : tensor<1x1x2x2xf32>
  }
}
