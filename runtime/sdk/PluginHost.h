//===- PluginHost.h - loading custom-op plugins in the tpuc tools -*- C++ -*-===//
//
// The one loader of custom-op plugin libraries (libCustomOpPlugin.so, see cvi/CustomOp.h) used by
// the interpreter, tpu-quant, calibration and code generation. A library is opened with dlopen;
// an op is created through its exported factory `CustomOp<operation_name>Create` and its hooks
// are called through CustomOpInstance, which turns whatever the plugin records (or, as a last
// resort, throws) into an error message naming the plugin path, the op and the hook:
//
//   std::string error;
//   auto library = tpuc::sdk::CustomOpLibrary::open("libCustomOpPlugin.so", error);
//   auto op = library ? library->create("leaky_relu", "lrelu0", param, error) : nullptr;
//   if (!op || !op->interpretFp32(operands, shapes, result, resultShape, error))
//     report(error);
//
// Every function is noexcept and free of MLIR, so that code compiled without exceptions (the
// passes) can call it.
//
//===----------------------------------------------------------------------===//
#pragma once

#include "cvi/OpParam.h"

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

namespace cvi {
class CustomOp;
} // namespace cvi
namespace tpuc::kernel {
class Context;
} // namespace tpuc::kernel

namespace tpuc::sdk {

class CustomOpLibrary;

/// What quantizeInt8 produced.
struct QuantizeResult {
  cvi::OpParam param;    ///< the op's param after quantizeInt8 (entries it added included)
  std::string paramType; ///< setOpQuantParamType ("" when not called)
  bool perchannel = false;
};

/// One op created by a plugin, configured by its param. Not thread-safe: callers serialize the
/// calls of one instance.
class CustomOpInstance {
public:
  ~CustomOpInstance();
  CustomOpInstance(const CustomOpInstance &) = delete;
  CustomOpInstance &operator=(const CustomOpInstance &) = delete;

  using TensorList = std::vector<std::shared_ptr<std::vector<float>>>;
  using ShapeList = std::vector<std::vector<int64_t>>;

  /// The hooks. Each returns false with `error` set when the plugin failed or does not
  /// implement the hook.
  bool interpretFp32(TensorList &operands, ShapeList &operandShapes,
                     std::shared_ptr<std::vector<float>> &result, std::vector<int64_t> &resultShape,
                     std::string &error) noexcept;
  bool interpretInt8(TensorList &operands, ShapeList &operandShapes,
                     std::shared_ptr<std::vector<float>> &result, std::vector<int64_t> &resultShape,
                     std::string &error) noexcept;
  /// quantizeInt8 with the threshold of the op's result and of each operand's producer.
  bool quantizeInt8(float opThreshold, const std::vector<float> &prevThresholds,
                    QuantizeResult &result, std::string &error) noexcept;
  /// codeGenInt8 into `ctx`; also fails when the plugin left an error in the context
  /// (ctx.ok() false). Defined in PluginCodegen.cpp (links the kernel emitter).
  bool codeGenInt8(tpuc::kernel::Context &ctx, ShapeList &operandShapes,
                   std::vector<uint64_t> &operandGaddrs, std::vector<int64_t> &resultShape,
                   uint64_t resultGaddr, int layerId, std::string &error) noexcept;

  /// The op's param as the plugin sees it (quantizeInt8 may have changed it).
  const cvi::OpParam &param() const { return *param_; }
  const std::string &operationName() const { return operationName_; }
  /// "plugin '<path>': custom op '<layer>' (operation_name '<op>')", the prefix of its errors.
  std::string describe() const;

private:
  friend class CustomOpLibrary;
  CustomOpInstance() = default;
  /// Error of the last hook, or "" when it succeeded.
  std::string takeError(const char *hook);

  std::shared_ptr<const CustomOpLibrary> library_;
  std::string operationName_, layerName_;
  std::unique_ptr<cvi::OpParam> param_; // referenced by op_, destroyed after it
  cvi::CustomOp *op_ = nullptr;
};

/// A loaded plugin library. Libraries stay loaded for the life of the process (instances and
/// registered functions may point into them).
class CustomOpLibrary : public std::enable_shared_from_this<CustomOpLibrary> {
public:
  /// Opens the library at `path`; null with `error` set when it cannot be loaded.
  static std::shared_ptr<CustomOpLibrary> open(const std::string &path,
                                               std::string &error) noexcept;

  const std::string &path() const { return path_; }
  /// True when the library exports `CustomOp<operationName>Create`.
  bool provides(const std::string &operationName) const noexcept;
  /// Creates the op `operationName` from a copy of `param`; `layerName` (the op's `name`, may be
  /// empty) only appears in messages. Null with `error` set when the library does not export the
  /// factory, was built for another ABI version, or the constructor failed.
  std::unique_ptr<CustomOpInstance> create(const std::string &operationName,
                                           const std::string &layerName, const cvi::OpParam &param,
                                           std::string &error) const noexcept;

  struct Private;
  CustomOpLibrary(std::string path, void *handle) : path_(std::move(path)), handle_(handle) {}

private:
  std::string path_;
  void *handle_;
};

/// The libraries given to a tool (in order). create() asks each for the operation.
class CustomOpLibraries {
public:
  /// Loads `path` (again loading a path already present does nothing).
  bool add(const std::string &path, std::string &error) noexcept;
  bool empty() const { return libraries_.empty(); }
  const std::vector<std::shared_ptr<CustomOpLibrary>> &libraries() const { return libraries_; }
  /// The op from the first library exporting its factory. When none does, `error` says which
  /// libraries were searched (or that none is loaded, naming `flag`, the tool's option).
  std::unique_ptr<CustomOpInstance>
  create(const std::string &operationName, const std::string &layerName, const cvi::OpParam &param,
         std::string &error, const std::string &flag = "--custom-op-plugin") const noexcept;

private:
  std::vector<std::shared_ptr<CustomOpLibrary>> libraries_;
};

/// Plugin paths given on a tool's command line (tpuc-opt --custom-op-plugin); passes use them
/// when their own option names none.
void addCommandLinePlugin(const std::string &path) noexcept;
std::vector<std::string> commandLinePlugins() noexcept;

} // namespace tpuc::sdk
