//===- LoaderFuzzer.cpp - libFuzzer target for the cvimodel loader --------===//
//
// Parses the input as a cvimodel image (MD5 recomputed when the magic is intact, so mutations get
// past the checksum) and builds a Model from it. Errors are expected; crashes are bugs. Images with
// embedded CPU-function libraries are only parsed (library sections are trusted code).
//
//===----------------------------------------------------------------------===//

#include "tpuc/runtime/Error.h"
#include "tpuc/runtime/Md5.h"
#include "tpuc/runtime/Model.h"
#include "tpuc/runtime/OpParamCodec.h"

#include <cstring>
#include <vector>

using namespace tpuc::runtime;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  std::vector<uint8_t> image(data, data + size);
  if (image.size() >= kCvimodelHeaderSize && std::memcmp(image.data(), "CviModel", 8) == 0) {
    auto digest = md5(std::span(image).subspan(kCvimodelHeaderSize));
    std::memcpy(image.data() + 14, digest.data(), 16);
  }
  try {
    CvimodelInfo info = parseCvimodel(image);
    for (const ProgramInfo &p : info.programs)
      for (const RoutineInfo &r : p.routines)
        if (r.type == RoutineType::CPU)
          decodeOpParam(r.functionArgs, "function_args");
    for (const SectionInfo &s : info.sections)
      if (s.type == SectionType::FUNC_X86 || s.type == SectionType::FUNC_AARCH64)
        return 0;
    Model model(std::move(info));
  } catch (const Error &) {
  }
  return 0;
}
