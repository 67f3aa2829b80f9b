// RUN: rm -rf %t && mkdir -p %t
// RUN: tpuc-opt %s -split-input-file -verify-diagnostics --assign-neuron-address --tpu-neuron-memory-reuse --tpu-neuron-address-align=64 | FileCheck %s --check-prefix=REUSE
// The neuron map of the first case:
// RUN: cd %t && %PYTHON -c "import sys; open('first.mlir', 'w').write(open(sys.argv[1]).read().split('// -' + '----')[0])" %s
// RUN: cd %t && tpuc-opt first.mlir --assign-neuron-address --tpu-neuron-memory-reuse --tpu-neuron-address-align=64 --tpu-neuron-map-filename=neuron_map.csv -o /dev/null
// RUN: cd %t && FileCheck %s --check-prefix=MAP < neuron_map.csv
// RUN: tpuc-opt %s -split-input-file -verify-diagnostics --assign-neuron-address | FileCheck %s --check-prefix=NOREUSE
// RUN: tpuc-opt %s -split-input-file -verify-diagnostics --assign-neuron-address="tpu-neuron-memory-reuse=true tpu-neuron-address-align=16" | FileCheck %s --check-prefix=ALIGN16
// RUN: not tpuc-opt %s -split-input-file --assign-neuron-address --tpu-neuron-address-align=48 2>&1 | FileCheck %s --check-prefix=BADALIGN
// BADALIGN: error: assign-neuron-address: alignment 48 is not a power of two

// Tests the regions: the fp32 input and output in io regions 3 and 4, the int8 tensor the CPU
// `quant` routine writes in private memory, TPU-internal tensors in shared memory where, with
// reuse, tensors whose live ranges do not overlap share bytes; the reshape shares its input's
// buffer.
// REUSE-LABEL: module attributes {tpu.private_gmem = 64 : i64, tpu.shared_gmem = 128 : i64}
// REUSE: tpu.input {{.*}}gaddr = 3298534883328 : i64
// REUSE: tpu.quant {{.*}}gaddr = 2199023255552 : i64{{.*}}name = "in_quant"
// REUSE: tpu.relu {{.*}}{gaddr = 0 : i64, name = "a"}
// REUSE: tpu.relu {{.*}}{gaddr = 64 : i64, name = "b"}
// REUSE: tpu.relu {{.*}}{gaddr = 0 : i64, name = "c"}
// REUSE: tpu.reshape {{.*}}{gaddr = 0 : i64, name = "d"}
// REUSE: tpu.relu {{.*}}{gaddr = 64 : i64, name = "e"}
// REUSE: tpu.quant {{.*}}gaddr = 4398046511104 : i64{{.*}}name = "out"
// NOREUSE-LABEL: module attributes {tpu.private_gmem = 64 : i64, tpu.shared_gmem = 256 : i64}
// NOREUSE: {gaddr = 0 : i64, name = "a"}
// NOREUSE: {gaddr = 64 : i64, name = "b"}
// NOREUSE: {gaddr = 128 : i64, name = "c"}
// NOREUSE: {gaddr = 128 : i64, name = "d"}
// NOREUSE: {gaddr = 192 : i64, name = "e"}
// ALIGN16-LABEL: module attributes {tpu.private_gmem = 48 : i64, tpu.shared_gmem = 96 : i64}
// ALIGN16: {gaddr = 48 : i64, name = "b"}
// MAP:      in,0x30000000000,fp32,1,3,4,4
// MAP-NEXT: in_quant,0x20000000000,int8,1,3,4,4
// MAP-NEXT: a,0x0,int8,1,3,4,4
// MAP-NEXT: b,0x40,int8,1,3,4,4
// MAP-NEXT: c,0x0,int8,1,3,4,4
// MAP-NEXT: d,0x0,int8,1,48,1,1
// MAP-NEXT: e,0x40,int8,1,48,1,1
// MAP-NEXT: e_f32,0x40000000000,fp32,1,48,1,1
module {
  func.func @main(%arg0: tensor<1x3x4x4xf32>) -> tensor<1x48xf32> {
    %0 = tpu.input %arg0 {name = "in"} : (tensor<1x3x4x4xf32>) -> tensor<1x3x4x4xf32>
    %1 = tpu.quant %0 {from = "FP32", to = "INT8", scale = 1.0 : f32, name = "in_quant"} : (tensor<1x3x4x4xf32>) -> tensor<1x3x4x4xi8>
    %2 = tpu.relu %1 {name = "a"} : (tensor<1x3x4x4xi8>) -> tensor<1x3x4x4xi8>
    %3 = tpu.relu %2 {name = "b"} : (tensor<1x3x4x4xi8>) -> tensor<1x3x4x4xi8>
    %4 = tpu.relu %3 {name = "c"} : (tensor<1x3x4x4xi8>) -> tensor<1x3x4x4xi8>
    %5 = tpu.reshape %4 {name = "d"} : (tensor<1x3x4x4xi8>) -> tensor<1x48xi8>
    %6 = tpu.relu %5 {name = "e"} : (tensor<1x48xi8>) -> tensor<1x48xi8>
    %7 = tpu.quant %6 {from = "INT8", to = "FP32", scale = 1.0 : f32, name = "out"} : (tensor<1x48xi8>) -> tensor<1x48xf32>
    return %7 : tensor<1x48xf32>
  }
}

// -----

