// RUN: rm -rf %t && mkdir -p %t
// RUN: cd %t && %PYTHON -c "import numpy as np; r = np.random.default_rng(3); np.savez('w.npz', conv_quant_filter=r.integers(-128, 128, (2, 3, 3, 3)).astype(np.int8), conv_quant_chan_param=r.integers(0, 256, (2, 9)).astype(np.uint8), fc_quant_filter=r.integers(-128, 128, (4, 8)).astype(np.int8), fc_quant_bias=r.integers(-2**31, 2**31, 4).astype(np.int32), sig_quant_lut=r.integers(-128, 128, 256).astype(np.int8), pt_quant_filter=r.integers(-128, 128, (2, 3, 1, 1)).astype(np.int8), pt_quant_bias=r.integers(-2**15, 2**15, 2).astype(np.int16))"
// RUN: cd %t && tpuc-opt %s -split-input-file -verify-diagnostics --assign-weight-address --tpu-weight-address-align=16 --tpu-weight-map-filename=weight_map.csv --tpu-weight-bin-filename=weight.bin | FileCheck %s
// The weight map and binary of the first case (the later cases overwrite them: rerun it alone).
// RUN: cd %t && %PYTHON -c "import sys; open('first.mlir', 'w').write(open(sys.argv[1]).read().split('// -' + '----')[0])" %s
// RUN: cd %t && tpuc-opt first.mlir --assign-weight-address --tpu-weight-map-filename=weight_map.csv --tpu-weight-bin-filename=weight.bin -o /dev/null
// RUN: cd %t && FileCheck %s --check-prefix=MAP < weight_map.csv
// MAP:      conv_quant_filter_reordered,0x00000000
// MAP-NEXT: conv_quant_chan_param,0x00000040
// MAP-NEXT: fc_quant_filter,0x00000060
// MAP-NEXT: fc_quant_bias_packed,0x00000080
// MAP-NEXT: sig_quant_lut,0x00000090
// MAP-NEXT: pt_quant_filter,0x00000190
// MAP-NEXT: pt_quant_bias,0x000001a0
// RUN: cd %t && %PYTHON -c "import sys; exec(''.join(l[7:] for l in open(sys.argv[1]) if l.startswith('// PY: ')))" %s | FileCheck %s --check-prefix=NUMPY
// PY: import numpy as np
// PY: w = np.load('w.npz'); b = np.fromfile('weight.bin', np.uint8)
// PY: assert b.size == 432, b.size
// PY: assert (b[0:54].view(np.int8) == w['conv_quant_filter'].transpose(0, 2, 3, 1).ravel()).all()
// PY: assert (b[64:82] == w['conv_quant_chan_param'].ravel()).all()
// PY: assert (b[96:128].view(np.int8) == w['fc_quant_filter'].ravel()).all()
// PY: assert (b[128:144] == w['fc_quant_bias'].view(np.uint8).reshape(4, 4).T.ravel()).all()
// PY: assert (b[144:400].view(np.int8) == w['sig_quant_lut']).all()
// PY: assert (b[400:406].view(np.int8) == w['pt_quant_filter'].ravel()).all()
// PY: assert (b[416:420].view(np.int16) == w['pt_quant_bias']).all()
// PY: print('weights ok')
// NUMPY: weights ok

