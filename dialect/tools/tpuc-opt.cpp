//===- tpuc-opt.cpp - mlir-opt with the tpu dialect and passes ------------===//
//
// A superset of mlir-opt: every upstream dialect, pass and extension plus ours, so the vendor
// guide's command lines (`mlir-opt x.mlir --assign-layer-id ...`) run verbatim.
//
//===----------------------------------------------------------------------===//
#include "dialect/TpuDialect.h"
#include "passes/Passes.h"

#include "mlir/IR/DialectRegistry.h"
#include "mlir/InitAllDialects.h"
#include "mlir/InitAllExtensions.h"
#include "mlir/InitAllPasses.h"
#include "mlir/Tools/mlir-opt/MlirOptMain.h"

int main(int argc, char **argv) {
  mlir::registerAllPasses();
  tpuc::registerTpuPasses();

  mlir::DialectRegistry registry;
  mlir::registerAllDialects(registry);
  mlir::registerAllExtensions(registry);
  registry.insert<tpuc::tpu::TpuDialect>();

  return mlir::asMainReturnCode(
      mlir::MlirOptMain(argc, argv, "tpuc optimizer driver\n", registry));
}
