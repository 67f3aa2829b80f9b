// RUN: rm -rf %t && mkdir -p %t && cd %t
// RUN: %PYTHON -c "import numpy as np; r = np.random.default_rng(7); f = lambda *s: r.standard_normal(s).astype(np.float32); np.savez('bn.npz', mean=f(4), var=r.uniform(0.1, 2.0, 4).astype(np.float32), gamma=f(4), beta=f(4), neg=np.array([1, -2, 1, 1], np.float32), five=f(5), half=f(4).astype(np.float16))"
// RUN: %PYTHON -c "import numpy as np; r = np.random.default_rng(8); np.savez('bn64.npz', mean=r.standard_normal((1, 3, 1, 1)), var=r.uniform(0.1, 2.0, (1, 3, 1, 1)), gamma=r.standard_normal((1, 3, 1, 1)), beta=r.standard_normal((1, 3, 1, 1)), bn2_scale=np.zeros(3, np.float32))"
// RUN: cd %t && %PYTHON -c "import numpy as np; d = dict(np.load('bn.npz')); np.savez_compressed('zipped.npz', **d); open('garbage.npz', 'w').write('not a zip archive')"
// RUN: cd %t && tpuc-opt %s -split-input-file -verify-diagnostics --convert-bn-to-scale | FileCheck %s
// RUN: cd %t && %PYTHON %S/Inputs/check_weights.py bn-to-scale zipped.npz zipped_bn_to_scale.npz --stats mean var gamma beta --eps 1e-5 --result bnz_scale bnz_bias
// RUN: cd %t && %PYTHON %S/Inputs/check_weights.py bn-to-scale bn.npz bn_bn_to_scale.npz --stats mean var gamma beta --eps 1e-5 --result bn_scale bn_bias
// RUN: cd %t && %PYTHON %S/Inputs/check_weights.py keeps bn.npz bn_bn_to_scale.npz
// RUN: cd %t && %PYTHON -c "import numpy as np; assert 'bn_scale' not in np.load('bn.npz').files, 'input file modified'"
// RUN: cd %t && %PYTHON %S/Inputs/check_weights.py bn-to-scale bn.npz bn_bn_to_scale_1.npz --stats mean var gamma beta --eps 1e-2 --result bnx_scale bnx_bias
// RUN: cd %t && %PYTHON -c "import numpy as np; assert 'bnx_scale' not in np.load('bn_bn_to_scale.npz').files, 'first output overwritten'"
// RUN: cd %t && %PYTHON %S/Inputs/check_weights.py bn-to-scale bn64.npz bn64_bn_to_scale.npz --stats mean var gamma beta --eps 1e-3 --result bn2_scale_1 bn2_bias
// RUN: cd %t && %PYTHON %S/Inputs/check_weights.py keeps bn64.npz bn64_bn_to_scale.npz
// The weight-output option: every module points at the file given, which the last folding case
// (zipped.npz) wrote last.
// RUN: cd %t && tpuc-opt %s -split-input-file -verify-diagnostics --convert-bn-to-scale="weight-output=%t/chosen.npz" | FileCheck %s --check-prefix=OPTION
// RUN: cd %t && %PYTHON %S/Inputs/check_weights.py bn-to-scale zipped.npz chosen.npz --stats mean var gamma beta --eps 1e-5 --result bnz_scale bnz_bias
// OPTION: tpu.weight_file = "{{.*}}/chosen.npz"

