//===- RuntimeModule.cpp - nanobind module tpuc.runtime._runtime ----------===//
//
// Low-level bindings; python/tpuc/runtime/__init__.py builds the user-facing API on top. Arrays
// cross the boundary as (NumPy dtype string, shape, bytes) so that dtype handling stays in Python.
// Every tpuc::runtime::Error becomes a Python RuntimeError carrying its message.
//
//===----------------------------------------------------------------------===//

#include "tpuc/runtime/Cvimodel.h"
#include "tpuc/runtime/Error.h"
#include "tpuc/runtime/Model.h"
#include "tpuc/runtime/OpParamCodec.h"
#include "tpuc/runtime/ProfileReport.h"

#include <nanobind/nanobind.h>
#include <nanobind/ndarray.h>
#include <nanobind/stl/optional.h>
#include <nanobind/stl/string.h>
#include <nanobind/stl/tuple.h>
#include <nanobind/stl/unique_ptr.h>
#include <nanobind/stl/vector.h>

#include <cstring>

namespace nb = nanobind;
using namespace nb::literals;
using namespace tpuc::runtime;

namespace {

using ArrayTuple = std::tuple<std::string, std::vector<int64_t>, nb::bytes>;

std::vector<uint8_t> toVector(const nb::bytes &b) {
  const auto *p = static_cast<const uint8_t *>(b.data());
  return std::vector<uint8_t>(p, p + b.size());
}

nb::bytes toBytes(const std::vector<uint8_t> &v) {
  return nb::bytes(reinterpret_cast<const char *>(v.data()), v.size());
}

ArrayTuple toTuple(const NpyArray &a) { return {a.descr, a.shape, toBytes(a.data)}; }

nb::dict sliceDict(const DescriptorSlice &s) {
  nb::dict d;
  d["engine"] = s.engine == DescriptorSlice::Engine::TIU ? "tiu" : "tdma";
  d["index"] = s.index;
  d["layer_id"] = s.layerId;
  d["op"] = s.op;
  d["start"] = s.start;
  d["end"] = s.end;
  return d;
}

nb::dict cmdbufProfileDict(const CmdbufProfile &p) {
  nb::dict d;
  d["total_cycles"] = p.totalCycles;
  d["tiu_busy_cycles"] = p.tiuBusyCycles;
  d["tdma_busy_cycles"] = p.tdmaBusyCycles;
  nb::list slices;
  for (const DescriptorSlice &s : p.slices)
    slices.append(sliceDict(s));
  d["slices"] = slices;
  return d;
}

nb::dict tensorDict(const TensorDesc &t) {
  nb::dict d;
  d["name"] = t.name;
  d["dtype"] = dtypeName(t.dtype);
  d["shape"] = t.shape;
  d["qscale"] = t.qscale;
  d["zero_point"] = t.zeroPoint;
  d["region"] = regionName(t.region);
  d["offset"] = t.regionOffset;
  d["size"] = t.byteSize;
  d["overwrote"] = t.overwrote;
  return d;
}

/// A loaded model plus the profile of its last run.
struct PyModel {
  std::unique_ptr<Model> model;
  std::optional<RunProfile> lastProfile;
};

} // namespace

