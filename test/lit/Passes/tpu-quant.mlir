// RUN: rm -rf %t && mkdir -p %t && cd %t
// RUN: cd %t && %PYTHON -c "import numpy as np; r = np.random.default_rng(7); np.savez('w.npz', cw=r.uniform(-1, 1, (4, 3, 3, 3)).astype(np.float32), cb=r.uniform(-1, 1, 4).astype(np.float32), fw=r.uniform(-1, 1, (5, 8)).astype(np.float32), fb=r.uniform(-1, 1, 5).astype(np.float32), slope=np.array([0.1, 0.2, -0.3], np.float32), dw=r.uniform(-1, 1, (2, 3, 2, 2)).astype(np.float32), ss=np.array([0.5, -2.0, 0.0], np.float32), sb=np.array([0.1, 0.2, 0.3], np.float32))"
// RUN: cd %t && tpuc-opt %s -split-input-file -verify-diagnostics --tpu-quant | FileCheck %s
//
// The first case on its own: weights and parameters checked with numpy (the `// PY:` lines),
// including an integer convolution with the hardware formula against the fp32 one.
// RUN: cd %t && %PYTHON -c "import sys; open('conv.mlir', 'w').write(open(sys.argv[1]).read().split('// -' + '----')[0])" %s
// RUN: cd %t && tpuc-opt conv.mlir --tpu-quant=weight-output=conv_int8.npz -o conv_int8.mlir
// RUN: cd %t && %PYTHON -c "import sys; exec(''.join(l[7:] for l in open(sys.argv[1]) if l.startswith('// PY: ')))" %s | FileCheck %s --check-prefix=NUMPY
// NUMPY: filter ok
// NUMPY: bias ok
// NUMPY: multiplier ok
// NUMPY: records ok
// NUMPY: conv ok
//
// Per-tensor path of the same case.
// RUN: cd %t && tpuc-opt conv.mlir --tpu-quant="per-channel=false weight-output=pt.npz" | FileCheck %s --check-prefix=PT
// PT: tpu.load_weight {name = "conv_quant_filter"} : tensor<4x3x3x3xi8>
// PT: tpu.load_weight {name = "conv_quant_bias"} : tensor<4xi16>
// PT: tpu.conv_2d {{.*}}quant = {is_perchannel = false, mode = "INT8", param_type = "RSHIFT_ONLY", rshift = array<i64: {{[0-9]+}}>
// RUN: cd %t && %PYTHON -c "import numpy as np; d = np.load('pt.npz'); print(d['conv_quant_filter'].dtype, d['conv_quant_bias'].dtype, abs(d['conv_quant_filter'].astype(int)).max() <= 127)" | FileCheck %s --check-prefix=PTNPZ
// PTNPZ: int8 int16 True
//
// Unsupported mode.
// RUN: cd %t && not tpuc-opt conv.mlir --tpu-quant=quant-mode=bf16 2>&1 | FileCheck %s --check-prefix=MODE
// MODE: error: tpu-quant: quant-mode 'bf16' is not supported (supported: int8, symmetric)

