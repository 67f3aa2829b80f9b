//===- CustomOpKernel.cpp - tpu.custom_op through the registry -------------===//
//
// fp32 ops call the implementation's interpretFp32; quantized ones (CustomOpParams::int8) its
// interpretInt8 on the int8 codes.
//
//===----------------------------------------------------------------------===//

#include "dialect/interpreter/CustomOp.h"
#include "dialect/interpreter/Kernels.h"
#include "dialect/interpreter/kernels/KernelSupport.h"

#include <limits>
#include <mutex>

namespace tpuc::interpreter {

CustomOpInterpreter::~CustomOpInterpreter() = default;

void CustomOpInterpreter::interpretInt8(std::vector<std::shared_ptr<std::vector<float>>> &,
                                        std::vector<std::vector<int64_t>> &,
                                        std::shared_ptr<std::vector<float>> &,
                                        std::vector<int64_t> &) {
  fail("this implementation has no INT8 computation (interpretInt8)");
}

CustomOpProvider::~CustomOpProvider() = default;

CustomOpRegistry::CustomOpRegistry() = default;
CustomOpRegistry::~CustomOpRegistry() = default;

void CustomOpRegistry::addProvider(std::shared_ptr<CustomOpProvider> provider) {
  providers_.push_back(std::move(provider));
}

namespace {

int32_t toInt32(int64_t value, const std::string &name) {
  if (value < std::numeric_limits<int32_t>::min() || value > std::numeric_limits<int32_t>::max())
    fail("param '", name, "': ", value, " does not fit the 32-bit integers of cvi::OpParam");
  return int32_t(value);
}

// MLIR attribute kinds map to cvi::OpParam as the vendor guide states: bool -> bool, integer ->
// int8_t (8-bit) or int32_t, float -> float, string -> std::string, arrays -> vectors.
cvi::OpParam toOpParam(const CustomOpParams &params) {
  cvi::OpParam param;
  for (const auto &[name, value] : params.params) {
    using Kind = CustomParamValue::Kind;
    switch (value.kind) {
    case Kind::Int:
      if (value.intWidth == 8) {
        std::vector<int8_t> values;
        for (int64_t v : value.ints)
          values.push_back(int8_t(v));
        if (value.isArray)
          param.put<std::vector<int8_t>>(name, values);
        else
          param.put<int8_t>(name, values.at(0));
      } else {
        std::vector<int32_t> values;
        for (int64_t v : value.ints)
          values.push_back(toInt32(v, name));
        if (value.isArray)
          param.put<std::vector<int32_t>>(name, values);
        else
          param.put<int32_t>(name, values.at(0));
      }
      break;
    case Kind::Float: {
      std::vector<float> values(value.floats.begin(), value.floats.end());
      if (value.isArray)
        param.put<std::vector<float>>(name, values);
      else
        param.put<float>(name, values.at(0));
      break;
    }
    case Kind::Bool:
      if (value.isArray)
        param.put<std::vector<bool>>(name, value.bools);
      else
        param.put<bool>(name, value.bools.at(0));
      break;
    case Kind::String:
      if (value.isArray)
        param.put<std::vector<std::string>>(name, value.strings);
      else
        param.put<std::string>(name, value.strings.at(0));
      break;
    }
  }
  return param;
}

class CustomOpKernel : public Kernel {
public:
  CustomOpKernel(CustomOpParams params, std::shared_ptr<CustomOpRegistry> registry)
      : params(std::move(params)), registry(std::move(registry)) {}

  void check(const std::vector<Shape> &operands, const Shape &) override {
    operandShapes = operands;
    param = toOpParam(params);
    std::string searched;
    if (registry) {
      for (const auto &provider : registry->providers()) {
        implementation = provider->create(params.operationName, param);
        if (implementation)
          return;
        searched += (searched.empty() ? "" : ", ") + provider->describe();
      }
    }
    if (searched.empty())
      fail("no custom-op plugin is loaded to implement operation '", params.operationName,
           "' (load one with --custom-op-plugin)");
    fail("no custom-op plugin implements operation '", params.operationName,
         "' (searched: ", searched, ")");
  }

  Tensor run(const std::vector<const Tensor *> &operands, const Shape &result) override {
    std::vector<std::shared_ptr<std::vector<float>>> tensors;
    for (const Tensor *operand : operands) // copies: implementations may write their operands
      tensors.push_back(std::make_shared<std::vector<float>>(*operand->data));
    std::vector<std::vector<int64_t>> shapes = operandShapes;
    auto output = std::make_shared<std::vector<float>>(size_t(elementCount(result)), 0.0f);
    std::vector<int64_t> outputShape = result;
    {
      std::lock_guard<std::mutex> lock(mutex); // implementations need not be reentrant
      if (params.int8)
        implementation->interpretInt8(tensors, shapes, output, outputShape);
      else
        implementation->interpretFp32(tensors, shapes, output, outputShape);
    }
    if (!output || int64_t(output->size()) != elementCount(result))
      fail("operation '", params.operationName, "' produced ", output ? output->size() : 0,
           " values, the result ", result, " has ", elementCount(result));
    if (params.int8)
      for (size_t i = 0; i < output->size(); ++i) {
        float v = (*output)[i];
        if (!(v >= -128.0f && v <= 127.0f) || v != float(int(v)))
          fail("operation '", params.operationName, "': interpretInt8 produced ", v, " at index ",
               i, ", which is not an int8 value");
      }
    Tensor out;
    out.shape = result;
    out.data = std::move(output);
    return out;
  }

private:
  CustomOpParams params;
  std::shared_ptr<CustomOpRegistry> registry;
  std::vector<Shape> operandShapes;
  cvi::OpParam param; // outlives `implementation`, which may keep a reference to it
  std::unique_ptr<CustomOpInterpreter> implementation;
  std::mutex mutex;
};

} // namespace

std::unique_ptr<Kernel> makeCustomOp(CustomOpParams params,
                                     std::shared_ptr<CustomOpRegistry> registry) {
  return std::make_unique<CustomOpKernel>(std::move(params), std::move(registry));
}

} // namespace tpuc::interpreter
