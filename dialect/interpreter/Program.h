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

#include <map>
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
  /// Marks `value` as int8 codes of step `step` (threshold / 127; ignored unless positive):
  /// dumps and outputs report it with NamedTensor::int8Step.
  void markInt8(int value, double step) noexcept;

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

/// Exact values of integer arrays, by name.
using IntegerArrays = std::map<std::string, std::vector<int64_t>>;

/// Reads every array of an npz file as fp32 (numeric arrays of any element type are converted).
/// With `integers`, the arrays of integer element type are also stored there exactly.
Status readTensorFile(const std::string &path, TensorList &tensors,
                      IntegerArrays *integers = nullptr) noexcept;
/// Writes the tensors to an npz file as float32 arrays; an INT8 tensor (int8Step > 0) is written
/// as an int8 array plus a float32 scalar `<name>_scale` holding its step (threshold / 127);
/// see docs/quantization.md "Tensor dumps".
Status writeTensorFile(const std::string &path, const TensorList &tensors) noexcept;

/// The name of the scale entry of INT8 tensor `name` in dumps: `<name>_scale`, with "_" appended
/// until it is not the name of another tensor in `tensors`.
std::string int8ScaleName(const std::string &name, const TensorList &tensors);

} // namespace tpuc::interpreter