// PY: import re
// PY: import numpy as np
// PY: src = np.load('w.npz'); d = np.load('conv_int8.npz'); ir = open('conv_int8.mlir').read()
// PY: w = src['cw'].astype(np.float64); b = src['cb'].astype(np.float64); ti, to = 2.0, 3.0
// PY: s = 127.0 / np.abs(w).reshape(4, -1).max(axis=1)
// PY: wq = np.clip(np.sign(w * s[:, None, None, None]) * np.floor(np.abs(w * s[:, None, None, None]) + 0.5), -128, 127)
// PY: print('filter', 'ok' if (d['conv_quant_filter'] == wq).all() and d['conv_quant_filter'].dtype == np.int8 else d['conv_quant_filter'])
// PY: acc_scale = s * 127.0 / ti
// PY: bq = np.sign(b * acc_scale) * np.floor(np.abs(b * acc_scale) + 0.5)
// PY: print('bias', 'ok' if (d['conv_quant_bias'] == bq).all() and d['conv_quant_bias'].dtype == np.int32 else d['conv_quant_bias'])
// PY: quant = re.search(r'tpu.conv_2d.*multiplier = array<i64: ([0-9, ]+)>.*rshift = array<i64: ([0-9, ]+)>', ir)
// PY: m = np.array([int(v) for v in quant.group(1).split(',')]); r = np.array([int(v) for v in quant.group(2).split(',')])
// PY: real = (127.0 / to) / acc_scale
// PY: f32 = np.float32(np.float32(ti) * np.abs(src['cw']).reshape(4, -1).max(axis=1)) / np.float32(127 * np.float32(to))
// PY: good = ((m >= 2**30) & (m < 2**31)).all() and (m == np.ldexp(f32.astype(np.float64), 31 + r)).all() and (np.abs(m / 2.0**(31 + r) - real) <= 2.0**-(23 + r)).all()
// PY: print('multiplier', 'ok' if good else (m, r, real))
// PY: rec = d['conv_quant_chan_param']
// PY: good = rec.shape == (4, 9) and (rec[:, 0:4].copy().view('<i4')[:, 0] == bq).all() and (rec[:, 4:8].copy().view('<u4')[:, 0] == m).all() and (rec[:, 8] == r).all()
// PY: print('records', 'ok' if good else rec)
// PY: x = np.random.default_rng(3).uniform(-ti, ti, (3, 5, 5)); xq = np.clip(np.floor(np.abs(x * 127 / ti) + 0.5) * np.sign(x), -128, 127).astype(np.int64)
// PY: def srdhm(a, mm): p = a * mm; return int((p + (2**30 if p >= 0 else 1 - 2**30)) / 2**31) if abs(p) < 2**52 else None
// PY: def away(t, sh): return t if sh == 0 else (1 if t >= 0 else -1) * ((abs(t) + (1 << (sh - 1))) >> sh)
// PY: worst = 0
// PY: for c in range(4):
// PY:   for i in range(3):
// PY:     for j in range(3):
// PY:       acc = int((xq[:, i:i + 3, j:j + 3] * wq[c].astype(np.int64)).sum()) + int(bq[c]); t = (acc * int(m[c]) + (2**30 if acc * int(m[c]) >= 0 else 1 - 2**30)); t = -((-t) // 2**31) if t < 0 else t // 2**31
// PY:       y = max(min(away(t, int(r[c])), 127), -128)
// PY:       ref = (x[:, i:i + 3, j:j + 3] * w[c]).sum() + b[c]
// PY:       worst = max(worst, abs(y * to / 127 - max(min(ref, to), -to)))
// PY: print('conv', 'ok' if worst < 0.08 else worst)

// Tests that a convolution gets an int8 filter, an int32 bias and per-channel QDM parameters,
// the input a quant op FP32 -> INT8 and the returned value a quant op INT8 -> FP32.
// CHECK-LABEL: func.func @conv
// CHECK-SAME: (%arg0: tensor<1x3x7x7xf32>) -> tensor<1x4x5x5xf32>
// CHECK: %[[IN:.*]] = tpu.input %arg0 {name = "in", quant = {mode = "NONE", threshold_max = 2.000000e+00 : f64
// CHECK: %[[Q:.*]] = tpu.quant %[[IN]] {from = "FP32", name = "in_quant", quant = {mode = "INT8", threshold_max = 2.000000e+00 : f64, threshold_min = -2.000000e+00 : f64}, scale = 6.350000e+01 : f32, to = "INT8"} : (tensor<1x3x7x7xf32>) -> tensor<1x3x7x7xi8>
// CHECK: %[[W:.*]] = tpu.load_weight {name = "conv_quant_filter"} : tensor<4x3x3x3xi8>
// CHECK: %[[B:.*]] = tpu.load_weight {name = "conv_quant_bias"} : tensor<4xi32>
// CHECK: %[[C:.*]] = tpu.conv_2d %[[Q]], %[[W]], %[[B]] {{.*}}quant = {is_perchannel = true, mode = "INT8", multiplier = array<i64: {{[0-9]+, [0-9]+, [0-9]+, [0-9]+}}>, param_type = "RSHIFT_AND_M_I32", rshift = array<i64: {{[0-9]+, [0-9]+, [0-9]+, [0-9]+}}>, threshold_max = 3.000000e+00 : f64, threshold_min = -3.000000e+00 : f64}{{.*}} : (tensor<1x3x7x7xi8>, tensor<4x3x3x3xi8>, tensor<4xi32>) -> tensor<1x4x5x5xi8>
// CHECK: %[[D:.*]] = tpu.quant %[[C]] {from = "INT8", name = "conv_dequant", quant = {mode = "NONE", {{.*}}}, scale = 42.3333321 : f32, to = "FP32"} : (tensor<1x4x5x5xi8>) -> tensor<1x4x5x5xf32>
// CHECK: return %[[D]]
module attributes {tpu.weight_file = "w.npz"} {
func.func @conv(%arg0: tensor<1x3x7x7xf32>) -> tensor<1x4x5x5xf32> {
  %0 = tpu.input %arg0 {name = "in", quant = {threshold_max = 2.0 : f64, threshold_min = -2.0 : f64}} : (tensor<1x3x7x7xf32>) -> tensor<1x3x7x7xf32>
  %w = tpu.load_weight {name = "cw"} : tensor<4x3x3x3xf32>
  %b = tpu.load_weight {name = "cb"} : tensor<4xf32>
  %1 = tpu.conv_2d %0, %w, %b {name = "conv", strides = array<i64: 1, 1>, pads = array<i64: 0, 0, 0, 0>, dilations = array<i64: 1, 1>, quant = {threshold_max = 3.0 : f64, threshold_min = -3.0 : f64}} : (tensor<1x3x7x7xf32>, tensor<4x3x3x3xf32>, tensor<4xf32>) -> tensor<1x4x5x5xf32>
  return %1 : tensor<1x4x5x5xf32>
}
}

