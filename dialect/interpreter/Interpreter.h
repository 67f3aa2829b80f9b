//===- Interpreter.h - the fp32 interpreter of tpu IR -----------*- C++ -*-===//
//
// Entry points of the fp32 interpreter: parse a module of tpu ops, translate one of its functions
// into a Program (Program.h) and run it on named input tensors. This header does not expose MLIR,
// so the CLI, the Python extension and tests can use it whatever their compile flags.
//
//   std::unique_ptr<Program> program;
//   Status status = compileFile("net.mlir", {}, program);
//   TensorList outputs;
//   if (status.ok()) status = program->run(inputs, outputs, /*allTensors=*/nullptr);
//
//===----------------------------------------------------------------------===//
#pragma once

#include "dialect/interpreter/CustomOpRegistry.h"
#include "dialect/interpreter/Program.h"
#include "dialect/interpreter/Status.h"

#include <memory>
#include <string>

namespace tpuc::interpreter {

struct InterpreterOptions {
  /// The npz file of the weights; overrides the module's `tpu.weight_file` attribute. A relative
  /// path (here or in the attribute) is resolved against the directory of the .mlir file.
  std::string weightFile;
  /// The function to run; by default `main`, or the module's only function.
  std::string functionName;
  /// Implementations of tpu.custom_op; none when null.
  std::shared_ptr<CustomOpRegistry> customOps;
};

/// Parses the .mlir file at `path` and translates its function into `program`.
Status compileFile(const std::string &path, const InterpreterOptions &options,
                   std::unique_ptr<Program> &program) noexcept;

/// Parses MLIR `source` (named `bufferName` in messages) and translates its function into
/// `program`; relative weight-file paths are resolved against `baseDirectory` (the current
/// directory when empty).
Status compileSource(const std::string &source, const std::string &bufferName,
                     const std::string &baseDirectory, const InterpreterOptions &options,
                     std::unique_ptr<Program> &program) noexcept;

} // namespace tpuc::interpreter
