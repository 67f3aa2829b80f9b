//===- CvimodelEmitter.h - INT8 module -> .cvimodel -------------*- C++ -*-===//
//
// The code generation behind `tpuc-translate --mlir-to-cvimodel`. Input: a module that went
// through --tpu-quant and the backend passes (assign-weight-address, assign-neuron-address,
// divide-ops-to-func; docs/backend.md). Each TPU routine's layers are emitted with the INT8
// layer kernels (runtime/include/tpuc/kernel/Layers.h) into one kernel Context, whose command
// buffer becomes the routine's CMDBUF section; CPU routines get their cvi.cpu_op.Parameter.
//
//===----------------------------------------------------------------------===//
#ifndef TPUC_PASSES_CODEGEN_CVIMODELEMITTER_H
#define TPUC_PASSES_CODEGEN_CVIMODELEMITTER_H

#include "mlir/IR/BuiltinOps.h"
#include "llvm/Support/raw_ostream.h"

#include <string>
#include <vector>

namespace tpuc::backend {

struct CvimodelOptions {
  /// weight.bin written by --assign-weight-address (default: the module's `tpu.weight_bin`).
  std::string weightFile;
  /// Shared libraries embedded as FUNC_X86 / FUNC_AARCH64 sections (by ELF e_machine).
  std::vector<std::string> customRuntimeLibs;
  /// Compiler-side custom-op plugins: their codeGenInt8 emits the TPU custom ops.
  std::vector<std::string> customOpPlugins;
};

/// Writes the cvimodel of `module` to `os`. Errors are emitted on the op (or module) concerned.
mlir::LogicalResult emitCvimodel(mlir::ModuleOp module, const CvimodelOptions &options,
                                 llvm::raw_ostream &os);

} // namespace tpuc::backend

#endif // TPUC_PASSES_CODEGEN_CVIMODELEMITTER_H
