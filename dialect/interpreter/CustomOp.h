//===- CustomOp.h - implementations of tpu.custom_op ------------*- C++ -*-===//
//
// tpu.custom_op names the plugin op that implements it (`operation_name`) and carries its
// parameters (`param`). The interpreter asks its CustomOpRegistry for an implementation: each
// CustomOpProvider (a plugin library, Python callables, a test's C++ class) may supply one for a
// name. Implementations have the vendor's signatures (cvi::CustomOp::interpretFp32 and
// interpretInt8): operands, their shapes, the result buffer (allocated to the result's size) and
// its shape. interpretInt8 runs quantized ops (quant.mode = "INT8"): the values are int8 codes
// held in floats.
//
// Implementations report errors by throwing (std::exception); the interpreter turns them into an
// error naming the op.
//
//===----------------------------------------------------------------------===//
#pragma once

#include "cvi/OpParam.h"
#include "dialect/interpreter/CustomOpRegistry.h"

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

namespace tpuc::interpreter {

class CustomOpInterpreter {
public:
  virtual ~CustomOpInterpreter();
  virtual void interpretFp32(std::vector<std::shared_ptr<std::vector<float>>> &operandTensors,
                             std::vector<std::vector<int64_t>> &operandShapes,
                             std::shared_ptr<std::vector<float>> &resultTensor,
                             std::vector<int64_t> &resultShape) = 0;
  /// The INT8 computation; by default an error saying the implementation has none.
  virtual void interpretInt8(std::vector<std::shared_ptr<std::vector<float>>> &operandTensors,
                             std::vector<std::vector<int64_t>> &operandShapes,
                             std::shared_ptr<std::vector<float>> &resultTensor,
                             std::vector<int64_t> &resultShape);
};

class CustomOpProvider {
public:
  virtual ~CustomOpProvider();
  /// Where the implementations come from, for error messages ("plugin libfoo.so").
  virtual std::string describe() const = 0;
  /// An implementation of `operationName` configured by `param` (which outlives it), or null when
  /// this provider has none. Throws when it has one but cannot create it.
  virtual std::unique_ptr<CustomOpInterpreter> create(const std::string &operationName,
                                                      cvi::OpParam &param) = 0;
};

} // namespace tpuc::interpreter