// -----

// Tests that fully_connected gets one weight scale and one QDM pair (the matrix unit has one
// multiplier) with a bias per output, and matmul of two activations one QDM pair.
// CHECK-LABEL: func.func @fc
// CHECK: tpu.load_weight {name = "fc_quant_filter"} : tensor<5x8xi8>
// CHECK: tpu.load_weight {name = "fc_quant_bias"} : tensor<5xi32>
// CHECK: tpu.fully_connected {{.*}}quant = {is_perchannel = false, mode = "INT8", multiplier = array<i64: {{[0-9]+}}>, param_type = "RSHIFT_AND_M_I32", rshift = array<i64: {{[0-9]+}}>{{.*}} -> tensor<2x5xi8>
// CHECK: tpu.matmul {{.*}}quant = {is_perchannel = false, mode = "INT8", multiplier = array<i64: 1090717696>, param_type = "RSHIFT_AND_M_I32", rshift = array<i64: 11>{{.*}} -> tensor<2x2xi8>
module attributes {tpu.weight_file = "w.npz"} {
func.func @fc(%arg0: tensor<2x8xf32>, %arg1: tensor<5x2xf32>) -> (tensor<2x5xf32>, tensor<2x2xf32>) {
  %0 = tpu.input %arg0 {name = "in", quant = {threshold_max = 1.0 : f64, threshold_min = -1.0 : f64}} : (tensor<2x8xf32>) -> tensor<2x8xf32>
  %1 = tpu.input %arg1 {name = "in2", quant = {threshold_max = 1.0 : f64, threshold_min = -1.0 : f64}} : (tensor<5x2xf32>) -> tensor<5x2xf32>
  %w = tpu.load_weight {name = "fw"} : tensor<5x8xf32>
  %b = tpu.load_weight {name = "fb"} : tensor<5xf32>
  %2 = tpu.fully_connected %0, %w, %b {name = "fc", quant = {threshold_max = 4.0 : f64, threshold_min = -4.0 : f64}} : (tensor<2x8xf32>, tensor<5x8xf32>, tensor<5xf32>) -> tensor<2x5xf32>
  %3 = tpu.matmul %2, %1 {name = "mm", quant = {threshold_max = 127.0 : f64, threshold_min = -127.0 : f64}} : (tensor<2x5xf32>, tensor<5x2xf32>) -> tensor<2x2xf32>
  return %2, %3 : tensor<2x5xf32>, tensor<2x2xf32>
}
}

// -----

// Tests that eltwise add (with coeff), max and min get one int8 multiplier per input
// (coeff * threshold_in / threshold_out * 2^rshift) and a common rshift; eltwise mul a QDM pair.
// CHECK-LABEL: func.func @eltwise
// CHECK: tpu.eltwise_add {{.*}}quant = {is_perchannel = false, mode = "INT8", multiplier = array<i64: 64, -32>, param_type = "RSHIFT_AND_M_I8", rshift = array<i64: 6>{{.*}} -> tensor<1x4xi8>
// CHECK: tpu.eltwise_max {{.*}}multiplier = array<i64: 64, 32>, param_type = "RSHIFT_AND_M_I8", rshift = array<i64: 5>{{.*}} -> tensor<1x4xi8>
// CHECK: tpu.eltwise_min {{.*}}multiplier = array<i64: 64, 64>, param_type = "RSHIFT_AND_M_I8", rshift = array<i64: 5>{{.*}} -> tensor<1x4xi8>
// CHECK: tpu.eltwise_mul {{.*}}multiplier = array<i64: 1731514368>, param_type = "RSHIFT_AND_M_I32", rshift = array<i64: 7>{{.*}} -> tensor<1x4xi8>
func.func @eltwise(%arg0: tensor<1x4xf32>, %arg1: tensor<1x4xf32>) -> tensor<1x4xf32> {
  %0 = tpu.input %arg0 {name = "a", quant = {threshold_max = 2.0 : f64, threshold_min = -2.0 : f64}} : (tensor<1x4xf32>) -> tensor<1x4xf32>
  %1 = tpu.input %arg1 {name = "b", quant = {threshold_max = 4.0 : f64, threshold_min = -4.0 : f64}} : (tensor<1x4xf32>) -> tensor<1x4xf32>
  %2 = tpu.eltwise_add %0, %1 {name = "add", coeff = array<f32: 1.0, -0.25>, quant = {threshold_max = 2.0 : f64, threshold_min = -2.0 : f64}} : (tensor<1x4xf32>, tensor<1x4xf32>) -> tensor<1x4xf32>
  %3 = tpu.eltwise_max %1, %2 {name = "max", quant = {threshold_max = 2.0 : f64, threshold_min = -2.0 : f64}} : (tensor<1x4xf32>, tensor<1x4xf32>) -> tensor<1x4xf32>
  %4 = tpu.eltwise_min %3, %0 {name = "min", quant = {threshold_max = 1.0 : f64, threshold_min = -1.0 : f64}} : (tensor<1x4xf32>, tensor<1x4xf32>) -> tensor<1x4xf32>
  %5 = tpu.eltwise_mul %4, %1 {name = "mul", quant = {threshold_max = 5.0 : f64, threshold_min = -5.0 : f64}} : (tensor<1x4xf32>, tensor<1x4xf32>) -> tensor<1x4xf32>
  return %5 : tensor<1x4xf32>
}

