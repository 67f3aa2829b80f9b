//===- Program.cpp - a function of tpu ops ready to run --------------------===//

#include "dialect/interpreter/Program.h"
#include "dialect/interpreter/kernels/KernelSupport.h"

#include <algorithm>
#include <map>

namespace tpuc::interpreter {

std::string OpOrigin::describe() const {
  std::string text = operation;
  if (!name.empty())
    text += " '" + name + "'";
  if (!location.empty())
    text += " at " + location;
  return text;
}

struct Program::Value {
  Shape shape;
  bool constant = false;
  Tensor constantTensor;
  int lastUse = -1; // index of the last step reading it
  bool isOutput = false;
};

struct Program::Step {
  OpOrigin origin;
  std::unique_ptr<Kernel> kernel;
  std::vector<int> operands;
  int result = -1;
  bool dumped = false;
};

Program::Program() = default;
Program::~Program() = default;

int Program::addInput(std::string name, Shape shape) noexcept {
  values_.push_back(Value{shape});
  int id = int(values_.size()) - 1;
  inputs_.push_back({std::move(name), std::move(shape)});
  inputValues_.push_back(id);
  return id;
}

void Program::nameInput(int value, const std::string &name) noexcept {
  for (size_t i = 0; i < inputValues_.size(); ++i)
    if (inputValues_[i] == value)
      inputs_[i].name = name;
}

int Program::addConstant(Tensor tensor) noexcept {
  Value value;
  value.shape = tensor.shape;
  value.constant = true;
  value.constantTensor = std::move(tensor);
  values_.push_back(std::move(value));
  return int(values_.size()) - 1;
}

Shape Program::valueShape(int value) const {
  return value >= 0 && size_t(value) < values_.size() ? values_[value].shape : Shape{};
}

Status Program::addOp(const OpOrigin &origin, std::unique_ptr<Kernel> kernel,
                      std::vector<int> operands, Shape resultShape, bool dumped,
                      int &resultId) noexcept {
  try {
    std::vector<Shape> shapes;
    for (int operand : operands) {
      if (operand < 0 || size_t(operand) >= values_.size())
        fail("operand refers to an unknown value");
      shapes.push_back(values_[operand].shape);
    }
    for (int64_t dim : resultShape)
      if (dim < 0)
        fail("result shape ", resultShape, " has a negative dimension");
    kernel->check(shapes, resultShape);
    int stepIndex = int(steps_.size());
    for (int operand : operands)
      values_[operand].lastUse = stepIndex;
    values_.push_back(Value{resultShape});
    resultId = int(values_.size()) - 1;
    steps_.push_back(Step{origin, std::move(kernel), std::move(operands), resultId, dumped});
    return Status::success();
  } catch (const std::exception &error) {
    return Status::error(origin.describe() + ": " + error.what());
  }
}

void Program::addOutput(int value, std::string name) noexcept {
  if (value >= 0 && size_t(value) < values_.size())
    values_[value].isOutput = true;
  outputs_.emplace_back(value, std::move(name));
}

Status Program::bindInputs(const TensorList &given, std::vector<Tensor> &values) const {
  std::map<std::string, const Tensor *> byName;
  for (const NamedTensor &input : given)
    byName.emplace(input.name, &input.tensor);
  bool allNamed = std::all_of(inputs_.begin(), inputs_.end(), [&](const ProgramInput &input) {
    return byName.count(input.name) != 0;
  });
  if (!allNamed && given.size() != inputs_.size()) {
    std::string missing, names;
    for (const ProgramInput &input : inputs_)
      if (!byName.count(input.name))
        missing += (missing.empty() ? "'" : ", '") + input.name + "'";
    for (const NamedTensor &input : given)
      names += (names.empty() ? "'" : ", '") + input.name + "'";
    return Status::error("missing input " + missing + " (the function takes " +
                         std::to_string(inputs_.size()) + " input(s); given " +
                         (names.empty() ? std::string("none") : names) + ")");
  }
  for (size_t i = 0; i < inputs_.size(); ++i) {
    const ProgramInput &input = inputs_[i];
    const Tensor &tensor = allNamed ? *byName[input.name] : given[i].tensor;
    const std::string &givenName = allNamed ? input.name : given[i].name;
    if (tensor.shape != input.shape || tensor.count() != elementCount(input.shape))
      return Status::error("input '" + givenName + "' has shape " + formatShape(tensor.shape) +
                           ", but the function's input '" + input.name + "' is " +
                           formatShape(input.shape));
    values[inputValues_[i]] = tensor;
  }
  return Status::success();
}

Status Program::run(const TensorList &inputs, TensorList &outputs,
                    TensorList *allTensors) noexcept {
  try {
    std::vector<Tensor> values(values_.size());
    for (size_t i = 0; i < values_.size(); ++i)
      if (values_[i].constant)
        values[i] = values_[i].constantTensor;
    Status bound = bindInputs(inputs, values);
    if (bound.failed())
      return bound;
    for (size_t s = 0; s < steps_.size(); ++s) {
      Step &step = steps_[s];
      std::vector<const Tensor *> operands;
      for (int operand : step.operands)
        operands.push_back(&values[operand]);
      const Shape &shape = values_[step.result].shape;
      try {
        Tensor result = step.kernel->run(operands, shape);
        if (result.shape != shape || result.count() != elementCount(shape))
          fail("produced ", result.shape, " instead of ", shape);
        values[step.result] = std::move(result);
      } catch (const std::exception &error) {
        return Status::error(step.origin.describe() + ": " + error.what());
      }
      if (allTensors && step.dumped)
        allTensors->push_back({step.origin.name, values[step.result]});
      for (int operand : step.operands) {
        const Value &value = values_[operand];
        if (value.lastUse == int(s) && !value.isOutput && !value.constant)
          values[operand] = Tensor();
      }
    }
    outputs.clear();
    for (const auto &[value, name] : outputs_)
      outputs.push_back({name, values[value]});
    return Status::success();
  } catch (const std::exception &error) {
    return Status::error(std::string("interpreter failure: ") + error.what());
  }
}

} // namespace tpuc::interpreter
