//===- InterpreterExtension.cpp - tpuc.interpreter native module ----------===//
//
// Python access to the fp32 interpreter: compile a module (text or file) into a Program and run
// it on numpy arrays. Custom ops can be implemented by Python callables
// fn(inputs: list[np.ndarray], params: dict, output_shape: tuple) -> np.ndarray.
//
//===----------------------------------------------------------------------===//

#include "dialect/interpreter/CustomOp.h"
#include "dialect/interpreter/Interpreter.h"

#include <nanobind/nanobind.h>
#include <nanobind/ndarray.h>
#include <nanobind/stl/string.h>
#include <nanobind/stl/tuple.h>
#include <nanobind/stl/vector.h>

#include <stdexcept>

namespace nb = nanobind;
using namespace nb::literals;
using namespace tpuc::interpreter;

namespace {

using FloatArray = nb::ndarray<nb::numpy, float>;

// A numpy array over the tensor's buffer; the buffer is copied when something else (a weight of
// the program, another returned array) shares it, so arrays never alias each other or the program.
FloatArray toNumpy(const Tensor &tensor) {
  auto owner = new std::shared_ptr<std::vector<float>>(
      tensor.data.use_count() > 1 ? std::make_shared<std::vector<float>>(*tensor.data)
                                  : tensor.data);
  nb::capsule deleter(owner, [](void *p) noexcept {
    delete static_cast<std::shared_ptr<std::vector<float>> *>(p);
  });
  std::vector<size_t> shape(tensor.shape.begin(), tensor.shape.end());
  return FloatArray((*owner)->data(), shape.size(), shape.data(), deleter);
}

// INT8 tensors (int8Step > 0) become int8 arrays plus a float32 `<name>_scale` (their step).
nb::dict toDict(const TensorList &tensors) {
  nb::dict result;
  nb::object numpy;
  for (const NamedTensor &named : tensors) {
    nb::object array = nb::cast(toNumpy(named.tensor));
    if (named.int8Step > 0) {
      if (!numpy.is_valid())
        numpy = nb::module_::import_("numpy");
      array = array.attr("astype")(numpy.attr("int8"));
      result[nb::str(int8ScaleName(named.name, tensors).c_str())] =
          numpy.attr("float32")(named.int8Step);
    }
    result[nb::str(named.name.c_str())] = array;
  }
  return result;
}

nb::object paramToPython(const cvi::OpParam::Value &value) {
  return std::visit(
      [](const auto &v) -> nb::object {
        using T = std::decay_t<decltype(v)>;
        if constexpr (std::is_same_v<T, int8_t>)
          return nb::int_(int(v));
        else if constexpr (std::is_same_v<T, std::vector<int8_t>>) {
          nb::list list;
          for (int8_t x : v)
            list.append(nb::int_(int(x)));
          return list;
        } else if constexpr (std::is_same_v<T, std::vector<bool>>) {
          nb::list list;
          for (bool x : v)
            list.append(nb::bool_(x));
          return list;
        } else {
          return nb::cast(v);
        }
      },
      value);
}

class PythonCustomOp : public CustomOpInterpreter {
public:
  PythonCustomOp(nb::object function, nb::dict params)
      : function(std::move(function)), params(std::move(params)) {}
  ~PythonCustomOp() override {
    nb::gil_scoped_acquire gil;
    function.reset();
    params.reset();
  }

  void interpretFp32(std::vector<std::shared_ptr<std::vector<float>>> &operands,
                     std::vector<std::vector<int64_t>> &shapes,
                     std::shared_ptr<std::vector<float>> &result,
                     std::vector<int64_t> &resultShape) override {
    nb::gil_scoped_acquire gil;
    try {
      nb::list inputs;
      for (size_t i = 0; i < operands.size(); ++i) {
        Tensor tensor{shapes[i], operands[i]};
        inputs.append(toNumpy(tensor));
      }
      nb::list dims;
      for (int64_t dim : resultShape)
        dims.append(nb::int_(dim));
      nb::tuple shape = nb::tuple(dims);
      nb::object output = function(inputs, params, shape);
      nb::object numpy = nb::module_::import_("numpy");
      nb::object array = numpy.attr("ascontiguousarray")(output, "dtype"_a = numpy.attr("float32"));
      auto values = nb::cast<nb::ndarray<float, nb::c_contig, nb::device::cpu>>(array);
      if (values.size() != result->size())
        throw std::runtime_error("the Python implementation returned " +
                                 std::to_string(values.size()) + " values for a result of " +
                                 std::to_string(result->size()));
      std::copy(values.data(), values.data() + values.size(), result->begin());
    } catch (nb::python_error &error) {
      // Keep Python objects on this thread, under the GIL: pass "Type: message" on.
      std::string type = nb::cast<std::string>(error.type().attr("__name__"));
      std::string message = nb::cast<std::string>(nb::str(error.value()));
      throw std::runtime_error("Python implementation failed: " + type + ": " + message);
    } catch (nb::cast_error &) {
      throw std::runtime_error("the Python implementation did not return a numeric array");
    }
  }

private:
  nb::object function;
  nb::dict params;
};

class PythonCustomOps : public CustomOpProvider {
public:
  explicit PythonCustomOps(nb::dict functions) : functions(std::move(functions)) {}
  ~PythonCustomOps() override {
    nb::gil_scoped_acquire gil;
    functions.reset();
  }

