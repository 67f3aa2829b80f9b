//===- CvimodelWriterBridge.h - non-throwing calls into the runtime -*- C++ -*-===//
//
// The runtime's cvimodel writer and CPU-parameter encoder report errors with exceptions; the
// MLIR side is built without them. These wrappers (compiled with exceptions) catch and return
// the message instead.
//
//===----------------------------------------------------------------------===//
#ifndef TPUC_PASSES_CODEGEN_CVIMODELWRITERBRIDGE_H
#define TPUC_PASSES_CODEGEN_CVIMODELWRITERBRIDGE_H

#include "tpuc/runtime/Cvimodel.h"

#include <cstdint>
#include <string>
#include <vector>

namespace tpuc::backend {

/// One named CPU-function parameter (cvi.cpu_op.Parameter attribute).
struct CpuParam {
  enum class Kind { Int, Float, Bool, String, IntArray, FloatArray } kind = Kind::Int;
  std::string key;
  int32_t i = 0;
  float f = 0;
  bool b = false;
  std::string s;
  std::vector<int32_t> ints;
  std::vector<float> floats;
};

/// Encodes parameters as a cvi.cpu_op.Parameter FlatBuffer. False (with `error`) on failure.
bool encodeCpuParams(const std::vector<CpuParam> &params, std::vector<uint8_t> &out,
                     std::string &error);
/// Serialises a cvimodel. False (with `error`) on failure.
bool serializeCvimodel(const runtime::CvimodelInfo &model, std::vector<uint8_t> &out,
                       std::string &error);

} // namespace tpuc::backend

#endif // TPUC_PASSES_CODEGEN_CVIMODELWRITERBRIDGE_H
