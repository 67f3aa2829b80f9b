//===- Model.cpp - check, place and run one cvimodel program --------------===//

#include "tpuc/runtime/Model.h"
#include "tpuc/runtime/CpuFunction.h"
#include "tpuc/runtime/Error.h"
#include "tpuc/runtime/OpParamCodec.h"

#include <algorithm>
#include <chrono>
#include <climits>
#include <cmath>
#include <cstring>
#include <map>

namespace tpuc::runtime {

namespace {

constexpr unsigned kRegionCount = 8;
constexpr uint64_t kRegionOffsetMask = (uint64_t(1) << 40) - 1;
/// Device memory the simulated chip can address (base registers + 32-bit offsets stay below it).
constexpr uint64_t kMaxDeviceMemory = uint64_t(4) << 30;
constexpr uint64_t kRegionAlign = 64;

uint64_t alignUp(uint64_t v, uint64_t a) { return (v + a - 1) / a * a; }

std::string hex(uint64_t v) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "0x%llx", static_cast<unsigned long long>(v));
  return buf;
}

CVI_FMT toFormat(DType dtype) { return static_cast<CVI_FMT>(dtype); }

float bf16ToFloat(uint16_t bits) {
  uint32_t wide = uint32_t(bits) << 16;
  float f;
  std::memcpy(&f, &wide, 4);
  return f;
}

uint16_t floatToBf16Rne(float f) {
  uint32_t bits;
  std::memcpy(&bits, &f, 4);
  if (std::isnan(f))
    return uint16_t((bits >> 16) | 0x40);
  uint32_t rounding = 0x7FFF + ((bits >> 16) & 1);
  return uint16_t((bits + rounding) >> 16);
}

const char *npyDescr(DType dtype) {
  switch (dtype) {
  case DType::FP32:
  case DType::BF16:
    return "<f4";
  case DType::INT32:
    return "<i4";
  case DType::UINT32:
    return "<u4";
  case DType::INT16:
    return "<i2";
  case DType::UINT16:
    return "<u2";
  case DType::INT8:
    return "|i1";
  case DType::UINT8:
    return "|u1";
  }
  throw Error("unknown tensor data type");
}

/// Element i of a NumPy array as double (any supported element type).
double npyElement(const NpyArray &a, size_t i) {
  const uint8_t *p = a.data.data() + i * a.elementSize();
  auto load = [p](auto sample) {
    decltype(sample) v;
    std::memcpy(&v, p, sizeof v);
    return static_cast<double>(v);
  };
  const std::string &d = a.descr;
  if (d == "<f4")
    return load(float());
  if (d == "<f8")
    return load(double());
  if (d == "|i1")
    return load(int8_t());
  if (d == "|u1" || d == "|b1")
    return load(uint8_t());
  if (d == "<i2")
    return load(int16_t());
  if (d == "<u2")
    return load(uint16_t());
  if (d == "<i4")
    return load(int32_t());
  if (d == "<u4")
    return load(uint32_t());
  if (d == "<i8")
    return load(int64_t());
  if (d == "<u8")
    return load(uint64_t());
  if (d == "<f2") {
    uint16_t h;
    std::memcpy(&h, p, 2);
    int exp = (h >> 10) & 31, man = h & 1023;
    double sign = (h & 0x8000) ? -1.0 : 1.0;
    if (exp == 0)
      return sign * std::ldexp(man, -24);
    if (exp == 31)
      return man ? NAN : sign * INFINITY;
    return sign * std::ldexp(man + 1024, exp - 25);
  }
  throw Error("unsupported array element type '" + d + "'");
}

bool isFloatDescr(const std::string &d) { return d == "<f4" || d == "<f8" || d == "<f2"; }

} // namespace

const char *regionName(unsigned region) {
  static const char *const names[kRegionCount] = {"shared",  "weight",  "private", "io_mem0",
                                                  "io_mem1", "io_mem2", "io_mem3", "io_mem4"};
  return region < kRegionCount ? names[region] : "invalid";
}

size_t TensorDesc::count() const {
  size_t n = 1;
  for (int64_t d : shape)
    n *= static_cast<size_t>(d);
  return n;
}