// Tests that the tensors around a CPU layer (softmax) are private and that io tensors beyond
// region 7 go to private memory.
// REUSE-LABEL: module attributes {tpu.private_gmem = 384 : i64, tpu.shared_gmem = 64 : i64}
// REUSE-COUNT-5: tpu.input {{.*}}gaddr = {{3298534883328|4398046511104|5497558138880|6597069766656|7696581394432}} : i64
// REUSE: tpu.input {{.*}}{gaddr = 2199023255552 : i64, name = "x5"}
// REUSE: tpu.quant {{.*}}gaddr = 2199023255616 : i64{{.*}}name = "q"
// REUSE: tpu.quant {{.*}}gaddr = 2199023255680 : i64{{.*}}name = "sm_in0_dequant"
// REUSE: tpu.softmax {{.*}}gaddr = 2199023255744 : i64{{.*}}name = "sm"
// REUSE: tpu.quant {{.*}}gaddr = 2199023255808 : i64{{.*}}name = "sm_quant"
// REUSE: tpu.relu {{.*}}{gaddr = 0 : i64, name = "r"}
// REUSE: tpu.quant {{.*}}gaddr = 2199023255872 : i64{{.*}}name = "out"
module {
  func.func @main(%a0: tensor<1x16xf32>, %a1: tensor<1x16xf32>, %a2: tensor<1x16xf32>, %a3: tensor<1x16xf32>, %a4: tensor<1x16xf32>, %a5: tensor<1x16xf32>) -> tensor<1x16xf32> {
    %0 = tpu.input %a0 {name = "x0"} : (tensor<1x16xf32>) -> tensor<1x16xf32>
    %1 = tpu.input %a1 {name = "x1"} : (tensor<1x16xf32>) -> tensor<1x16xf32>
    %2 = tpu.input %a2 {name = "x2"} : (tensor<1x16xf32>) -> tensor<1x16xf32>
    %3 = tpu.input %a3 {name = "x3"} : (tensor<1x16xf32>) -> tensor<1x16xf32>
    %4 = tpu.input %a4 {name = "x4"} : (tensor<1x16xf32>) -> tensor<1x16xf32>
    %5 = tpu.input %a5 {name = "x5"} : (tensor<1x16xf32>) -> tensor<1x16xf32>
    %6 = tpu.quant %0 {from = "FP32", to = "INT8", scale = 1.0 : f32, name = "q"} : (tensor<1x16xf32>) -> tensor<1x16xi8>
    %7 = tpu.quant %6 {from = "INT8", to = "FP32", scale = 1.0 : f32, name = "sm_in0_dequant"} : (tensor<1x16xi8>) -> tensor<1x16xf32>
    %8 = tpu.softmax %7 {name = "sm", axis = 1 : i64} : (tensor<1x16xf32>) -> tensor<1x16xf32>
    %9 = tpu.quant %8 {from = "FP32", to = "INT8", scale = 1.0 : f32, name = "sm_quant"} : (tensor<1x16xf32>) -> tensor<1x16xi8>
    %10 = tpu.relu %9 {name = "r"} : (tensor<1x16xi8>) -> tensor<1x16xi8>
    %11 = tpu.quant %10 {from = "INT8", to = "FP32", scale = 1.0 : f32, name = "out"} : (tensor<1x16xi8>) -> tensor<1x16xf32>
    return %11 : tensor<1x16xf32>
  }
}

// -----

// Tests that a module already divided into routines is refused (addresses are per program).
// expected-error @below {{assign-neuron-address: the module is already divided into routines; run this pass before --divide-ops-to-func}}
module {
  func.func private @subfunc_0(%arg0: tensor<4xi8>) -> tensor<4xi8> attributes {tpu.routine = "tpu"} {
    %0 = tpu.relu %arg0 {name = "a"} : (tensor<4xi8>) -> tensor<4xi8>
    return %0 : tensor<4xi8>
  }
  func.func @main(%arg0: tensor<4xi8>) -> tensor<4xi8> {
    %0 = call @subfunc_0(%arg0) : (tensor<4xi8>) -> tensor<4xi8>
    return %0 : tensor<4xi8>
  }
}

// -----

// Tests that a layer group (--group-ops) counts as one step: it runs slice by slice, so "a",
// read by the group member "b", stays live until the group's last member "c" and "c" does not
// reuse its bytes.
// REUSE-LABEL: module attributes {tpu.private_gmem = 64 : i64, tpu.shared_gmem = 192 : i64}
// REUSE: tpu.relu {{.*}}{gaddr = 0 : i64, name = "a"}
// REUSE: tpu.relu {{.*}}{gaddr = 64 : i64, name = "b"
// REUSE: tpu.relu {{.*}}{gaddr = 128 : i64, name = "c"
module {
  func.func @main(%arg0: tensor<1x3x4x4xf32>) -> tensor<1x3x4x4xf32> {
    %0 = tpu.input %arg0 {name = "in"} : (tensor<1x3x4x4xf32>) -> tensor<1x3x4x4xf32>
    %1 = tpu.quant %0 {from = "FP32", to = "INT8", scale = 1.0 : f32, name = "in_quant"} : (tensor<1x3x4x4xf32>) -> tensor<1x3x4x4xi8>
    %2 = tpu.relu %1 {name = "a"} : (tensor<1x3x4x4xi8>) -> tensor<1x3x4x4xi8>
    %3 = tpu.relu %2 {name = "b", tpu.layer_group = 0 : i64} : (tensor<1x3x4x4xi8>) -> tensor<1x3x4x4xi8>
    %4 = tpu.relu %3 {name = "c", tpu.layer_group = 0 : i64} : (tensor<1x3x4x4xi8>) -> tensor<1x3x4x4xi8>
    %5 = tpu.quant %4 {from = "INT8", to = "FP32", scale = 1.0 : f32, name = "out"} : (tensor<1x3x4x4xi8>) -> tensor<1x3x4x4xf32>
    return %5 : tensor<1x3x4x4xf32>
  }
}