// Tests that a batch_norm with constant statistics becomes a scale with the folded weights,
// keeping the layer's name, id and quantization state, and that the module points at a new
// weight file next to the old one.
// CHECK-LABEL: module attributes {tpu.weight_file = "bn_bn_to_scale.npz"}
// CHECK-LABEL: func.func @fold
// CHECK-NOT: tpu.batch_norm
// CHECK-DAG: %[[S:.*]] = tpu.load_weight {name = "bn_scale"} : tensor<4xf32>
// CHECK-DAG: %[[B:.*]] = tpu.load_weight {name = "bn_bias"} : tensor<4xf32>
// CHECK: %[[Y:.*]] = tpu.scale %arg0, %[[S]], %[[B]] {layer_id = 3 : i64, name = "bn", quant = {mode = "NONE"}} : (tensor<1x4x2x2xf32>, tensor<4xf32>, tensor<4xf32>) -> tensor<1x4x2x2xf32>
// CHECK-NOT: tpu.load_weight
// CHECK: return %[[Y]]
module attributes {tpu.weight_file = "bn.npz"} {
func.func @fold(%arg0: tensor<1x4x2x2xf32>) -> tensor<1x4x2x2xf32> {
  %m = tpu.load_weight {name = "mean"} : tensor<4xf32>
  %v = tpu.load_weight {name = "var"} : tensor<4xf32>
  %g = tpu.load_weight {name = "gamma"} : tensor<4xf32>
  %b = tpu.load_weight {name = "beta"} : tensor<4xf32>
  %0 = tpu.batch_norm %arg0, %m, %v, %g, %b {name = "bn", layer_id = 3, quant = {mode = "NONE"}, epsilon = 1.0e-5 : f32} : (tensor<1x4x2x2xf32>, tensor<4xf32>, tensor<4xf32>, tensor<4xf32>, tensor<4xf32>) -> tensor<1x4x2x2xf32>
  return %0 : tensor<1x4x2x2xf32>
}
}

// -----

// Tests that a batch_norm whose statistics are not weights is left alone and the module keeps
// its weight file.
// CHECK-LABEL: module attributes {tpu.weight_file = "absent.npz"}
// CHECK-LABEL: func.func @activation_statistics
// CHECK: tpu.batch_norm %arg0, %arg1
module attributes {tpu.weight_file = "absent.npz"} {
func.func @activation_statistics(%arg0: tensor<1x4x2x2xf32>, %arg1: tensor<4xf32>) -> tensor<1x4x2x2xf32> {
  %v = tpu.load_weight {name = "var"} : tensor<4xf32>
  %g = tpu.load_weight {name = "gamma"} : tensor<4xf32>
  %b = tpu.load_weight {name = "beta"} : tensor<4xf32>
  %0 = tpu.batch_norm %arg0, %arg1, %v, %g, %b {name = "bn", epsilon = 1.0e-5 : f32} : (tensor<1x4x2x2xf32>, tensor<4xf32>, tensor<4xf32>, tensor<4xf32>, tensor<4xf32>) -> tensor<1x4x2x2xf32>
  return %0 : tensor<1x4x2x2xf32>
}
}

// -----

// Tests that a second module rewriting the same input file in the same run gets a weight file of
// its own instead of overwriting the first module's.
// CHECK-LABEL: module attributes {tpu.weight_file = "bn_bn_to_scale_1.npz"}
// CHECK: tpu.scale %arg0, {{.*}}name = "bnx"
module attributes {tpu.weight_file = "bn.npz"} {
func.func @same_input_again(%arg0: tensor<1x4x2x2xf32>) -> tensor<1x4x2x2xf32> {
  %m = tpu.load_weight {name = "mean"} : tensor<4xf32>
  %v = tpu.load_weight {name = "var"} : tensor<4xf32>
  %g = tpu.load_weight {name = "gamma"} : tensor<4xf32>
  %b = tpu.load_weight {name = "beta"} : tensor<4xf32>
  %0 = tpu.batch_norm %arg0, %m, %v, %g, %b {name = "bnx", epsilon = 1.0e-2 : f32} : (tensor<1x4x2x2xf32>, tensor<4xf32>, tensor<4xf32>, tensor<4xf32>, tensor<4xf32>) -> tensor<1x4x2x2xf32>
  return %0 : tensor<1x4x2x2xf32>
}
}

// -----