struct Model::PluginSet {
  std::vector<std::unique_ptr<CpuFunctionLibrary>> libraries;
};

struct Model::PreparedRoutine {
  size_t index = 0;
  bool isTpu = false;
  std::string name;
  const std::vector<uint8_t> *cmdbuf = nullptr;
  std::unique_ptr<cvi::runtime::ICpuFunction> function;
  cvi::OpParam param;
  cvi::runtime::tensor_list_t inputs, outputs;
};

Model::Model(CvimodelInfo info, size_t programIndex) : model(std::move(info)) {
  if (model.programs.empty())
    throw Error("cvimodel has no program");
  if (programIndex >= model.programs.size())
    throw Error("cvimodel has " + std::to_string(model.programs.size()) + " program(s), program " +
                std::to_string(programIndex) + " requested");
  program = &model.programs[programIndex];
  chipInfo = ChipInfo::lookup(model.chip);
  if (!chipInfo)
    throw Error("cvimodel is built for chip '" + model.chip + "', which is not supported");
  placeTensors();
  prepareRoutines();
  engine = std::make_unique<TpuEngine>(*chipInfo);
}

Model::~Model() {
  routines.clear(); // function instances go before the libraries that implement them
  plugins.reset();
}

std::unique_ptr<Model> Model::fromFile(const std::string &path, size_t programIndex) {
  CvimodelInfo info = readCvimodelFile(path);
  try {
    return std::make_unique<Model>(std::move(info), programIndex);
  } catch (const Error &e) {
    throw Error(path + ": " + e.what());
  }
}

void Model::placeTensors() {
  // Sizes of the fixed regions.
  uint64_t regionSize[kRegionCount] = {};
  bool sharedAliasesPrivate = false;
  if (program->sharedGmem == 0 && program->privateGmem == 0 && program->neuronSize != 0) {
    regionSize[0] = program->neuronSize; // older models: one neuron buffer for regions 0 and 2
    sharedAliasesPrivate = true;
  } else {
    regionSize[0] = program->sharedGmem;
    regionSize[2] = program->privateGmem;
  }
  const SectionInfo *weight = nullptr;
  for (const SectionInfo &s : model.sections) {
    if (s.type != SectionType::WEIGHT)
      continue;
    if (weight)
      throw Error("cvimodel has more than one weight section ('" + weight->name + "', '" + s.name +
                  "')");
    weight = &s;
  }
  regionSize[1] = weight ? weight->data.size() : 0;
  for (const WeightInfo &w : model.weights) {
    uint64_t off = uint64_t(w.offset) & kRegionOffsetMask;
    if (off + w.size > regionSize[1])
      throw Error("weight '" + w.name + "' (offset " + hex(off) + ", " + std::to_string(w.size) +
                  " bytes) lies outside the weight section (" + std::to_string(regionSize[1]) +
                  " bytes)");
  }

  // Describe every tensor; io regions are sized by the tensors they hold.
  std::map<std::string, size_t> seen;
  for (const TensorInfo &t : program->tensors) {
    TensorDesc d;
    d.name = t.name;
    if (t.name.empty())
      throw Error("tensor map holds a tensor without a name");
    if (!seen.emplace(t.name, tensorDescs.size()).second)
      throw Error("tensor '" + t.name + "' appears twice in the tensor map");
    d.dtype = t.dtype;
    dtypeSize(t.dtype); // rejects unknown types
    d.shape = t.shape;
    uint64_t count = 1;
    for (int64_t dim : t.shape) {
      if (dim < 0)
        throw Error("tensor '" + t.name + "' has a dynamic shape, which is not supported");
      if (dim > int64_t(kMaxDeviceMemory) || count * uint64_t(dim) > kMaxDeviceMemory)
        throw Error("tensor '" + t.name + "' is larger than the device memory");
      count *= uint64_t(dim);
    }
    d.byteSize = count * dtypeSize(t.dtype);
    if (t.size != 0 && t.size < d.byteSize)
      throw Error("tensor '" + t.name + "' records " + std::to_string(t.size) +
                  " bytes but its shape needs " + std::to_string(d.byteSize));
    if (t.quant) {
      d.qscale = t.quant->qscale;
      d.zeroPoint = t.quant->zeroPoint;
    }
    uint64_t address = static_cast<uint64_t>(t.offset);
    if (address >> 43)
      throw Error("tensor '" + t.name + "' has an invalid address " + hex(address));
    d.region = unsigned(address >> 40);
    d.regionOffset = address & kRegionOffsetMask;
    d.overwrote = t.overwrote;
    if (d.region >= 3)
      regionSize[d.region] = std::max(regionSize[d.region], d.regionOffset + d.byteSize);
    tensorDescs.push_back(std::move(d));
  }
  for (const TensorDesc &d : tensorDescs) {
    unsigned region = (sharedAliasesPrivate && d.region == 2) ? 0 : d.region;
    if (d.regionOffset + d.byteSize > regionSize[region])
      throw Error("tensor '" + d.name + "' (offset " + hex(d.regionOffset) + ", " +
                  std::to_string(d.byteSize) + " bytes) lies outside its " + regionName(d.region) +
                  " memory region (" + std::to_string(regionSize[region]) + " bytes)");
  }

  // Lay the regions out one after the other in device memory.
  uint64_t cursor = 0;
  uint64_t regionStart[kRegionCount] = {};
  for (unsigned r = 0; r < kRegionCount; ++r) {
    if (r == 2 && sharedAliasesPrivate) {
      regionStart[2] = regionStart[0];
      continue;
    }
    regionStart[r] = cursor;
    cursor = alignUp(cursor + regionSize[r], kRegionAlign);
    if (cursor > kMaxDeviceMemory)
      throw Error("program needs more than the " + std::to_string(kMaxDeviceMemory >> 30) +
                  " GiB of device memory");
  }
  mem.bytes.assign(cursor, 0);
  for (unsigned r = 0; r < kRegionCount; ++r)
    mem.baseReg[r] = regionStart[r];
  if (weight && !weight->data.empty())
    std::memcpy(mem.bytes.data() + regionStart[1], weight->data.data(), weight->data.size());
  for (TensorDesc &d : tensorDescs)
    d.memoryOffset = regionStart[d.region] + d.regionOffset;

  for (const std::string &name : program->inputTensors)
    tensor(name);
  for (const std::string &name : program->outputTensors)
    tensor(name);
}

