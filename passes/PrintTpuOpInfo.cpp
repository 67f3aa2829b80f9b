//===- PrintTpuOpInfo.cpp - write op_info.csv -----------------------------===//
#include "passes/Passes.h"

#include "mlir/Support/FileUtilities.h"
#include "llvm/Support/CommandLine.h"
#include "llvm/Support/Format.h"
#include "llvm/Support/ToolOutputFile.h"

namespace tpuc {
#define GEN_PASS_DEF_PRINTTPUOPINFO
#include "passes/Passes.h.inc"
} // namespace tpuc

using namespace mlir;

// The vendor tools take the file name as a separate top-level flag:
//   --print-tpu-op-info --tpu-op-info-filename op_info.csv
// It is the pass's default when the pass option itself is not given.
static llvm::cl::opt<std::string>
    clOpInfoFilename("tpu-op-info-filename",
                     llvm::cl::desc("File written by --print-tpu-op-info ('-' for stdout)"),
                     llvm::cl::init(""));

namespace {
struct PrintTpuOpInfoPass : tpuc::impl::PrintTpuOpInfoBase<PrintTpuOpInfoPass> {
  using Base::Base;

  void runOnOperation() override {
    std::string path = filename.empty() ? std::string(clOpInfoFilename) : filename.getValue();
    if (path.empty()) {
      emitError(getOperation().getLoc(), "print-tpu-op-info: no output file; pass "
                                         "--tpu-op-info-filename <file> (or '-' for stdout)");
      return signalPassFailure();
    }
    std::string message;
    std::unique_ptr<llvm::ToolOutputFile> out = openOutputFile(path, &message);
    if (!out) {
      emitError(getOperation().getLoc(), "print-tpu-op-info: cannot write '")
          << path << "': " << message;
      return signalPassFailure();
    }
    getOperation()->walk<WalkOrder::PreOrder>([&](tpuc::tpu::TpuLayerOp layer) {
      out->os() << layer.getLayerName() << ',' << layer.getAssignedLayerId() << ','
                << layer.getQuantMode() << ','
                << llvm::format("%.6f", layer.getThreshold().value_or(0.0)) << '\n';
    });
    out->keep();
  }
};
} // namespace
