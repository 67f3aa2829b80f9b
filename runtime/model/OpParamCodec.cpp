//===- OpParamCodec.cpp - cvi::OpParam <-> cvi.cpu_op.Parameter -----------===//

#include "tpuc/runtime/OpParamCodec.h"
#include "Utf8.h"
#include "tpuc/runtime/Error.h"
#include "tpuc/runtime/schema/parameter_generated.h"

namespace tpuc::runtime {
namespace {
namespace fb = cvi::cpu_op;
} // namespace

cvi::OpParam decodeOpParam(std::span<const uint8_t> args, const std::string &what) {
  cvi::OpParam param;
  if (args.empty())
    return param;
  std::vector<uint8_t> buffer(args.begin(), args.end()); // aligned copy
  flatbuffers::Verifier verifier(buffer.data(), buffer.size());
  if (!fb::VerifyParameterBuffer(verifier))
    throw Error(what +
                ": function_args fail FlatBuffers verification (not a cvi.cpu_op.Parameter)");
  const fb::Parameter *root = fb::GetParameter(buffer.data());
  if (!root->attributes())
    return param;
  size_t index = 0;
  for (const fb::Attribute *a : *root->attributes()) {
    std::string where = what + ": attribute #" + std::to_string(index++);
    int present = (a->float_attr() != nullptr) + (a->bool_attr() != nullptr) +
                  (a->int_attr() != nullptr) + (a->str_attr() != nullptr) +
                  (a->float_array_attr() != nullptr) + (a->int_array_attr() != nullptr);
    if (present != 1)
      throw Error(where + " must hold exactly one value, holds " + std::to_string(present));
    auto key = [&](const flatbuffers::String *k) {
      if (!k || k->size() == 0)
        throw Error(where + " has no key");
      if (!isValidUtf8(k->str()))
        throw Error(where + ": key is not valid UTF-8");
      return k->str();
    };
    if (auto *v = a->float_attr())
      param.put<float>(key(v->key()), v->value());
    else if (auto *v = a->bool_attr())
      param.put<bool>(key(v->key()), v->value());
    else if (auto *v = a->int_attr())
      param.put<int32_t>(key(v->key()), v->value());
    else if (auto *v = a->str_attr()) {
      std::string text = v->value() ? v->value()->str() : std::string();
      if (!isValidUtf8(text))
        throw Error(where + ": string value is not valid UTF-8");
      param.put<std::string>(key(v->key()), text);
    } else if (auto *v = a->float_array_attr())
      param.put<std::vector<float>>(
          key(v->key()), v->value() ? std::vector<float>(v->value()->begin(), v->value()->end())
                                    : std::vector<float>());
    else if (auto *v = a->int_array_attr())
      param.put<std::vector<int32_t>>(
          key(v->key()), v->value() ? std::vector<int32_t>(v->value()->begin(), v->value()->end())
                                    : std::vector<int32_t>());
  }
  return param;
}

std::vector<uint8_t> encodeOpParam(const cvi::OpParam &param) {
  flatbuffers::FlatBufferBuilder b(256);
  std::vector<flatbuffers::Offset<fb::Attribute>> attributes;
  for (const auto &[name, value] : param.all()) {
    auto key = b.CreateString(name);
    flatbuffers::Offset<fb::Attribute> attr;
    if (auto *v = std::get_if<int8_t>(&value))
      attr = fb::CreateAttribute(b, 0, 0, fb::CreateIntAttr(b, key, *v));
    else if (auto *v = std::get_if<int32_t>(&value))
      attr = fb::CreateAttribute(b, 0, 0, fb::CreateIntAttr(b, key, *v));
    else if (auto *v = std::get_if<float>(&value))
      attr = fb::CreateAttribute(b, fb::CreateFloatAttr(b, key, *v));
    else if (auto *v = std::get_if<bool>(&value))
      attr = fb::CreateAttribute(b, 0, fb::CreateBoolAttr(b, key, *v));
    else if (auto *v = std::get_if<std::string>(&value))
      attr = fb::CreateAttribute(b, 0, 0, 0, fb::CreateStrAttr(b, key, b.CreateString(*v)));
    else if (auto *v = std::get_if<std::vector<float>>(&value))
      attr =
          fb::CreateAttribute(b, 0, 0, 0, 0, fb::CreateFloatArrayAttr(b, key, b.CreateVector(*v)));
    else if (auto *v = std::get_if<std::vector<int32_t>>(&value))
      attr =
          fb::CreateAttribute(b, 0, 0, 0, 0, 0, fb::CreateIntArrayAttr(b, key, b.CreateVector(*v)));
    else if (auto *v = std::get_if<std::vector<int8_t>>(&value)) {
      std::vector<int32_t> widened(v->begin(), v->end());
      attr = fb::CreateAttribute(b, 0, 0, 0, 0, 0,
                                 fb::CreateIntArrayAttr(b, key, b.CreateVector(widened)));
    } else
      throw Error("parameter '" + name + "' is a " + cvi::OpParam::typeName(value) +
                  ", which a CPU function parameter cannot hold");
    attributes.push_back(attr);
  }
  auto root = fb::CreateParameter(b, b.CreateVector(attributes));
  fb::FinishParameterBuffer(b, root);
  return std::vector<uint8_t>(b.GetBufferPointer(), b.GetBufferPointer() + b.GetSize());
}

} // namespace tpuc::runtime
