// RUN: rm -rf %t && mkdir -p %t && cd %t
// RUN: %PYTHON -c "open('table.txt', 'w').write('###\n# file: net_fp32.mlir\n# generated time: 2024-05-01 12:00:00\n# histogram number: 2048\n# sample number: 100\n###\n# op_name threshold min max\nin 2.5 -2.0 2.5\nconv 11.5 -20.25 18.75\nrelu\t7.25\n# a comment between rows\n\nasym 4.0 -1.5 3.5\nasym2 4.0\npre 3.0 -3.0 3.0\nfwd_own 99.0 -99.0 99.0\nbwd 6.0 -6.0 6.0\nb1 5.0\nb2 9.0\np2 1.0\ncb1 5.0\ncb2 9.0\nbwd_arg 2.0\nunused 1.0\nc0 3.5\npm 4.0\nr1 4.5\nbk 6.5\nfc0 2.25\nfp 8.0\nfr 7.0\nsg 3.0\nsr 5.0\nbs 6.0\n')"
// RUN: cd %t && tpuc-opt %s -split-input-file -verify-diagnostics --import-calibration-table --calibration-table table.txt | FileCheck %s
// RUN: cd %t && tpuc-opt %s -split-input-file -verify-diagnostics --import-calibration-table="calibration-table=table.txt" | FileCheck %s
//
// Malformed tables: errors name file:line.
// RUN: cd %t && %PYTHON -c "open('fields.txt', 'w').write('# op_name threshold min max\nin 2.5\nconv 1.0 2.0\n')"
// RUN: cd %t && not tpuc-opt %s -split-input-file --import-calibration-table --calibration-table fields.txt 2>&1 | FileCheck %s --check-prefix=FIELDS
// FIELDS: error: import-calibration-table: fields.txt:3: expected 'name threshold' or 'name threshold min max', got 3 fields: 'conv 1.0 2.0'
// RUN: cd %t && %PYTHON -c "open('zero.txt', 'w').write('###\n###\nin 2.5\nconv 0\n')"
// RUN: cd %t && not tpuc-opt %s -split-input-file --import-calibration-table --calibration-table zero.txt 2>&1 | FileCheck %s --check-prefix=ZERO
// ZERO: error: import-calibration-table: zero.txt:4: threshold of 'conv' must be > 0, got 0
// RUN: cd %t && %PYTHON -c "open('negative.txt', 'w').write('in -2.5 -3 3\n')"
// RUN: cd %t && not tpuc-opt %s -split-input-file --import-calibration-table --calibration-table negative.txt 2>&1 | FileCheck %s --check-prefix=NEGATIVE
// NEGATIVE: error: import-calibration-table: negative.txt:1: threshold of 'in' must be > 0, got -2.5
// RUN: cd %t && %PYTHON -c "open('number.txt', 'w').write('in 2.5\nconv 1.5x\n')"
// RUN: cd %t && not tpuc-opt %s -split-input-file --import-calibration-table --calibration-table number.txt 2>&1 | FileCheck %s --check-prefix=NUMBER
// NUMBER: error: import-calibration-table: number.txt:2: threshold '1.5x' is not a number
// RUN: cd %t && %PYTHON -c "open('nan.txt', 'w').write('in 2.5 nan 1\n')"
// RUN: cd %t && not tpuc-opt %s -split-input-file --import-calibration-table --calibration-table nan.txt 2>&1 | FileCheck %s --check-prefix=NAN
// NAN: error: import-calibration-table: nan.txt:1: min 'nan' is not finite
// RUN: cd %t && %PYTHON -c "open('minmax.txt', 'w').write('in 2.5 3 -3\n')"
// RUN: cd %t && not tpuc-opt %s -split-input-file --import-calibration-table --calibration-table minmax.txt 2>&1 | FileCheck %s --check-prefix=MINMAX
// MINMAX: error: import-calibration-table: minmax.txt:1: min 3 > max -3 for 'in'
// RUN: cd %t && %PYTHON -c "open('duplicate.txt', 'w').write('in 2.5\n# again\nin 3.5\n')"
// RUN: cd %t && not tpuc-opt %s -split-input-file --import-calibration-table --calibration-table duplicate.txt 2>&1 | FileCheck %s --check-prefix=DUPLICATE
// DUPLICATE: error: import-calibration-table: duplicate.txt:3: duplicate row for 'in' (first at line 1)
// RUN: cd %t && not tpuc-opt %s -split-input-file --import-calibration-table --calibration-table absent.txt 2>&1 | FileCheck %s --check-prefix=ABSENT
// ABSENT: error: import-calibration-table: cannot read calibration table 'absent.txt': No such file or directory
// RUN: cd %t && not tpuc-opt %s -split-input-file --import-calibration-table 2>&1 | FileCheck %s --check-prefix=NOTABLE
// NOTABLE: error: import-calibration-table: no table; pass --calibration-table <file>

