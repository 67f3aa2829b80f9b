// RUN: tpuc-opt %s -split-input-file --assign-chip-name --chipname cv183x | FileCheck %s
// RUN: tpuc-opt %s -split-input-file --assign-chip-name --chipname cv182x | FileCheck %s --check-prefix=CV182X
// RUN: tpuc-opt %s -split-input-file --assign-chip-name --chipname=cv181x | FileCheck %s --check-prefix=CV181X
// RUN: tpuc-opt %s -split-input-file --assign-chip-name="chipname=cv180x" --chipname cv183x | FileCheck %s --check-prefix=OPTION
// The error cases at the end are also files of their own (split-file), run with their flags.
// RUN: rm -rf %t && split-file %s %t
// RUN: tpuc-opt %t/unknown.mlir --assign-chip-name --chipname cv1880 -verify-diagnostics
// RUN: tpuc-opt %t/missing.mlir --assign-chip-name -verify-diagnostics
// RUN: not tpuc-opt %s -split-input-file --assign-chip-name --chipname cv1880 2>&1 | FileCheck %s --check-prefix=UNKNOWN
// CV182X: module attributes {tpu.chip = "cv182x"}
// CV181X: module attributes {tpu.chip = "cv181x"}
// Tests that the pass option wins over the tool flag.
// OPTION: module attributes {tpu.chip = "cv180x"}
// Tests that an unknown chip fails on every module.
// UNKNOWN-COUNT-4: error: assign-chip-name: unknown chip 'cv1880'; valid names: cv183x, cv182x, cv181x, cv180x

// Tests that the module records the chip and every custom op gets it as `chipname`.
// CHECK-LABEL: module attributes {tpu.chip = "cv183x"}
// CHECK: tpu.relu %arg0 {name = "r"}
// CHECK: tpu.custom_op {{.*}}chipname = "cv183x"{{.*}}name = "c1"
// CHECK: tpu.custom_op {{.*}}chipname = "cv183x"{{.*}}name = "c2"
func.func @net(%arg0: tensor<4xf32>) -> tensor<4xf32> {
  %0 = tpu.relu %arg0 {name = "r"} : (tensor<4xf32>) -> tensor<4xf32>
  %1 = tpu.custom_op %0 {name = "c1", operation_name = "leaky_relu", param = {}, tpu = true, do_quant = true, quant = {}} : (tensor<4xf32>) -> tensor<4xf32>
  %2 = tpu.custom_op %1 {name = "c2", operation_name = "leaky_relu", param = {}, tpu = true, do_quant = true, quant = {}, chipname = "cv182x"} : (tensor<4xf32>) -> tensor<4xf32>
  return %2 : tensor<4xf32>
}

// -----

// Tests that other module attributes stay and an existing chip is replaced.
// CHECK-LABEL: module attributes {tpu.chip = "cv183x", tpu.weight_file = "w.npz"}
module attributes {tpu.chip = "cv180x", tpu.weight_file = "w.npz"} {
}

// -----

//--- unknown.mlir
// Tests that an unknown chip (--chipname cv1880 in the RUN line) is an error listing the valid
// names.
// expected-error @below {{assign-chip-name: unknown chip 'cv1880'; valid names: cv183x, cv182x, cv181x, cv180x}}
module {
}

// -----

//--- missing.mlir
// Tests that a missing chip name is an error.
// expected-error @below {{assign-chip-name: no chip name; pass --chipname <name> (one of cv183x, cv182x, cv181x, cv180x)}}
module {
}
