//===- OpParam.h - typed parameters of a custom operator --------*- C++ -*-===//
//
// cvi::OpParam is the name -> typed value map handed to custom operators: the compiler plugin
// (cvi::CustomOp) and the runtime CPU function (cvi::runtime::ICpuFunction::setup) both receive
// one. Values are int8_t, int32_t, float, bool, std::string or std::vector of those. get<T>()
// throws std::runtime_error when the name is missing or holds a different type. Header-only.
//
// Binary layout. A runtime library built with these headers is also loaded by the vendor's CV18xx
// runtime, which hands setup() its own OpParam; both sides therefore use the vendor's layout:
//   - cvi::FieldBase: polymorphic, no data (only a virtual destructor);
//   - cvi::Field<T> : FieldBase, holding `T data` right after the vtable pointer;
//   - cvi::OpParam: exactly one member, std::map<std::string, std::shared_ptr<FieldBase>>.
// A value is read back with dynamic_cast<Field<T> *>. With GCC's ABI a dynamic_cast between
// libraries compares the mangled type names, so Field, FieldBase and their namespace must keep
// these names, and the value types must be the exact types (int32_t is `int`, std::string is the
// C++11-ABI string). The vendor runtime fills int32_t, float, bool, std::string,
// std::vector<int32_t> and std::vector<float> (the kinds of cvi.cpu_op.Parameter).
//
// Code compiled without RTTI (-fno-rtti) cannot use dynamic_cast and must not emit the Field<T>
// vtables itself (they would lack the type information a plugin's dynamic_cast needs). There the
// few RTTI-dependent templates below are only declared; their definitions come from
// runtime/sdk/OpParamSupport.cpp (compiled with RTTI, part of the tools' plugin host library).
//
//===----------------------------------------------------------------------===//
#pragma once

#include <cstddef>
#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>
#include <type_traits>
#include <utility>
#include <variant>
#include <vector>

namespace cvi {

/// Type-erased holder of one parameter value (no data of its own).
class FieldBase {
public:
  FieldBase() = default;
  virtual ~FieldBase() = default;
};

/// One parameter value of type T.
template <typename T> class Field : public FieldBase {
public:
  explicit Field(T value) : data(std::move(value)) {}
  T data;
};

namespace detail {

/// A new Field<T> holding `value`.
template <typename T> std::shared_ptr<FieldBase> makeField(T value);
/// The value of `field` when it is a Field<T>, otherwise null.
template <typename T> T *fieldData(FieldBase *field);

#if defined(__GXX_RTTI) || defined(_CPPRTTI)
template <typename T> std::shared_ptr<FieldBase> makeField(T value) {
  return std::make_shared<Field<T>>(std::move(value));
}
template <typename T> T *fieldData(FieldBase *field) {
  auto *typed = dynamic_cast<Field<T> *>(field);
  return typed ? &typed->data : nullptr;
}
#endif

} // namespace detail

class OpParam {
public:
  /// The value types, in the order of Kind.
  using Value = std::variant<int8_t, int32_t, float, bool, std::string, std::vector<int8_t>,
                             std::vector<int32_t>, std::vector<float>, std::vector<bool>,
                             std::vector<std::string>>;
  /// Value::index() of each type; Unsupported for a Field of any other type.
  enum Kind : size_t {
    Int8,
    Int32,
    Float,
    Bool,
    String,
    Int8Array,
    Int32Array,
    FloatArray,
    BoolArray,
    StringArray,
    Unsupported
  };

  OpParam() = default;
  /// Copies are deep: the copy's values are independent of the original's.
  OpParam(const OpParam &other) { copyFrom(other); }
  OpParam &operator=(const OpParam &other) {
    if (this != &other) {
      fields.clear();
      copyFrom(other);
    }
    return *this;
  }
  OpParam(OpParam &&) = default;
  OpParam &operator=(OpParam &&) = default;
  ~OpParam() = default;

  template <typename T> void put(const std::string &name, T value) {
    static_assert(kindOf<T>() != Unsupported, "cvi::OpParam: unsupported value type");
    fields[name] = detail::makeField<T>(std::move(value));
  }

  bool has(const std::string &name) const { return fields.count(name) != 0; }