void Model::prepareRoutines() {
  plugins = std::make_unique<PluginSet>();
  bool pluginsLoaded = false;
  auto loadPlugins = [&] {
    if (pluginsLoaded)
      return;
    pluginsLoaded = true;
    SectionType host = hostElfMachine() == 0xB7 ? SectionType::FUNC_AARCH64 : SectionType::FUNC_X86;
    for (const SectionInfo &s : model.sections)
      if (s.type == host)
        plugins->libraries.push_back(std::make_unique<CpuFunctionLibrary>(s.name, s.data));
  };

  for (size_t i = 0; i < program->routines.size(); ++i) {
    const RoutineInfo &r = program->routines[i];
    auto prepared = std::make_unique<PreparedRoutine>();
    prepared->index = i;
    const std::string where = "routine #" + std::to_string(i);
    for (const auto *names : {&r.inTensors, &r.outTensors})
      for (const std::string &name : *names)
        if (!std::any_of(tensorDescs.begin(), tensorDescs.end(),
                         [&](const TensorDesc &d) { return d.name == name; }))
          throw Error(where + " refers to tensor '" + name + "', which is not in the tensor map");
    if (r.type == RoutineType::TPU) {
      prepared->isTpu = true;
      if (!r.hasTpuRoutine)
        throw Error(where + " is a TPU routine without a tpu_routine table");
      if (r.cmdbufSection.empty()) {
        if (!r.dmabufSection.empty())
          throw Error(where + " uses dmabuf section '" + r.dmabufSection +
                      "'; only cmdbuf sections are supported");
        throw Error(where + " names no cmdbuf section");
      }
      const SectionInfo *s = model.findSection(r.cmdbufSection);
      if (!s)
        throw Error(where + " names cmdbuf section '" + r.cmdbufSection +
                    "', which does not exist");
      if (s->type != SectionType::CMDBUF)
        throw Error(where + " names section '" + r.cmdbufSection + "' as its cmdbuf, but it is a " +
                    sectionTypeName(s->type) + " section");
      prepared->name = r.cmdbufSection;
      prepared->cmdbuf = &s->data;
    } else if (r.type == RoutineType::CPU) {
      if (!r.hasCpuRoutine)
        throw Error(where + " is a CPU routine without a cpu_routine table");
      const std::string &fn = r.functionName;
      prepared->name = fn;
      const std::string what = where + " (CPU function '" + fn + "')";
      loadPlugins();
      for (const auto &lib : plugins->libraries)
        if (lib->provides(fn)) {
          prepared->function = lib->create(fn);
          break;
        }
      if (!prepared->function)
        prepared->function = createBuiltinCpuFunction(fn);
      if (!prepared->function) {
        std::string known;
        for (const std::string &n : builtinCpuFunctionNames())
          known += (known.empty() ? "" : ", ") + n;
        for (const auto &lib : plugins->libraries)
          for (const std::string &n : lib->functionNames())
            known += ", " + n;
        throw Error(where + " calls CPU function '" + fn +
                    "', which is neither built in nor exported by an embedded library (known: " +
                    known + ")");
      }
      prepared->param = decodeOpParam(r.functionArgs, what);
      auto neuron = [&](const std::string &name) {
        const TensorDesc &d = tensor(name);
        std::vector<int> shape;
        for (int64_t dim : d.shape) {
          if (dim > INT32_MAX)
            throw Error(what + ": tensor '" + d.name + "' has a dimension beyond 2^31");
          shape.push_back(static_cast<int>(dim));
        }
        return std::make_shared<cvi::runtime::Neuron>(d.name, shape, toFormat(d.dtype), d.qscale,
                                                      mem.bytes.data() + d.memoryOffset,
                                                      static_cast<int>(std::lround(d.zeroPoint)));
      };
      for (const std::string &name : r.inTensors)
        prepared->inputs.push_back(neuron(name));
      for (const std::string &name : r.outTensors)
        prepared->outputs.push_back(neuron(name));
      try {
        prepared->function->setup(prepared->inputs, prepared->outputs, prepared->param);
      } catch (const std::exception &e) {
        throw Error(what + ": setup failed: " + e.what());
      }
    } else {
      throw Error(where + " has unknown routine type " + std::to_string(static_cast<int>(r.type)));
    }
    routines.push_back(std::move(prepared));
  }
}

