//===- Program.cpp - a function of tpu ops ready to run --------------------===//

#include "dialect/interpreter/Program.h"
#include "dialect/interpreter/kernels/KernelSupport.h"

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <map>
#include <mutex>

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
  int lastUse = -1;  // index of the last step reading it
  int uses = 0;      // number of operands referring to it
  int producer = -1; // the step computing it
  bool isOutput = false;
  double int8Step = 0.0; // > 0: int8 codes of this step (threshold / 127)
};

// State shared by the runs of a program. Without the all-tensors dump, a relu / clip whose operand
// has no other use is folded into the op producing that operand (fused[producer]) and the clamp
// step just forwards its operand (forwards[step]).
struct Program::Execution {
  BufferPool pool;
  std::once_flag fusionPlanned;
  std::vector<std::unique_ptr<Kernel>> fused;
  std::vector<bool> forwards;
};

struct Program::Step {
  OpOrigin origin;
  std::unique_ptr<Kernel> kernel;
  std::vector<int> operands;
  int result = -1;
  bool dumped = false;
};

Program::Program() : execution_(std::make_unique<Execution>()) {}
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
    for (int operand : operands) {
      values_[operand].lastUse = stepIndex;
      ++values_[operand].uses;
    }
    values_.push_back(Value{resultShape});
    values_.back().producer = stepIndex;
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

void Program::markInt8(int value, double step) noexcept {
  if (value >= 0 && size_t(value) < values_.size() && step > 0)
    values_[value].int8Step = step;
}

void Program::planFusion() {
  Execution &e = *execution_;
  e.fused.resize(steps_.size());
  e.forwards.assign(steps_.size(), false);
  for (size_t s = 0; s < steps_.size(); ++s) {
    float lo, hi;
    if (steps_[s].operands.size() != 1 || !steps_[s].kernel->clampRange(lo, hi))
      continue;
    const Value &operand = values_[steps_[s].operands[0]];
    if (operand.producer < 0 || operand.uses != 1 || operand.isOutput ||
        e.forwards[operand.producer])
      continue;
    const Kernel &producer =
        e.fused[operand.producer] ? *e.fused[operand.producer] : *steps_[operand.producer].kernel;
    if (std::unique_ptr<Kernel> fused = producer.withClamp(lo, hi)) {
      e.fused[operand.producer] = std::move(fused);
      e.forwards[s] = true;
    }
  }
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
    // TPUC_INTERPRETER_PROFILE=1 prints the time spent per operation type to stderr, =2 also the
    // time of every op.
    static const char *profileSetting = std::getenv("TPUC_INTERPRETER_PROFILE");
    static const bool profile = profileSetting != nullptr;
    static const bool profileEachOp = profile && std::string(profileSetting) == "2";
    std::map<std::string, std::pair<double, int>> profileByOp;
    bool fuse = allTensors == nullptr;
    if (fuse)
      std::call_once(execution_->fusionPlanned, [this] { planFusion(); });
    BufferPoolScope poolScope(&execution_->pool);
    for (size_t s = 0; s < steps_.size(); ++s) {
      Step &step = steps_[s];
      auto start = std::chrono::steady_clock::now();
      std::vector<const Tensor *> operands;
      for (int operand : step.operands)
        operands.push_back(&values[operand]);
      const Shape &shape = values_[step.result].shape;
      if (fuse && execution_->forwards[s]) {
        values[step.result] = values[step.operands[0]];
        values[step.result].shape = shape;
      } else {
        Kernel &kernel = fuse && execution_->fused[s] ? *execution_->fused[s] : *step.kernel;
        try {
          Tensor result = kernel.run(operands, shape);
          if (result.shape != shape || result.count() != elementCount(shape))
            fail("produced ", result.shape, " instead of ", shape);
          values[step.result] = std::move(result);
        } catch (const std::exception &error) {
          return Status::error(step.origin.describe() + ": " + error.what());
        }
      }
      if (profile) {
        std::chrono::duration<double, std::milli> elapsed =
            std::chrono::steady_clock::now() - start;
        auto &entry = profileByOp[step.origin.operation];
        entry.first += elapsed.count();
        entry.second += 1;
        if (profileEachOp)
          std::fprintf(stderr, "%10.3f ms  %s\n", elapsed.count(), step.origin.describe().c_str());
      }
      if (allTensors && step.dumped)
        allTensors->push_back(
            {step.origin.name, values[step.result], values_[step.result].int8Step});
      for (int operand : step.operands) {
        const Value &value = values_[operand];
        if (value.lastUse == int(s) && !value.isOutput && !value.constant)
          execution_->pool.give(std::move(values[operand].data));
      }
    }
    for (const auto &[operation, entry] : profileByOp)
      std::fprintf(stderr, "%-28s %5d ops %10.3f ms\n", operation.c_str(), entry.second,
                   entry.first);
    outputs.clear();
    for (const auto &[value, name] : outputs_)
      outputs.push_back({name, values[value], values_[value].int8Step});
    for (Tensor &tensor : values) // what the caller does not hold is reused by the next run
      execution_->pool.give(std::move(tensor.data));
    return Status::success();
  } catch (const std::exception &error) {
    return Status::error(std::string("interpreter failure: ") + error.what());
  }
}

} // namespace tpuc::interpreter
