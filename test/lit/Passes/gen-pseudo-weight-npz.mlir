// RUN: rm -rf %t && mkdir -p %t && cd %t && split-file %s %t
// RUN: %PYTHON -c "import numpy as np; np.savez('existing.npz', keep=np.arange(3, dtype=np.float32))"
// RUN: cd %t && tpuc-opt %s -split-input-file -verify-diagnostics --gen-pseudo-weight-npz --pseudo-calibration-table=all.txt | FileCheck %s
// RUN: cd %t && %PYTHON -c "import numpy as np; d = np.load('types.npz'); assert sorted(d.files) == ['bf', 'f', 'i16', 'i32', 'i8', 's8', 'u8'], d.files; f = d['f']; assert f.dtype == np.float32 and f.shape == (2, 3) and f.min() >= -1 and f.max() < 1 and np.unique(f).size == 6, f; b = (d['bf'].astype(np.uint32) << 16).view(np.float32); assert d['bf'].dtype == np.uint16 and b.shape == (4,) and b.min() >= -1 and b.max() <= 1, b; assert d['i8'].dtype == np.int8 and d['i8'].shape == (2, 2, 2) and d['s8'].dtype == np.int8, d['i8']; assert d['u8'].dtype == np.uint8 and d['u8'].shape == (16,); assert d['i16'].dtype == np.int16 and d['i16'].min() >= -128 and d['i16'].max() <= 127; assert d['i32'].dtype == np.int32 and d['i32'].shape == (5,) and d['i32'].min() >= -128 and d['i32'].max() <= 127"
// RUN: cd %t && %PYTHON -c "import numpy as np; d = np.load('existing.npz'); assert d.files == ['keep'] and (d['keep'] == np.arange(3)).all(), 'existing file changed'; p = np.load('existing_pseudo.npz'); assert p.files == ['w'] and p['w'].shape == (4, 3), p.files"
// RUN: cd %t && %PYTHON -c "import numpy as np; d = np.load('roialign.npz'); assert d.files == [], d.files"
//
// The last two cases are also files of their own (split-file) for the runs below.
// RUN: cd %t && rm roialign.npz && tpuc-opt roialign.mlir --gen-pseudo-weight-npz --pseudo-calibration-table=table.txt -o /dev/null
// RUN: cd %t && FileCheck %s --check-prefix=TABLE < table.txt
// TABLE: ###
// TABLE-NEXT: # file: roialign.mlir
// TABLE-NEXT: # generated time: {{[0-9]+-[0-9]+-[0-9]+ [0-9]+:[0-9]+:[0-9]+}}
// TABLE-NEXT: # histogram number: 0
// TABLE-NEXT: # sample number: 0
// TABLE-NEXT: ###
// TABLE-NEXT: # op_name threshold min max
// TABLE-NEXT: rois 1 -1 1
// TABLE-NEXT: features 1 -1 1
// TABLE-NEXT: roialign 1 -1 1
// TABLE-EMPTY:
// RUN: cd %t && tpuc-opt seed.mlir --gen-pseudo-weight-npz="weight-output=seed0a.npz" | FileCheck %s --check-prefix=OUTPUT
// OUTPUT: module attributes {tpu.weight_file = "seed0a.npz"}
// RUN: cd %t && tpuc-opt seed.mlir --gen-pseudo-weight-npz="weight-output=seed0b.npz seed=0" -o /dev/null
// RUN: cd %t && tpuc-opt seed.mlir --gen-pseudo-weight-npz="weight-output=seed1.npz seed=1 threshold=2.5 pseudo-calibration-table=t25.txt" -o /dev/null
// RUN: cd %t && %PYTHON -c "import numpy as np; a, b, c = (np.load(f) for f in ('seed0a.npz', 'seed0b.npz', 'seed1.npz')); assert a.files == ['w'] and (a['w'] == b['w']).all() and not (a['w'] == c['w']).any()"
// RUN: cd %t && FileCheck %s --check-prefix=T25 < t25.txt
// T25: # op_name threshold min max
// T25-NEXT: seeded 2.5 -2.5 2.5
// RUN: cd %t && not tpuc-opt seed.mlir --gen-pseudo-weight-npz="threshold=0" 2>&1 | FileCheck %s --check-prefix=THRESHOLD
// THRESHOLD: error: gen-pseudo-weight-npz: threshold must be > 0, got 0
// RUN: cd %t && not tpuc-opt seed.mlir --gen-pseudo-weight-npz --pseudo-calibration-table=%t/missing/dir/t.txt 2>&1 | FileCheck %s --check-prefix=TABLEPATH
// TABLEPATH: error: gen-pseudo-weight-npz: cannot write '{{.*}}missing/dir/t.txt'

