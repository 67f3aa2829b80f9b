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
// Errors are reported by throwing (std::exception): tpuc's runtime turns them into its own error
// naming the library and the function (the vendor runtime does not catch them: the process ends
// in std::terminate).
//
// Binary interface, shared with the vendor's CV18xx runtime so that one library runs on both:
// ICpuFunction's vtable is {~ICpuFunction (complete, deleting), setup, run}; the exported table
// is an array of {const char *name; ICpuFunction *(*func)()} named customOpRuntimeFuncs with its
// length in the int customOpRuntimeFuncsNum (C linkage); OpParam and Neuron have the vendor's
// layout (see OpParam.h and Neuron.h).
//
//===----------------------------------------------------------------------===//
#pragma once

#include "cvi/OpParam.h"
#include "cvi/runtime/Neuron.h"

#include <cstdio>
#include <memory>
#include <string>
#include <vector>

namespace cvi {
namespace runtime {

class ICpuFunction {
public:
  ICpuFunction() = default;
  virtual ~ICpuFunction() = default;
  virtual void setup(tensor_list_t &inputs, tensor_list_t &outputs, OpParam &param) = 0;
  virtual void run() = 0;

protected:
  /// Prints `count` elements of `data` (10 per line) under a heading, for debugging.
  template <typename T> void dump(const std::string &tag, const T *data, size_t count) {
    std::printf("-------Dump %s, size:%zu\n", tag.c_str(), count);
    for (size_t i = 0; i < count; ++i) {
      if constexpr (sizeof(T) == 4)
        std::printf("%e ", static_cast<double>(data[i]));
      else
        std::printf("%4d ", static_cast<int>(data[i]));
      if (i % 10 == 9 || i + 1 == count)
        std::printf("\n");
    }
  }
};

/// Factory of one exported function: a new instance, owned by the caller (destroyed with delete).
typedef ICpuFunction *(*ICpuFunctionCreate)();

} // namespace runtime
} // namespace cvi

/// One exported function: its name in the model and its factory.
struct CustomOpRuntimeFunc {
  const char *name;
  cvi::runtime::ICpuFunctionCreate func;
};

namespace cvi {
namespace runtime {
using CustomOpRuntimeFunc = ::CustomOpRuntimeFunc;
} // namespace runtime
} // namespace cvi

/// Exports the symbols `customOpRuntimeFuncs` (array of CustomOpRuntimeFunc) and
/// `customOpRuntimeFuncsNum` (int) that a runtime looks up in an embedded library.
#define REGISTER_OP_RUNTIME_FUNCS(...)                                                             \
  extern "C" {                                                                                     \
  __attribute__((visibility("default"))) CustomOpRuntimeFunc customOpRuntimeFuncs[] = {            \
      __VA_ARGS__};                                                                                \
  __attribute__((visibility("default"))) int customOpRuntimeFuncsNum =                             \
      sizeof(customOpRuntimeFuncs) / sizeof(customOpRuntimeFuncs[0]);                              \
  }
