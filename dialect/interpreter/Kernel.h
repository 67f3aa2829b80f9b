//===- Kernel.h - one tpu op's computation ----------------------*- C++ -*-===//
//
// A Kernel holds the attributes of one op and computes its result from its operands. Kernels are
// created by the factories of Kernels.h (from the MLIR-facing code) and only ever called from
// Program, which catches what they throw.
//
//===----------------------------------------------------------------------===//
#pragma once

#include "dialect/interpreter/Tensor.h"

#include <memory>
#include <vector>

namespace tpuc::interpreter {

class Kernel {
public:
  virtual ~Kernel();

  /// Checks the operand shapes and the result shape against the op's attributes, once, when the
  /// program is built. Throws Error naming what does not fit.
  virtual void check(const std::vector<Shape> &operands, const Shape &result) = 0;

  /// Computes the result, of shape `result`, from operands of the shapes given to check(). May be
  /// called from several threads at once: state set by check() is read-only here.
  virtual Tensor run(const std::vector<const Tensor *> &operands, const Shape &result) = 0;

  /// For element-wise clamps (relu, clip): the range [lo, hi] the op clamps its operand to.
  virtual bool clampRange(float &lo, float &hi) const;

  /// A copy of this (checked) kernel whose result is also clamped to [lo, hi], or null when it
  /// cannot apply a clamp itself. Lets a program skip a separate relu / clip pass.
  virtual std::unique_ptr<Kernel> withClamp(float lo, float hi) const;
};

} // namespace tpuc::interpreter
