//===- tpuc-plugin-codegen.cpp - run a plugin's codeGenInt8 on its own ----===//
//
// Developer tool: emits the command buffer of one custom op through the plugin's codeGenInt8,
// the way tpuc-translate does, to check a kernel on the simulator (tpuc-cmdbuf-run) or inspect
// it (tpuc-cmdbuf-run --dump) without compiling a model:
//
//   tpuc-plugin-codegen libCustomOpPlugin.so leaky_relu --shape 1,4,8,8
//       --param f32:negative_slope=0.1 --param i8:m_i8_neg=68 --param i8:rshift_neg=9
//       --input-gaddr 0 --output-gaddr 0x1000 [--layer-id 3] -o op.cmdbuf
// (one command line)
//
// Params are `<type>:<name>=<value>` with type i8, i32, f32, bool or str. Every operand has the
// --shape given (repeat --input-gaddr for several operands); the result has --result-shape
// (default: --shape). Exit code 1 with the loader's message on an error.
//
//===----------------------------------------------------------------------===//
#include "runtime/sdk/PluginHost.h"
#include "tpuc/kernel/Context.h"

#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <iostream>
#include <sstream>
#include <string>
#include <vector>

namespace {

[[noreturn]] void die(const std::string &message) {
  std::cerr << "tpuc-plugin-codegen: error: " << message << "\n";
  std::exit(1);
}

std::vector<int64_t> parseShape(const std::string &text) {
  std::vector<int64_t> shape;
  std::stringstream in(text);
  for (std::string item; std::getline(in, item, ',');)
    shape.push_back(std::stoll(item));
  if (shape.empty())
    die("empty shape '" + text + "'");
  return shape;
}

void parseParam(const std::string &spec, cvi::OpParam &param) {
  size_t colon = spec.find(':'), equal = spec.find('=');
  if (colon == std::string::npos || equal == std::string::npos || equal < colon)
    die("--param wants <type>:<name>=<value>, got '" + spec + "'");
  std::string type = spec.substr(0, colon), name = spec.substr(colon + 1, equal - colon - 1);
  std::string value = spec.substr(equal + 1);
  if (type == "i8")
    param.put<int8_t>(name, int8_t(std::stoi(value)));
  else if (type == "i32")
    param.put<int32_t>(name, int32_t(std::stol(value)));
  else if (type == "f32")
    param.put<float>(name, std::stof(value));
  else if (type == "bool")
    param.put<bool>(name, value == "true" || value == "1");
  else if (type == "str")
    param.put<std::string>(name, value);
  else
    die("unknown param type '" + type + "' (i8, i32, f32, bool, str)");
}

} // namespace

int main(int argc, char **argv) {
  if (argc < 3)
    die("usage: tpuc-plugin-codegen <plugin> <operation_name> --shape n,c,h,w [--param t:k=v]... "
        "--input-gaddr A... --output-gaddr B [--result-shape ...] [--layer-id N] -o <cmdbuf>");
  std::string pluginPath = argv[1], operation = argv[2], output;
  cvi::OpParam param;
  std::vector<int64_t> shape, resultShape;
  std::vector<uint64_t> inputs;
  uint64_t result = 0;
  int layerId = 0;
  try {
    for (int i = 3; i < argc; ++i) {
      std::string arg = argv[i];
      auto next = [&]() -> std::string {
        if (i + 1 >= argc)
          die(arg + " needs a value");
        return argv[++i];
      };
      if (arg == "--shape")
        shape = parseShape(next());
      else if (arg == "--result-shape")
        resultShape = parseShape(next());
      else if (arg == "--param")
        parseParam(next(), param);
      else if (arg == "--input-gaddr")
        inputs.push_back(std::stoull(next(), nullptr, 0));
      else if (arg == "--output-gaddr")
        result = std::stoull(next(), nullptr, 0);
      else if (arg == "--layer-id")
        layerId = std::stoi(next());
      else if (arg == "-o")
        output = next();
      else
        die("unknown argument '" + arg + "'");
    }
  } catch (const std::exception &e) {
    die(std::string("bad argument: ") + e.what());
  }
  if (shape.empty() || inputs.empty() || output.empty())
    die("--shape, --input-gaddr and -o are required");
  if (resultShape.empty())
    resultShape = shape;

  tpuc::sdk::CustomOpLibraries libraries;
  std::string error;
  if (!libraries.add(pluginPath, error))
    die(error);
  auto op = libraries.create(operation, "", param, error);
  if (!op)
    die(error);
  tpuc::kernel::Context ctx;
  std::vector<std::vector<int64_t>> shapes(inputs.size(), shape);
  if (!op->codeGenInt8(ctx, shapes, inputs, resultShape, result, layerId, error))
    die(error);
  std::vector<uint8_t> cmdbuf = ctx.cmdbuf();
  std::ofstream out(output, std::ios::binary);
  out.write(reinterpret_cast<const char *>(cmdbuf.data()), std::streamsize(cmdbuf.size()));
  if (!out)
    die("cannot write " + output);
  tpuc::kernel::CmdStats stats = ctx.stats();
  std::printf("%u TIU and %u TDMA commands, %zu bytes\n", stats.tiuCommands, stats.tdmaCommands,
              cmdbuf.size());
  return 0;
}
