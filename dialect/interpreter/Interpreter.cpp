//===- Interpreter.cpp - parse tpu IR and translate it into a Program ------===//
//
// MLIR-facing half of the interpreter (compiled without exceptions). It walks the function's ops
// in order: function arguments become program inputs (named by their tpu.input ops),
// tpu.load_weight reads its array from the module's weight file, every other tpu op becomes a
// kernel, and func.return names the outputs.
//
//===----------------------------------------------------------------------===//

#include "dialect/interpreter/Interpreter.h"
#include "dialect/interpreter/OpTranslation.h"

#include "dialect/TpuDialect.h"
#include "dialect/TpuOps.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Dialect/Tensor/IR/Tensor.h"
#include "mlir/IR/BuiltinOps.h"
#include "mlir/IR/Diagnostics.h"
#include "mlir/IR/MLIRContext.h"
#include "mlir/Parser/Parser.h"
#include "llvm/ADT/DenseMap.h"
#include "llvm/ADT/StringMap.h"
#include "llvm/Support/FileSystem.h"
#include "llvm/Support/Path.h"
#include "llvm/Support/raw_ostream.h"

using namespace mlir;

namespace tpuc::interpreter {
namespace {

/// "file.mlir:12:5" for file locations (looking through names, call sites and fusions).
std::string formatLocation(Location loc) {
  if (auto file = dyn_cast<FileLineColLoc>(loc))
    return (file.getFilename().getValue() + ":" + llvm::Twine(file.getLine()) + ":" +
            llvm::Twine(file.getColumn()))
        .str();
  if (auto name = dyn_cast<NameLoc>(loc)) {
    std::string child = formatLocation(name.getChildLoc());
    return child.empty() ? (llvm::Twine("\"") + name.getName().getValue() + "\"").str() : child;
  }
  if (auto call = dyn_cast<CallSiteLoc>(loc))
    return formatLocation(call.getCallee());
  if (auto fused = dyn_cast<FusedLoc>(loc))
    for (Location inner : fused.getLocations()) {
      std::string text = formatLocation(inner);
      if (!text.empty())
        return text;
    }
  return "";
}

OpOrigin originOf(Operation *op) {
  OpOrigin origin;
  origin.operation = op->getName().getStringRef().str();
  if (auto name = op->getAttrOfType<StringAttr>("name"))
    origin.name = name.getValue().str();
  origin.location = formatLocation(op->getLoc());
  return origin;
}

Status opError(Operation *op, const llvm::Twine &message) {
  return Status::error(originOf(op).describe() + ": " + message.str());
}

/// The static shape of a value, or an error naming the op that defines it.
Status staticShape(Value value, Operation *owner, Shape &shape) {
  auto type = dyn_cast<RankedTensorType>(value.getType());
  if (!type || !type.hasStaticShape()) {
    std::string text;
    llvm::raw_string_ostream os(text);
    os << value.getType();
    return opError(owner, "needs a ranked tensor of static shape, got " + text);
  }
  shape.assign(type.getShape().begin(), type.getShape().end());
  return Status::success();
}

class ModuleTranslator {
public:
  ModuleTranslator(const InterpreterOptions &options, std::string baseDirectory)
      : options(options), baseDirectory(std::move(baseDirectory)) {}

