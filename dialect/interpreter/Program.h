//===- Program.h - a function of tpu ops ready to run -----------*- C++ -*-===//
//
// The interpreter translates a func.func of tpu ops once into a Program: a list of kernels over
// numbered values (function arguments, weights and op results), each kernel checked against its
// operand and result shapes when it is added. A Program no longer needs MLIR and can run many
// times. Every entry point is noexcept and reports failures as a Status whose message names the op
// (operation, `name`, location).
//
//===----------------------------------------------------------------------===//
#pragma once

#include "dialect/interpreter/Kernel.h"
#include "dialect/interpreter/Status.h"
#include "dialect/interpreter/Tensor.h"

#include <memory>
#include <string>
#include <vector>

namespace tpuc::interpreter {

/// Where an op comes from, for error messages: "tpu.conv_2d 'conv1' at net.mlir:12:5".
struct OpOrigin {
  std::string operation; ///< e.g. "tpu.conv_2d"
  std::string name;      ///< the op's `name` attribute (may be empty)
  std::string location;  ///< e.g. "net.mlir:12:5" (may be empty)

  std::string describe() const;
};

struct ProgramInput {
  std::string name;
  Shape shape;
};

class Program {
public:
  Program();
  ~Program();
  Program(const Program &) = delete;
  Program &operator=(const Program &) = delete;

  /// Declares the next function argument; returns its value id.
  int addInput(std::string name, Shape shape) noexcept;
  /// Names the tensor an input op makes of argument `value` (the name inputs are matched by).
  void nameInput(int value, const std::string &name) noexcept;
  /// A constant (a weight); returns its value id.
  int addConstant(Tensor tensor) noexcept;
  /// Adds an op computing a new value of `resultShape` from `operands` with `kernel`, after
  /// checking the shapes. With `dumped` its result is part of the all-tensors dump under
  /// origin.name.
  Status addOp(const OpOrigin &origin, std::unique_ptr<Kernel> kernel, std::vector<int> operands,
               Shape resultShape, bool dumped, int &resultId) noexcept;
  /// Marks `value` as a result of the function, reported under `name`.
  void addOutput(int value, std::string name) noexcept;

  const std::vector<ProgramInput> &inputs() const { return inputs_; }
  Shape valueShape(int value) const;

  /// Runs the program; several threads may run the same program at once. Inputs are matched to the
  /// function's arguments by name, or else by position when their number matches; their shapes must
  /// be the arguments' shapes. With `allTensors`, every dumped op's result is appended there too.
  Status run(const TensorList &inputs, TensorList &outputs, TensorList *allTensors) noexcept;

private:
  struct Value;
  struct Step;
  struct Execution;
  Status bindInputs(const TensorList &inputs, std::vector<Tensor> &values) const;
  void planFusion();

  std::vector<Value> values_;
  std::vector<Step> steps_;
  std::vector<ProgramInput> inputs_;
  std::vector<int> inputValues_;
  std::vector<std::pair<int, std::string>> outputs_;
  std::unique_ptr<Execution> execution_; // buffer pool and fused kernels, shared by runs
};

/// Reads every array of an npz file as fp32 (numeric arrays of any element type are converted).
Status readTensorFile(const std::string &path, TensorList &tensors) noexcept;
/// Writes the tensors to an npz file as float32 arrays.
Status writeTensorFile(const std::string &path, const TensorList &tensors) noexcept;

} // namespace tpuc::interpreter
