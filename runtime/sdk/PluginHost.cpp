//===- PluginHost.cpp - loading custom-op plugins --------------------------===//
//
// Compiled with exceptions: the plugin's class guards its hooks (cvi::detail::GuardedCustomOp),
// but a call is still wrapped in try/catch so that nothing a plugin does escapes as an exception
// into the noexcept API of PluginHost.h.
//
//===----------------------------------------------------------------------===//
#include "runtime/sdk/PluginHost.h"

#include "cvi/CustomOp.h"

#include <dlfcn.h>
#include <unistd.h>

#include <mutex>

namespace tpuc::sdk {

namespace {

using Factory = cvi::CustomOp *(*)(cvi::OpParam &);
using CreateError = const char *(*)();
using AbiVersion = int (*)();

std::string quoted(const std::string &s) { return "'" + s + "'"; }

// "'layer' (operation_name 'op')", or "'op'" when the layer name is unknown.
std::string opLabel(const std::string &operationName, const std::string &layerName) {
  if (layerName.empty())
    return quoted(operationName);
  return quoted(layerName) + " (operation_name " + quoted(operationName) + ")";
}

std::mutex &commandLineMutex() {
  static std::mutex mutex;
  return mutex;
}
std::vector<std::string> &commandLineList() {
  static std::vector<std::string> list;
  return list;
}

} // namespace

struct CustomOpLibrary::Private {
  static void *symbol(const CustomOpLibrary &library, const std::string &name) {
    return dlsym(library.handle_, name.c_str());
  }
};

//===----------------------------------------------------------------------===//
// CustomOpLibrary
//===----------------------------------------------------------------------===//

std::shared_ptr<CustomOpLibrary> CustomOpLibrary::open(const std::string &path,
                                                       std::string &error) noexcept {
  try {
    if (path.empty()) {
      error = "cannot load custom-op plugin: empty path";
      return nullptr;
    }
    // dlopen would search the library path for a bare name: a file of that name in the current
    // directory is meant (`--custom-op-plugin libCustomOpPlugin.so`), else the search applies.
    std::string file = path;
    if (path.find('/') == std::string::npos && access(path.c_str(), F_OK) == 0)
      file = "./" + path;
    void *handle = dlopen(file.c_str(), RTLD_NOW | RTLD_LOCAL);
    if (!handle) {
      const char *reason = dlerror();
      error = "cannot load custom-op plugin " + quoted(path) + ": " +
              (reason ? reason : "unknown dlopen error");
      return nullptr;
    }
    return std::make_shared<CustomOpLibrary>(path, handle);
  } catch (const std::exception &e) {
    error = "cannot load custom-op plugin " + quoted(path) + ": " + e.what();
    return nullptr;
  }
}

bool CustomOpLibrary::provides(const std::string &operationName) const noexcept {
  try {
    return Private::symbol(*this, "CustomOp" + operationName + "Create") != nullptr;
  } catch (...) {
    return false;
  }
}

std::unique_ptr<CustomOpInstance> CustomOpLibrary::create(const std::string &operationName,
                                                          const std::string &layerName,
                                                          const cvi::OpParam &param,
                                                          std::string &error) const noexcept {
  try {
    const std::string what =
        "plugin " + quoted(path_) + ": custom op " + opLabel(operationName, layerName);
    const std::string factoryName = "CustomOp" + operationName + "Create";
    auto factory = reinterpret_cast<Factory>(Private::symbol(*this, factoryName));
    if (!factory) {
      error = what + ": the plugin does not export " + factoryName + " (no RegisterCustomOp(" +
              operationName + ", ...) in it)";
      return nullptr;
    }
    auto version = reinterpret_cast<AbiVersion>(
        Private::symbol(*this, "CustomOp" + operationName + "AbiVersion"));
    if (!version) {
      error = what + ": the plugin exports " + factoryName + " but not CustomOp" + operationName +
              "AbiVersion: it was not built with tpuc's cvi/CustomOp.h (RegisterCustomOp)";
      return nullptr;
    }
    if (int v = version(); v != CVI_CUSTOM_OP_ABI_VERSION) {
      error = what + ": the plugin was built for custom-op ABI version " + std::to_string(v) +
              ", this tpuc uses version " + std::to_string(CVI_CUSTOM_OP_ABI_VERSION) +
              "; rebuild it against this tpuc (tpuc-config --cmake-dir)";
      return nullptr;
    }
    std::unique_ptr<CustomOpInstance> instance(new CustomOpInstance());
    instance->library_ = shared_from_this();
    instance->operationName_ = operationName;
    instance->layerName_ = layerName;
    instance->param_ = std::make_unique<cvi::OpParam>(param);
    instance->op_ = factory(*instance->param_);
    if (!instance->op_) {
      auto createError = reinterpret_cast<CreateError>(
          Private::symbol(*this, "CustomOp" + operationName + "CreateError"));
      const char *reason = createError ? createError() : nullptr;
      error = what +
              ": constructor failed: " + (reason && *reason ? reason : "the factory returned null");
      return nullptr;
    }
    return instance;
  } catch (const std::exception &e) {
    error = "plugin " + quoted(path_) + ": custom op " + quoted(operationName) +
            ": creation failed: " + e.what();
    return nullptr;
  } catch (...) {
    error = "plugin " + quoted(path_) + ": custom op " + quoted(operationName) +
            ": creation failed with an unknown exception";
    return nullptr;
  }
}

//===----------------------------------------------------------------------===//
// CustomOpInstance
//===----------------------------------------------------------------------===//

CustomOpInstance::~CustomOpInstance() {
  try {
    delete op_;
  } catch (...) {
  }
}

std::string CustomOpInstance::describe() const {
  return "plugin " + quoted(library_->path()) + ": custom op " +
         opLabel(operationName_, layerName_);
}

std::string CustomOpInstance::takeError(const char *hook) {
  if (!op_->hasError())
    return {};
  std::string message = describe() + ": ";
  if (op_->errorIsNotImplemented())
    message += op_->errorMessage();
  else
    message += std::string(hook) + " failed: " + op_->errorMessage();
  op_->clearError();
  return message;
}

namespace {

// Runs one hook: errors recorded by the op, or (should the guard be bypassed) thrown.
template <typename Call>
bool callHook(CustomOpInstance &self, cvi::CustomOp *op, const char *hook, std::string &error,
              std::string (CustomOpInstance::*take)(const char *), Call &&call) noexcept {
  try {
    op->clearError();
    call();
    std::string message = (self.*take)(hook);
    if (message.empty())
      return true;
    error = std::move(message);
  } catch (const std::exception &e) {
    error = self.describe() + ": " + hook + " failed: uncaught exception: " + e.what();
  } catch (...) {
    error = self.describe() + ": " + hook + " failed: uncaught exception";
  }
  return false;
}

} // namespace

bool CustomOpInstance::interpretFp32(TensorList &operands, ShapeList &operandShapes,
                                     std::shared_ptr<std::vector<float>> &result,
                                     std::vector<int64_t> &resultShape,
                                     std::string &error) noexcept {
  return callHook(*this, op_, "interpretFp32", error, &CustomOpInstance::takeError,
                  [&] { op_->interpretFp32(operands, operandShapes, result, resultShape); });
}

bool CustomOpInstance::interpretInt8(TensorList &operands, ShapeList &operandShapes,
                                     std::shared_ptr<std::vector<float>> &result,
                                     std::vector<int64_t> &resultShape,
                                     std::string &error) noexcept {
  return callHook(*this, op_, "interpretInt8", error, &CustomOpInstance::takeError,
                  [&] { op_->interpretInt8(operands, operandShapes, result, resultShape); });
}

bool CustomOpInstance::quantizeInt8(float opThreshold, const std::vector<float> &prevThresholds,
                                    QuantizeResult &result, std::string &error) noexcept {
  bool ok = callHook(*this, op_, "quantizeInt8", error, &CustomOpInstance::takeError, [&] {
    op_->setQuantThresholds(opThreshold, prevThresholds);
    op_->quantizeInt8();
  });
  if (!ok)
    return false;
  try {
    result.param = *param_;
    result.paramType = op_->quantParamType();
    result.perchannel = op_->quantPerchannel();
    return true;
  } catch (const std::exception &e) {
    error = describe() + ": quantizeInt8: " + e.what();
    return false;
  }
}

//===----------------------------------------------------------------------===//
// CustomOpLibraries
//===----------------------------------------------------------------------===//

bool CustomOpLibraries::add(const std::string &path, std::string &error) noexcept {
  try {
    for (const auto &library : libraries_)
      if (library->path() == path)
        return true;
    auto library = CustomOpLibrary::open(path, error);
    if (!library)
      return false;
    libraries_.push_back(std::move(library));
    return true;
  } catch (const std::exception &e) {
    error = "cannot load custom-op plugin " + quoted(path) + ": " + e.what();
    return false;
  }
}

std::unique_ptr<CustomOpInstance>
CustomOpLibraries::create(const std::string &operationName, const std::string &layerName,
                          const cvi::OpParam &param, std::string &error,
                          const std::string &flag) const noexcept {
  try {
    const std::string what = "custom op " + opLabel(operationName, layerName);
    if (libraries_.empty()) {
      error = what + " needs a custom-op plugin, but none is loaded (pass " + flag + " <lib>)";
      return nullptr;
    }
    std::string searched;
    for (const auto &library : libraries_) {
      if (library->provides(operationName))
        return library->create(operationName, layerName, param, error);
      searched += (searched.empty() ? "" : ", ") + quoted(library->path());
    }
    error = what + ": no custom-op plugin exports CustomOp" + operationName +
            "Create (unknown operation_name " + quoted(operationName) + "; searched " + searched +
            ")";
    return nullptr;
  } catch (const std::exception &e) {
    error = "custom op " + quoted(operationName) + ": " + e.what();
    return nullptr;
  }
}

void addCommandLinePlugin(const std::string &path) noexcept {
  try {
    std::lock_guard<std::mutex> lock(commandLineMutex());
    commandLineList().push_back(path);
  } catch (...) {
  }
}

std::vector<std::string> commandLinePlugins() noexcept {
  try {
    std::lock_guard<std::mutex> lock(commandLineMutex());
    return commandLineList();
  } catch (...) {
    return {};
  }
}

} // namespace tpuc::sdk
