//===- tpuc-translate.cpp - translations to and from the tpu dialect ------===//
//
// mlir-translate with the upstream translations plus `--mlir-to-cvimodel` (code generation in
// passes/codegen/CvimodelEmitter.cpp):
//   tpuc-translate --mlir-to-cvimodel --weight-file weight.bin [--custom-op-plugin lib]
//                  [--custom-runtime-lib a.so,b.so] opt.mlir -o model.cvimodel
//
//===----------------------------------------------------------------------===//
#include "dialect/TpuDialect.h"
#include "passes/codegen/CvimodelEmitter.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/IR/BuiltinOps.h"
#include "mlir/InitAllTranslations.h"
#include "mlir/Tools/mlir-translate/MlirTranslateMain.h"
#include "mlir/Tools/mlir-translate/Translation.h"
#include "llvm/Support/CommandLine.h"

static llvm::cl::opt<std::string>
    clWeightFile("weight-file", llvm::cl::desc("--mlir-to-cvimodel: weight.bin to embed"),
                 llvm::cl::init(""));
static llvm::cl::list<std::string>
    clCustomOpPlugin("custom-op-plugin",
                     llvm::cl::desc("--mlir-to-cvimodel: compiler-side custom-op plugin"));
static llvm::cl::list<std::string> clCustomRuntimeLib(
    "custom-runtime-lib", llvm::cl::CommaSeparated,
    llvm::cl::desc("--mlir-to-cvimodel: custom-op runtime libraries to embed (a.so,b.so)"));

int main(int argc, char **argv) {
  mlir::registerAllTranslations();
  mlir::TranslateFromMLIRRegistration cvimodel(
      "mlir-to-cvimodel", "Generate a .cvimodel from a divided INT8 tpu module",
      [](mlir::Operation *op, llvm::raw_ostream &os) -> mlir::LogicalResult {
        auto module = llvm::dyn_cast<mlir::ModuleOp>(op);
        if (!module)
          return op->emitError("mlir-to-cvimodel: expected a builtin.module");
        tpuc::backend::CvimodelOptions options;
        options.weightFile = clWeightFile;
        options.customOpPlugins.assign(clCustomOpPlugin.begin(), clCustomOpPlugin.end());
        options.customRuntimeLibs.assign(clCustomRuntimeLib.begin(), clCustomRuntimeLib.end());
        return tpuc::backend::emitCvimodel(module, options, os);
      },
      [](mlir::DialectRegistry &registry) {
        registry.insert<tpuc::tpu::TpuDialect, mlir::func::FuncDialect>();
      });
  return mlir::failed(mlir::mlirTranslateMain(argc, argv, "tpuc translation driver"));
}