  Status translate(ModuleOp module, std::unique_ptr<Program> &result) {
    func::FuncOp function;
    Status found = findFunction(module, function);
    if (found.failed())
      return found;
    weightFileAttribute = module->getAttrOfType<StringAttr>("tpu.weight_file");
    program = std::make_unique<Program>();
    if (!function.getBody().hasOneBlock())
      return Status::error("function '" + function.getName().str() +
                           "' must have a body of one block");
    Block &body = function.getBody().front();
    for (BlockArgument argument : body.getArguments()) {
      Shape shape;
      Status status = staticShape(argument, function, shape);
      if (status.failed())
        return status;
      std::string name = "arg" + std::to_string(argument.getArgNumber());
      for (Operation *user : argument.getUsers())
        if (auto input = dyn_cast<tpu::InputOp>(user)) {
          name = input.getName().str();
          break;
        }
      ids[argument] = program->addInput(name, shape);
      inputNames[argument] = name;
    }
    for (Operation &op : body) {
      Status status = translateOp(&op);
      if (status.failed())
        return status;
    }
    result = std::move(program);
    return Status::success();
  }

private:
  Status findFunction(ModuleOp module, func::FuncOp &function) {
    std::vector<func::FuncOp> candidates;
    for (auto f : module.getOps<func::FuncOp>())
      if (!f.isExternal())
        candidates.push_back(f);
    std::string wanted = options.functionName;
    for (func::FuncOp f : candidates)
      if (f.getName() == (wanted.empty() ? "main" : wanted)) {
        function = f;
        return Status::success();
      }
    if (wanted.empty() && candidates.size() == 1) {
      function = candidates.front();
      return Status::success();
    }
    std::string names;
    for (func::FuncOp f : candidates)
      names += (names.empty() ? "" : ", ") + f.getName().str();
    if (!wanted.empty())
      return Status::error("the module has no function '" + wanted +
                           "' (it has: " + (names.empty() ? "none" : names) + ")");
    if (candidates.empty())
      return Status::error("the module has no function to interpret");
    return Status::error("the module has several functions (" + names + "); name the one to run");
  }

  Status translateOp(Operation *op) {
    if (auto ret = dyn_cast<func::ReturnOp>(op)) {
      for (Value operand : ret.getOperands())
        program->addOutput(ids.lookup(operand), outputName(operand));
      return Status::success();
    }
    if (auto weight = dyn_cast<tpu::LoadWeightOp>(op))
      return loadWeight(weight);
    if (!isa<tpu::TpuDialect>(op->getDialect()))
      return opError(op, "unsupported operation '" + op->getName().getStringRef() +
                             "': the fp32 interpreter runs tpu ops only");
    if (op->getNumResults() != 1)
      return opError(op, "expects one result");
    std::vector<int> operands;
    for (Value operand : op->getOperands()) {
      auto it = ids.find(operand);
      if (it == ids.end())
        return opError(op, "uses a value the interpreter has not computed");
      operands.push_back(it->second);
    }
    Shape shape;
    Status status = staticShape(op->getResult(0), op, shape);
    if (status.failed())
      return status;
    IntegerArrayLookup integerArrays =
        [&](llvm::StringRef name) -> llvm::Expected<const std::vector<int64_t> *> {
      Status loaded = loadWeightFile(op);
      if (loaded.failed())
        return llvm::createStringError(llvm::inconvertibleErrorCode(), loaded.message());
      auto it = integerWeights.find(name.str());
      return it == integerWeights.end() ? nullptr : &it->second;
    };
    auto kernel = interpreter::translateOp(op, options.customOps, integerArrays);
    if (!kernel)
      return opError(op, llvm::toString(kernel.takeError()));
    int result = -1;
    status = program->addOp(originOf(op), std::move(*kernel), std::move(operands), shape,
                            /*dumped=*/true, result);
    if (status.failed())
      return status;
    ids[op->getResult(0)] = result;
    program->markInt8(result, int8Step(op));
    return Status::success();
  }

  std::string outputName(Value value) {
    if (Operation *def = value.getDefiningOp())
      if (auto name = def->getAttrOfType<StringAttr>("name"))
        return name.getValue().str();
    auto it = inputNames.find(value);
    if (it != inputNames.end())
      return it->second;
    return "output" + std::to_string(outputCount++);
  }

  Status loadWeight(tpu::LoadWeightOp op) {
    Status loaded = loadWeightFile(op);
    if (loaded.failed())
      return loaded;
    std::string name = op.getName().str();
    Shape shape;
    Status status = staticShape(op.getOutput(), op, shape);
    if (status.failed())
      return status;
    auto it = weights.find(name);
    if (it == weights.end())
      return opError(op, "weight '" + name + "' is not in the weight file " + weightPath);
    const Tensor &tensor = it->second;
    if (tensor.shape != shape)
      return opError(op, "weight '" + name + "' in " + weightPath + " has shape " +
                             formatShape(tensor.shape) + ", but the op's type is " +
                             formatShape(shape));
    ids[op.getOutput()] = program->addConstant(tensor);
    return Status::success();
  }

