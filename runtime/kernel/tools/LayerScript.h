//===- LayerScript.h - `layer_<kind>` commands of kernel scripts --*- C++ -*-===//
#pragma once

#include "tpuc/kernel/Context.h"

#include <functional>
#include <map>
#include <string>

namespace tpuc::kernel {

/// Resolves the names of global tensors / matrices declared earlier in the script (throws
/// std::runtime_error for an unknown name).
struct LayerScriptLookup {
  std::function<GlobalTensor(const std::string &)> tensor;
  std::function<GlobalMatrix(const std::string &)> matrix;
};

/// Emits the layer of a `layer_<kind> key=value ...` line (`cmd` is the first word). Consumes the
/// options it understands from `opts`; returns false when `cmd` names no layer kind. Malformed
/// options throw std::runtime_error; errors of the layer are left in the Context.
bool runLayerCommand(Context &ctx, const std::string &cmd, std::map<std::string, std::string> &opts,
                     const LayerScriptLookup &lookup);

} // namespace tpuc::kernel
