//===- Kernel.h - one tpu op's computation ----------------------*- C++ -*-===//
//
// A Kernel holds the attributes of one op and computes its result from its operands. Kernels are
// created by the factories of Kernels.h (from the MLIR-facing code) and only ever called from
// Program, which catches what they throw.
//
//===----------------------------------------------------------------------===//
#pragma once

#include "dialect/interpreter/Tensor.h"

#include <vector>

namespace tpuc::interpreter {

class Kernel {
public:
  virtual ~Kernel();

  /// Checks the operand shapes and the result shape against the op's attributes, once, when the
  /// program is built. Throws Error naming what does not fit.
  virtual void check(const std::vector<Shape> &operands, const Shape &result) = 0;

  /// Computes the result, of shape `result`, from operands of the shapes given to check().
  virtual Tensor run(const std::vector<const Tensor *> &operands, const Shape &result) = 0;
};

} // namespace tpuc::interpreter
