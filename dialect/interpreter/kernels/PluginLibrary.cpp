//===- PluginLibrary.cpp - custom-op plugin libraries ----------------------===//
//
// A vendor custom-op plugin (libCustomOpPlugin.so) exports one factory per op,
// `CustomOp<operation_name>Create(cvi::OpParam &)`, returning a cvi::CustomOp. Loading, creation
// and the hook calls go through the tools' shared loader (runtime/sdk/PluginHost.h); its error
// messages (naming the plugin path, the operation and the hook) are thrown on as the interpreter's
// errors.
//
//===----------------------------------------------------------------------===//

#include "dialect/interpreter/CustomOp.h"
#include "dialect/interpreter/kernels/KernelSupport.h"
#include "runtime/sdk/PluginHost.h"

namespace tpuc::interpreter {
namespace {

class PluginOp : public CustomOpInterpreter {
public:
  explicit PluginOp(std::unique_ptr<sdk::CustomOpInstance> op) : op(std::move(op)) {}

  void interpretFp32(std::vector<std::shared_ptr<std::vector<float>>> &operands,
                     std::vector<std::vector<int64_t>> &shapes,
                     std::shared_ptr<std::vector<float>> &result,
                     std::vector<int64_t> &resultShape) override {
    std::string error;
    if (!op->interpretFp32(operands, shapes, result, resultShape, error))
      fail(error);
  }

  void interpretInt8(std::vector<std::shared_ptr<std::vector<float>>> &operands,
                     std::vector<std::vector<int64_t>> &shapes,
                     std::shared_ptr<std::vector<float>> &result,
                     std::vector<int64_t> &resultShape) override {
    std::string error;
    if (!op->interpretInt8(operands, shapes, result, resultShape, error))
      fail(error);
  }

private:
  std::unique_ptr<sdk::CustomOpInstance> op;
};

class PluginLibraryProvider : public CustomOpProvider {
public:
  explicit PluginLibraryProvider(std::shared_ptr<sdk::CustomOpLibrary> library)
      : library(std::move(library)) {}

  std::string describe() const override { return "plugin " + library->path(); }

  std::unique_ptr<CustomOpInterpreter> create(const std::string &operationName,
                                              cvi::OpParam &param) override {
    if (!library->provides(operationName))
      return nullptr;
    std::string error;
    auto op = library->create(operationName, "", param, error);
    if (!op)
      fail(error);
    return std::make_unique<PluginOp>(std::move(op));
  }

private:
  std::shared_ptr<sdk::CustomOpLibrary> library;
};

} // namespace

Status CustomOpRegistry::addPluginLibrary(const std::string &path) noexcept {
  try {
    std::string error;
    auto library = sdk::CustomOpLibrary::open(path, error);
    if (!library)
      return Status::error(error);
    addProvider(std::make_shared<PluginLibraryProvider>(std::move(library)));
    return Status::success();
  } catch (const std::exception &error) {
    return Status::error("cannot load custom-op plugin '" + path + "': " + error.what());
  }
}

} // namespace tpuc::interpreter