// Tests that every load_weight gets an array of its name, shape and type in the file the module
// names (it does not exist yet); a name loaded twice with one type is written once.
// CHECK-LABEL: module attributes {tpu.weight_file = "types.npz"}
module attributes {tpu.weight_file = "types.npz"} {
func.func @types() -> (tensor<2x3xf32>, tensor<4xbf16>, tensor<2x2x2xi8>, tensor<16xui8>, tensor<3xi16>, tensor<5xi32>, tensor<2xsi8>, tensor<2x3xf32>) {
  %0 = tpu.load_weight {name = "f"} : tensor<2x3xf32>
  %1 = tpu.load_weight {name = "bf"} : tensor<4xbf16>
  %2 = tpu.load_weight {name = "i8"} : tensor<2x2x2xi8>
  %3 = tpu.load_weight {name = "u8"} : tensor<16xui8>
  %4 = tpu.load_weight {name = "i16"} : tensor<3xi16>
  %5 = tpu.load_weight {name = "i32"} : tensor<5xi32>
  %6 = tpu.load_weight {name = "s8"} : tensor<2xsi8>
  %7 = tpu.load_weight {name = "f"} : tensor<2x3xf32>
  return %0, %1, %2, %3, %4, %5, %6, %7 : tensor<2x3xf32>, tensor<4xbf16>, tensor<2x2x2xi8>, tensor<16xui8>, tensor<3xi16>, tensor<5xi32>, tensor<2xsi8>, tensor<2x3xf32>
}
}

// -----

// Tests that an existing weight file is not overwritten: the weights go to <stem>_pseudo.npz.
// CHECK-LABEL: module attributes {tpu.weight_file = "existing_pseudo.npz"}
module attributes {tpu.weight_file = "existing.npz"} {
func.func @existing() -> tensor<4x3xf32> {
  %0 = tpu.load_weight {name = "w"} : tensor<4x3xf32>
  return %0 : tensor<4x3xf32>
}
}

// -----

// Tests that one name loaded with two types is an error.
module attributes {tpu.weight_file = "conflict.npz"} {
func.func @conflict() -> (tensor<4xf32>, tensor<2x2xf32>) {
  %0 = tpu.load_weight {name = "w"} : tensor<4xf32>
  // expected-error @+1 {{gen-pseudo-weight-npz: weight 'w' is loaded as 'tensor<2x2xf32>' here and as 'tensor<4xf32>' elsewhere}}
  %1 = tpu.load_weight {name = "w"} : tensor<2x2xf32>
  return %0, %1 : tensor<4xf32>, tensor<2x2xf32>
}
}

// -----

// Tests that weights without a file to write them to are an error.
// expected-error @+1 {{gen-pseudo-weight-npz: the module has no 'tpu.weight_file' attribute; pass weight-output=<file>}}
module {
func.func @no_file() -> tensor<4xf32> {
  %0 = tpu.load_weight {name = "w"} : tensor<4xf32>
  return %0 : tensor<4xf32>
}
}

// -----

// Tests that a calibration table needs unique layer names.
module attributes {tpu.weight_file = "dup.npz"} {
func.func @duplicate_names(%arg0: tensor<4xf32>) -> tensor<4xf32> {
  %0 = tpu.relu %arg0 {name = "r"} : (tensor<4xf32>) -> tensor<4xf32>
  // expected-error @+1 {{gen-pseudo-weight-npz: layer name 'r' is used twice; a calibration table needs unique names}}
  %1 = tpu.relu %0 {name = "r"} : (tensor<4xf32>) -> tensor<4xf32>
  return %1 : tensor<4xf32>
}
}

// -----

//--- roialign.mlir
// Tests the guide's ROIAlign example: a hand-written module holding one CPU custom op and no
// weights gets an (empty) weight file under the name it expects, and a pseudo table with a row
// per layer.
// CHECK-LABEL: module attributes {tpu.weight_file = "roialign.npz"}
// CHECK: tpu.custom_op
module attributes {tpu.weight_file = "roialign.npz"} {
func.func @main(%arg0: tensor<1x5x1x1xf32>, %arg1: tensor<1x3x8x8xf32>) -> tensor<1x3x2x2xf32> {
  %0 = tpu.input %arg0 {name = "rois"} : (tensor<1x5x1x1xf32>) -> tensor<1x5x1x1xf32>
  %1 = tpu.input %arg1 {name = "features"} : (tensor<1x3x8x8xf32>) -> tensor<1x3x8x8xf32>
  %2 = tpu.custom_op %1, %0 {name = "roialign", operation_name = "roialign", param = {pooled_h = 2 : i32, pooled_w = 2 : i32, spatial_scale = 0.5 : f32}, tpu = false, do_quant = false, quant = {mode = "NONE"}} : (tensor<1x3x8x8xf32>, tensor<1x5x1x1xf32>) -> tensor<1x3x2x2xf32>
  return %2 : tensor<1x3x2x2xf32>
}
}

// -----

//--- seed.mlir
// Tests a module for the seed, threshold and output options (the runs above).
// CHECK-LABEL: module attributes {tpu.weight_file = "seed.npz"}
module attributes {tpu.weight_file = "seed.npz"} {
func.func @seeded(%arg0: tensor<64xf32>) -> tensor<64xf32> {
  %0 = tpu.load_weight {name = "w"} : tensor<64xf32>
  %1 = tpu.eltwise_add %arg0, %0 {name = "seeded"} : (tensor<64xf32>, tensor<64xf32>) -> tensor<64xf32>
  return %1 : tensor<64xf32>
}
}
