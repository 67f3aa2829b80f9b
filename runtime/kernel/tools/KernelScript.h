//===- KernelScript.h - a line-oriented front end to tpuc::kernel::Context --*- C++ -*-===//
//
// Each line of a kernel script is one Context call; names bind the tensors it allocates or
// declares. The grammar is described in docs/kernel-api.md ("Kernel scripts"). Used by
// tpuc-kernel-emit and the tests in test/kernel.
//
//===----------------------------------------------------------------------===//
#pragma once

#include "tpuc/kernel/Context.h"

#include <map>
#include <string>
#include <variant>

namespace tpuc::kernel {

class KernelScript {
public:
  explicit KernelScript(Context &ctx) : ctx(ctx) {}

  /// Executes one line. Returns false with `error` set for a malformed line; errors of the
  /// Context itself are left in the Context (check ctx.ok()).
  bool run(const std::string &line, std::string &error);

  /// Local tensors and matrices by name with their lane-encoded address.
  std::map<std::string, uint32_t> localAddresses() const;

private:
  using Object = std::variant<LocalTensor, LocalMatrix, GlobalTensor, GlobalMatrix>;
  Context &ctx;
  std::map<std::string, Object> objects;

  friend struct ScriptLine;
};

} // namespace tpuc::kernel
