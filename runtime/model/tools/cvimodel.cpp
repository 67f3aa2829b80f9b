//===- cvimodel.cpp - inspect a .cvimodel file ----------------------------===//
//
// cvimodel <file> [--dump-cmdbuf]
// Prints the header, sections, weights, programs, routines and tensors; with --dump-cmdbuf also
// every command record of each cmdbuf section.
//
//===----------------------------------------------------------------------===//

#include "tpuc/runtime/Cvimodel.h"
#include "tpuc/runtime/Descriptors.h"
#include "tpuc/runtime/Error.h"
#include "tpuc/runtime/Model.h"
#include "tpuc/runtime/OpParamCodec.h"

#include <cstdio>
#include <string>

using namespace tpuc::runtime;

namespace {

std::string shapeText(const std::vector<int64_t> &shape) {
  std::string s;
  for (size_t i = 0; i < shape.size(); ++i) {
    if (i)
      s += "x";
    s += std::to_string(shape[i]);
  }
  return s.empty() ? "scalar" : s;
}

std::string joined(const std::vector<std::string> &items) {
  std::string s;
  for (const std::string &i : items)
    s += (s.empty() ? "" : ", ") + i;
  return s;
}

std::string paramText(const cvi::OpParam &param) {
  std::string s;
  for (const auto &[name, value] : param.all()) {
    s += (s.empty() ? "" : ", ") + name + "=";
    std::visit(
        [&](const auto &v) {
          using T = std::decay_t<decltype(v)>;
          if constexpr (std::is_same_v<T, std::string>)
            s += v;
          else if constexpr (std::is_same_v<T, bool>)
            s += v ? "true" : "false";
          else if constexpr (std::is_arithmetic_v<T>)
            s += std::to_string(v);
          else {
            s += "[";
            for (size_t i = 0; i < v.size(); ++i) {
              if (i)
                s += ",";
              if constexpr (std::is_same_v<typename T::value_type, std::string>)
                s += v[i];
              else
                s += std::to_string(static_cast<double>(v[i]));
            }
            s += "]";
          }
        },
        value);
  }
  return s;
}

void printWords(std::span<const uint8_t> body) {
  for (size_t w = 0; w + 4 <= body.size(); w += 4) {
    uint32_t word = uint32_t(body[w]) | uint32_t(body[w + 1]) << 8 | uint32_t(body[w + 2]) << 16 |
                    uint32_t(body[w + 3]) << 24;
    std::printf("%s%08x", (w / 4) % 8 == 0 ? "\n      " : " ", word);
  }
  std::printf("\n");
}

/// Every field that differs from zero, as name=value, wrapped at 100 columns.
template <size_t N>
void printFields(const std::array<uint64_t, N> &values, const std::array<FieldSpec, N> &table) {
  size_t column = 100;
  for (size_t i = 0; i < N; ++i) {
    if (values[i] == 0)
      continue;
    std::string item(1, ' ');
    item.append(table[i].name);
    item += '=';
    item += std::to_string(values[i]);
    if (column + item.size() > 100) {
      std::printf("\n     ");
      column = 5;
    }
    std::printf("%s", item.c_str());
    column += item.size();
  }
  std::printf("\n");
}

void dumpCmdbuf(const SectionInfo &s) {
  std::printf("\ncmdbuf section '%s' (%zu bytes)\n", s.name.c_str(), s.data.size());
  const std::vector<uint8_t> &d = s.data;
  size_t pos = 0, index = 0;
  while (pos < d.size()) {
    if (d.size() - pos < 8) {
      std::printf("  truncated record header at byte %zu\n", pos);
      return;
    }
    uint8_t magic = d[pos], len = d[pos + 1], engineId = d[pos + 2] & 15;
    const char *engine = engineId == 0   ? "TIU"
                         : engineId == 2 ? "TDMA"
                         : engineId == 1 ? "CPU"
                                         : "?";
    std::printf("  #%-4zu @%-6zu magic 0x%02X %-4s len %u", index, pos, magic, engine, len);
    if (len == 0 || d.size() - pos - 8 < len) {
      std::printf("  record #%zu: length %u does not fit the section\n", index, len);
      return;
    }
    std::span<const uint8_t> body(d.data() + pos + 8, len);
    if (engineId == 0 && len == kTiuBytes)
      printFields(TiuDesc::fromBytes(body).decode().v, kTiuFieldTable);
    else if (engineId == 2 && len == kTdmaBytes)
      printFields(TdmaDesc::fromBytes(body).decode().v, kTdmaFieldTable);
    else
      printWords(body);
    pos += 8 + len;
    ++index;
  }
}

int runMain(int argc, char **argv) {
  std::string path;
  bool dump = false;
  for (int i = 1; i < argc; ++i) {
    std::string a = argv[i];
    if (a == "--dump-cmdbuf" || a == "--dump_cmdbuf")
      dump = true;
    else if (a == "-h" || a == "--help") {
      std::printf("usage: cvimodel <file.cvimodel> [--dump-cmdbuf]\n");
      return 0;
    } else if (!a.empty() && a[0] == '-')
      throw Error("unknown option '" + a + "'");
    else if (path.empty())
      path = a;
    else
      throw Error("more than one file given");
  }
  if (path.empty())
    throw Error("usage: cvimodel <file.cvimodel> [--dump-cmdbuf]");
  CvimodelInfo m = readCvimodelFile(path);
  std::printf("file        : %s\n", path.c_str());
  std::printf("format      : %u.%u  md5 %s  chip %s\n", m.majorVersion, m.minorVersion,
              m.md5Hex.c_str(), m.chip.c_str());
  std::printf("model       : %s  version %u.%u.%u  target %s\n", m.name.c_str(), m.versionMajor,
              m.versionMinor, m.versionSubMinor, m.target.c_str());
  std::printf("built       : %s  (%s)\n", m.buildTime.c_str(), m.mlirVersion.c_str());

  std::printf("\nsections:\n  %-3s %-13s %-24s %10s %10s %s\n", "id", "type", "name", "size",
              "offset", "flags");
  for (size_t i = 0; i < m.sections.size(); ++i) {
    const SectionInfo &s = m.sections[i];
    std::string flags = s.compress ? "lz4 -> " + std::to_string(s.decompressedSize) : "";
    std::printf("  %-3zu %-13s %-24s %10u %10u %s\n", i, sectionTypeName(s.type), s.name.c_str(),
                s.size, s.offset, flags.c_str());
  }
  std::printf("\nweights (%zu):\n", m.weights.size());
  for (const WeightInfo &w : m.weights)
    std::printf("  0x%-10llx %8u  %-6s %-16s %s\n", (unsigned long long)(w.offset & 0xFFFFFFFFFFll),
                w.size, dtypeName(w.type), shapeText(w.shape).c_str(), w.name.c_str());

  for (size_t p = 0; p < m.programs.size(); ++p) {
    const ProgramInfo &prog = m.programs[p];
    std::printf("\nprogram #%zu: batch %u  neuron %u  shared_gmem %u  private_gmem %u\n", p,
                prog.batchNum, prog.neuronSize, prog.sharedGmem, prog.privateGmem);
    std::printf("  inputs : %s\n  outputs: %s\n  routines:\n", joined(prog.inputTensors).c_str(),
                joined(prog.outputTensors).c_str());
    for (size_t r = 0; r < prog.routines.size(); ++r) {
      const RoutineInfo &ri = prog.routines[r];
      if (ri.type == RoutineType::TPU)
        std::printf("    #%zu tpu  section %s\n", r,
                    (ri.cmdbufSection.empty() ? ri.dmabufSection : ri.cmdbufSection).c_str());
      else if (ri.type == RoutineType::CPU) {
        std::string params;
        try {
          params = paramText(decodeOpParam(ri.functionArgs, "function_args"));
        } catch (const Error &e) {
          params = std::string("<") + e.what() + ">";
        }
        std::printf("    #%zu cpu  function %s (%s)\n", r, ri.functionName.c_str(), params.c_str());
      } else
        std::printf("    #%zu unknown routine type %d\n", r, static_cast<int>(ri.type));
      std::printf("         in : %s\n         out: %s\n", joined(ri.inTensors).c_str(),
                  joined(ri.outTensors).c_str());
    }
    std::printf("  tensors:\n    %-3s %-8s %-6s %-18s %-12s %-10s %s\n", "id", "region", "dtype",
                "shape", "offset", "qscale", "name");
    for (size_t t = 0; t < prog.tensors.size(); ++t) {
      const TensorInfo &ti = prog.tensors[t];
      unsigned region = unsigned((uint64_t(ti.offset) >> 40) & 7);
      std::string dtype;
      try {
        dtype = dtypeName(ti.dtype);
      } catch (const Error &) {
        char unknown[16];
        std::snprintf(unknown, sizeof unknown, "?%d", static_cast<int>(ti.dtype));
        dtype = unknown;
      }
      std::printf("    %-3zu %-8s %-6s %-18s 0x%-10llx %-10g %s%s\n", t, regionName(region),
                  dtype.c_str(), shapeText(ti.shape).c_str(),
                  (unsigned long long)(uint64_t(ti.offset) & 0xFFFFFFFFFFull),
                  ti.quant ? ti.quant->qscale : 1.0, ti.name.c_str(),
                  ti.overwrote ? "  (overwritten)" : "");
    }
  }
  if (dump)
    for (const SectionInfo &s : m.sections)
      if (s.type == SectionType::CMDBUF)
        dumpCmdbuf(s);
  return 0;
}

} // namespace

int main(int argc, char **argv) {
  try {
    return runMain(argc, argv);
  } catch (const std::exception &e) {
    std::fprintf(stderr, "cvimodel: error: %s\n", e.what());
    return 1;
  }
}
