//===- PluginCodegen.cpp - codeGenInt8 of a custom-op plugin ---------------===//
//
// Separate from PluginHost.cpp so that only tools generating code link the kernel emitter.
//
//===----------------------------------------------------------------------===//
#include "runtime/sdk/PluginHost.h"

#include "cvi/CustomOp.h"
#include "tpuc/kernel/Context.h"

namespace tpuc::sdk {

bool CustomOpInstance::codeGenInt8(tpuc::kernel::Context &ctx, ShapeList &operandShapes,
                                   std::vector<uint64_t> &operandGaddrs,
                                   std::vector<int64_t> &resultShape, uint64_t resultGaddr,
                                   int layerId, std::string &error) noexcept {
  try {
    op_->clearError();
    op_->codeGenInt8(&ctx, operandShapes, operandGaddrs, resultShape, resultGaddr, layerId);
    if (std::string message = takeError("codeGenInt8"); !message.empty()) {
      error = std::move(message);
      return false;
    }
    if (!ctx.ok()) {
      error = describe() + ": codeGenInt8 failed: kernel emitter error: " + ctx.error();
      return false;
    }
    return true;
  } catch (const std::exception &e) {
    error = describe() + ": codeGenInt8 failed: uncaught exception: " + e.what();
  } catch (...) {
    error = describe() + ": codeGenInt8 failed: uncaught exception";
  }
  return false;
}

} // namespace tpuc::sdk