// Tests that float64 arrays and [1, C, 1, 1] statistics are folded, that a taken array name gets
// a numeric suffix, and that statistics shared with another user stay.
// CHECK-LABEL: module attributes {tpu.weight_file = "bn64_bn_to_scale.npz"}
// CHECK-LABEL: func.func @float64_shared
// CHECK-DAG: %[[M:.*]] = tpu.load_weight {name = "mean"} : tensor<1x3x1x1xf32>
// CHECK-DAG: %[[S:.*]] = tpu.load_weight {name = "bn2_scale_1"} : tensor<1x3x1x1xf32>
// CHECK-DAG: %[[B:.*]] = tpu.load_weight {name = "bn2_bias"} : tensor<1x3x1x1xf32>
// CHECK: %[[Y:.*]] = tpu.scale %arg0, %[[S]], %[[B]] {name = "bn2"}
// CHECK: return %[[Y]], %[[M]]
module attributes {tpu.weight_file = "bn64.npz"} {
func.func @float64_shared(%arg0: tensor<1x3x5x5xf32>) -> (tensor<1x3x5x5xf32>, tensor<1x3x1x1xf32>) {
  %m = tpu.load_weight {name = "mean"} : tensor<1x3x1x1xf32>
  %v = tpu.load_weight {name = "var"} : tensor<1x3x1x1xf32>
  %g = tpu.load_weight {name = "gamma"} : tensor<1x3x1x1xf32>
  %b = tpu.load_weight {name = "beta"} : tensor<1x3x1x1xf32>
  %0 = tpu.batch_norm %arg0, %m, %v, %g, %b {name = "bn2", epsilon = 1.0e-3 : f32} : (tensor<1x3x5x5xf32>, tensor<1x3x1x1xf32>, tensor<1x3x1x1xf32>, tensor<1x3x1x1xf32>, tensor<1x3x1x1xf32>) -> tensor<1x3x5x5xf32>
  return %0, %m : tensor<1x3x5x5xf32>, tensor<1x3x1x1xf32>
}
}

// -----

// Tests that a compressed npz (np.savez_compressed) is read.
// CHECK-LABEL: module attributes {tpu.weight_file = "zipped_bn_to_scale.npz"}
// CHECK: tpu.scale %arg0, {{.*}}name = "bnz"
module attributes {tpu.weight_file = "zipped.npz"} {
func.func @compressed(%arg0: tensor<1x4x2x2xf32>) -> tensor<1x4x2x2xf32> {
  %m = tpu.load_weight {name = "mean"} : tensor<4xf32>
  %v = tpu.load_weight {name = "var"} : tensor<4xf32>
  %g = tpu.load_weight {name = "gamma"} : tensor<4xf32>
  %b = tpu.load_weight {name = "beta"} : tensor<4xf32>
  %0 = tpu.batch_norm %arg0, %m, %v, %g, %b {name = "bnz", epsilon = 1.0e-5 : f32} : (tensor<1x4x2x2xf32>, tensor<4xf32>, tensor<4xf32>, tensor<4xf32>, tensor<4xf32>) -> tensor<1x4x2x2xf32>
  return %0 : tensor<1x4x2x2xf32>
}
}

// -----

// Tests that a weight file that is not an npz is an error.
module attributes {tpu.weight_file = "garbage.npz"} {
func.func @not_npz(%arg0: tensor<1x4x2x2xf32>) -> tensor<1x4x2x2xf32> {
  %m = tpu.load_weight {name = "mean"} : tensor<4xf32>
  %v = tpu.load_weight {name = "var"} : tensor<4xf32>
  %g = tpu.load_weight {name = "gamma"} : tensor<4xf32>
  %b = tpu.load_weight {name = "beta"} : tensor<4xf32>
  // expected-error @+1 {{weight file 'garbage.npz': not a readable npz file: garbage.npz: not a zip archive}}
  %0 = tpu.batch_norm %arg0, %m, %v, %g, %b {name = "bn", epsilon = 1.0e-5 : f32} : (tensor<1x4x2x2xf32>, tensor<4xf32>, tensor<4xf32>, tensor<4xf32>, tensor<4xf32>) -> tensor<1x4x2x2xf32>
  return %0 : tensor<1x4x2x2xf32>
}
}

