//===- CustomOpRegistry.h - where tpu.custom_op implementations come from -*- C++ -*-===//
//
// Usable from code compiled without exceptions: it only holds providers (see CustomOp.h) and
// loads plugin libraries, reporting failures as a Status.
//
//===----------------------------------------------------------------------===//
#pragma once

#include "dialect/interpreter/Status.h"

#include <memory>
#include <string>
#include <vector>

namespace tpuc::interpreter {

class CustomOpProvider;

class CustomOpRegistry {
public:
  CustomOpRegistry();
  ~CustomOpRegistry();

  /// Providers are asked in the order they were added.
  void addProvider(std::shared_ptr<CustomOpProvider> provider);

  /// Loads a custom-op plugin library (the vendor's libCustomOpPlugin.so, see cvi/CustomOp.h):
  /// its ops are found by their exported factories `CustomOp<operation_name>Create` and run
  /// through the shared plugin loader (runtime/sdk/PluginHost.h). Errors name the library path.
  Status addPluginLibrary(const std::string &path) noexcept;

  const std::vector<std::shared_ptr<CustomOpProvider>> &providers() const { return providers_; }

private:
  std::vector<std::shared_ptr<CustomOpProvider>> providers_;
};

} // namespace tpuc::interpreter