// -----

// Tests pooling: average pooling gets (multiplier, rshift) ~ threshold ratio / (kh * kw), max
// pooling and relu take their input's threshold and compute on the int8 values.
// CHECK-LABEL: func.func @pools
// CHECK: tpu.pool_avg_2d {{.*}}quant = {is_perchannel = false, mode = "INT8", multiplier = array<i64: 64>, param_type = "RSHIFT_AND_M_I8", rshift = array<i64: 7>{{.*}} -> tensor<1x2x2x2xi8>
// CHECK: tpu.pool_max_2d {{.*}}quant = {mode = "INT8", param_type = "NONE", threshold_max = 4.000000e+00 : f64, threshold_min = -4.000000e+00 : f64}{{.*}} -> tensor<1x2x2x2xi8>
// CHECK: tpu.relu {{.*}}quant = {mode = "INT8", param_type = "NONE", threshold_max = 4.000000e+00 : f64{{.*}} -> tensor<1x2x2x2xi8>
func.func @pools(%arg0: tensor<1x2x4x4xf32>) -> (tensor<1x2x2x2xf32>, tensor<1x2x2x2xf32>) {
  %0 = tpu.input %arg0 {name = "in", quant = {threshold_max = 4.0 : f64, threshold_min = -4.0 : f64}} : (tensor<1x2x4x4xf32>) -> tensor<1x2x4x4xf32>
  %1 = tpu.pool_avg_2d %0 {name = "avg", kernel_shape = array<i64: 2, 2>, strides = array<i64: 2, 2>, pads = array<i64: 0, 0, 0, 0>, quant = {threshold_max = 2.0 : f64, threshold_min = -2.0 : f64}} : (tensor<1x2x4x4xf32>) -> tensor<1x2x2x2xf32>
  %2 = tpu.pool_max_2d %0 {name = "max", kernel_shape = array<i64: 2, 2>, strides = array<i64: 2, 2>, pads = array<i64: 0, 0, 0, 0>, quant = {threshold_max = 3.0 : f64, threshold_min = -3.0 : f64}} : (tensor<1x2x4x4xf32>) -> tensor<1x2x2x2xf32>
  %3 = tpu.relu %2 {name = "relu", quant = {threshold_max = 3.0 : f64, threshold_min = -3.0 : f64}} : (tensor<1x2x2x2xf32>) -> tensor<1x2x2x2xf32>
  return %1, %3 : tensor<1x2x2x2xf32>, tensor<1x2x2x2xf32>
}

// -----