// -----

// Tests that a statistic missing from the weight file is an error naming the file and array.
module attributes {tpu.weight_file = "bn.npz"} {
func.func @missing_array(%arg0: tensor<1x4x2x2xf32>) -> tensor<1x4x2x2xf32> {
  %m = tpu.load_weight {name = "nope"} : tensor<4xf32>
  %v = tpu.load_weight {name = "var"} : tensor<4xf32>
  %g = tpu.load_weight {name = "gamma"} : tensor<4xf32>
  %b = tpu.load_weight {name = "beta"} : tensor<4xf32>
  // expected-error @+1 {{convert-bn-to-scale: cannot fold batch_norm 'bn': weight file 'bn.npz': has no array 'nope'}}
  %0 = tpu.batch_norm %arg0, %m, %v, %g, %b {name = "bn", epsilon = 1.0e-5 : f32} : (tensor<1x4x2x2xf32>, tensor<4xf32>, tensor<4xf32>, tensor<4xf32>, tensor<4xf32>) -> tensor<1x4x2x2xf32>
  return %0 : tensor<1x4x2x2xf32>
}
}

// -----

// Tests that a missing weight file is an error.
module attributes {tpu.weight_file = "no_such_file.npz"} {
func.func @missing_file(%arg0: tensor<1x4x2x2xf32>) -> tensor<1x4x2x2xf32> {
  %m = tpu.load_weight {name = "mean"} : tensor<4xf32>
  %v = tpu.load_weight {name = "var"} : tensor<4xf32>
  %g = tpu.load_weight {name = "gamma"} : tensor<4xf32>
  %b = tpu.load_weight {name = "beta"} : tensor<4xf32>
  // expected-error @+1 {{weight file 'no_such_file.npz': cannot read: No such file or directory}}
  %0 = tpu.batch_norm %arg0, %m, %v, %g, %b {name = "bn", epsilon = 1.0e-5 : f32} : (tensor<1x4x2x2xf32>, tensor<4xf32>, tensor<4xf32>, tensor<4xf32>, tensor<4xf32>) -> tensor<1x4x2x2xf32>
  return %0 : tensor<1x4x2x2xf32>
}
}

// -----

// Tests that variance + epsilon <= 0 is an error naming the channel.
module attributes {tpu.weight_file = "bn.npz"} {
func.func @negative_variance(%arg0: tensor<1x4x2x2xf32>) -> tensor<1x4x2x2xf32> {
  %m = tpu.load_weight {name = "mean"} : tensor<4xf32>
  %v = tpu.load_weight {name = "neg"} : tensor<4xf32>
  %g = tpu.load_weight {name = "gamma"} : tensor<4xf32>
  %b = tpu.load_weight {name = "beta"} : tensor<4xf32>
  // expected-error @+1 {{channel 1 has variance + epsilon = -1.99999}}
  %0 = tpu.batch_norm %arg0, %m, %v, %g, %b {name = "bn", epsilon = 1.0e-5 : f32} : (tensor<1x4x2x2xf32>, tensor<4xf32>, tensor<4xf32>, tensor<4xf32>, tensor<4xf32>) -> tensor<1x4x2x2xf32>
  return %0 : tensor<1x4x2x2xf32>
}
}

// -----

