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
#include "runtime/sdk/PluginHost.h"
#include "llvm/Support/CommandLine.h"

// The vendor flag of `mlir-opt ... --tpu-quant --custom-op-plugin <lib>`: plugin libraries for
// the passes that call custom-op plugins (tpu-quant's quantizeInt8), unless their own
// `custom-op-plugin` option names some.
static llvm::cl::list<std::string> customOpPlugins(
    "custom-op-plugin", llvm::cl::desc("Custom-op plugin library (libCustomOpPlugin.so)"),
    llvm::cl::value_desc("library"),
    llvm::cl::callback([](const std::string &path) { tpuc::sdk::addCommandLinePlugin(path); }));

int main(int argc, char **argv) {
  mlir::registerAllPasses();
  tpuc::registerTpuPasses();

  mlir::DialectRegistry registry;
  mlir::registerAllDialects(registry);
  mlir::registerAllExtensions(registry);
  registry.insert<tpuc::tpu::TpuDialect>();

  return mlir::asMainReturnCode(mlir::MlirOptMain(argc, argv, "tpuc optimizer driver\n", registry));
}