// Tests the packed layouts, the 16-byte alignment and the recorded addresses (region 1).
// CHECK-LABEL: module attributes
// CHECK-SAME: tpu.weight_bin = "weight.bin"
// CHECK-SAME: tpu.weight_size = 432
// CHECK: tpu.load_weight {name = "conv_quant_filter", tpu.weight_gaddr = 1099511627776 : i64, tpu.weight_map_name = "conv_quant_filter_reordered"}
// CHECK: tpu.conv_2d {{.*}}tpu.chan_param_gaddr = 1099511627840 : i64
// CHECK: tpu.load_weight {name = "fc_quant_filter", tpu.weight_gaddr = 1099511627872 : i64, tpu.weight_map_name = "fc_quant_filter"}
// CHECK: tpu.load_weight {name = "fc_quant_bias", tpu.weight_gaddr = 1099511627904 : i64, tpu.weight_map_name = "fc_quant_bias_packed"}
// CHECK: tpu.load_weight {name = "sig_quant_lut", tpu.weight_gaddr = 1099511627920 : i64, tpu.weight_map_name = "sig_quant_lut"}
// CHECK: tpu.load_weight {name = "pt_quant_filter", tpu.weight_gaddr = 1099511628176 : i64, tpu.weight_map_name = "pt_quant_filter"}
// CHECK: tpu.load_weight {name = "pt_quant_bias", tpu.weight_gaddr = 1099511628192 : i64, tpu.weight_map_name = "pt_quant_bias"}
module attributes {tpu.weight_file = "w.npz"} {
  func.func @main(%arg0: tensor<1x3x4x4xi8>) -> (tensor<1x4xi8>, tensor<1x2x4x4xi8>) {
    %w = tpu.load_weight {name = "conv_quant_filter"} : tensor<2x3x3x3xi8>
    %0 = tpu.conv_2d %arg0, %w {name = "conv", strides = array<i64: 1, 1>, pads = array<i64: 1, 1, 1, 1>, dilations = array<i64: 1, 1>, quant = {mode = "INT8", is_perchannel = true, param_type = "RSHIFT_AND_M_I32", multiplier = array<i64: 1073741824, 1073741824>, rshift = array<i64: 1, 1>, threshold_max = 1.0 : f64}} : (tensor<1x3x4x4xi8>, tensor<2x3x3x3xi8>) -> tensor<1x2x4x4xi8>
    %1 = tpu.reshape %0 {name = "flat"} : (tensor<1x2x4x4xi8>) -> tensor<1x32xi8>
    %2 = tpu.slice %1 {name = "s", offsets = array<i64: 0, 0>, steps = array<i64: 1, 1>} : (tensor<1x32xi8>) -> tensor<1x8xi8>
    %fw = tpu.load_weight {name = "fc_quant_filter"} : tensor<4x8xi8>
    %fb = tpu.load_weight {name = "fc_quant_bias"} : tensor<4xi32>
    %3 = tpu.fully_connected %2, %fw, %fb {name = "fc", quant = {mode = "INT8", is_perchannel = false, param_type = "RSHIFT_AND_M_I32", multiplier = array<i64: 1073741824>, rshift = array<i64: 3>, threshold_max = 1.0 : f64}} : (tensor<1x8xi8>, tensor<4x8xi8>, tensor<4xi32>) -> tensor<1x4xi8>
    %t = tpu.load_weight {name = "sig_quant_lut"} : tensor<256xi8>
    %4 = tpu.lut %3, %t {name = "sig"} : (tensor<1x4xi8>, tensor<256xi8>) -> tensor<1x4xi8>
    %pw = tpu.load_weight {name = "pt_quant_filter"} : tensor<2x3x1x1xi8>
    %pb = tpu.load_weight {name = "pt_quant_bias"} : tensor<2xi16>
    %5 = tpu.conv_2d %arg0, %pw, %pb {name = "pt", strides = array<i64: 1, 1>, pads = array<i64: 0, 0, 0, 0>, dilations = array<i64: 1, 1>, quant = {mode = "INT8", is_perchannel = false, param_type = "RSHIFT_ONLY", rshift = array<i64: 4>, threshold_max = 1.0 : f64}} : (tensor<1x3x4x4xi8>, tensor<2x3x1x1xi8>, tensor<2xi16>) -> tensor<1x2x4x4xi8>
    return %4, %5 : tensor<1x4xi8>, tensor<1x2x4x4xi8>
  }
}

// -----

// Tests that a weight missing from the npz is an error naming the layer and the array.
module attributes {tpu.weight_file = "w.npz"} {
  func.func @main(%arg0: tensor<1x4xi8>) -> tensor<1x4xi8> {
    %t = tpu.load_weight {name = "nope_quant_lut"} : tensor<256xi8>
    // expected-error @+1 {{assign-weight-address: layer 'lut': weight 'nope_quant_lut' is not in the weight file}}
    %0 = tpu.lut %arg0, %t {name = "lut"} : (tensor<1x4xi8>, tensor<256xi8>) -> tensor<1x4xi8>
    return %0 : tensor<1x4xi8>
  }
}

// -----

// Tests that an array of another type than the kernel reads is an error.
module attributes {tpu.weight_file = "w.npz"} {
  func.func @main(%arg0: tensor<1x18x1x1xi8>) -> tensor<1x18x1x1xi8> {
    %s = tpu.load_weight {name = "conv_quant_chan_param"} : tensor<18xi8>
    // expected-error @+1 {{assign-weight-address: layer 'p': weight 'conv_quant_chan_param' is |u1 with 18 bytes, expected |i1 with 18 bytes}}
    %0 = tpu.prelu %arg0, %s {name = "p"} : (tensor<1x18x1x1xi8>, tensor<18xi8>) -> tensor<1x18x1x1xi8>
    return %0 : tensor<1x18x1x1xi8>
  }
}

// -----

// Tests that a module without weights writes an empty binary and needs no weight file.
// CHECK-LABEL: module attributes
// CHECK-SAME: tpu.weight_size = 0
module {
  func.func @main(%arg0: tensor<4xi8>) -> tensor<4xi8> {
    %0 = tpu.relu %arg0 {name = "r"} : (tensor<4xi8>) -> tensor<4xi8>
    return %0 : tensor<4xi8>
  }
}
