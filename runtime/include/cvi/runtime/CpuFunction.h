//===- CpuFunction.h - runtime interface of a custom CPU operator -*- C++ -*-===//
//
// A custom CPU operator derives from cvi::runtime::ICpuFunction and is exported from a shared
// library with REGISTER_OP_RUNTIME_FUNCS:
//
//   class MySoftmax : public cvi::runtime::ICpuFunction {
//   public:
//     static ICpuFunction *open() { return new MySoftmax(); }
//     void setup(tensor_list_t &inputs, tensor_list_t &outputs, cvi::OpParam &param) override;
//     void run() override;
//   };
//   REGISTER_OP_RUNTIME_FUNCS({"mysoftmax", MySoftmax::open});
//
// The library is embedded into the cvimodel (FUNC_X86 / FUNC_AARCH64 section); the runtime loads
// it, calls setup() once when the model is loaded and run() every time the routine executes.
// Errors are reported by throwing (std::exception); the runtime turns them into its own error
// naming the library and the function.
//
//===----------------------------------------------------------------------===//
#pragma once

#include "cvi/OpParam.h"
#include "cvi/runtime/Neuron.h"

#include <memory>
#include <vector>

namespace cvi::runtime {

using tensor_list_t = std::vector<std::shared_ptr<Neuron>>;

class ICpuFunction {
public:
  virtual ~ICpuFunction() = default;
  virtual void setup(tensor_list_t &inputs, tensor_list_t &outputs, OpParam &param) = 0;
  virtual void run() = 0;
};

/// One exported function: its name in the model and a factory returning a new instance (owned by
/// the caller, destroyed with delete).
struct CustomOpRuntimeFunc {
  const char *name;
  ICpuFunction *(*create)();
};

} // namespace cvi::runtime

/// Exports the symbols `customOpRuntimeFuncs` (array of cvi::runtime::CustomOpRuntimeFunc) and
/// `customOpRuntimeFuncsNum` (int) that the runtime looks up in an embedded library.
#define REGISTER_OP_RUNTIME_FUNCS(...)                                                             \
  extern "C" {                                                                                     \
  __attribute__((visibility("default")))                                                           \
  cvi::runtime::CustomOpRuntimeFunc customOpRuntimeFuncs[] = {__VA_ARGS__};                        \
  __attribute__((visibility("default"))) int customOpRuntimeFuncsNum =                             \
      sizeof(customOpRuntimeFuncs) / sizeof(customOpRuntimeFuncs[0]);                              \
  }
