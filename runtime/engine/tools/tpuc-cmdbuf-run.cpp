//===- tpuc-cmdbuf-run.cpp - run one command buffer on a memory image -----===//
//
// tpuc-cmdbuf-run CMDBUF MEM_IN MEM_OUT [--base r0,r1,...,r7] [--profile]
//
// Reads a cmd_hdr stream (CMDBUF) and a global-memory image (MEM_IN), runs the simulated CV183x
// engine with base registers r0..r7 (byte offsets into the image; default 0), and writes the
// resulting image to MEM_OUT. --profile prints the cycle model's totals and per-descriptor slices.
// Exit code 0 on success; on an error the message goes to stderr and the exit code is 1.
//
//===----------------------------------------------------------------------===//
#include "tpuc/runtime/Chip.h"
#include "tpuc/runtime/DeviceMemory.h"
#include "tpuc/runtime/Error.h"
#include "tpuc/runtime/TpuEngine.h"

#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <iostream>
#include <iterator>
#include <sstream>
#include <string>
#include <vector>

using namespace tpuc::runtime;

namespace {

std::vector<uint8_t> readFile(const std::string &path) {
  std::ifstream in(path, std::ios::binary);
  if (!in)
    throw Error("cannot open " + path);
  return std::vector<uint8_t>(std::istreambuf_iterator<char>(in), {});
}

void writeFile(const std::string &path, const std::vector<uint8_t> &data) {
  std::ofstream out(path, std::ios::binary);
  out.write(reinterpret_cast<const char *>(data.data()), static_cast<std::streamsize>(data.size()));
  if (!out)
    throw Error("cannot write " + path);
}

std::vector<uint64_t> parseList(const std::string &s) {
  std::vector<uint64_t> out;
  std::stringstream ss(s);
  std::string item;
  while (std::getline(ss, item, ',')) {
    char *end = nullptr;
    unsigned long long v = std::strtoull(item.c_str(), &end, 0);
    if (item.empty() || *end)
      throw Error("bad base register value '" + item + "'");
    out.push_back(v);
  }
  return out;
}

int usage() {
  std::cerr << "usage: tpuc-cmdbuf-run CMDBUF MEM_IN MEM_OUT [--base r0,...,r7] [--profile]\n";
  return 2;
}

} // namespace

int main(int argc, char **argv) {
  std::vector<std::string> pos;
  std::string base;
  bool profile = false;
  for (int i = 1; i < argc; ++i) {
    std::string a = argv[i];
    if (a == "--base" && i + 1 < argc)
      base = argv[++i];
    else if (a == "--profile")
      profile = true;
    else if (a.rfind("--", 0) == 0)
      return usage();
    else
      pos.push_back(a);
  }
  if (pos.size() != 3)
    return usage();
  try {
    std::vector<uint8_t> cmdbuf = readFile(pos[0]);
    DeviceMemory mem;
    mem.bytes = readFile(pos[1]);
    if (!base.empty()) {
      std::vector<uint64_t> regs = parseList(base);
      if (regs.size() > mem.baseReg.size())
        throw Error("at most 8 base registers");
      for (size_t i = 0; i < regs.size(); ++i)
        mem.baseReg[i] = regs[i];
    }
    TpuEngine engine(ChipInfo::cv183x());
    CmdbufProfile prof;
    engine.run(cmdbuf, mem, profile ? &prof : nullptr);
    writeFile(pos[2], mem.bytes);
    if (profile) {
      std::printf("total_cycles %llu\ntiu_busy_cycles %llu\ntdma_busy_cycles %llu\n",
                  static_cast<unsigned long long>(prof.totalCycles),
                  static_cast<unsigned long long>(prof.tiuBusyCycles),
                  static_cast<unsigned long long>(prof.tdmaBusyCycles));
      for (const DescriptorSlice &s : prof.slices)
        std::printf("slice %s #%u layer %u %s %llu %llu\n",
                    s.engine == DescriptorSlice::Engine::TIU ? "TIU" : "TDMA", s.index, s.layerId,
                    s.op.c_str(), static_cast<unsigned long long>(s.start),
                    static_cast<unsigned long long>(s.end));
    }
  } catch (const std::exception &e) {
    std::cerr << "tpuc-cmdbuf-run: " << e.what() << "\n";
    return 1;
  }
  return 0;
}
