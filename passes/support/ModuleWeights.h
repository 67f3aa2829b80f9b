//===- ModuleWeights.h - reading and rewriting a module's weights -*- C++ -*-===//
//
// A module's weights are the arrays of the npz named by its `tpu.weight_file` attribute, read by
// `tpu.load_weight {name}` ops. Rewriting passes never change that file: they write the old
// arrays plus the new ones to another npz and point the module at it.
//
//===----------------------------------------------------------------------===//
#ifndef TPUC_PASSES_SUPPORT_MODULEWEIGHTS_H
#define TPUC_PASSES_SUPPORT_MODULEWEIGHTS_H

#include "dialect/TpuOps.h"
#include "passes/support/WeightFile.h"

#include "mlir/IR/BuiltinOps.h"
#include "llvm/ADT/StringSet.h"

#include <mutex>

namespace tpuc {

/// The module attribute naming the weight npz (absolute, or relative to the current directory).
inline constexpr llvm::StringLiteral kWeightFileAttrName = "tpu.weight_file";

/// The weight file of `module`, or an error when the attribute is missing.
llvm::Expected<std::string> getWeightFile(mlir::ModuleOp module);

/// `<directory of current>/<stem of current>_<tag>.npz`.
std::string deriveWeightFileName(llvm::StringRef current, llvm::StringRef tag);

/// Reads weights of a module and adds new ones. New arrays are staged, then `commit` writes the
/// module's arrays plus the staged ones to a new npz and sets `tpu.weight_file` to it:
///  - to `output` when given (the caller's explicit choice);
///  - else to the current weight file if this process wrote it (a pipeline keeps one output);
///  - else to deriveWeightFileName(current, tag), so the user's own file is never overwritten.
/// An edit holds a process-wide lock for its lifetime, so edits of one module from concurrently
/// processed functions do not interleave. Do not nest edits.
class WeightEdit {
public:
  explicit WeightEdit(mlir::ModuleOp module);

  /// The float values of a `tpu.load_weight` whose type has f32 elements; the array must hold
  /// as many elements as the type.
  llvm::Expected<std::vector<float>> readF32(tpu::LoadWeightOp op);

  /// Stages a float32 array named `baseName`, or `baseName_1`, `baseName_2`, ... when that name
  /// is taken (in the weight file, by a load_weight of the module or by a staged array).
  /// Returns the name used.
  std::string stageF32(llvm::StringRef baseName, llvm::ArrayRef<int64_t> shape,
                       llvm::ArrayRef<float> values);

  /// Stages an array of any NumPy type (`array.name` is made unique as for stageF32).
  std::string stage(weights::NamedArray array);

  /// Writes the new weight file and points the module at it (see the class comment).
  llvm::Error commit(llvm::StringRef tag, llvm::StringRef output = "");

private:
  std::string uniqueName(llvm::StringRef baseName);

  std::unique_lock<std::mutex> lock;
  mlir::ModuleOp module;
  std::string currentFile; ///< empty when the module names no weight file
  std::optional<llvm::StringSet<>> takenNames;
  std::vector<weights::NamedArray> staged;
};

} // namespace tpuc

#endif // TPUC_PASSES_SUPPORT_MODULEWEIGHTS_H
