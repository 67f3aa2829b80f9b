// RUN: tpuc-opt %s --assign-layer-id --print-tpu-op-info --tpu-op-info-filename - -o /dev/null | FileCheck %s
// RUN: tpuc-opt %s --assign-layer-id --print-tpu-op-info="tpu-op-info-filename=%t.csv" -o /dev/null
// RUN: FileCheck %s < %t.csv
// RUN: not tpuc-opt %s --print-tpu-op-info -o /dev/null 2>&1 | FileCheck %s --check-prefix=NOFILE
// RUN: not tpuc-opt %s --print-tpu-op-info --tpu-op-info-filename %t.missing/dir/op.csv -o /dev/null 2>&1 | FileCheck %s --check-prefix=BADPATH

// Tests that op_info.csv lists name, layer id, quant mode and threshold in program order.
// CHECK: in,0,NONE,0.000000
// CHECK-NEXT: c,1,INT8,2.500000
// CHECK-NEXT: sm,2,BF16,0.000000
// CHECK-NOT: w
// NOFILE: error: print-tpu-op-info: no output file; pass --tpu-op-info-filename <file>
// BADPATH: error: print-tpu-op-info: cannot write
func.func @net(%arg0: tensor<1x3x4x4xf32>) -> tensor<1x3x4x4xf32> {
  %0 = tpu.input %arg0 {name = "in"} : (tensor<1x3x4x4xf32>) -> tensor<1x3x4x4xf32>
  %w = tpu.load_weight {name = "w"} : tensor<3x3x1x1xf32>
  %1 = tpu.conv_2d %0, %w {name = "c", strides = array<i64: 1, 1>, pads = array<i64: 0, 0, 0, 0>, dilations = array<i64: 1, 1>, quant = {mode = "INT8", threshold_max = 2.5 : f64}} : (tensor<1x3x4x4xf32>, tensor<3x3x1x1xf32>) -> tensor<1x3x4x4xf32>
  %2 = tpu.custom_op %1 {name = "sm", operation_name = "mysoftmax", param = {axis = 1 : i32}, tpu = false, do_quant = false, quant = {mode = "BF16"}} : (tensor<1x3x4x4xf32>) -> tensor<1x3x4x4xf32>
  return %2 : tensor<1x3x4x4xf32>
}