// Tests leaky relu (positive and negative int8 multipliers with their shifts) and prelu (int8
// slope multipliers per channel as a weight).
// CHECK-LABEL: func.func @relus
// CHECK: tpu.leaky_relu {{.*}}quant = {is_perchannel = false, mode = "INT8", multiplier = array<i64: 64, 102>, param_type = "RSHIFT_AND_M_I8", rshift = array<i64: 5, 9>{{.*}} -> tensor<1x3x2x2xi8>
// CHECK: %[[S:.*]] = tpu.load_weight {name = "prelu_quant_slope"} : tensor<3xi8>
// CHECK: tpu.prelu %{{.*}}, %[[S]] {{.*}}quant = {is_perchannel = true, mode = "INT8", multiplier = array<i64: 64>, param_type = "RSHIFT_AND_M_I8", rshift = array<i64: 6, 8>{{.*}} -> tensor<1x3x2x2xi8>
module attributes {tpu.weight_file = "w.npz"} {
func.func @relus(%arg0: tensor<1x3x2x2xf32>) -> tensor<1x3x2x2xf32> {
  %0 = tpu.input %arg0 {name = "in", quant = {threshold_max = 2.0 : f64, threshold_min = -2.0 : f64}} : (tensor<1x3x2x2xf32>) -> tensor<1x3x2x2xf32>
  %1 = tpu.leaky_relu %0 {name = "lrelu", negative_slope = 0.1 : f32, quant = {threshold_max = 1.0 : f64, threshold_min = -1.0 : f64}} : (tensor<1x3x2x2xf32>) -> tensor<1x3x2x2xf32>
  %s = tpu.load_weight {name = "slope"} : tensor<3xf32>
  %2 = tpu.prelu %1, %s {name = "prelu", quant = {threshold_max = 1.0 : f64, threshold_min = -1.0 : f64}} : (tensor<1x3x2x2xf32>, tensor<3xf32>) -> tensor<1x3x2x2xf32>
  return %2 : tensor<1x3x2x2xf32>
}
}

// -----

// Tests that lookup-table activations become tpu.lut with a 256-entry int8 table each.
// CHECK-LABEL: func.func @luts
// CHECK: %[[T1:.*]] = tpu.load_weight {name = "sig_quant_lut"} : tensor<256xi8>
// CHECK: %[[L1:.*]] = tpu.lut %{{.*}}, %[[T1]] {name = "sig", quant = {is_perchannel = false, mode = "INT8", param_type = "LUT_INT8", threshold_max = 1.000000e+00 : f64, threshold_min = -1.000000e+00 : f64}} : (tensor<1x4xi8>, tensor<256xi8>) -> tensor<1x4xi8>
// CHECK: tpu.load_weight {name = "tanh_quant_lut"} : tensor<256xi8>
// CHECK: tpu.lut {{.*}}name = "tanh"
// CHECK: tpu.lut {{.*}}name = "exp"
// CHECK: tpu.lut {{.*}}name = "hsig"
// CHECK: tpu.lut {{.*}}name = "hswish"
// CHECK: tpu.lut {{.*}}name = "silu"
// CHECK: tpu.lut {{.*}}name = "mish"
// CHECK: tpu.lut {{.*}}name = "sqrt"
// CHECK: tpu.lut {{.*}}name = "recip"
// CHECK-NOT: tpu.sigmoid
module attributes {tpu.weight_file = "w.npz"} {
func.func @luts(%arg0: tensor<1x4xf32>) -> tensor<1x4xf32> {
  %0 = tpu.input %arg0 {name = "in", quant = {threshold_max = 4.0 : f64, threshold_min = -4.0 : f64}} : (tensor<1x4xf32>) -> tensor<1x4xf32>
  %1 = tpu.sigmoid %0 {name = "sig", quant = {threshold_max = 1.0 : f64, threshold_min = -1.0 : f64}} : (tensor<1x4xf32>) -> tensor<1x4xf32>
  %2 = tpu.tanh %1 {name = "tanh", quant = {threshold_max = 1.0 : f64, threshold_min = -1.0 : f64}} : (tensor<1x4xf32>) -> tensor<1x4xf32>
  %3 = tpu.exp %2 {name = "exp", quant = {threshold_max = 3.0 : f64, threshold_min = -3.0 : f64}} : (tensor<1x4xf32>) -> tensor<1x4xf32>
  %4 = tpu.hard_sigmoid %3 {name = "hsig", alpha = 0.2 : f32, beta = 0.5 : f32, quant = {threshold_max = 1.0 : f64, threshold_min = -1.0 : f64}} : (tensor<1x4xf32>) -> tensor<1x4xf32>
  %5 = tpu.hard_swish %4 {name = "hswish", quant = {threshold_max = 1.0 : f64, threshold_min = -1.0 : f64}} : (tensor<1x4xf32>) -> tensor<1x4xf32>
  %6 = tpu.silu %5 {name = "silu", quant = {threshold_max = 1.0 : f64, threshold_min = -1.0 : f64}} : (tensor<1x4xf32>) -> tensor<1x4xf32>
  %7 = tpu.mish %6 {name = "mish", quant = {threshold_max = 1.0 : f64, threshold_min = -1.0 : f64}} : (tensor<1x4xf32>) -> tensor<1x4xf32>
  %8 = tpu.sqrt %7 {name = "sqrt", quant = {threshold_max = 1.0 : f64, threshold_min = -1.0 : f64}} : (tensor<1x4xf32>) -> tensor<1x4xf32>
  %9 = tpu.reciprocal %8 {name = "recip", quant = {threshold_max = 8.0 : f64, threshold_min = -8.0 : f64}} : (tensor<1x4xf32>) -> tensor<1x4xf32>
  return %9 : tensor<1x4xf32>
}
}

