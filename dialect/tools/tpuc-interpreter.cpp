//===- tpuc-interpreter.cpp - run tpu IR (fp32 and INT8) -------------------===//
//
// The fp32 interpreter on the command line (the vendor's mlir-tpu-interpreter):
//
//   tpuc-interpreter net.mlir --tensor-in in.npz --tensor-out out.npz
//       [--dump-all-tensor=all.npz] [--weight-file w.npz] [--custom-op-plugin lib.so]
//
// Inputs are matched to the function's tpu.input names (or by position); out.npz holds the
// function's results under their op names, all.npz every op's result under its `name`. INT8
// modules (--tpu-quant) run bit-exactly with the integer formulas of docs/quantization.md; their
// int8 tensors are written as int8 codes plus a float32 `<name>_scale` (threshold / 127).
//
//===----------------------------------------------------------------------===//

#include "dialect/interpreter/Interpreter.h"

#include "llvm/Support/CommandLine.h"
#include "llvm/Support/InitLLVM.h"
#include "llvm/Support/WithColor.h"

using namespace llvm;
using namespace tpuc::interpreter;

static cl::OptionCategory category("tpuc-interpreter options");
static cl::opt<std::string> inputFile(cl::Positional, cl::desc("<input .mlir>"), cl::Required,
                                      cl::cat(category));
static cl::opt<std::string> tensorIn("tensor-in", cl::desc("npz file of the input tensors"),
                                     cl::value_desc("npz"), cl::Required, cl::cat(category));
static cl::opt<std::string> tensorOut("tensor-out",
                                      cl::desc("npz file receiving the function's results"),
                                      cl::value_desc("npz"), cl::cat(category));
static cl::opt<std::string> dumpAll("dump-all-tensor",
                                    cl::desc("npz file receiving every op's result"),
                                    cl::value_desc("npz"), cl::cat(category));
static cl::opt<std::string>
    weightFile("weight-file",
               cl::desc("npz file of the weights (overrides the module's tpu.weight_file)"),
               cl::value_desc("npz"), cl::cat(category));
static cl::list<std::string> plugins("custom-op-plugin",
                                     cl::desc("custom-op plugin library implementing custom ops"),
                                     cl::value_desc("library"), cl::cat(category));
static cl::opt<std::string> functionName("function",
                                         cl::desc("function to run (default: main or the only "
                                                  "function)"),
                                         cl::value_desc("name"), cl::cat(category));

static int fail(const Status &status) {
  WithColor::error(errs(), "tpuc-interpreter") << status.message() << "\n";
  return 1;
}

int main(int argc, char **argv) {
  InitLLVM init(argc, argv);
  cl::HideUnrelatedOptions(category);
  cl::ParseCommandLineOptions(argc, argv, "tpuc interpreter of tpu IR (fp32 and INT8)\n");

  InterpreterOptions options;
  options.weightFile = weightFile;
  options.functionName = functionName;
  options.customOps = std::make_shared<CustomOpRegistry>();
  for (const std::string &plugin : plugins)
    if (Status status = options.customOps->addPluginLibrary(plugin); status.failed())
      return fail(status);

  std::unique_ptr<Program> program;
  if (Status status = compileFile(inputFile, options, program); status.failed())
    return fail(status);
  TensorList inputs;
  if (Status status = readTensorFile(tensorIn, inputs); status.failed())
    return fail(Status::error("cannot read --tensor-in: " + status.message()));

  TensorList outputs, all;
  if (Status status = program->run(inputs, outputs, dumpAll.empty() ? nullptr : &all);
      status.failed())
    return fail(status);
  if (!tensorOut.empty())
    if (Status status = writeTensorFile(tensorOut, outputs); status.failed())
      return fail(Status::error("cannot write --tensor-out: " + status.message()));
  if (!dumpAll.empty())
    if (Status status = writeTensorFile(dumpAll, all); status.failed())
      return fail(Status::error("cannot write --dump-all-tensor: " + status.message()));
  return 0;
}
