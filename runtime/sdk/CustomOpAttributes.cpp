//===- CustomOpAttributes.cpp - tpu.custom_op param <-> cvi::OpParam ------===//
#include "runtime/sdk/CustomOpAttributes.h"

#include "mlir/IR/Builders.h"
#include "mlir/IR/BuiltinTypes.h"

#include <limits>
#include <variant>

using namespace mlir;

namespace tpuc::sdk {
namespace {

enum class Kind { None, Bool, Int8, Int32, Float, String };

struct Values {
  Kind kind = Kind::None;
  std::vector<bool> bools;
  std::vector<int64_t> ints;
  std::vector<float> floats;
  std::vector<std::string> strings;
};

// Appends one scalar attribute; false when it is not a parameter value.
bool addScalar(Attribute attr, Values &v, Kind &kind) {
  if (auto flag = dyn_cast<BoolAttr>(attr)) {
    kind = Kind::Bool;
    v.bools.push_back(flag.getValue());
  } else if (auto integer = dyn_cast<IntegerAttr>(attr)) {
    Type type = integer.getType();
    unsigned width = type.isIndex() ? 64 : type.getIntOrFloatBitWidth();
    kind = width == 8 ? Kind::Int8 : Kind::Int32;
    v.ints.push_back(type.isUnsignedInteger() ? int64_t(integer.getValue().getZExtValue())
                                              : integer.getValue().getSExtValue());
  } else if (auto real = dyn_cast<FloatAttr>(attr)) {
    kind = Kind::Float;
    v.floats.push_back(float(real.getValueAsDouble()));
  } else if (auto text = dyn_cast<StringAttr>(attr)) {
    kind = Kind::String;
    v.strings.push_back(text.getValue().str());
  } else {
    return false;
  }
  return true;
}

bool collect(StringRef name, Attribute value, Values &v, bool &isArray, std::string &error) {
  auto unsupported = [&] {
    error = "param '" + name.str() + "' holds a value cvi::OpParam cannot represent";
    return false;
  };
  isArray = true;
  if (auto array = dyn_cast<ArrayAttr>(value)) {
    for (Attribute element : array) {
      Kind kind;
      if (!addScalar(element, v, kind))
        return unsupported();
      if (v.kind != Kind::None && v.kind != kind) {
        error = "param '" + name.str() + "' mixes value kinds";
        return false;
      }
      v.kind = kind;
    }
    if (v.kind == Kind::None)
      v.kind = Kind::Int32; // an empty list: an empty int32 vector
    return true;
  }
  if (auto ints = dyn_cast<DenseI64ArrayAttr>(value)) {
    v.kind = Kind::Int32;
    v.ints.assign(ints.asArrayRef().begin(), ints.asArrayRef().end());
    return true;
  }
  if (auto ints = dyn_cast<DenseI32ArrayAttr>(value)) {
    v.kind = Kind::Int32;
    v.ints.assign(ints.asArrayRef().begin(), ints.asArrayRef().end());
    return true;
  }
  if (auto floats = dyn_cast<DenseF32ArrayAttr>(value)) {
    v.kind = Kind::Float;
    v.floats.assign(floats.asArrayRef().begin(), floats.asArrayRef().end());
    return true;
  }
  if (auto floats = dyn_cast<DenseF64ArrayAttr>(value)) {
    v.kind = Kind::Float;
    for (double f : floats.asArrayRef())
      v.floats.push_back(float(f));
    return true;
  }
  if (auto bools = dyn_cast<DenseBoolArrayAttr>(value)) {
    v.kind = Kind::Bool;
    v.bools.assign(bools.asArrayRef().begin(), bools.asArrayRef().end());
    return true;
  }
  isArray = false;
  if (!addScalar(value, v, v.kind))
    return unsupported();
  return true;
}

} // namespace

bool toOpParam(DictionaryAttr dict, cvi::OpParam &param, std::string &error) {
  if (!dict)
    return true;
  for (NamedAttribute entry : dict) {
    StringRef name = entry.getName().getValue();
    Values v;
    bool isArray = false;
    if (!collect(name, entry.getValue(), v, isArray, error))
      return false;
    std::string key = name.str();
    switch (v.kind) {
    case Kind::None:
      break;
    case Kind::Bool:
      if (isArray)
        param.put<std::vector<bool>>(key, v.bools);
      else
        param.put<bool>(key, v.bools.front());
      break;
    case Kind::Int8: {
      std::vector<int8_t> values;
      for (int64_t x : v.ints)
        values.push_back(int8_t(x));
      if (isArray)
        param.put<std::vector<int8_t>>(key, values);
      else
        param.put<int8_t>(key, values.front());
      break;
    }
    case Kind::Int32: {
      std::vector<int32_t> values;
      for (int64_t x : v.ints) {
        if (x < std::numeric_limits<int32_t>::min() || x > std::numeric_limits<int32_t>::max()) {
          error = "param '" + key + "': " + std::to_string(x) +
                  " does not fit the 32-bit integers of cvi::OpParam";
          return false;
        }
        values.push_back(int32_t(x));
      }
      if (isArray)
        param.put<std::vector<int32_t>>(key, values);
      else
        param.put<int32_t>(key, values.front());
      break;
    }
    case Kind::Float:
      if (isArray)
        param.put<std::vector<float>>(key, v.floats);
      else
        param.put<float>(key, v.floats.front());
      break;
    case Kind::String:
      if (isArray)
        param.put<std::vector<std::string>>(key, v.strings);
      else
        param.put<std::string>(key, v.strings.front());
      break;
    }
  }
  return true;
}

DictionaryAttr toDictionary(MLIRContext *context, const cvi::OpParam &param) {
  Builder b(context);
  NamedAttrList attrs;
  auto array = [&](const auto &values, auto make) {
    SmallVector<Attribute> elements;
    for (const auto &x : values)
      elements.push_back(make(x));
    return b.getArrayAttr(elements);
  };
  auto i8 = [&](int8_t x) -> Attribute { return b.getIntegerAttr(b.getIntegerType(8), x); };
  auto i32 = [&](int32_t x) -> Attribute { return b.getI32IntegerAttr(x); };
  auto f32 = [&](float x) -> Attribute { return b.getF32FloatAttr(x); };
  auto flag = [&](bool x) -> Attribute { return b.getBoolAttr(x); };
  auto text = [&](const std::string &x) -> Attribute { return b.getStringAttr(x); };
  for (const auto &[name, value] : param.all()) {
    Attribute attr;
    if (auto *v = std::get_if<int8_t>(&value))
      attr = i8(*v);
    else if (auto *v = std::get_if<int32_t>(&value))
      attr = i32(*v);
    else if (auto *v = std::get_if<float>(&value))
      attr = f32(*v);
    else if (auto *v = std::get_if<bool>(&value))
      attr = flag(*v);
    else if (auto *v = std::get_if<std::string>(&value))
      attr = text(*v);
    else if (auto *v = std::get_if<std::vector<int8_t>>(&value))
      attr = array(*v, i8);
    else if (auto *v = std::get_if<std::vector<int32_t>>(&value))
      attr = array(*v, i32);
    else if (auto *v = std::get_if<std::vector<float>>(&value))
      attr = array(*v, f32);
    else if (auto *v = std::get_if<std::vector<bool>>(&value))
      attr = array(*v, flag);
    else if (auto *v = std::get_if<std::vector<std::string>>(&value))
      attr = array(*v, text);
    if (attr)
      attrs.set(b.getStringAttr(name), attr);
  }
  return attrs.getDictionary(context);
}

} // namespace tpuc::sdk
