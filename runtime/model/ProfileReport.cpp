//===- ProfileReport.cpp - profile summary and Chrome trace of a run ------===//

#include "tpuc/runtime/ProfileReport.h"

#include <algorithm>
#include <cstdio>
#include <map>
#include <sstream>

namespace tpuc::runtime {
namespace {

std::string quoted(const std::string &s) {
  std::string out = "\"";
  for (char c : s) {
    switch (c) {
    case '"':
      out += "\\\"";
      break;
    case '\\':
      out += "\\\\";
      break;
    case '\n':
      out += "\\n";
      break;
    default:
      if (static_cast<unsigned char>(c) < 0x20) {
        char buf[8];
        std::snprintf(buf, sizeof buf, "\\u%04x", c);
        out += buf;
      } else {
        out += c;
      }
    }
  }
  return out + "\"";
}

std::string number(double v) {
  char buf[64];
  std::snprintf(buf, sizeof buf, "%.6g", v);
  return buf;
}

struct LayerStats {
  uint64_t tiuCycles = 0, tdmaCycles = 0, start = UINT64_MAX, end = 0;
  size_t descriptors = 0;
};

double cyclesToMs(uint64_t cycles, double mhz) { return mhz > 0 ? cycles / (mhz * 1000.0) : 0; }

} // namespace

std::string profileJson(const RunProfile &p) {
  uint64_t totalCycles = 0, tiuBusy = 0, tdmaBusy = 0, dramBytes = 0;
  double hostMicros = 0;
  for (const RoutineProfile &r : p.routines) {
    if (r.isTpu) {
      totalCycles += r.tpu.totalCycles;
      tiuBusy += r.tpu.tiuBusyCycles;
      tdmaBusy += r.tpu.tdmaBusyCycles;
      dramBytes += r.tpu.tdmaDramBytes;
    } else {
      hostMicros += r.hostMicros;
    }
  }
  std::ostringstream o;
  o << "{\n  \"tpu_clock_mhz\": " << number(p.tpuClockMHz) << ",\n";
  o << "  \"total_cycles\": " << totalCycles << ",\n";
  o << "  \"total_ms\": " << number(cyclesToMs(totalCycles, p.tpuClockMHz)) << ",\n";
  o << "  \"cpu_routines_host_ms\": " << number(hostMicros / 1000.0) << ",\n";
  o << "  \"tdma_dram_bytes\": " << dramBytes << ",\n";
  auto engine = [&](uint64_t busy) {
    return "{\"busy_cycles\": " + std::to_string(busy) +
           ", \"idle_cycles\": " + std::to_string(totalCycles - std::min(busy, totalCycles)) +
           ", \"utilization\": " + number(totalCycles ? double(busy) / totalCycles : 0) + "}";
  };
  o << "  \"engines\": {\"tiu\": " << engine(tiuBusy) << ", \"tdma\": " << engine(tdmaBusy)
    << "},\n";
  o << "  \"routines\": [";
  for (size_t i = 0; i < p.routines.size(); ++i) {
    const RoutineProfile &r = p.routines[i];
    o << (i ? ",\n" : "\n") << "    {\"index\": " << i << ", \"kind\": \""
      << (r.isTpu ? "tpu" : "cpu") << "\", \"name\": " << quoted(r.name);
    if (r.isTpu)
      o << ", \"cycles\": " << r.tpu.totalCycles
        << ", \"ms\": " << number(cyclesToMs(r.tpu.totalCycles, p.tpuClockMHz))
        << ", \"tiu_busy_cycles\": " << r.tpu.tiuBusyCycles
        << ", \"tdma_busy_cycles\": " << r.tpu.tdmaBusyCycles
        << ", \"tdma_dram_bytes\": " << r.tpu.tdmaDramBytes
        << ", \"descriptors\": " << r.tpu.slices.size();
    else
      o << ", \"host_us\": " << number(r.hostMicros);
    o << "}";
  }
  o << "\n  ],\n  \"layers\": [";
  bool first = true;
  for (size_t i = 0; i < p.routines.size(); ++i) {
    if (!p.routines[i].isTpu)
      continue;
    std::map<uint32_t, LayerStats> layers;
    for (const DescriptorSlice &s : p.routines[i].tpu.slices) {
      LayerStats &l = layers[s.layerId];
      uint64_t d = s.end > s.start ? s.end - s.start : 0;
      (s.engine == DescriptorSlice::Engine::TIU ? l.tiuCycles : l.tdmaCycles) += d;
      l.start = std::min(l.start, s.start);
      l.end = std::max(l.end, s.end);
      ++l.descriptors;
    }
    for (const auto &[id, l] : layers) {
      o << (first ? "\n" : ",\n") << "    {\"routine\": " << i << ", \"layer_id\": " << id
        << ", \"tiu_cycles\": " << l.tiuCycles << ", \"tdma_cycles\": " << l.tdmaCycles
        << ", \"start_cycle\": " << l.start << ", \"end_cycle\": " << l.end
        << ", \"span_cycles\": " << (l.end - l.start) << ", \"descriptors\": " << l.descriptors
        << "}";
      first = false;
    }
  }
  o << "\n  ]\n}\n";
  return o.str();
}

std::string chromeTraceJson(const RunProfile &p) {
  std::ostringstream o;
  const double mhz = p.tpuClockMHz > 0 ? p.tpuClockMHz : 1.0;
  o << "{\"displayTimeUnit\": \"ns\", \"traceEvents\": [\n";
  o << "  {\"name\": \"process_name\", \"ph\": \"M\", \"pid\": 0, \"args\": {\"name\": "
       "\"tpuc simulated TPU\"}},\n";
  const char *tracks[] = {"TIU", "TDMA", "CPU"};
  for (int t = 0; t < 3; ++t)
    o << "  {\"name\": \"thread_name\", \"ph\": \"M\", \"pid\": 0, \"tid\": " << t
      << ", \"args\": {\"name\": \"" << tracks[t] << "\"}},\n";
  double offsetUs = 0;
  bool first = true;
  auto emit = [&](const std::string &name, int tid, double ts, double dur,
                  const std::string &args) {
    o << (first ? "" : ",\n") << "  {\"name\": " << quoted(name)
      << ", \"ph\": \"X\", \"pid\": 0, \"tid\": " << tid << ", \"ts\": " << number(ts)
      << ", \"dur\": " << number(dur) << ", \"args\": {" << args << "}}";
    first = false;
  };
  for (size_t i = 0; i < p.routines.size(); ++i) {
    const RoutineProfile &r = p.routines[i];
    if (!r.isTpu) {
      emit(r.name, 2, offsetUs, r.hostMicros, "\"routine\": " + std::to_string(i));
      offsetUs += r.hostMicros;
      continue;
    }
    for (const DescriptorSlice &s : r.tpu.slices) {
      int tid = s.engine == DescriptorSlice::Engine::TIU ? 0 : 1;
      double ts = offsetUs + s.start / mhz;
      double dur = (s.end > s.start ? s.end - s.start : 0) / mhz;
      emit(s.op + " L" + std::to_string(s.layerId), tid, ts, dur,
           "\"routine\": " + std::to_string(i) + ", \"index\": " + std::to_string(s.index) +
               ", \"layer_id\": " + std::to_string(s.layerId) + ", \"start_cycle\": " +
               std::to_string(s.start) + ", \"end_cycle\": " + std::to_string(s.end));
    }
    offsetUs += r.tpu.totalCycles / mhz;
  }
  o << "\n]}\n";
  return o.str();
}

} // namespace tpuc::runtime