// Tests that every layer gets threshold_max = threshold and threshold_min = -threshold from its
// row (4-field or 2-field, tab-separated too), keeping its other quant fields; weights get none.
// CHECK-LABEL: func.func @thresholds
// CHECK: tpu.input %arg0 {name = "in", quant = {threshold_max = 2.500000e+00 : f64, threshold_min = -2.500000e+00 : f64}}
// CHECK: tpu.load_weight {name = "w"}
// CHECK: tpu.conv_2d {{.*}}quant = {mode = "INT8", threshold_max = 1.150000e+01 : f64, threshold_min = -1.150000e+01 : f64}
// CHECK: tpu.relu {{.*}}{name = "relu", quant = {threshold_max = 7.250000e+00 : f64, threshold_min = -7.250000e+00 : f64}}
func.func @thresholds(%arg0: tensor<1x3x4x4xf32>) -> tensor<1x3x4x4xf32> {
  %0 = tpu.input %arg0 {name = "in"} : (tensor<1x3x4x4xf32>) -> tensor<1x3x4x4xf32>
  %w = tpu.load_weight {name = "w"} : tensor<3x3x1x1xf32>
  %1 = tpu.conv_2d %0, %w {name = "conv", quant = {mode = "INT8"}, strides = array<i64: 1, 1>, pads = array<i64: 0, 0, 0, 0>, dilations = array<i64: 1, 1>} : (tensor<1x3x4x4xf32>, tensor<3x3x1x1xf32>) -> tensor<1x3x4x4xf32>
  %2 = tpu.relu %1 {name = "relu"} : (tensor<1x3x4x4xf32>) -> tensor<1x3x4x4xf32>
  return %2 : tensor<1x3x4x4xf32>
}

// -----

// Tests that an asymmetric layer takes min and max of its row.
// CHECK-LABEL: func.func @asymmetric
// CHECK: quant = {is_asymmetric = true, threshold_max = 3.500000e+00 : f64, threshold_min = -1.500000e+00 : f64}
func.func @asymmetric(%arg0: tensor<4xf32>) -> tensor<4xf32> {
  %0 = tpu.relu %arg0 {name = "asym", quant = {is_asymmetric = true}} : (tensor<4xf32>) -> tensor<4xf32>
  return %0 : tensor<4xf32>
}

// -----

// Tests that a forward custom op takes the threshold of the op producing its first operand,
// with or without a row of its own.
// CHECK-LABEL: func.func @forward
// CHECK: tpu.relu {{.*}}name = "pre", quant = {threshold_max = 3.000000e+00 : f64
// CHECK: tpu.custom_op {{.*}}name = "fwd", {{.*}}quant = {threshold_max = 3.000000e+00 : f64, threshold_min = -3.000000e+00 : f64}
// CHECK: tpu.custom_op {{.*}}name = "fwd_own", {{.*}}quant = {threshold_max = 3.000000e+00 : f64, threshold_min = -3.000000e+00 : f64}
func.func @forward(%arg0: tensor<4xf32>) -> (tensor<4xf32>, tensor<4xf32>) {
  %0 = tpu.relu %arg0 {name = "pre"} : (tensor<4xf32>) -> tensor<4xf32>
  %1 = tpu.custom_op %0 {name = "fwd", operation_name = "op", param = {}, tpu = true, do_quant = true, threshold_overwrite = "forward", quant = {}} : (tensor<4xf32>) -> tensor<4xf32>
  %2 = tpu.custom_op %0 {name = "fwd_own", operation_name = "op", param = {}, tpu = true, do_quant = true, threshold_overwrite = "forward", quant = {}} : (tensor<4xf32>) -> tensor<4xf32>
  return %1, %2 : tensor<4xf32>, tensor<4xf32>
}

// -----

