//===- TpuPlugin.cpp - the tpu dialect and passes as an mlir-opt plugin ---===//
//
//   mlir-opt --load-dialect-plugin=libTpuPlugin.so --load-pass-plugin=libTpuPlugin.so
//            --pass-pipeline='builtin.module(assign-layer-id)' model.mlir
//
//===----------------------------------------------------------------------===//
#include "dialect/TpuDialect.h"
#include "passes/Passes.h"

#include "mlir/Tools/Plugins/DialectPlugin.h"
#include "mlir/Tools/Plugins/PassPlugin.h"
#include "llvm/Config/llvm-config.h"

extern "C" LLVM_ATTRIBUTE_WEAK mlir::DialectPluginLibraryInfo mlirGetDialectPluginInfo() {
  return {MLIR_PLUGIN_API_VERSION, "tpu", LLVM_VERSION_STRING,
          [](mlir::DialectRegistry *registry) { registry->insert<tpuc::tpu::TpuDialect>(); }};
}

extern "C" LLVM_ATTRIBUTE_WEAK mlir::PassPluginLibraryInfo mlirGetPassPluginInfo() {
  return {MLIR_PLUGIN_API_VERSION, "tpu-passes", LLVM_VERSION_STRING,
          []() { tpuc::registerTpuPasses(); }};
}
