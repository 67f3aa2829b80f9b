//===- CpuFunction.h - built-in runtime CPU functions -----------*- C++ -*-===//
//
// CPU routines of a cvimodel name a function. The built-in ones are implemented here on the
// cvi::runtime::ICpuFunction interface used by custom functions too:
//   quant      element-wise conversion (attributes from/to: FP32, INT8, UINT8, BF16; scale)
//   argmax_v3  index of the maximum along `axis`, from the int8 data and the TPU's per-tile maxima
//   softmax    fp32 softmax along `axis`, computed as the vendor runtime's softmax does
//
//===----------------------------------------------------------------------===//
#pragma once

#include "cvi/runtime/CpuFunction.h"

#include <memory>
#include <string>
#include <vector>

namespace tpuc::runtime {

/// A new instance of the built-in function `name`, or nullptr if there is none.
std::unique_ptr<cvi::runtime::ICpuFunction> createBuiltinCpuFunction(const std::string &name);
std::vector<std::string> builtinCpuFunctionNames();

/// Loaded embedded library (FUNC_X86 / FUNC_AARCH64 section) exporting custom CPU functions.
class CpuFunctionLibrary {
public:
  /// Writes `image` to an in-memory file, dlopens it and reads its function table. Throws Error.
  CpuFunctionLibrary(const std::string &sectionName, const std::vector<uint8_t> &image);
  ~CpuFunctionLibrary();
  CpuFunctionLibrary(const CpuFunctionLibrary &) = delete;
  CpuFunctionLibrary &operator=(const CpuFunctionLibrary &) = delete;

  const std::string &name() const { return sectionName; }
  bool provides(const std::string &function) const;
  std::vector<std::string> functionNames() const;
  /// New instance of `function` (must be provided). Throws Error if the factory fails.
  std::unique_ptr<cvi::runtime::ICpuFunction> create(const std::string &function) const;

private:
  std::string sectionName;
  void *handle = nullptr;
  int fd = -1;
  std::vector<CustomOpRuntimeFunc> funcs;
};

/// ELF e_machine of the host's libraries (0x3E x86-64, 0xB7 aarch64).
uint16_t hostElfMachine();

} // namespace tpuc::runtime
