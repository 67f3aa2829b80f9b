//===- CvimodelWriter.cpp - serialise a cvimodel description --------------===//

#include "tpuc/runtime/Cvimodel.h"
#include "tpuc/runtime/Error.h"
#include "tpuc/runtime/Md5.h"
#include "tpuc/runtime/schema/cvimodel_generated.h"

#include <lz4.h>

#include <cstring>

namespace tpuc::runtime {
namespace {

namespace fb = cvi::model;
using flatbuffers::FlatBufferBuilder;
using flatbuffers::Offset;

Offset<flatbuffers::Vector<Offset<flatbuffers::String>>>
stringVector(FlatBufferBuilder &b, const std::vector<std::string> &items) {
  return b.CreateVectorOfStrings(items);
}

Offset<fb::Shape> shape(FlatBufferBuilder &b, const std::vector<int64_t> &dims) {
  return fb::CreateShape(b, b.CreateVector(dims));
}

Offset<flatbuffers::String> optionalString(FlatBufferBuilder &b, const std::string &s) {
  return s.empty() ? 0 : b.CreateString(s);
}

Offset<fb::Tensor> tensor(FlatBufferBuilder &b, const TensorInfo &t) {
  auto name = b.CreateString(t.name);
  auto dims = shape(b, t.shape);
  Offset<fb::Shape> stride = t.stride ? shape(b, *t.stride) : 0;
  Offset<fb::QuantInfo> quant = 0;
  if (t.quant)
    quant = fb::CreateQuantInfo(b, static_cast<fb::QuantType>(t.quant->type), t.quant->maxValue,
                                t.quant->minValue, t.quant->zeroPoint, t.quant->qscale);
  auto scale = t.scale.empty() ? 0 : b.CreateVector(t.scale);
  auto mean = t.mean.empty() ? 0 : b.CreateVector(t.mean);
  auto pixelFormat = optionalString(b, t.pixelFormat);
  return fb::CreateTensor(b, t.id, name, t.offset, static_cast<fb::DType>(t.dtype), dims, stride,
                          quant, t.overwrote, scale, mean, pixelFormat, t.aligned, t.size);
}

Offset<fb::Routine> routine(FlatBufferBuilder &b, const RoutineInfo &r) {
  auto in = stringVector(b, r.inTensors);
  auto out = stringVector(b, r.outTensors);
  Offset<fb::TpuRoutine> tpu = 0;
  if (r.hasTpuRoutine)
    tpu = fb::CreateTpuRoutine(b, optionalString(b, r.cmdbufSection),
                               optionalString(b, r.dmabufSection));
  Offset<fb::CpuRoutine> cpu = 0;
  if (r.hasCpuRoutine) {
    auto fn = b.CreateString(r.functionName);
    auto args = b.CreateVector(r.functionArgs);
    cpu = fb::CreateCpuRoutine(b, fn, args);
  }
  return fb::CreateRoutine(b, static_cast<fb::RoutineType>(r.type), in, out, tpu, cpu);
}

Offset<fb::Program> program(FlatBufferBuilder &b, const ProgramInfo &p) {
  auto inputs = stringVector(b, p.inputTensors);
  auto outputs = stringVector(b, p.outputTensors);
  std::vector<Offset<fb::Tensor>> tensors;
  for (const TensorInfo &t : p.tensors)
    tensors.push_back(tensor(b, t));
  auto tensorMap = b.CreateVector(tensors);
  std::vector<Offset<fb::Routine>> routines;
  for (const RoutineInfo &r : p.routines)
    routines.push_back(routine(b, r));
  auto routineVector = b.CreateVector(routines);
  return fb::CreateProgram(b, p.batchNum, p.neuronSize, inputs, outputs, tensorMap, routineVector,
                           p.sharedGmem, p.privateGmem);
}

std::vector<uint8_t> storedPayload(const SectionInfo &s) {
  if (!s.compress)
    return s.data;
  if (s.data.size() > size_t(LZ4_MAX_INPUT_SIZE))
    throw Error("section '" + s.name + "' is too large to compress");
  std::vector<uint8_t> packed(LZ4_compressBound(static_cast<int>(s.data.size())));
  int n = LZ4_compress_default(reinterpret_cast<const char *>(s.data.data()),
                               reinterpret_cast<char *>(packed.data()),
                               static_cast<int>(s.data.size()), static_cast<int>(packed.size()));
  if (n <= 0)
    throw Error("LZ4 compression of section '" + s.name + "' failed");
  packed.resize(n);
  return packed;
}

} // namespace

std::vector<uint8_t> writeCvimodel(const CvimodelInfo &model) {
  std::vector<uint8_t> blob;
  FlatBufferBuilder b(4096);
  std::vector<Offset<fb::Section>> sections;
  for (const SectionInfo &s : model.sections) {
    std::vector<uint8_t> payload = storedPayload(s);
    if (blob.size() + payload.size() > UINT32_MAX)
      throw Error("cvimodel blob exceeds 4 GiB");
    auto offset = static_cast<uint32_t>(blob.size());
    blob.insert(blob.end(), payload.begin(), payload.end());
    sections.push_back(
        fb::CreateSection(b, static_cast<fb::SectionType>(s.type), b.CreateString(s.name),
                          static_cast<uint32_t>(payload.size()), offset, s.encrypt, s.compress,
                          s.compress ? static_cast<uint32_t>(s.data.size()) : 0));
  }
  auto sectionVector = b.CreateVector(sections);

  std::vector<Offset<fb::Program>> programs;
  for (const ProgramInfo &p : model.programs)
    programs.push_back(program(b, p));
  auto programVector = b.CreateVector(programs);

  std::vector<Offset<fb::Weight>> weights;
  for (const WeightInfo &w : model.weights)
    weights.push_back(fb::CreateWeight(b, b.CreateString(w.name), w.offset, w.size,
                                       shape(b, w.shape), static_cast<fb::DType>(w.type)));
  auto weightVector = weights.empty() ? 0 : b.CreateVector(weights);

  Offset<fb::PreProcessHints> pre = 0;
  if (model.preprocessHints) {
    const PreProcessHints &h = *model.preprocessHints;
    pre = fb::CreatePreProcessHints(b, optionalString(b, h.color), h.rawScale,
                                    optionalString(b, h.mean), optionalString(b, h.std),
                                    h.inputScale, optionalString(b, h.dataFormat));
  }
  Offset<fb::PostProcessHints> post = 0;
  if (model.doneSoftmax)
    post = fb::CreatePostProcessHints(b, *model.doneSoftmax);

  fb::Version version(model.versionMajor, model.versionMinor, model.versionSubMinor);
  auto root =
      fb::CreateModel(b, &version, b.CreateString(model.name), optionalString(b, model.buildTime),
                      pre, post, weightVector, programVector, sectionVector,
                      optionalString(b, model.target), optionalString(b, model.mlirVersion));
  fb::FinishModelBuffer(b, root);

  std::vector<uint8_t> rest(b.GetBufferPointer(), b.GetBufferPointer() + b.GetSize());
  uint32_t bodySize = static_cast<uint32_t>(rest.size());
  rest.insert(rest.end(), blob.begin(), blob.end());

  std::vector<uint8_t> file(kCvimodelHeaderSize, 0);
  std::memcpy(file.data(), "CviModel", 8);
  for (int i = 0; i < 4; ++i)
    file[8 + i] = uint8_t(bodySize >> (8 * i));
  file[12] = 1;
  file[13] = 4;
  auto digest = md5(rest);
  std::memcpy(file.data() + 14, digest.data(), 16);
  if (model.chip.size() > 16)
    throw Error("chip name '" + model.chip + "' is longer than 16 bytes");
  std::memcpy(file.data() + 30, model.chip.data(), model.chip.size());
  file.insert(file.end(), rest.begin(), rest.end());
  return file;
}

} // namespace tpuc::runtime