// Tests that an array whose size does not match the load_weight type is an error.
module attributes {tpu.weight_file = "bn.npz"} {
func.func @size_mismatch(%arg0: tensor<1x4x2x2xf32>) -> tensor<1x4x2x2xf32> {
  %m = tpu.load_weight {name = "five"} : tensor<4xf32>
  %v = tpu.load_weight {name = "var"} : tensor<4xf32>
  %g = tpu.load_weight {name = "gamma"} : tensor<4xf32>
  %b = tpu.load_weight {name = "beta"} : tensor<4xf32>
  // expected-error @+1 {{weight 'five' has 5 elements in 'bn.npz' but its type tensor<4xf32> has 4}}
  %0 = tpu.batch_norm %arg0, %m, %v, %g, %b {name = "bn", epsilon = 1.0e-5 : f32} : (tensor<1x4x2x2xf32>, tensor<4xf32>, tensor<4xf32>, tensor<4xf32>, tensor<4xf32>) -> tensor<1x4x2x2xf32>
  return %0 : tensor<1x4x2x2xf32>
}
}

// -----

// Tests that an array of another element type than float32/float64 is an error.
module attributes {tpu.weight_file = "bn.npz"} {
func.func @float16_array(%arg0: tensor<1x4x2x2xf32>) -> tensor<1x4x2x2xf32> {
  %m = tpu.load_weight {name = "half"} : tensor<4xf32>
  %v = tpu.load_weight {name = "var"} : tensor<4xf32>
  %g = tpu.load_weight {name = "gamma"} : tensor<4xf32>
  %b = tpu.load_weight {name = "beta"} : tensor<4xf32>
  // expected-error @+1 {{array 'half' holds '<f2' elements; float32 ('<f4') or float64 ('<f8') expected}}
  %0 = tpu.batch_norm %arg0, %m, %v, %g, %b {name = "bn", epsilon = 1.0e-5 : f32} : (tensor<1x4x2x2xf32>, tensor<4xf32>, tensor<4xf32>, tensor<4xf32>, tensor<4xf32>) -> tensor<1x4x2x2xf32>
  return %0 : tensor<1x4x2x2xf32>
}
}

// -----

// Tests that a module without a weight file is an error.
func.func @no_weight_file(%arg0: tensor<1x4x2x2xf32>) -> tensor<1x4x2x2xf32> {
  %m = tpu.load_weight {name = "mean"} : tensor<4xf32>
  %v = tpu.load_weight {name = "var"} : tensor<4xf32>
  %g = tpu.load_weight {name = "gamma"} : tensor<4xf32>
  %b = tpu.load_weight {name = "beta"} : tensor<4xf32>
  // expected-error @+1 {{the module has no 'tpu.weight_file' attribute naming the npz file of its weights}}
  %0 = tpu.batch_norm %arg0, %m, %v, %g, %b {name = "bn", epsilon = 1.0e-5 : f32} : (tensor<1x4x2x2xf32>, tensor<4xf32>, tensor<4xf32>, tensor<4xf32>, tensor<4xf32>) -> tensor<1x4x2x2xf32>
  return %0 : tensor<1x4x2x2xf32>
}

// -----

// Tests that non-f32 statistics are an error.
module attributes {tpu.weight_file = "bn.npz"} {
func.func @bf16_statistics(%arg0: tensor<1x4x2x2xbf16>) -> tensor<1x4x2x2xbf16> {
  %m = tpu.load_weight {name = "mean"} : tensor<4xbf16>
  %v = tpu.load_weight {name = "var"} : tensor<4xbf16>
  %g = tpu.load_weight {name = "gamma"} : tensor<4xbf16>
  %b = tpu.load_weight {name = "beta"} : tensor<4xbf16>
  // expected-error @+1 {{weight 'mean' has element type bf16; only f32 weights can be rewritten}}
  %0 = tpu.batch_norm %arg0, %m, %v, %g, %b {name = "bn", epsilon = 1.0e-5 : f32} : (tensor<1x4x2x2xbf16>, tensor<4xbf16>, tensor<4xbf16>, tensor<4xbf16>, tensor<4xbf16>) -> tensor<1x4x2x2xbf16>
  return %0 : tensor<1x4x2x2xbf16>
}
}
