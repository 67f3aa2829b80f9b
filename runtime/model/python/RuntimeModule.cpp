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
#include <nanobind/stl/bind_vector.h>
#include <nanobind/stl/optional.h>
#include <nanobind/stl/string.h>
#include <nanobind/stl/tuple.h>
#include <nanobind/stl/unique_ptr.h>
#include <nanobind/stl/vector.h>

#include <cstring>

namespace nb = nanobind;

// Lists of description records are bound as opaque vectors so that Python edits them in place.
NB_MAKE_OPAQUE(std::vector<tpuc::runtime::TensorInfo>)
NB_MAKE_OPAQUE(std::vector<tpuc::runtime::WeightInfo>)
NB_MAKE_OPAQUE(std::vector<tpuc::runtime::RoutineInfo>)
NB_MAKE_OPAQUE(std::vector<tpuc::runtime::ProgramInfo>)
NB_MAKE_OPAQUE(std::vector<tpuc::runtime::SectionInfo>)

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

  // Error messages may quote bytes from a malformed file: never fail to build the Python error.
  nb::register_exception_translator([](const std::exception_ptr &p, void *) {
    try {
      std::rethrow_exception(p);
    } catch (const Error &e) {
      PyObject *message = PyUnicode_DecodeUTF8(e.what(), std::strlen(e.what()), "backslashreplace");
      PyErr_SetObject(PyExc_RuntimeError, message);
      Py_XDECREF(message);
    }
  });

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

  // The cvimodel description, for writing models from Python and for inspecting them.
  nb::class_<QuantInfo>(m, "QuantInfo")
      .def(nb::init<>())
      .def_rw("type", &QuantInfo::type)
      .def_rw("max_value", &QuantInfo::maxValue)
      .def_rw("min_value", &QuantInfo::minValue)
      .def_rw("zero_point", &QuantInfo::zeroPoint)
      .def_rw("qscale", &QuantInfo::qscale);
  nb::class_<TensorInfo>(m, "TensorInfo")
      .def(nb::init<>())
      .def_rw("id", &TensorInfo::id)
      .def_rw("name", &TensorInfo::name)
      .def_rw("offset", &TensorInfo::offset)
      .def_prop_rw(
          "dtype", [](const TensorInfo &t) { return static_cast<int>(t.dtype); },
          [](TensorInfo &t, int v) { t.dtype = static_cast<DType>(v); })
      .def_rw("shape", &TensorInfo::shape)
      .def_rw("stride", &TensorInfo::stride)
      .def_rw("quant", &TensorInfo::quant)
      .def_rw("overwrote", &TensorInfo::overwrote)
      .def_rw("scale", &TensorInfo::scale)
      .def_rw("mean", &TensorInfo::mean)
      .def_rw("pixel_format", &TensorInfo::pixelFormat)
      .def_rw("aligned", &TensorInfo::aligned)
      .def_rw("size", &TensorInfo::size);
  nb::class_<WeightInfo>(m, "WeightInfo")
      .def(nb::init<>())
      .def_rw("name", &WeightInfo::name)
      .def_rw("offset", &WeightInfo::offset)
      .def_rw("size", &WeightInfo::size)
      .def_rw("shape", &WeightInfo::shape)
      .def_prop_rw(
          "type", [](const WeightInfo &w) { return static_cast<int>(w.type); },
          [](WeightInfo &w, int v) { w.type = static_cast<DType>(v); });
  nb::class_<RoutineInfo>(m, "RoutineInfo")
      .def(nb::init<>())
      .def_prop_rw(
          "type", [](const RoutineInfo &r) { return static_cast<int>(r.type); },
          [](RoutineInfo &r, int v) { r.type = static_cast<RoutineType>(v); })
      .def_rw("in_tensors", &RoutineInfo::inTensors)
      .def_rw("out_tensors", &RoutineInfo::outTensors)
      .def_rw("has_tpu_routine", &RoutineInfo::hasTpuRoutine)
      .def_rw("cmdbuf_section", &RoutineInfo::cmdbufSection)
      .def_rw("dmabuf_section", &RoutineInfo::dmabufSection)
      .def_rw("has_cpu_routine", &RoutineInfo::hasCpuRoutine)
      .def_rw("function_name", &RoutineInfo::functionName)
      .def_prop_rw(
          "function_args", [](const RoutineInfo &r) { return toBytes(r.functionArgs); },
          [](RoutineInfo &r, const nb::bytes &b) { r.functionArgs = toVector(b); });
  nb::class_<ProgramInfo>(m, "ProgramInfo")
      .def(nb::init<>())
      .def_rw("batch_num", &ProgramInfo::batchNum)
      .def_rw("neuron_size", &ProgramInfo::neuronSize)
      .def_rw("input_tensors", &ProgramInfo::inputTensors)
      .def_rw("output_tensors", &ProgramInfo::outputTensors)
      .def_rw("tensors", &ProgramInfo::tensors)
      .def_rw("routines", &ProgramInfo::routines)
      .def_rw("shared_gmem", &ProgramInfo::sharedGmem)
      .def_rw("private_gmem", &ProgramInfo::privateGmem);
  nb::class_<SectionInfo>(m, "SectionInfo")
      .def(nb::init<>())
      .def_prop_rw(
          "type", [](const SectionInfo &s) { return static_cast<int>(s.type); },
          [](SectionInfo &s, int v) { s.type = static_cast<SectionType>(v); })
      .def_rw("name", &SectionInfo::name)
      .def_ro("size", &SectionInfo::size)
      .def_ro("offset", &SectionInfo::offset)
      .def_rw("encrypt", &SectionInfo::encrypt)
      .def_rw("compress", &SectionInfo::compress)
      .def_ro("decompressed_size", &SectionInfo::decompressedSize)
      .def_prop_rw(
          "data", [](const SectionInfo &s) { return toBytes(s.data); },
          [](SectionInfo &s, const nb::bytes &b) { s.data = toVector(b); });
  nb::bind_vector<std::vector<TensorInfo>, nb::rv_policy::reference_internal>(m, "TensorInfoList");
  nb::bind_vector<std::vector<WeightInfo>, nb::rv_policy::reference_internal>(m, "WeightInfoList");
  nb::bind_vector<std::vector<RoutineInfo>, nb::rv_policy::reference_internal>(m,
                                                                               "RoutineInfoList");
  nb::bind_vector<std::vector<ProgramInfo>, nb::rv_policy::reference_internal>(m,
                                                                               "ProgramInfoList");
  nb::bind_vector<std::vector<SectionInfo>, nb::rv_policy::reference_internal>(m,
                                                                               "SectionInfoList");
  nb::class_<CvimodelInfo>(m, "CvimodelInfo")
      .def(nb::init<>())
      .def_rw("major_version", &CvimodelInfo::majorVersion)
      .def_rw("minor_version", &CvimodelInfo::minorVersion)
      .def_rw("chip", &CvimodelInfo::chip)
      .def_ro("md5", &CvimodelInfo::md5Hex)
      .def_rw("version_major", &CvimodelInfo::versionMajor)
      .def_rw("version_minor", &CvimodelInfo::versionMinor)
      .def_rw("version_sub_minor", &CvimodelInfo::versionSubMinor)
      .def_rw("name", &CvimodelInfo::name)
      .def_rw("build_time", &CvimodelInfo::buildTime)
      .def_rw("target", &CvimodelInfo::target)
      .def_rw("mlir_version", &CvimodelInfo::mlirVersion)
      .def_rw("done_softmax", &CvimodelInfo::doneSoftmax)
      .def_rw("weights", &CvimodelInfo::weights)
      .def_rw("programs", &CvimodelInfo::programs)
      .def_rw("sections", &CvimodelInfo::sections);

  m.def(
      "parse_cvimodel",
      [](const nb::bytes &data) {
        return parseCvimodel(
            std::span<const uint8_t>(static_cast<const uint8_t *>(data.data()), data.size()));
      },
      "data"_a, "Parses and checks a cvimodel image (sections decompressed).");
  m.def(
      "write_cvimodel", [](const CvimodelInfo &info) { return toBytes(writeCvimodel(info)); },
      "info"_a, "Serialises a cvimodel description (offsets, sizes and MD5 computed).");
  m.def(
      "encode_op_param",
      [](const nb::dict &params) {
        cvi::OpParam p;
        for (auto [key, value] : params) {
          std::string name = nb::cast<std::string>(key);
          if (nb::isinstance<nb::bool_>(value))
            p.put<bool>(name, nb::cast<bool>(value));
          else if (nb::isinstance<nb::int_>(value))
            p.put<int32_t>(name, nb::cast<int32_t>(value));
          else if (nb::isinstance<nb::float_>(value))
            p.put<float>(name, nb::cast<float>(value));
          else if (nb::isinstance<nb::str>(value))
            p.put<std::string>(name, nb::cast<std::string>(value));
          else if (nb::isinstance<nb::list>(value) || nb::isinstance<nb::tuple>(value)) {
            nb::sequence seq = nb::borrow<nb::sequence>(value);
            bool allInt = true;
            for (nb::handle item : seq)
              allInt = allInt && nb::isinstance<nb::int_>(item) && !nb::isinstance<nb::bool_>(item);
            if (allInt)
              p.put<std::vector<int32_t>>(name, nb::cast<std::vector<int32_t>>(value));
            else
              p.put<std::vector<float>>(name, nb::cast<std::vector<float>>(value));
          } else
            throw Error("parameter '" + name + "' has an unsupported type");
        }
        return toBytes(encodeOpParam(p));
      },
      "params"_a, "Encodes {name: int|float|bool|str|list} as a cvi.cpu_op.Parameter buffer.");
  m.def(
      "decode_op_param",
      [](const nb::bytes &data) {
        cvi::OpParam p = decodeOpParam(
            std::span<const uint8_t>(static_cast<const uint8_t *>(data.data()), data.size()),
            "function_args");
        nb::dict d;
        for (const auto &[name, value] : p.all())
          std::visit([&](const auto &v) { d[name.c_str()] = nb::cast(v); }, value);
        return d;
      },
      "data"_a, "Decodes a cvi.cpu_op.Parameter buffer into a dict.");

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
            auto *py =
                new PyModel{std::make_unique<Model>(parseCvimodel(file), program), std::nullopt};
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