// Tests that a backward custom op gives its threshold to the op producing its first operand,
// which then needs no row, and that backward overwrites chain from the last op.
// CHECK-LABEL: func.func @backward
// CHECK: tpu.relu {{.*}}name = "pre2", quant = {threshold_max = 6.000000e+00 : f64, threshold_min = -6.000000e+00 : f64}
// CHECK: tpu.custom_op {{.*}}name = "bwd", {{.*}}quant = {threshold_max = 6.000000e+00 : f64
// CHECK: tpu.relu {{.*}}name = "x0", quant = {threshold_max = 9.000000e+00 : f64
// CHECK: tpu.custom_op {{.*}}name = "b1", {{.*}}quant = {threshold_max = 9.000000e+00 : f64
// CHECK: tpu.custom_op {{.*}}name = "b2", {{.*}}quant = {threshold_max = 9.000000e+00 : f64
func.func @backward(%arg0: tensor<4xf32>) -> (tensor<4xf32>, tensor<4xf32>) {
  %0 = tpu.relu %arg0 {name = "pre2"} : (tensor<4xf32>) -> tensor<4xf32>
  %1 = tpu.custom_op %0 {name = "bwd", operation_name = "op", param = {}, tpu = true, do_quant = true, threshold_overwrite = "backward", quant = {}} : (tensor<4xf32>) -> tensor<4xf32>
  %2 = tpu.relu %arg0 {name = "x0"} : (tensor<4xf32>) -> tensor<4xf32>
  %3 = tpu.custom_op %2 {name = "b1", operation_name = "op", param = {}, tpu = true, do_quant = true, threshold_overwrite = "backward", quant = {}} : (tensor<4xf32>) -> tensor<4xf32>
  %4 = tpu.custom_op %3 {name = "b2", operation_name = "op", param = {}, tpu = true, do_quant = true, threshold_overwrite = "backward", quant = {}} : (tensor<4xf32>) -> tensor<4xf32>
  return %1, %4 : tensor<4xf32>, tensor<4xf32>
}

// -----

// Tests that a backward overwrite continues through the layers that keep their input's threshold
// in --tpu-quant (max pool, relu, ...): the first layer before them gets the threshold too, so
// --tpu-quant forwards the custom op's threshold to its input instead of refusing the op.
// CHECK-LABEL: func.func @backward_through_forwarding
// CHECK: tpu.custom_op {{.*}}name = "c0", {{.*}}quant = {threshold_max = 6.500000e+00 : f64, threshold_min = -6.500000e+00 : f64}
// CHECK: tpu.pool_max_2d {{.*}}name = "pm", {{.*}}quant = {threshold_max = 6.500000e+00 : f64
// CHECK: tpu.relu {{.*}}name = "r1", quant = {threshold_max = 6.500000e+00 : f64
// CHECK: tpu.custom_op {{.*}}name = "bk", {{.*}}quant = {threshold_max = 6.500000e+00 : f64
func.func @backward_through_forwarding(%arg0: tensor<1x4x8x8xf32>) -> tensor<1x4x4x4xf32> {
  %0 = tpu.custom_op %arg0 {name = "c0", operation_name = "op", param = {}, tpu = true, do_quant = true, quant = {}} : (tensor<1x4x8x8xf32>) -> tensor<1x4x8x8xf32>
  %1 = tpu.pool_max_2d %0 {name = "pm", kernel_shape = array<i64: 2, 2>, strides = array<i64: 2, 2>, pads = array<i64: 0, 0, 0, 0>} : (tensor<1x4x8x8xf32>) -> tensor<1x4x4x4xf32>
  %2 = tpu.relu %1 {name = "r1"} : (tensor<1x4x4x4xf32>) -> tensor<1x4x4x4xf32>
  %3 = tpu.custom_op %2 {name = "bk", operation_name = "op", param = {}, tpu = true, do_quant = true, threshold_overwrite = "backward", quant = {}} : (tensor<1x4x4x4xf32>) -> tensor<1x4x4x4xf32>
  return %3 : tensor<1x4x4x4xf32>
}

// -----

// Tests that a forward overwrite takes the threshold --tpu-quant gives its producer: through a
// max pool and a relu, that of the layer before them, not their own rows; and that the
// propagation stops at a layer with a threshold of its own (sigmoid).
// CHECK-LABEL: func.func @forward_through_forwarding
// CHECK: tpu.pool_max_2d {{.*}}name = "fp", {{.*}}quant = {threshold_max = 8.000000e+00 : f64
// CHECK: tpu.relu {{.*}}name = "fr", quant = {threshold_max = 7.000000e+00 : f64
// CHECK: tpu.custom_op {{.*}}name = "ff", {{.*}}quant = {threshold_max = 2.250000e+00 : f64, threshold_min = -2.250000e+00 : f64}
// CHECK: tpu.sigmoid {{.*}}name = "sg", quant = {threshold_max = 6.000000e+00 : f64
// CHECK: tpu.relu {{.*}}name = "sr", quant = {threshold_max = 6.000000e+00 : f64
// CHECK: tpu.custom_op {{.*}}name = "bs", {{.*}}quant = {threshold_max = 6.000000e+00 : f64
func.func @forward_through_forwarding(%arg0: tensor<1x4x8x8xf32>) -> (tensor<1x4x4x4xf32>, tensor<1x4x8x8xf32>) {
  %0 = tpu.custom_op %arg0 {name = "fc0", operation_name = "op", param = {}, tpu = true, do_quant = true, quant = {}} : (tensor<1x4x8x8xf32>) -> tensor<1x4x8x8xf32>
  %1 = tpu.pool_max_2d %0 {name = "fp", kernel_shape = array<i64: 2, 2>, strides = array<i64: 2, 2>, pads = array<i64: 0, 0, 0, 0>} : (tensor<1x4x8x8xf32>) -> tensor<1x4x4x4xf32>
  %2 = tpu.relu %1 {name = "fr"} : (tensor<1x4x4x4xf32>) -> tensor<1x4x4x4xf32>
  %3 = tpu.custom_op %2 {name = "ff", operation_name = "op", param = {}, tpu = true, do_quant = true, threshold_overwrite = "forward", quant = {}} : (tensor<1x4x4x4xf32>) -> tensor<1x4x4x4xf32>
  %4 = tpu.sigmoid %0 {name = "sg"} : (tensor<1x4x8x8xf32>) -> tensor<1x4x8x8xf32>
  %5 = tpu.relu %4 {name = "sr"} : (tensor<1x4x8x8xf32>) -> tensor<1x4x8x8xf32>
  %6 = tpu.custom_op %5 {name = "bs", operation_name = "op", param = {}, tpu = true, do_quant = true, threshold_overwrite = "backward", quant = {}} : (tensor<1x4x8x8xf32>) -> tensor<1x4x8x8xf32>
  return %3, %6 : tensor<1x4x4x4xf32>, tensor<1x4x8x8xf32>
}