NB_MODULE(_runtime, m) {
  m.doc() = "tpuc runtime: cvimodel loader, simulated CV183x TPU, CPU functions";

  m.def(
      "run_cmdbuf",
      [](const nb::bytes &cmdbuf,
         nb::ndarray<uint8_t, nb::ndim<1>, nb::c_contig, nb::device::cpu> memory,
         const std::vector<uint64_t> &baseRegs, bool profile,
         const std::string &chipName) -> nb::object {
        if (baseRegs.size() > 8)
          throw Error("run_cmdbuf: at most 8 base registers, got " +
                      std::to_string(baseRegs.size()));
        const ChipInfo *chip = ChipInfo::lookup(chipName);
        if (!chip)
          throw Error("run_cmdbuf: unknown chip '" + chipName + "'");
        DeviceMemory mem;
        mem.bytes.assign(memory.data(), memory.data() + memory.shape(0));
        for (size_t i = 0; i < baseRegs.size(); ++i)
          mem.baseReg[i] = baseRegs[i];
        CmdbufProfile cycles;
        std::span<const uint8_t> stream(static_cast<const uint8_t *>(cmdbuf.data()), cmdbuf.size());
        {
          nb::gil_scoped_release release;
          TpuEngine engine(*chip);
          engine.run(stream, mem, profile ? &cycles : nullptr);
        }
        std::memcpy(memory.data(), mem.bytes.data(), mem.bytes.size());
        if (!profile)
          return nb::none();
        return cmdbufProfileDict(cycles);
      },
      "cmdbuf"_a, "memory"_a, "base_regs"_a, "profile"_a = false, "chip"_a = "cv183x",
      "Executes a cmd_hdr record stream on the simulated TPU. `memory` (uint8, 1-D) is the global "
      "memory and is modified in place; base_regs[i] is the byte index of region i in it. Returns "
      "the cycle-model profile as a dict when profile=True, else None.");

  nb::class_<PyModel>(m, "Model")
      .def(
          "__init__",
          [](PyModel *self, const std::string &path, size_t program) {
            new (self) PyModel{Model::fromFile(path, program), std::nullopt};
          },
          "path"_a, "program"_a = 0)
      .def_static(
          "from_bytes",
          [](const nb::bytes &data, size_t program) {
            std::span<const uint8_t> file(static_cast<const uint8_t *>(data.data()), data.size());
            auto *py = new PyModel{std::make_unique<Model>(parseCvimodel(file), program),
                                   std::nullopt};
            return py;
          },
          "data"_a, "program"_a = 0, nb::rv_policy::take_ownership)
      .def_prop_ro("name", [](const PyModel &self) { return self.model->info().name; })
      .def_prop_ro("chip", [](const PyModel &self) { return self.model->info().chip; })
      .def_prop_ro("inputs",
                   [](const PyModel &self) {
                     nb::list l;
                     for (const TensorDesc *t : self.model->inputs())
                       l.append(tensorDict(*t));
                     return l;
                   })
      .def_prop_ro("outputs",
                   [](const PyModel &self) {
                     nb::list l;
                     for (const TensorDesc *t : self.model->outputs())
                       l.append(tensorDict(*t));
                     return l;
                   })
      .def_prop_ro("tensors",
                   [](const PyModel &self) {
                     nb::list l;
                     for (const TensorDesc &t : self.model->tensors())
                       l.append(tensorDict(t));
                     return l;
                   })
      .def(
          "set_input",
          [](PyModel &self, const std::string &name, const std::string &descr,
             const std::vector<int64_t> &shape, const nb::bytes &data) {
            NpyArray a{descr, shape, toVector(data)};
            if (a.data.size() != a.count() * a.elementSize())
              throw Error("input '" + name + "': data size does not match its shape");
            self.model->setInput(name, a);
          },
          "name"_a, "descr"_a, "shape"_a, "data"_a)
      .def(
          "run",
          [](PyModel &self, bool profile) {
            RunProfile p;
            {
              nb::gil_scoped_release release;
              self.model->run(profile ? &p : nullptr);
            }
            if (profile)
              self.lastProfile = std::move(p);
            else
              self.lastProfile.reset();
          },
          "profile"_a = false)
      .def(
          "read_tensor",
          [](const PyModel &self, const std::string &name, bool dequantize) {
            return toTuple(self.model->readTensor(name, dequantize));
          },
          "name"_a, "dequantize"_a = false)
      .def("profile_json",
           [](const PyModel &self) -> std::optional<std::string> {
             if (!self.lastProfile)
               return std::nullopt;
             return profileJson(*self.lastProfile);
           })
      .def("trace_json", [](const PyModel &self) -> std::optional<std::string> {
        if (!self.lastProfile)
          return std::nullopt;
        return chromeTraceJson(*self.lastProfile);
      });
}