const TensorDesc &Model::tensor(const std::string &name) const {
  for (const TensorDesc &d : tensorDescs)
    if (d.name == name)
      return d;
  throw Error("tensor '" + name + "' is not in the tensor map");
}

std::vector<const TensorDesc *> Model::inputs() const {
  std::vector<const TensorDesc *> out;
  for (const std::string &name : program->inputTensors)
    out.push_back(&tensor(name));
  return out;
}

std::vector<const TensorDesc *> Model::outputs() const {
  std::vector<const TensorDesc *> out;
  for (const std::string &name : program->outputTensors)
    out.push_back(&tensor(name));
  return out;
}

void Model::setInput(const std::string &name, const NpyArray &value) {
  const TensorDesc *target = nullptr;
  for (const TensorDesc *d : inputs())
    if (d->name == name)
      target = d;
  if (!target) {
    std::string names;
    for (const TensorDesc *d : inputs())
      names += (names.empty() ? "" : ", ") + d->name;
    throw Error("model has no input named '" + name + "' (inputs: " + names + ")");
  }
  const TensorDesc &d = *target;
  size_t n = d.count();
  if (value.count() != n)
    throw Error("input '" + name + "' needs " + std::to_string(n) + " elements, got " +
                std::to_string(value.count()));
  uint8_t *dst = mem.bytes.data() + d.memoryOffset;
  bool floatData = isFloatDescr(value.descr);
  switch (d.dtype) {
  case DType::FP32:
    for (size_t i = 0; i < n; ++i) {
      float f = static_cast<float>(npyElement(value, i));
      std::memcpy(dst + 4 * i, &f, 4);
    }
    return;
  case DType::INT8:
  case DType::UINT8: {
    bool isSigned = d.dtype == DType::INT8;
    double lo = isSigned ? -128 : 0, hi = isSigned ? 127 : 255;
    for (size_t i = 0; i < n; ++i) {
      double v = npyElement(value, i);
      if (floatData)
        v = std::round(static_cast<float>(v) * d.qscale);
      else if (v < lo || v > hi)
        throw Error("input '" + name + "': value " + std::to_string(v) + " does not fit " +
                    dtypeName(d.dtype));
      if (std::isnan(v))
        v = 0;
      v = std::min(std::max(v, lo), hi);
      dst[i] = isSigned ? static_cast<uint8_t>(static_cast<int8_t>(v)) : static_cast<uint8_t>(v);
    }
    return;
  }
  case DType::BF16:
    for (size_t i = 0; i < n; ++i) {
      uint16_t bits = value.descr == "<u2"
                          ? static_cast<uint16_t>(npyElement(value, i))
                          : floatToBf16Rne(static_cast<float>(npyElement(value, i)));
      std::memcpy(dst + 2 * i, &bits, 2);
    }
    return;
  case DType::INT32:
  case DType::UINT32:
  case DType::INT16:
  case DType::UINT16: {
    size_t es = dtypeSize(d.dtype);
    for (size_t i = 0; i < n; ++i) {
      double v = npyElement(value, i);
      if (floatData)
        v = std::round(v);
      int64_t iv = std::isfinite(v) ? static_cast<int64_t>(v) : 0;
      std::memcpy(dst + es * i, &iv, es); // little-endian truncation
    }
    return;
  }
  }
}

