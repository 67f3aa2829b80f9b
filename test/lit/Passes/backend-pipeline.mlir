// The vendor guide's backend command line, verbatim (every flag accepted), on a small INT8 model;
// then the cvimodel it leads to.
// RUN: rm -rf %t && mkdir -p %t
// RUN: cd %t && %PYTHON -c "import numpy as np; r = np.random.default_rng(5); np.savez('w.npz', c_quant_filter=r.integers(-128, 128, (4, 3, 3, 3)).astype(np.int8), c_quant_chan_param=np.tile(np.array([0, 0, 0, 0, 0, 0, 0, 64, 3], np.uint8), (4, 1)))"
// RUN: cd %t && tpuc-opt %s --tpu-lower --reorder-op --eltwise-early-stride --tg-fuse-leakyrelu --conv-ic-alignment --group-ops --dce --deep-fusion-group-slice --deep-fusion-opt --tg-op-tile --compress-activation --compress-weight --assign-weight-address --tpu-weight-address-align=16 --tpu-weight-map-filename=weight_map.csv --tpu-weight-bin-filename=weight.bin --assign-neuron-address --tpu-neuron-memory-reuse --tpu-neuron-address-align=64 --tpu-neuron-map-filename=neuron_map.csv --divide-ops-to-func -o opt.mlir 2>&1 | FileCheck %s --check-prefix=DIAG
// RUN: cd %t && FileCheck %s < opt.mlir
// RUN: cd %t && env SOURCE_DATE_EPOCH=0 tpuc-translate --mlir-to-cvimodel --weight-file weight.bin opt.mlir -o model.cvimodel
// RUN: cd %t && cvimodel model.cvimodel | FileCheck %s --check-prefix=MODEL
// DIAG: warning: compress-activation: no activation was compressed
// DIAG: warning: compress-weight: no weight was compressed
// CHECK: func.func private @subfunc_0({{.*}}) -> tensor<1x3x8x8xi8> attributes {tpu.cpu_function = "quant", tpu.routine = "cpu"}
// CHECK: func.func private @subfunc_1({{.*}}) -> tensor<1x4x8x8xf32> attributes {tpu.routine = "tpu"}
// CHECK: func.func @main
// CHECK-NOT: name = "dead"
// MODEL: built       : 1970-01-01 00:00:00  (tpuc)
// MODEL: 0   weight        weight                          160
// MODEL: 1   cmdbuf        subfunc_1
// MODEL: 0x0               108  int8   4x3x3x3          c_quant_filter_reordered
// MODEL: 0x70               36  uint8  1x4x1x9          c_quant_chan_param
// MODEL: #0 cpu  function quant (from=FP32, scale={{.*}}, to=INT8)
// MODEL: #1 tpu  section subfunc_1
// MODEL: io_mem0  fp32   1x3x8x8{{.*}}in
// MODEL: private  int8   1x3x8x8{{.*}}in_quant
// MODEL: shared   int8   1x4x8x8{{.*}}c
// MODEL: io_mem1  fp32   1x4x8x8{{.*}}c_f32
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
