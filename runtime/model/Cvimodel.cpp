//===- Cvimodel.cpp - parse and check a .cvimodel file --------------------===//

#include "tpuc/runtime/Cvimodel.h"
#include "Utf8.h"
#include "tpuc/runtime/Error.h"
#include "tpuc/runtime/Md5.h"
#include "tpuc/runtime/Npz.h"
#include "tpuc/runtime/schema/cvimodel_generated.h"

#include <lz4.h>

#include <cstring>
#include <set>

namespace tpuc::runtime {

size_t dtypeSize(DType dtype) {
  switch (dtype) {
  case DType::FP32:
  case DType::INT32:
  case DType::UINT32:
    return 4;
  case DType::BF16:
  case DType::INT16:
  case DType::UINT16:
    return 2;
  case DType::INT8:
  case DType::UINT8:
    return 1;
  }
  throw Error("unknown tensor data type " + std::to_string(static_cast<int>(dtype)));
}

const char *dtypeName(DType dtype) {
  static const char *const names[] = {"fp32",  "int32",  "uint32", "bf16",
                                      "int16", "uint16", "int8",   "uint8"};
  auto index = static_cast<size_t>(dtype);
  if (index >= std::size(names))
    throw Error("unknown tensor data type " + std::to_string(index));
  return names[index];
}

const char *sectionTypeName(SectionType type) {
  switch (type) {
  case SectionType::WEIGHT:
    return "weight";
  case SectionType::CMDBUF:
    return "cmdbuf";
  case SectionType::FUNC_X86:
    return "func_x86";
  case SectionType::FUNC_AARCH64:
    return "func_aarch64";
  case SectionType::DMABUF:
    return "dmabuf";
  }
  return "unknown";
}

const SectionInfo *CvimodelInfo::findSection(const std::string &sectionName) const {
  for (const SectionInfo &section : sections)
    if (section.name == sectionName)
      return &section;
  return nullptr;
}

namespace {

namespace fb = cvi::model;

/// Strings of the body; all of them are names or labels and must be UTF-8.
std::string str(const flatbuffers::String *s) {
  if (!s)
    return std::string();
  std::string value = s->str();
  if (!isValidUtf8(value))
    throw Error("cvimodel body holds a string that is not valid UTF-8");
  return value;
}

std::vector<std::string>
strings(const flatbuffers::Vector<flatbuffers::Offset<flatbuffers::String>> *v) {
  std::vector<std::string> out;
  if (v)
    for (const flatbuffers::String *s : *v)
      out.push_back(str(s));
  return out;
}

std::vector<int64_t> dims(const fb::Shape *shape) {
  std::vector<int64_t> out;
  if (shape && shape->dim())
    out.assign(shape->dim()->begin(), shape->dim()->end());
  return out;
}

std::vector<float> floats(const flatbuffers::Vector<float> *v) {
  return v ? std::vector<float>(v->begin(), v->end()) : std::vector<float>();
}

TensorInfo convertTensor(const fb::Tensor &t) {
  TensorInfo info;
  info.id = t.tensor_id();
  info.name = str(t.name());
  info.offset = t.offset();
  info.dtype = static_cast<DType>(t.dtype());
  info.shape = dims(t.shape());
  if (t.stride())
    info.stride = dims(t.stride());
  if (const fb::QuantInfo *q = t.quant())
    info.quant = QuantInfo{static_cast<uint8_t>(q->type()), q->max_value(), q->min_value(),
                           q->zero_point(), q->qscale()};
  info.overwrote = t.overwrote();
  info.scale = floats(t.scale());
  info.mean = floats(t.mean());
  info.pixelFormat = str(t.pixel_format());
  info.aligned = t.aligned();
  info.size = t.size();
  return info;
}

RoutineInfo convertRoutine(const fb::Routine &r) {
  RoutineInfo info;
  info.type = static_cast<RoutineType>(r.type());
  info.inTensors = strings(r.in_tensors());
  info.outTensors = strings(r.out_tensors());
  if (const fb::TpuRoutine *tpu = r.tpu_routine()) {
    info.hasTpuRoutine = true;
    info.cmdbufSection = str(tpu->cmdbuf_section());
    info.dmabufSection = str(tpu->dmabuf_section());
  }
  if (const fb::CpuRoutine *cpu = r.cpu_routine()) {
    info.hasCpuRoutine = true;
    info.functionName = str(cpu->function_section());
    info.functionArgs.assign(cpu->function_args()->begin(), cpu->function_args()->end());
  }
  return info;
}

ProgramInfo convertProgram(const fb::Program &p) {
  ProgramInfo info;
  info.batchNum = p.batch_num();
  info.neuronSize = p.neuron_size();
  info.inputTensors = strings(p.input_tensors());
  info.outputTensors = strings(p.output_tensors());
  for (const fb::Tensor *t : *p.tensor_map())
    info.tensors.push_back(convertTensor(*t));
  for (const fb::Routine *r : *p.routines())
    info.routines.push_back(convertRoutine(*r));
  info.sharedGmem = p.shared_gmem();
  info.privateGmem = p.private_gmem();
  return info;
}

SectionInfo convertSection(const fb::Section &s, std::span<const uint8_t> blob) {
  SectionInfo info;
  info.type = static_cast<SectionType>(s.type());
  info.name = str(s.name());
  info.size = s.size();
  info.offset = s.offset();
  info.encrypt = s.encrypt();
  info.compress = s.compress();
  info.decompressedSize = s.decompressed_size();
  const std::string what = "section '" + info.name + "'";
  if (std::string(sectionTypeName(info.type)) == "unknown")
    throw Error(what + " has unknown type " + std::to_string(static_cast<int>(info.type)));
  if (uint64_t(info.offset) + info.size > blob.size())
    throw Error(what + " (offset " + std::to_string(info.offset) + ", " +
                std::to_string(info.size) + " bytes) lies outside the blob (" +
                std::to_string(blob.size()) + " bytes)");
  if (info.encrypt)
    throw Error(what + " is encrypted; encrypted sections are not supported");
  std::span<const uint8_t> stored = blob.subspan(info.offset, info.size);
  if (!info.compress) {
    info.data.assign(stored.begin(), stored.end());
    return info;
  }
  if (info.size > uint32_t(LZ4_MAX_INPUT_SIZE) || info.decompressedSize > uint32_t(INT32_MAX))
    throw Error(what + " is too large to decompress");
  info.data.resize(info.decompressedSize);
  int produced = LZ4_decompress_safe(
      reinterpret_cast<const char *>(stored.data()), reinterpret_cast<char *>(info.data.data()),
      static_cast<int>(stored.size()), static_cast<int>(info.data.size()));
  if (produced < 0)
    throw Error(what + ": corrupt LZ4 data");
  if (uint32_t(produced) != info.decompressedSize)
    throw Error(what + ": LZ4 data decompresses to " + std::to_string(produced) +
                " bytes, decompressed_size says " + std::to_string(info.decompressedSize));
  return info;
}

} // namespace

CvimodelInfo parseCvimodel(std::span<const uint8_t> file) {
  if (file.size() < 32)
    throw Error("truncated cvimodel header: file has " + std::to_string(file.size()) +
                " bytes, the header needs " + std::to_string(kCvimodelHeaderSize));
  if (std::memcmp(file.data(), "CviModel", 8) != 0)
    throw Error("bad magic: not a cvimodel file (expected \"CviModel\")");
  CvimodelInfo model;
  uint32_t bodySize = uint32_t(file[8]) | uint32_t(file[9]) << 8 | uint32_t(file[10]) << 16 |
                      uint32_t(file[11]) << 24;
  model.majorVersion = file[12];
  model.minorVersion = file[13];
  if (model.majorVersion != 1)
    throw Error("unsupported cvimodel format version " + std::to_string(model.majorVersion) + "." +
                std::to_string(model.minorVersion));
  // Format 1.0 used a 32-byte header without the chip name.
  size_t headerSize = model.minorVersion == 0 ? 32 : kCvimodelHeaderSize;
  if (file.size() < headerSize)
    throw Error("truncated cvimodel header: file has " + std::to_string(file.size()) +
                " bytes, the header needs " + std::to_string(headerSize));
  std::span<const uint8_t> storedMd5 = file.subspan(14, 16);
  model.md5Hex = toHex(storedMd5);
  if (headerSize == kCvimodelHeaderSize) {
    const char *chip = reinterpret_cast<const char *>(file.data() + 30);
    model.chip.assign(chip, strnlen(chip, 16));
  } else {
    model.chip.clear();
  }
  std::span<const uint8_t> rest = file.subspan(headerSize);
  if (bodySize > rest.size())
    throw Error("truncated cvimodel: body_size is " + std::to_string(bodySize) +
                " bytes but only " + std::to_string(rest.size()) + " follow the header");
  auto digest = md5(rest);
  if (std::memcmp(digest.data(), storedMd5.data(), 16) != 0)
    throw Error("MD5 mismatch: header records " + model.md5Hex + ", content hashes to " +
                toHex(digest) + " (file corrupted or truncated)");

  // Copy the body so that the FlatBuffer is suitably aligned for the verifier and the accessors.
  std::vector<uint8_t> body(rest.begin(), rest.begin() + bodySize);
  std::span<const uint8_t> blob = rest.subspan(bodySize);
  flatbuffers::Verifier verifier(body.data(), body.size());
  if (!fb::VerifyModelBuffer(verifier))
    throw Error(
        "cvimodel body fails FlatBuffers verification (malformed or not a cvi.model.Model)");
  const fb::Model *root = fb::GetModel(body.data());

  model.versionMajor = root->version()->major_();
  model.versionMinor = root->version()->minor_();
  model.versionSubMinor = root->version()->sub_minor();
  model.name = str(root->name());
  model.buildTime = str(root->build_time());
  model.target = str(root->target());
  model.mlirVersion = str(root->mlir_version());
  if (model.chip.empty())
    model.chip = model.target;
  if (const fb::PreProcessHints *h = root->preprocess_hints())
    model.preprocessHints =
        PreProcessHints{str(h->color()),       str(h->mean()), str(h->std()),
                        str(h->data_format()), h->raw_scale(), h->input_scale()};
  if (const fb::PostProcessHints *h = root->postprocess_hints())
    model.doneSoftmax = h->done_softmax();
  if (root->weight_map())
    for (const fb::Weight *w : *root->weight_map())
      model.weights.push_back({str(w->name()), w->offset(), w->size(), dims(w->shape()),
                               static_cast<DType>(w->type())});
  for (const fb::Program *p : *root->programs())
    model.programs.push_back(convertProgram(*p));
  std::set<std::string> names;
  for (const fb::Section *s : *root->sections()) {
    model.sections.push_back(convertSection(*s, blob));
    if (!names.insert(model.sections.back().name).second)
      throw Error("duplicate section name '" + model.sections.back().name + "'");
  }
  return model;
}

CvimodelInfo readCvimodelFile(const std::string &path) {
  std::vector<uint8_t> bytes = readBinaryFile(path);
  try {
    return parseCvimodel(bytes);
  } catch (const Error &e) {
    throw Error(path + ": " + e.what());
  }
}

} // namespace tpuc::runtime
