//===- NpzAccess.h - raw arrays of an npz for the backend -------*- C++ -*-===//
#ifndef TPUC_PASSES_CODEGEN_NPZACCESS_H
#define TPUC_PASSES_CODEGEN_NPZACCESS_H

#include "passes/support/WeightFile.h"

#include "llvm/ADT/StringMap.h"
#include "llvm/Support/Error.h"

namespace tpuc::backend {

/// Every array of the npz at `path`, by name (descriptor, shape and raw little-endian bytes).
/// Never throws: errors name the file.
llvm::Expected<llvm::StringMap<weights::NamedArray>> readNpzArrays(llvm::StringRef path);

} // namespace tpuc::backend

#endif // TPUC_PASSES_CODEGEN_NPZACCESS_H