  Status loadWeightFile(Operation *op) {
    if (weightsLoaded)
      return Status::success();
    std::string path = options.weightFile;
    if (path.empty()) {
      if (!weightFileAttribute)
        return opError(op, "the module has no 'tpu.weight_file' attribute naming the weight file "
                           "(give one with --weight-file)");
      path = weightFileAttribute.getValue().str();
    }
    if (!llvm::sys::path::is_absolute(path) && !baseDirectory.empty()) {
      llvm::SmallString<256> joined(baseDirectory);
      llvm::sys::path::append(joined, path);
      path = joined.str().str();
    }
    weightPath = path;
    TensorList tensors;
    Status status = readTensorFile(path, tensors, &integerWeights);
    if (status.failed())
      return opError(op, "cannot read the weight file: " + status.message());
    for (NamedTensor &tensor : tensors)
      weights[tensor.name] = std::move(tensor.tensor);
    weightsLoaded = true;
    return Status::success();
  }

  const InterpreterOptions &options;
  std::string baseDirectory;
  StringAttr weightFileAttribute;
  std::unique_ptr<Program> program;
  llvm::DenseMap<Value, int> ids;
  llvm::DenseMap<Value, std::string> inputNames;
  bool weightsLoaded = false;
  std::string weightPath;
  llvm::StringMap<Tensor> weights;
  IntegerArrays integerWeights; // exact values of the integer arrays of the weight file
  int outputCount = 0;
};

void registerDialects(MLIRContext &context) {
  DialectRegistry registry;
  registry.insert<tpu::TpuDialect, func::FuncDialect, arith::ArithDialect, tensor::TensorDialect>();
  context.appendDialectRegistry(registry);
  context.loadAllAvailableDialects();
}

// Collects the parser's and verifier's diagnostics as "location: error: message" lines.
class DiagnosticCollector {
public:
  explicit DiagnosticCollector(MLIRContext &context)
      : handler(&context, [this](Diagnostic &diagnostic) {
          std::string location = formatLocation(diagnostic.getLocation());
          if (!text.empty())
            text += "\n";
          text += (location.empty() ? "" : location + ": ") +
                  (diagnostic.getSeverity() == DiagnosticSeverity::Error ? "error: " : "note: ") +
                  diagnostic.str();
          for (Diagnostic &note : diagnostic.getNotes())
            text +=
                (llvm::Twine("\n") + formatLocation(note.getLocation()) + ": note: " + note.str())
                    .str();
          return success();
        }) {}

  std::string message(const std::string &fallback) const { return text.empty() ? fallback : text; }

private:
  std::string text;
  ScopedDiagnosticHandler handler;
};

Status translateModule(OwningOpRef<ModuleOp> &module, const DiagnosticCollector &diagnostics,
                       const std::string &what, const InterpreterOptions &options,
                       const std::string &baseDirectory, std::unique_ptr<Program> &program) {
  if (!module)
    return Status::error(diagnostics.message("cannot parse " + what));
  ModuleTranslator translator(options, baseDirectory);
  return translator.translate(*module, program);
}

} // namespace

Status compileFile(const std::string &path, const InterpreterOptions &options,
                   std::unique_ptr<Program> &program) noexcept {
  MLIRContext context;
  registerDialects(context);
  DiagnosticCollector diagnostics(context);
  if (!llvm::sys::fs::exists(path))
    return Status::error("cannot open '" + path + "': no such file");
  OwningOpRef<ModuleOp> module = parseSourceFile<ModuleOp>(path, &context);
  llvm::SmallString<256> directory(path);
  llvm::sys::path::remove_filename(directory);
  return translateModule(module, diagnostics, "'" + path + "'", options, directory.str().str(),
                         program);
}

Status compileSource(const std::string &source, const std::string &bufferName,
                     const std::string &baseDirectory, const InterpreterOptions &options,
                     std::unique_ptr<Program> &program) noexcept {
  MLIRContext context;
  registerDialects(context);
  DiagnosticCollector diagnostics(context);
  ParserConfig config(&context);
  OwningOpRef<ModuleOp> module = parseSourceString<ModuleOp>(source, config, bufferName);
  return translateModule(module, diagnostics, "the MLIR source", options, baseDirectory, program);
}

} // namespace tpuc::interpreter
