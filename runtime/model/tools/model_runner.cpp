//===- model_runner.cpp - run a cvimodel on the simulated TPU -------------===//
//
// model_runner --input in.npz --model m.cvimodel --output out.npz
//              [--dump-all-tensors] [--out-fixed] [--program N]
//              [--profile profile.json] [--trace trace.json]
//
//===----------------------------------------------------------------------===//

#include "tpuc/runtime/Error.h"
#include "tpuc/runtime/Model.h"
#include "tpuc/runtime/Npz.h"
#include "tpuc/runtime/ProfileReport.h"

#include <algorithm>
#include <cstdio>
#include <cstring>
#include <iostream>
#include <string>

using namespace tpuc::runtime;

namespace {

const char *const kUsage =
    "usage: model_runner --input in.npz --model model.cvimodel --output out.npz\n"
    "                    [--dump-all-tensors] [--out-fixed] [--program N]\n"
    "                    [--profile profile.json] [--trace trace.json]\n"
    "  --dump-all-tensors  write every tensor of the tensor map that is still in memory\n"
    "                      (default: the inputs as fed to the model, then the outputs)\n"
    "  --out-fixed         keep int8/uint8 tensors as integer codes (default: code * qscale)\n"
    "  --profile FILE      cycle-model summary (total, per routine, per layer, per engine)\n"
    "  --trace FILE        Chrome trace / Perfetto JSON, one track per engine\n";

struct Options {
  std::string input, model, output, profile, trace;
  bool dumpAll = false, outFixed = false;
  size_t program = 0;
};

Options parseArgs(int argc, char **argv) {
  Options o;
  for (int i = 1; i < argc; ++i) {
    std::string a = argv[i];
    std::string value;
    size_t eq = a.find('=');
    bool hasInlineValue = a.rfind("--", 0) == 0 && eq != std::string::npos;
    if (hasInlineValue) {
      value = a.substr(eq + 1);
      a = a.substr(0, eq);
    }
    for (char &c : a)
      if (c == '_')
        c = '-';
    auto next = [&]() -> std::string {
      if (hasInlineValue)
        return value;
      if (i + 1 >= argc)
        throw Error("option " + a + " needs a value");
      return argv[++i];
    };
    if (a == "--input")
      o.input = next();
    else if (a == "--model")
      o.model = next();
    else if (a == "--output")
      o.output = next();
    else if (a == "--profile")
      o.profile = next();
    else if (a == "--trace")
      o.trace = next();
    else if (a == "--program")
      o.program = std::stoul(next());
    else if (a == "--dump-all-tensors")
      o.dumpAll = true;
    else if (a == "--out-fixed")
      o.outFixed = true;
    else if (a == "-h" || a == "--help") {
      std::cout << kUsage;
      std::exit(0);
    } else
      throw Error("unknown option '" + std::string(argv[i]) + "'\n" + kUsage);
  }
  if (o.input.empty() || o.model.empty() || o.output.empty())
    throw Error(std::string("--input, --model and --output are required\n") + kUsage);
  return o;
}

int runMain(int argc, char **argv) {
  Options o = parseArgs(argc, argv);
  std::unique_ptr<Model> model = Model::fromFile(o.model, o.program);
  std::vector<NpzEntry> inputs = readNpzFile(o.input);
  std::vector<const TensorDesc *> modelInputs = model->inputs();
  size_t matched = 0;
  for (const TensorDesc *d : modelInputs)
    for (const NpzEntry &e : inputs)
      matched += e.name == d->name;
  for (size_t i = 0; i < modelInputs.size(); ++i) {
    const TensorDesc *d = modelInputs[i];
    const NpzEntry *entry = nullptr;
    for (const NpzEntry &e : inputs)
      if (e.name == d->name)
        entry = &e;
    // Arrays whose names match no input are taken in order when none matches.
    if (!entry && matched == 0 && inputs.size() == modelInputs.size())
      entry = &inputs[i];
    if (!entry)
      throw Error(o.input + " has no array for model input '" + d->name + "'");
    model->setInput(d->name, entry->array);
  }

  bool wantProfile = !o.profile.empty() || !o.trace.empty();
  RunProfile profile;
  model->run(wantProfile ? &profile : nullptr);

  std::vector<NpzEntry> outputs;
  if (o.dumpAll) {
    for (const TensorDesc &d : model->tensors())
      if (!d.overwrote)
        outputs.push_back({d.name, model->readTensor(d.name, !o.outFixed)});
  } else {
    // Like the vendor's model_runner: the inputs as the model holds them, then the outputs.
    for (const auto &list : {model->inputs(), model->outputs()})
      for (const TensorDesc *d : list)
        if (std::none_of(outputs.begin(), outputs.end(),
                         [&](const NpzEntry &e) { return e.name == d->name; }))
          outputs.push_back({d->name, model->readTensor(d->name, !o.outFixed)});
  }
  writeNpzFile(o.output, outputs);
  if (!o.profile.empty()) {
    std::string json = profileJson(profile);
    writeBinaryFile(o.profile,
                    std::span(reinterpret_cast<const uint8_t *>(json.data()), json.size()));
  }
  if (!o.trace.empty()) {
    std::string json = chromeTraceJson(profile);
    writeBinaryFile(o.trace,
                    std::span(reinterpret_cast<const uint8_t *>(json.data()), json.size()));
  }
  return 0;
}

} // namespace

int main(int argc, char **argv) {
  try {
    return runMain(argc, argv);
  } catch (const std::exception &e) {
    std::fprintf(stderr, "model_runner: error: %s\n", e.what());
    return 1;
  }
}
