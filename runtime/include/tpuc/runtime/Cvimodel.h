//===- Cvimodel.h - the contents of a .cvimodel file ------------*- C++ -*-===//
//
// A .cvimodel is a 48-byte header (magic "CviModel", body size, format version, MD5 of the rest,
// chip name), a FlatBuffers body (root table cvi.model.Model) and a blob holding the section
// payloads. parseCvimodel() checks the container (header, MD5, FlatBuffers verifier, section
// ranges, LZ4 sizes) and returns the plain description below, with every section decompressed;
// writeCvimodel() produces a file from such a description. Semantic checks that need the whole
// program (regions, tensor placement, routine operands) are done when a Model is built from it.
//
//===----------------------------------------------------------------------===//
#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <vector>

namespace tpuc::runtime {

inline constexpr size_t kCvimodelHeaderSize = 48;

enum class DType : uint8_t { FP32 = 0, INT32, UINT32, BF16, INT16, UINT16, INT8, UINT8 };
/// Bytes per element; throws Error for a value outside the enum.
size_t dtypeSize(DType dtype);
/// "fp32", "int8", ...; throws Error for a value outside the enum.
const char *dtypeName(DType dtype);

enum class SectionType : uint8_t {
  WEIGHT = 0,
  CMDBUF = 1,
  FUNC_X86 = 2,
  FUNC_AARCH64 = 3,
  DMABUF = 4
};
const char *sectionTypeName(SectionType type); ///< "weight", "cmdbuf", ...; "unknown" otherwise

enum class RoutineType : uint8_t { TPU = 0, CPU = 1 };

struct QuantInfo {
  uint8_t type = 0; ///< NONE=0, BF16=1, INT8_SYM=2, INT8_ASYM=3
  float maxValue = 0, minValue = 0, zeroPoint = 0, qscale = 0;
};

struct TensorInfo {
  uint32_t id = 0;
  std::string name;
  int64_t offset = 0; ///< region in bits 42:40, byte offset inside the region in bits 39:0
  DType dtype = DType::FP32;
  std::vector<int64_t> shape;
  std::optional<std::vector<int64_t>> stride;
  std::optional<QuantInfo> quant;
  bool overwrote = false; ///< its memory is reused later in the program
  std::vector<float> scale, mean;
  std::string pixelFormat;
  bool aligned = false;
  uint32_t size = 0; ///< bytes
};

struct WeightInfo {
  std::string name;
  int64_t offset = 0;
  uint32_t size = 0;
  std::vector<int64_t> shape;
  DType type = DType::FP32;
};

struct RoutineInfo {
  RoutineType type = RoutineType::TPU; ///< kept raw: the loader rejects unknown values
  std::vector<std::string> inTensors, outTensors;
  bool hasTpuRoutine = false;
  std::string cmdbufSection, dmabufSection;
  bool hasCpuRoutine = false;
  std::string functionName;          ///< CpuRoutine.function_section
  std::vector<uint8_t> functionArgs; ///< cvi.cpu_op.Parameter FlatBuffer
};

struct ProgramInfo {
  uint32_t batchNum = 0, neuronSize = 0;
  std::vector<std::string> inputTensors, outputTensors;
  std::vector<TensorInfo> tensors;
  std::vector<RoutineInfo> routines;
  uint32_t sharedGmem = 0, privateGmem = 0;
};

struct SectionInfo {
  SectionType type = SectionType::WEIGHT;
  std::string name;
  uint32_t size = 0;   ///< stored bytes in the blob
  uint32_t offset = 0; ///< relative to the start of the blob
  bool encrypt = false, compress = false;
  uint32_t decompressedSize = 0;
  std::vector<uint8_t> data; ///< payload, decompressed
};

struct PreProcessHints {
  std::string color, mean, std, dataFormat;
  float rawScale = 0, inputScale = 0;
};

struct CvimodelInfo {
  // header
  uint8_t majorVersion = 1, minorVersion = 4;
  std::string chip = "cv183x";
  std::string md5Hex; ///< as stored (filled by the parser)
  // body
  uint8_t versionMajor = 1, versionMinor = 4, versionSubMinor = 0;
  std::string name, buildTime, target, mlirVersion;
  std::optional<PreProcessHints> preprocessHints;
  std::optional<bool> doneSoftmax; ///< PostProcessHints.done_softmax
  std::vector<WeightInfo> weights;
  std::vector<ProgramInfo> programs;
  std::vector<SectionInfo> sections;

  const SectionInfo *findSection(const std::string &sectionName) const;
};

/// Parses and checks a whole file image. Throws Error naming what is malformed.
CvimodelInfo parseCvimodel(std::span<const uint8_t> file);
/// Reads and parses a file. Throws Error when it cannot be read or is malformed.
CvimodelInfo readCvimodelFile(const std::string &path);

/// Serialises a description: sections are laid out in order (payloads from `data`, LZ4-compressed
/// when `compress` is set), offsets, sizes and the MD5 are computed. Other fields are written as
/// given, without validation (the loader validates).
std::vector<uint8_t> writeCvimodel(const CvimodelInfo &model);

} // namespace tpuc::runtime
