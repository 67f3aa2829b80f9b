//===- OpParam.h - typed parameters of a custom operator --------*- C++ -*-===//
//
// cvi::OpParam is the name -> typed value map handed to custom operators: the compiler plugin
// (cvi::CustomOp) and the runtime CPU function (cvi::runtime::ICpuFunction::setup) both receive
// one. Values are int8_t, int32_t, float, bool, std::string or std::vector of those. get<T>()
// throws std::runtime_error when the name is missing or holds a different type. Header-only, so
// that a plugin library and the runtime that loads it agree on the layout.
//
//===----------------------------------------------------------------------===//
#pragma once

#include <cstdint>
#include <map>
#include <stdexcept>
#include <string>
#include <type_traits>
#include <variant>
#include <vector>

namespace cvi {

class OpParam {
public:
  using Value = std::variant<int8_t, int32_t, float, bool, std::string, std::vector<int8_t>,
                             std::vector<int32_t>, std::vector<float>, std::vector<bool>,
                             std::vector<std::string>>;

  template <typename T> void put(const std::string &name, T value) {
    static_assert(isSupported<T>(), "cvi::OpParam: unsupported value type");
    values[name] = Value(std::in_place_type<T>, std::move(value));
  }

  bool has(const std::string &name) const { return values.count(name) != 0; }

  template <typename T> const T &get(const std::string &name) const {
    static_assert(isSupported<T>(), "cvi::OpParam: unsupported value type");
    auto it = values.find(name);
    if (it == values.end())
      throw std::runtime_error("OpParam: no parameter named '" + name + "'");
    const T *value = std::get_if<T>(&it->second);
    if (!value)
      throw std::runtime_error("OpParam: parameter '" + name + "' is a " + typeName(it->second) +
                               ", not a " + typeName(Value(T{})));
    return *value;
  }

  /// Name of the type held by a value, as used in error messages.
  static std::string typeName(const Value &value) {
    static const char *const names[] = {"int8",       "int32",       "float",       "bool",
                                        "string",     "int8 array",  "int32 array", "float array",
                                        "bool array", "string array"};
    return names[value.index()];
  }

  const std::map<std::string, Value> &all() const { return values; }
  size_t size() const { return values.size(); }

private:
  template <typename T> static constexpr bool isSupported() {
    return std::is_same_v<T, int8_t> || std::is_same_v<T, int32_t> || std::is_same_v<T, float> ||
           std::is_same_v<T, bool> || std::is_same_v<T, std::string> ||
           std::is_same_v<T, std::vector<int8_t>> || std::is_same_v<T, std::vector<int32_t>> ||
           std::is_same_v<T, std::vector<float>> || std::is_same_v<T, std::vector<bool>> ||
           std::is_same_v<T, std::vector<std::string>>;
  }

  std::map<std::string, Value> values;
};

} // namespace cvi