// -----

// Tests that a layer without a row is an error.
func.func @missing_row(%arg0: tensor<4xf32>) -> tensor<4xf32> {
  // expected-error @+1 {{import-calibration-table: layer 'nope' has no row in calibration table 'table.txt'}}
  %0 = tpu.relu %arg0 {name = "nope"} : (tensor<4xf32>) -> tensor<4xf32>
  return %0 : tensor<4xf32>
}

// -----

// Tests that a forward custom op whose producer has no threshold is an error.
func.func @forward_from_missing(%arg0: tensor<4xf32>) -> tensor<4xf32> {
  %0 = tpu.relu %arg0 {name = "nope2"} : (tensor<4xf32>) -> tensor<4xf32>
  // expected-error @+1 {{custom op 'fwd2' (threshold_overwrite = forward) takes the threshold of 'nope2', which has no row in 'table.txt'}}
  %1 = tpu.custom_op %0 {name = "fwd2", operation_name = "op", param = {}, tpu = true, do_quant = true, threshold_overwrite = "forward", quant = {}} : (tensor<4xf32>) -> tensor<4xf32>
  return %1 : tensor<4xf32>
}

// -----

// Tests that an overwrite is an error when the first operand does not come from a layer.
func.func @backward_from_argument(%arg0: tensor<4xf32>) -> tensor<4xf32> {
  // expected-error @+1 {{custom op 'bwd_arg' has threshold_overwrite = backward but its first operand is not produced by a tpu layer}}
  %0 = tpu.custom_op %arg0 {name = "bwd_arg", operation_name = "op", param = {}, tpu = true, do_quant = true, threshold_overwrite = "backward", quant = {}} : (tensor<4xf32>) -> tensor<4xf32>
  return %0 : tensor<4xf32>
}

// -----

// Tests that two backward custom ops giving different thresholds to one producer is an error.
func.func @conflicting_backward(%arg0: tensor<4xf32>) -> (tensor<4xf32>, tensor<4xf32>) {
  %0 = tpu.relu %arg0 {name = "p2"} : (tensor<4xf32>) -> tensor<4xf32>
  // expected-error @+1 {{layer 'p2' gets conflicting thresholds from backward overwrites: 5 from 'cb1' and 9 from 'cb2'}}
  %1 = tpu.custom_op %0 {name = "cb1", operation_name = "op", param = {}, tpu = true, do_quant = true, threshold_overwrite = "backward", quant = {}} : (tensor<4xf32>) -> tensor<4xf32>
  %2 = tpu.custom_op %0 {name = "cb2", operation_name = "op", param = {}, tpu = true, do_quant = true, threshold_overwrite = "backward", quant = {}} : (tensor<4xf32>) -> tensor<4xf32>
  return %1, %2 : tensor<4xf32>, tensor<4xf32>
}

// -----

// Tests that an asymmetric layer with a two-field row is an error.
func.func @asymmetric_two_fields(%arg0: tensor<4xf32>) -> tensor<4xf32> {
  // expected-error @+1 {{asymmetric layer 'asym2' needs a 'name threshold min max' row, but table.txt:14 has no min and max}}
  %0 = tpu.relu %arg0 {name = "asym2", quant = {is_asymmetric = true}} : (tensor<4xf32>) -> tensor<4xf32>
  return %0 : tensor<4xf32>
}