void Model::run(RunProfile *profile) {
  if (profile) {
    profile->tpuClockMHz = chipInfo->tpuClockMHz;
    profile->routines.clear();
  }
  for (auto &r : routines) {
    RoutineProfile timing;
    timing.isTpu = r->isTpu;
    timing.name = r->name;
    if (r->isTpu) {
      try {
        engine->run(*r->cmdbuf, mem, profile ? &timing.tpu : nullptr);
      } catch (const Error &e) {
        throw Error("routine #" + std::to_string(r->index) + " (TPU, section '" + r->name +
                    "'): " + e.what());
      }
    } else {
      auto start = std::chrono::steady_clock::now();
      try {
        r->function->run();
      } catch (const std::exception &e) {
        throw Error("routine #" + std::to_string(r->index) + " (CPU function '" + r->name +
                    "'): " + e.what());
      }
      timing.hostMicros =
          std::chrono::duration<double, std::micro>(std::chrono::steady_clock::now() - start)
              .count();
    }
    if (profile)
      profile->routines.push_back(std::move(timing));
  }
}

NpyArray Model::readTensor(const std::string &name, bool dequantize) const {
  const TensorDesc &d = tensor(name);
  NpyArray out;
  out.shape = d.shape;
  size_t n = d.count();
  const uint8_t *src = mem.bytes.data() + d.memoryOffset;
  if (d.dtype == DType::BF16) {
    out.descr = "<f4";
    out.data.resize(4 * n);
    for (size_t i = 0; i < n; ++i) {
      uint16_t bits;
      std::memcpy(&bits, src + 2 * i, 2);
      float f = bf16ToFloat(bits);
      std::memcpy(out.data.data() + 4 * i, &f, 4);
    }
    return out;
  }
  if (dequantize && (d.dtype == DType::INT8 || d.dtype == DType::UINT8)) {
    out.descr = "<f4";
    out.data.resize(4 * n);
    for (size_t i = 0; i < n; ++i) {
      float code = d.dtype == DType::INT8 ? float(static_cast<int8_t>(src[i])) : float(src[i]);
      float f = code * d.qscale;
      std::memcpy(out.data.data() + 4 * i, &f, 4);
    }
    return out;
  }
  out.descr = npyDescr(d.dtype);
  out.data.assign(src, src + n * dtypeSize(d.dtype));
  return out;
}

} // namespace tpuc::runtime
