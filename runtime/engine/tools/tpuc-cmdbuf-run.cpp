//===- tpuc-cmdbuf-run.cpp - run one command buffer on a memory image -----===//
//
// tpuc-cmdbuf-run CMDBUF MEM_IN MEM_OUT [--base r0,r1,...,r7] [--profile]
//   Reads a cmd_hdr stream (CMDBUF) and a global-memory image (MEM_IN), runs the simulated CV183x
//   engine with base registers r0..r7 (byte offsets into the image; default 0), and writes the
//   resulting image to MEM_OUT. --profile prints the cycle model's totals and per-descriptor
//   slices.
// tpuc-cmdbuf-run --dump CMDBUF
//   Prints every record of a cmd_hdr stream with all descriptor fields (name=value).
// tpuc-cmdbuf-run --encode tiu|tdma [field=value ...]
//   Prints the descriptor words (hex) of a descriptor built from the reset values and the given
//   fields (through the same field table the engine decodes with).
// Exit code 0 on success; on an error the message goes to stderr and the exit code is 1.
//
//===----------------------------------------------------------------------===//
#include "tpuc/runtime/Chip.h"
#include "tpuc/runtime/Descriptors.h"
#include "tpuc/runtime/DeviceMemory.h"
#include "tpuc/runtime/Error.h"
#include "tpuc/runtime/TpuEngine.h"

#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <iostream>
#include <span>
#include <sstream>
#include <string>
#include <vector>

using namespace tpuc::runtime;

namespace {

std::vector<uint8_t> readFile(const std::string &path) {
  std::ifstream in(path, std::ios::binary | std::ios::ate);
  if (!in)
    throw Error("cannot open " + path);
  std::vector<uint8_t> data(static_cast<size_t>(in.tellg()));
  in.seekg(0);
  in.read(reinterpret_cast<char *>(data.data()), static_cast<std::streamsize>(data.size()));
  if (!in)
    throw Error("cannot read " + path);
  return data;
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
  std::cerr << "usage: tpuc-cmdbuf-run CMDBUF MEM_IN MEM_OUT [--base r0,...,r7] [--profile]\n"
               "       tpuc-cmdbuf-run --dump CMDBUF\n"
               "       tpuc-cmdbuf-run --encode tiu|tdma [field=value ...]\n";
  return 2;
}

template <typename Desc, typename FieldEnum> int encode(int argc, char **argv, int first) {
  Desc d = Desc::withResetValues();
  for (int i = first; i < argc; ++i) {
    std::string a = argv[i];
    size_t eq = a.find('=');
    if (eq == std::string::npos)
      throw Error("expected field=value, got '" + a + "'");
    FieldEnum f;
    if (!Desc::lookup(a.substr(0, eq), f))
      throw Error("unknown descriptor field '" + a.substr(0, eq) + "'");
    std::string value = a.substr(eq + 1);
    char *end = nullptr;
    unsigned long long v = std::strtoull(value.c_str(), &end, 0);
    if (value.empty() || *end)
      throw Error("bad value '" + value + "' for field " + a.substr(0, eq));
    d.set(f, v);
  }
  for (size_t i = 0; i < Desc::kWords; ++i)
    std::printf("%s0x%08x", i ? " " : "", d.words[i]);
  std::printf("\n");
  return 0;
}

int dump(const std::string &path) {
  std::vector<uint8_t> buf = readFile(path);
  size_t off = 0, index = 0;
  while (off + 8 <= buf.size()) {
    unsigned engine = buf[off + 2] & 0xF;
    size_t len = buf[off + 1];
    if (off + 8 + len > buf.size())
      throw Error("truncated record at offset " + std::to_string(off));
    std::span<const uint8_t> body(buf.data() + off + 8, len);
    std::printf("#%zu @%zu ", index, off);
    if (engine == 0 && len == kTiuBytes) {
      auto v = TiuDesc::fromBytes(body).decode();
      std::printf("TIU");
      for (size_t i = 0; i < kNumTiuFields; ++i)
        std::printf(" %s=%llu", std::string(kTiuFieldTable[i].name).c_str(),
                    static_cast<unsigned long long>(v.v[i]));
    } else if (engine == 2 && len == kTdmaBytes) {
      auto v = TdmaDesc::fromBytes(body).decode();
      std::printf("TDMA");
      for (size_t i = 0; i < kNumTdmaFields; ++i)
        std::printf(" %s=%llu", std::string(kTdmaFieldTable[i].name).c_str(),
                    static_cast<unsigned long long>(v.v[i]));
    } else {
      std::printf("engine=%u len=%zu", engine, len);
    }
    std::printf("\n");
    off += 8 + len;
    ++index;
  }
  return 0;
}

} // namespace

int main(int argc, char **argv) {
  if (argc >= 2 && (std::string(argv[1]) == "--encode" || std::string(argv[1]) == "--dump")) {
    try {
      std::string mode = argv[1];
      if (mode == "--dump")
        return argc == 3 ? dump(argv[2]) : usage();
      if (argc < 3)
        return usage();
      std::string kind = argv[2];
      if (kind == "tiu")
        return encode<TiuDesc, TiuField>(argc, argv, 3);
      if (kind == "tdma")
        return encode<TdmaDesc, TdmaField>(argc, argv, 3);
      return usage();
    } catch (const std::exception &e) {
      std::cerr << "tpuc-cmdbuf-run: " << e.what() << "\n";
      return 1;
    }
  }
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