// -----

// Tests that concat rescales only inputs whose threshold differs from its own, and that
// shape-only ops keep their input's threshold (pad's const_val becomes the int8 value).
// CHECK-LABEL: func.func @data_movement
// CHECK: tpu.concat {{.*}}quant = {is_perchannel = false, mode = "INT8", multiplier = array<i64: 1, 64>, param_type = "RSHIFT_AND_M_I8", rshift = array<i64: 0, 7>{{.*}} -> tensor<1x4x2x2xi8>
// CHECK: tpu.reshape {{.*}}quant = {mode = "INT8", param_type = "NONE", threshold_max = 2.000000e+00 : f64, threshold_min = -2.000000e+00 : f64}} : (tensor<1x4x2x2xi8>) -> tensor<1x16xi8>
// CHECK: tpu.pad {{.*}}const_val = 6.400000e+01 : f32{{.*}}threshold_max = 2.000000e+00 : f64{{.*}} -> tensor<1x18xi8>
func.func @data_movement(%arg0: tensor<1x2x2x2xf32>, %arg1: tensor<1x2x2x2xf32>) -> tensor<1x18xf32> {
  %0 = tpu.input %arg0 {name = "a", quant = {threshold_max = 2.0 : f64, threshold_min = -2.0 : f64}} : (tensor<1x2x2x2xf32>) -> tensor<1x2x2x2xf32>
  %1 = tpu.input %arg1 {name = "b", quant = {threshold_max = 1.0 : f64, threshold_min = -1.0 : f64}} : (tensor<1x2x2x2xf32>) -> tensor<1x2x2x2xf32>
  %2 = tpu.concat %0, %1 {name = "cat", axis = 1 : i64, quant = {threshold_max = 2.0 : f64, threshold_min = -2.0 : f64}} : (tensor<1x2x2x2xf32>, tensor<1x2x2x2xf32>) -> tensor<1x4x2x2xf32>
  %3 = tpu.reshape %2 {name = "flat", quant = {threshold_max = 5.0 : f64, threshold_min = -5.0 : f64}} : (tensor<1x4x2x2xf32>) -> tensor<1x16xf32>
  %4 = tpu.pad %3 {name = "pad", pads = array<i64: 0, 1, 0, 1>, const_val = 1.0 : f32, quant = {threshold_max = 5.0 : f64, threshold_min = -5.0 : f64}} : (tensor<1x16xf32>) -> tensor<1x18xf32>
  return %4 : tensor<1x18xf32>
}

// -----

// Tests that a layer without an INT8 scheme stays fp32 (mode NONE) between conversions, and
// that its returned fp32 result needs none. It reads the fp32 graph input directly (no int8
// round trip), and the input, which has no INT8 user, is not quantized at all.
// CHECK-LABEL: func.func @fallback
// CHECK: %[[IN:.*]] = tpu.input
// CHECK-NOT: in_quant
// CHECK: %[[S:.*]] = tpu.softmax %[[IN]] {axis = 1 : i64, name = "sm", quant = {mode = "NONE"{{.*}} : (tensor<1x4xf32>) -> tensor<1x4xf32>
// CHECK: %[[Q:.*]] = tpu.quant %[[S]] {from = "FP32", name = "sm_quant"{{.*}}to = "INT8"} : (tensor<1x4xf32>) -> tensor<1x4xi8>
// CHECK: tpu.relu %[[Q]]
// CHECK: return %[[S]], %{{.*}} : tensor<1x4xf32>, tensor<1x4xf32>
func.func @fallback(%arg0: tensor<1x4xf32>) -> (tensor<1x4xf32>, tensor<1x4xf32>) {
  %0 = tpu.input %arg0 {name = "in", quant = {threshold_max = 4.0 : f64, threshold_min = -4.0 : f64}} : (tensor<1x4xf32>) -> tensor<1x4xf32>
  %1 = tpu.softmax %0 {name = "sm", axis = 1 : i64, quant = {threshold_max = 1.0 : f64, threshold_min = -1.0 : f64}} : (tensor<1x4xf32>) -> tensor<1x4xf32>
  %2 = tpu.relu %1 {name = "relu", quant = {threshold_max = 1.0 : f64, threshold_min = -1.0 : f64}} : (tensor<1x4xf32>) -> tensor<1x4xf32>
  return %1, %2 : tensor<1x4xf32>, tensor<1x4xf32>
}

// -----

