//===- WeightFile.h - npz weight files for the passes -----------*- C++ -*-===//
//
// The weights of a module live in the npz file named by its `tpu.weight_file` attribute. Passes
// that read or write weights go through this API. It never throws (the passes are compiled
// without exceptions): failures come back as llvm::Error messages naming the file and the array.
//
// Files are cached per process: a file is parsed once as long as it does not change on disk. A
// file written through this API is remembered as written by this process, so weight-rewriting
// passes can keep updating their own output instead of deriving yet another file name.
// All functions are thread-safe.
//
//===----------------------------------------------------------------------===//
#ifndef TPUC_PASSES_SUPPORT_WEIGHTFILE_H
#define TPUC_PASSES_SUPPORT_WEIGHTFILE_H

#include "llvm/ADT/ArrayRef.h"
#include "llvm/ADT/StringRef.h"
#include "llvm/Support/Error.h"

#include <cstdint>
#include <string>
#include <vector>

namespace tpuc::weights {

/// One array of an npz file: NumPy descriptor ("<f4", "|i1", "<u2", ...), shape and the C-order
/// little-endian element bytes.
struct NamedArray {
  std::string name;
  std::string descr;
  std::vector<int64_t> shape;
  std::vector<uint8_t> data;
};

/// An array read as float32.
struct FloatArray {
  std::vector<int64_t> shape;
  std::vector<float> values;
};

/// A float32 array ("<f4") named `name`.
NamedArray makeFloatArray(std::string name, llvm::ArrayRef<int64_t> shape,
                          llvm::ArrayRef<float> values);

/// Reads array `name` of the npz at `path` as float32; float64 data is converted, any other
/// element type is an error.
llvm::Expected<FloatArray> readFloatArray(llvm::StringRef path, llvm::StringRef name);

/// The names of the arrays of the npz at `path`, in file order.
llvm::Expected<std::vector<std::string>> listArrays(llvm::StringRef path);

/// Writes a new npz at `outputPath` that holds every array of the npz at `inputPath` (none when
/// `inputPath` is empty) followed by `added`; an added array replaces an input array of the same
/// name in place. The file is written under a temporary name and renamed, so a failed write
/// leaves any previous file intact.
llvm::Error writeWithAddedArrays(llvm::StringRef inputPath, llvm::StringRef outputPath,
                                 std::vector<NamedArray> added);

/// True when `path` was last written by this process through this API and has not changed on
/// disk since.
bool isWrittenByThisProcess(llvm::StringRef path);

} // namespace tpuc::weights

#endif // TPUC_PASSES_SUPPORT_WEIGHTFILE_H