  template <typename T> T &get(const std::string &name) {
    static_assert(kindOf<T>() != Unsupported, "cvi::OpParam: unsupported value type");
    auto it = fields.find(name);
    if (it == fields.end())
      throw std::runtime_error("OpParam: no parameter named '" + name + "'");
    T *value = detail::fieldData<T>(it->second.get());
    if (!value)
      throw std::runtime_error("OpParam: parameter '" + name + "' is a " +
                               kindName(kindOfField(it->second.get())) + ", not a " +
                               kindName(kindOf<T>()));
    return *value;
  }
  template <typename T> const T &get(const std::string &name) const {
    return const_cast<OpParam *>(this)->get<T>(name);
  }

  /// Kind of the value named `name` (Unsupported when there is none or it is of another type).
  Kind kind(const std::string &name) const {
    auto it = fields.find(name);
    return it == fields.end() ? Unsupported : kindOfField(it->second.get());
  }

  /// Name of a kind, as used in error messages ("int32", "float array", ...).
  static const char *kindName(Kind kind) {
    static const char *const names[] = {"int8",
                                        "int32",
                                        "float",
                                        "bool",
                                        "string",
                                        "int8 array",
                                        "int32 array",
                                        "float array",
                                        "bool array",
                                        "string array",
                                        "value of an unsupported type"};
    return names[kind <= Unsupported ? kind : Unsupported];
  }
  /// Name of the type held by a value, as used in error messages.
  static std::string typeName(const Value &value) { return kindName(Kind(value.index())); }

  /// Snapshot of every value of a supported type, by name.
  std::map<std::string, Value> all() const {
    std::map<std::string, Value> values;
    for (const auto &[name, field] : fields)
      if (std::optional<Value> v = valueOf(field.get()))
        values.emplace(name, std::move(*v));
    return values;
  }
  size_t size() const { return fields.size(); }

  template <typename T> static constexpr Kind kindOf() {
    using std::is_same_v, std::vector;
    return is_same_v<T, int8_t>                ? Int8
           : is_same_v<T, int32_t>             ? Int32
           : is_same_v<T, float>               ? Float
           : is_same_v<T, bool>                ? Bool
           : is_same_v<T, std::string>         ? String
           : is_same_v<T, vector<int8_t>>      ? Int8Array
           : is_same_v<T, vector<int32_t>>     ? Int32Array
           : is_same_v<T, vector<float>>       ? FloatArray
           : is_same_v<T, vector<bool>>        ? BoolArray
           : is_same_v<T, vector<std::string>> ? StringArray
                                               : Unsupported;
  }

private:
  static Kind kindOfField(FieldBase *field) {
    return kindOfFieldFrom(field, std::make_index_sequence<std::variant_size_v<Value>>());
  }
  template <size_t... I> static Kind kindOfFieldFrom(FieldBase *field, std::index_sequence<I...>) {
    Kind found = Unsupported;
    ((found == Unsupported &&
              detail::fieldData<std::variant_alternative_t<I, Value>>(field) != nullptr
          ? (void)(found = Kind(I))
          : (void)0),
     ...);
    return found;
  }
  static std::optional<Value> valueOf(FieldBase *field) {
    return valueOfFrom(field, std::make_index_sequence<std::variant_size_v<Value>>());
  }
  template <size_t... I>
  static std::optional<Value> valueOfFrom(FieldBase *field, std::index_sequence<I...>) {
    std::optional<Value> value;
    ((!value ? (void)([&] {
       if (auto *data = detail::fieldData<std::variant_alternative_t<I, Value>>(field))
         value.emplace(std::in_place_index<I>, *data);
     }())
             : (void)0),
     ...);
    return value;
  }
  void copyFrom(const OpParam &other) {
    for (const auto &[name, field] : other.fields) {
      std::optional<Value> v = valueOf(field.get());
      if (!v) {
        fields[name] = field; // a type this header does not know: shared
        continue;
      }
      std::visit([&, &key = name](auto &x) { put(key, std::move(x)); }, *v);
    }
  }

  // The only data member (see the layout notes at the top).
  std::map<std::string, std::shared_ptr<FieldBase>> fields;
};

} // namespace cvi
