//===- PluginLibrary.cpp - custom-op plugin libraries ----------------------===//
//
// A vendor custom-op plugin (libCustomOpPlugin.so) exports one factory per op,
// `CustomOp<operation_name>Create(cvi::OpParam &)`, returning a cvi::CustomOp. The library is
// loaded here and its factories are looked up by name; calling them needs the cvi::CustomOp class
// layout, which the interpreter does not have yet, so a found factory is reported as unsupported
// rather than called.
//
//===----------------------------------------------------------------------===//

#include "dialect/interpreter/CustomOp.h"
#include "dialect/interpreter/kernels/KernelSupport.h"

#include <dlfcn.h>

namespace tpuc::interpreter {
namespace {

class PluginLibraryProvider : public CustomOpProvider {
public:
  PluginLibraryProvider(std::string path, void *handle) : path(std::move(path)), handle(handle) {}
  // The library stays loaded: implementations created from it may outlive the provider.

  std::string describe() const override { return "plugin " + path; }

  std::unique_ptr<CustomOpInterpreter> create(const std::string &operationName,
                                              cvi::OpParam &) override {
    std::string symbol = "CustomOp" + operationName + "Create";
    if (!dlsym(handle, symbol.c_str()))
      return nullptr;
    fail("plugin ", path, " exports ", symbol,
         ", but the interpreter cannot call cvi::CustomOp factories yet");
  }

private:
  std::string path;
  void *handle;
};

} // namespace

Status CustomOpRegistry::addPluginLibrary(const std::string &path) noexcept {
  try {
    void *handle = dlopen(path.c_str(), RTLD_NOW | RTLD_LOCAL);
    if (!handle) {
      const char *reason = dlerror();
      return Status::error("cannot load custom-op plugin '" + path +
                           "': " + (reason ? reason : "unknown error"));
    }
    addProvider(std::make_shared<PluginLibraryProvider>(path, handle));
    return Status::success();
  } catch (const std::exception &error) {
    return Status::error("cannot load custom-op plugin '" + path + "': " + error.what());
  }
}

} // namespace tpuc::interpreter
