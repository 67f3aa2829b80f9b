//===- CvimodelWriterBridge.cpp - non-throwing calls into the runtime -----===//
#include "passes/codegen/CvimodelWriterBridge.h"

#include "cvi/OpParam.h"
#include "tpuc/runtime/OpParamCodec.h"

#include <exception>

namespace tpuc::backend {

bool encodeCpuParams(const std::vector<CpuParam> &params, std::vector<uint8_t> &out,
                     std::string &error) {
  try {
    cvi::OpParam param;
    for (const CpuParam &p : params) {
      switch (p.kind) {
      case CpuParam::Kind::Int:
        param.put<int32_t>(p.key, p.i);
        break;
      case CpuParam::Kind::Float:
        param.put<float>(p.key, p.f);
        break;
      case CpuParam::Kind::Bool:
        param.put<bool>(p.key, p.b);
        break;
      case CpuParam::Kind::String:
        param.put<std::string>(p.key, p.s);
        break;
      case CpuParam::Kind::IntArray:
        param.put<std::vector<int32_t>>(p.key, p.ints);
        break;
      case CpuParam::Kind::FloatArray:
        param.put<std::vector<float>>(p.key, p.floats);
        break;
      }
    }
    out = runtime::encodeOpParam(param);
    return true;
  } catch (const std::exception &e) {
    error = e.what();
    return false;
  }
}

bool serializeCvimodel(const runtime::CvimodelInfo &model, std::vector<uint8_t> &out,
                       std::string &error) {
  try {
    out = runtime::writeCvimodel(model);
    return true;
  } catch (const std::exception &e) {
    error = e.what();
    return false;
  }
}

} // namespace tpuc::backend
