//===- AssignChipName.cpp - record the target chip ------------------------===//
#include "passes/Passes.h"

#include "llvm/ADT/STLExtras.h"
#include "llvm/ADT/StringExtras.h"
#include "llvm/Support/CommandLine.h"

namespace tpuc {
#define GEN_PASS_DEF_ASSIGNCHIPNAME
#include "passes/Passes.h.inc"
} // namespace tpuc

using namespace mlir;

// The vendor tools take the chip as a separate top-level flag:
//   --assign-chip-name --chipname cv183x
// It is the pass's default when the pass option itself is not given.
static llvm::cl::opt<std::string>
    clChipName("chipname", llvm::cl::desc("Target chip of --assign-chip-name (cv183x, ...)"),
               llvm::cl::init(""));

namespace {

constexpr llvm::StringLiteral kValidChips[] = {"cv183x", "cv182x", "cv181x", "cv180x"};

struct AssignChipNamePass : tpuc::impl::AssignChipNameBase<AssignChipNamePass> {
  using Base::Base;

  void runOnOperation() override {
    ModuleOp module = getOperation();
    std::string chip = chipName.empty() ? std::string(clChipName) : chipName.getValue();
    std::string valid = llvm::join(std::begin(kValidChips), std::end(kValidChips), ", ");
    if (chip.empty()) {
      emitError(module.getLoc(), "assign-chip-name: no chip name; pass --chipname <name> (one of ")
          << valid << ")";
      return signalPassFailure();
    }
    if (!llvm::is_contained(kValidChips, chip)) {
      emitError(module.getLoc(), "assign-chip-name: unknown chip '")
          << chip << "'; valid names: " << valid;
      return signalPassFailure();
    }
    auto chipAttr = StringAttr::get(module.getContext(), chip);
    module->setAttr("tpu.chip", chipAttr);
    module.walk([&](tpuc::tpu::CustomOp op) { op.setChipnameAttr(chipAttr); });
  }
};

} // namespace
