// The vendor guide's backend command line, verbatim (every flag accepted), on a small INT8 model;
// then the cvimodel it leads to.
// RUN: rm -rf %t && mkdir -p %t
// RUN: cd %t && %PYTHON -c "import numpy as np; r = np.random.default_rng(5); np.savez('w.npz', c_quant_filter=r.integers(-128, 128, (4, 3, 3, 3)).astype(np.int8), c_quant_chan_param=np.tile(np.array([0, 0, 0, 0, 0, 0, 0, 64, 3], np.uint8), (4, 1)))"
// RUN: cd %t && tpuc-opt %s --tpu-lower --reorder-op --eltwise-early-stride --tg-fuse-leakyrelu --conv-ic-alignment --group-ops --dce --deep-fusion-group-slice --deep-fusion-opt --tg-op-tile --compress-activation --compress-weight --assign-weight-address --tpu-weight-address-align=16 --tpu-weight-map-filename=weight_map.csv --tpu-weight-bin-filename=weight.bin --assign-neuron-address --tpu-neuron-memory-reuse --tpu-neuron-address-align=64 --tpu-neuron-map-filename=neuron_map.csv --divide-ops-to-func -o opt.mlir 2>&1 | FileCheck %s --check-prefix=DIAG
// RUN: cd %t && FileCheck %s < opt.mlir
// RUN: cd %t && env SOURCE_DATE_EPOCH=0 tpuc-translate --mlir-to-cvimodel --weight-file weight.bin opt.mlir -o model.cvimodel
// RUN: cd %t && %PYTHON -c "import sys; exec(''.join(l[7:] for l in open(sys.argv[1]) if l.startswith('// PY: ')))" %s | FileCheck %s --check-prefix=MODEL
// PY: from tpuc.runtime import cvimodel
// PY: m = cvimodel.parse(open('model.cvimodel', 'rb').read())
// PY: print('built', m.build_time, m.chip, m.name)
// PY: for s in m.sections: print('section', int(s.type), s.name, s.size)
// PY: for w in m.weights: print('weight', hex(w.offset), w.size, w.name)
// PY: p = m.programs[0]
// PY: print('gmem', p.shared_gmem, p.private_gmem, p.neuron_size)
// PY: for r in p.routines: print('routine', r.function_name or r.cmdbuf_section, r.in_tensors, r.out_tensors)
// PY: for t in p.tensors: print('tensor', hex(t.offset), int(t.dtype), list(t.shape), round(t.quant.qscale, 6), t.name)
// DIAG: warning: compress-activation: no activation was compressed
// DIAG: warning: compress-weight: no weight was compressed
// CHECK: func.func private @subfunc_0({{.*}}) -> tensor<1x3x8x8xi8> attributes {tpu.cpu_function = "quant", tpu.routine = "cpu"}
// CHECK: func.func private @subfunc_1({{.*}}) -> tensor<1x4x8x8xf32> attributes {tpu.routine = "tpu"}
// CHECK: func.func @main
// CHECK-NOT: name = "dead"
// MODEL: built 1970-01-01 00:00:00 cv183x small
// MODEL-NEXT: section 0 weight 160
// MODEL-NEXT: section 1 subfunc_1
// MODEL-NEXT: weight 0x0 108 c_quant_filter_reordered
// MODEL-NEXT: weight 0x70 36 c_quant_chan_param
// MODEL-NEXT: gmem 256 192 0
// MODEL-NEXT: routine quant ['in'] ['in_quant']
// MODEL-NEXT: routine subfunc_1 ['in_quant'] ['c_f32']
// MODEL-NEXT: tensor 0x30000000000 0 [1, 3, 8, 8] 1.0 in
// MODEL-NEXT: tensor 0x20000000000 6 [1, 3, 8, 8] 0.015748 in_quant
// MODEL-NEXT: tensor 0x0 6 [1, 4, 8, 8] 0.031496 c
// MODEL-NEXT: tensor 0x40000000000 0 [1, 4, 8, 8] 1.0 c_f32
module attributes {tpu.weight_file = "w.npz", tpu.chip = "cv183x", tpu.model_name = "small"} {
  func.func @main(%arg0: tensor<1x3x8x8xf32>) -> tensor<1x4x8x8xf32> {
    %0 = tpu.input %arg0 {name = "in", quant = {mode = "NONE", threshold_max = 2.0 : f64}} : (tensor<1x3x8x8xf32>) -> tensor<1x3x8x8xf32>
    %1 = tpu.quant %0 {from = "FP32", to = "INT8", scale = 63.5 : f32, name = "in_quant", quant = {mode = "INT8", threshold_max = 2.0 : f64}} : (tensor<1x3x8x8xf32>) -> tensor<1x3x8x8xi8>
    %w = tpu.load_weight {name = "c_quant_filter"} : tensor<4x3x3x3xi8>
    %dead = tpu.relu %1 {name = "dead", quant = {mode = "INT8", threshold_max = 2.0 : f64}} : (tensor<1x3x8x8xi8>) -> tensor<1x3x8x8xi8>
    %2 = tpu.conv_2d %1, %w {name = "c", strides = array<i64: 1, 1>, pads = array<i64: 1, 1, 1, 1>, dilations = array<i64: 1, 1>, do_relu = true, quant = {mode = "INT8", is_perchannel = true, param_type = "RSHIFT_AND_M_I32", multiplier = array<i64: 1073741824, 1073741824, 1073741824, 1073741824>, rshift = array<i64: 3, 3, 3, 3>, threshold_max = 4.0 : f64}} : (tensor<1x3x8x8xi8>, tensor<4x3x3x3xi8>) -> tensor<1x4x8x8xi8>
    %3 = tpu.quant %2 {from = "INT8", to = "FP32", scale = 31.75 : f32, name = "c_dequant", quant = {mode = "NONE", threshold_max = 4.0 : f64}} : (tensor<1x4x8x8xi8>) -> tensor<1x4x8x8xf32>
    return %3 : tensor<1x4x8x8xf32>
  }
}