  std::string describe() const override { return "Python custom_ops"; }

  std::unique_ptr<CustomOpInterpreter> create(const std::string &name,
                                              cvi::OpParam &param) override {
    nb::gil_scoped_acquire gil;
    nb::str key(name.c_str());
    if (!functions.contains(key))
      return nullptr;
    nb::dict params;
    for (const auto &[paramName, value] : param.all())
      params[nb::str(paramName.c_str())] = paramToPython(value);
    return std::make_unique<PythonCustomOp>(nb::borrow(functions[key]), params);
  }

private:
  nb::dict functions;
};

struct PyProgram {
  std::unique_ptr<Program> program;
  std::shared_ptr<CustomOpRegistry> registry;
};

void check(const Status &status) {
  if (status.failed())
    throw std::runtime_error(status.message());
}

PyProgram compile(const std::string &source, bool isPath, const std::string &baseDirectory,
                  const std::string &weightFile, const std::string &functionName,
                  nb::dict customOps, const std::vector<std::string> &plugins) {
  InterpreterOptions options;
  options.weightFile = weightFile;
  options.functionName = functionName;
  options.customOps = std::make_shared<CustomOpRegistry>();
  if (customOps.size())
    options.customOps->addProvider(std::make_shared<PythonCustomOps>(customOps));
  for (const std::string &plugin : plugins)
    check(options.customOps->addPluginLibrary(plugin));
  PyProgram result;
  result.registry = options.customOps;
  Status status = Status::success();
  {
    nb::gil_scoped_release release;
    status = isPath ? compileFile(source, options, result.program)
                    : compileSource(source, "<mlir>", baseDirectory, options, result.program);
  }
  check(status);
  return result;
}

nb::object run(PyProgram &self, nb::dict inputs, bool dumpAll) {
  TensorList given;
  for (auto [key, value] : inputs) {
    auto array = nb::cast<nb::ndarray<float, nb::c_contig, nb::device::cpu>>(value);
    Tensor tensor;
    for (size_t i = 0; i < array.ndim(); ++i)
      tensor.shape.push_back(int64_t(array.shape(i)));
    tensor.data = std::make_shared<std::vector<float>>(array.data(), array.data() + array.size());
    given.push_back({nb::cast<std::string>(nb::str(key)), std::move(tensor)});
  }
  TensorList outputs, all;
  Status status = Status::success();
  {
    nb::gil_scoped_release release;
    status = self.program->run(given, outputs, dumpAll ? &all : nullptr);
  }
  check(status);
  nb::dict result = toDict(outputs);
  if (!dumpAll)
    return result;
  return nb::make_tuple(result, toDict(all));
}

} // namespace

NB_MODULE(_interpreter, m) {
  m.doc() = "fp32 interpreter of tpu IR";
  nb::class_<PyProgram>(m, "Program")
      .def("run", &run, nb::arg("inputs"), nb::arg("dump_all") = false,
           "Runs the program on a dict of float32 C-contiguous arrays; returns the outputs, or "
           "(outputs, all tensors) with dump_all.")
      .def_prop_ro(
          "inputs",
          [](const PyProgram &self) {
            std::vector<std::tuple<std::string, std::vector<int64_t>>> inputs;
            for (const ProgramInput &input : self.program->inputs())
              inputs.emplace_back(input.name, input.shape);
            return inputs;
          },
          "(name, shape) of each function argument");
  m.def("compile", &compile, nb::arg("source"), nb::arg("is_path"), nb::arg("base_directory"),
        nb::arg("weight_file"), nb::arg("function"), nb::arg("custom_ops"), nb::arg("plugins"),
        "Parses MLIR (text, or a file when is_path) and translates its function into a Program.");
}
