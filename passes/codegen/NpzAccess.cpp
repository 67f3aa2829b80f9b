//===- NpzAccess.cpp - raw arrays of an npz (compiled with exceptions) ----===//
#include "passes/codegen/NpzAccess.h"

#include "tpuc/runtime/Npz.h"

#include <exception>

llvm::Expected<llvm::StringMap<tpuc::weights::NamedArray>>
tpuc::backend::readNpzArrays(llvm::StringRef path) {
  llvm::StringMap<weights::NamedArray> out;
  try {
    for (runtime::NpzEntry &entry : runtime::readNpzFile(path.str())) {
      if (entry.array.data.size() != entry.array.count() * entry.array.elementSize())
        return llvm::createStringError("weight file '" + path.str() + "': array '" + entry.name +
                                       "': data size does not match its shape");
      weights::NamedArray array{entry.name, entry.array.descr, entry.array.shape,
                                std::move(entry.array.data)};
      out[entry.name] = std::move(array);
    }
  } catch (const std::exception &error) {
    return llvm::createStringError("weight file '" + path.str() +
                                   "': not a readable npz file: " + error.what());
  }
  return out;
}
