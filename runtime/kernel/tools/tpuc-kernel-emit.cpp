//===- tpuc-kernel-emit.cpp - emit a command buffer from a kernel script --===//
//
// tpuc-kernel-emit SCRIPT -o CMDBUF [--serial]
//
// Runs SCRIPT ('-' = stdin) line by line against a tpuc::kernel::Context for cv183x and writes the
// command buffer (cvimodel CMDBUF form) to CMDBUF. Prints one JSON object on stdout: command
// counts, waits, sync points, local-memory peak and the address of every named local tensor. Exit
// codes: 0 success; 1 the Context reported an error (message on stderr, "error: ..."); 2 a
// malformed script or bad usage ("SCRIPT:LINE: ..." on stderr).
//
//===----------------------------------------------------------------------===//
#include "KernelScript.h"

#include <fstream>
#include <iostream>
#include <sstream>
#include <string>

using namespace tpuc::kernel;

namespace {

int usage() {
  std::cerr << "usage: tpuc-kernel-emit SCRIPT -o CMDBUF [--serial]\n";
  return 2;
}

void printStats(const Context &ctx, const KernelScript &script) {
  CmdStats s = ctx.stats();
  std::cout << "{\"tiu\": " << s.tiuCommands << ", \"tdma\": " << s.tdmaCommands
            << ", \"tiu_waits\": " << s.tiuWaits << ", \"tdma_waits\": " << s.tdmaWaits
            << ", \"sync_points\": " << s.syncPoints << ", \"lmem_peak\": " << ctx.lmemPeak()
            << ", \"tensors\": {";
  bool first = true;
  for (const auto &[name, addr] : script.localAddresses()) {
    std::cout << (first ? "" : ", ") << "\"" << name << "\": " << addr;
    first = false;
  }
  std::cout << "}}\n";
}

} // namespace

int main(int argc, char **argv) {
  std::string scriptPath, outPath;
  bool serial = false;
  for (int i = 1; i < argc; ++i) {
    std::string a = argv[i];
    if (a == "-o" && i + 1 < argc)
      outPath = argv[++i];
    else if (a == "--serial")
      serial = true;
    else if (scriptPath.empty() && (a == "-" || a.rfind("-", 0) != 0))
      scriptPath = a;
    else
      return usage();
  }
  if (scriptPath.empty() || outPath.empty())
    return usage();

  std::ifstream file;
  std::istream *in = &std::cin;
  if (scriptPath != "-") {
    file.open(scriptPath);
    if (!file) {
      std::cerr << "error: cannot open " << scriptPath << "\n";
      return 2;
    }
    in = &file;
  }

  Context ctx(tpuc::runtime::ChipInfo::cv183x(),
              serial ? SyncMode::Serial : SyncMode::Dependencies);
  KernelScript script(ctx);
  std::string line, why;
  for (unsigned lineNo = 1; std::getline(*in, line); ++lineNo) {
    if (!script.run(line, why)) {
      std::cerr << scriptPath << ":" << lineNo << ": " << why << "\n";
      return 2;
    }
    if (!ctx.ok()) {
      std::cerr << "error: " << ctx.error() << " (" << scriptPath << ":" << lineNo << ")\n";
      return 1;
    }
  }
  std::vector<uint8_t> buf = ctx.cmdbuf();
  std::ofstream out(outPath, std::ios::binary);
  out.write(reinterpret_cast<const char *>(buf.data()), static_cast<std::streamsize>(buf.size()));
  if (!out) {
    std::cerr << "error: cannot write " << outPath << "\n";
    return 2;
  }
  printStats(ctx, script);
  return 0;
}