// Tests that an fp32 value (a graph input, the result of an fp32 layer) is converted to INT8 only
// for its INT8 users: fp32 users (a CPU custom op without quantization, softmax) read it
// directly, with no int8 round trip (`_in<k>_dequant`) that would lose its values.
// CHECK-LABEL: func.func @fp32_users
// CHECK: %[[A:.*]] = tpu.input %arg0 {{.*}}name = "a"
// CHECK-NEXT: %[[AQ:.*]] = tpu.quant %[[A]] {from = "FP32", name = "a_quant"{{.*}}to = "INT8"} : (tensor<1x4xf32>) -> tensor<1x4xi8>
// CHECK-NEXT: %[[B:.*]] = tpu.input %arg1 {{.*}}name = "b"
// CHECK-NOT: tpu.quant
// CHECK: tpu.relu %[[AQ]] {{.*}}-> tensor<1x4xi8>
// CHECK-NEXT: %[[C:.*]] = tpu.custom_op %[[A]], %[[B]] {{.*}}name = "roi"{{.*}}quant = {mode = "NONE"{{.*}} -> tensor<1x4xf32>
// CHECK-NEXT: tpu.softmax %[[C]] {{.*}}name = "sm"{{.*}} -> tensor<1x4xf32>
// CHECK-NEXT: tpu.quant {{.*}}name = "r_dequant"
// CHECK-NEXT: return
func.func @fp32_users(%arg0: tensor<1x4xf32>, %arg1: tensor<1x4xf32>) -> (tensor<1x4xf32>, tensor<1x4xf32>) {
  %0 = tpu.input %arg0 {name = "a", quant = {threshold_max = 4.0 : f64, threshold_min = -4.0 : f64}} : (tensor<1x4xf32>) -> tensor<1x4xf32>
  %1 = tpu.input %arg1 {name = "b", quant = {threshold_max = 1.0 : f64, threshold_min = -1.0 : f64}} : (tensor<1x4xf32>) -> tensor<1x4xf32>
  %2 = tpu.relu %0 {name = "r", quant = {threshold_max = 4.0 : f64, threshold_min = -4.0 : f64}} : (tensor<1x4xf32>) -> tensor<1x4xf32>
  %3 = tpu.custom_op %0, %1 {name = "roi", operation_name = "roi_align", param = {}, tpu = false, do_quant = false, quant = {threshold_max = 4.0 : f64, threshold_min = -4.0 : f64}} : (tensor<1x4xf32>, tensor<1x4xf32>) -> tensor<1x4xf32>
  %4 = tpu.softmax %3 {name = "sm", axis = 1 : i64, quant = {threshold_max = 1.0 : f64, threshold_min = -1.0 : f64}} : (tensor<1x4xf32>) -> tensor<1x4xf32>
  return %2, %4 : tensor<1x4xf32>, tensor<1x4xf32>
}

// -----

// Tests that deconv_2d and scale are quantized per output channel (scale: one channel per
// element, an all-zero channel included), and that leaky relu with equal thresholds keeps the
// positive side as the identity (1, 0).
// CHECK-LABEL: func.func @deconv_scale
// CHECK: tpu.load_weight {name = "up_quant_filter"} : tensor<2x3x2x2xi8>
// CHECK: tpu.deconv_2d {{.*}}quant = {is_perchannel = true, mode = "INT8", multiplier = array<i64: {{[0-9]+, [0-9]+, [0-9]+}}>, param_type = "RSHIFT_AND_M_I32", rshift = array<i64: {{[0-9]+, [0-9]+, [0-9]+}}>{{.*}} -> tensor<1x3x4x4xi8>
// CHECK: tpu.load_weight {name = "sc_quant_filter"} : tensor<3xi8>
// CHECK: tpu.load_weight {name = "sc_quant_bias"} : tensor<3xi32>
// CHECK: tpu.scale {{.*}}multiplier = array<i64: 1082196480, 1082196480, 1073741824>, param_type = "RSHIFT_AND_M_I32", rshift = array<i64: 8, 6, 0>{{.*}} -> tensor<1x3x4x4xi8>
// CHECK: tpu.leaky_relu {{.*}}multiplier = array<i64: 1, 102>, param_type = "RSHIFT_AND_M_I8", rshift = array<i64: 0, 10>{{.*}} -> tensor<1x3x4x4xi8>
module attributes {tpu.weight_file = "w.npz"} {
func.func @deconv_scale(%arg0: tensor<1x2x2x2xf32>) -> tensor<1x3x4x4xf32> {
  %0 = tpu.input %arg0 {name = "in", quant = {threshold_max = 2.0 : f64, threshold_min = -2.0 : f64}} : (tensor<1x2x2x2xf32>) -> tensor<1x2x2x2xf32>
  %w = tpu.load_weight {name = "dw"} : tensor<2x3x2x2xf32>
  %1 = tpu.deconv_2d %0, %w {name = "up", strides = array<i64: 2, 2>, pads = array<i64: 0, 0, 0, 0>, dilations = array<i64: 1, 1>, quant = {threshold_max = 4.0 : f64, threshold_min = -4.0 : f64}} : (tensor<1x2x2x2xf32>, tensor<2x3x2x2xf32>) -> tensor<1x3x4x4xf32>
  %s = tpu.load_weight {name = "ss"} : tensor<3xf32>
  %b = tpu.load_weight {name = "sb"} : tensor<3xf32>
  %2 = tpu.scale %1, %s, %b {name = "sc", quant = {threshold_max = 8.0 : f64, threshold_min = -8.0 : f64}} : (tensor<1x3x4x4xf32>, tensor<3xf32>, tensor<3xf32>) -> tensor<1x3x4x4xf32>
  %3 = tpu.leaky_relu %2 {name = "lrelu", negative_slope = 0.1 : f32, quant = {threshold_max = 8.0 : f64, threshold_min = -8.0 : f64}} : (tensor<1x3x4x4xf32>) -> tensor<1x3x4x4xf32>
  return %3 : tensor<1x3x4x4xf32>
}
}

// -----

// Tests that a layer without a threshold is an error naming it.
func.func @no_threshold(%arg0: tensor<1x4xf32>) -> tensor<1x4xf32> {
  %0 = tpu.input %arg0 {name = "in", quant = {threshold_max = 4.0 : f64, threshold_min = -4.0 : f64}} : (tensor<1x4xf32>) -> tensor<1x4xf32>
  // expected-error @+1 {{tpu-quant: layer 'r': no threshold (quant.threshold_max > 0); run --import-calibration-table first}}
  %1 = tpu.relu %0 {name = "r"} : (tensor<1x4xf32>) -> tensor<1x4xf32>
  return %1 : tensor<1x4xf32>
}

// -----

// Tests that a custom op asking for plugin quantization without a plugin is an error.
func.func @custom(%arg0: tensor<1x4xf32>) -> tensor<1x4xf32> {
  %0 = tpu.input %arg0 {name = "in", quant = {threshold_max = 4.0 : f64, threshold_min = -4.0 : f64}} : (tensor<1x4xf32>) -> tensor<1x4xf32>
  // expected-error @+1 {{tpu-quant: layer 'cop': custom op 'cop' (operation_name 'leaky_relu') needs a custom-op plugin, but none is loaded (pass --custom-op-plugin <lib>)}}
  %1 = tpu.custom_op %0 {name = "cop", operation_name = "leaky_relu", param = {negative_slope = 0.1 : f32}, tpu = true, do_quant = true, quant = {mode = "NONE", threshold_max = 1.0 : f64, threshold_min = -1.0 : f64}} : (tensor<1x4xf32>) -> tensor<1x4xf32>
  return %1 : tensor<1x4xf32>
}

// -----

// Tests that asymmetric quantization is refused.
func.func @asymmetric(%arg0: tensor<1x4xf32>) -> tensor<1x4xf32> {
  // expected-error @+1 {{tpu-quant: layer 'in': asymmetric quantization is not supported}}
  %0 = tpu.input %arg0 {name = "in", quant = {is_asymmetric = true, threshold_max = 4.0 : f64, threshold_min = -1.0 : f64}} : (tensor<1x4xf32>) -> tensor<1x4xf32>
  return %0 : tensor<1x4xf32>
}

// -----

// Tests that an output threshold too small for the convolution's range is an error.
module attributes {tpu.weight_file = "w.npz"} {
func.func @too_small(%arg0: tensor<1x3x3x3xf32>) -> tensor<1x4x1x1xf32> {
  %0 = tpu.input %arg0 {name = "in", quant = {threshold_max = 2.0 : f64, threshold_min = -2.0 : f64}} : (tensor<1x3x3x3xf32>) -> tensor<1x3x3x3xf32>
  %w = tpu.load_weight {name = "cw"} : tensor<4x3x3x3xf32>
  // expected-error @+1 {{tpu-quant: layer 'conv': channel 0 needs a rescale factor >= 1}}
  %1 = tpu.conv_2d %0, %w {name = "conv", strides = array<i64: 1, 1>, pads = array<i64: 0, 0, 0, 0>, dilations = array<i64: 1, 1>, quant = {threshold_max = 0.001 : f64, threshold_min = -0.001 : f64}} : (tensor<1x3x3x3xf32>, tensor<4x3x3x3xf32>) -> tensor<1x4x1x1xf32>
  return %1 : tensor<1x4x1x1xf32>
}
}
