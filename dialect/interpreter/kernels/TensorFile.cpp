//===- TensorFile.cpp - npz files of fp32 tensors ---------------------------===//
//
// Reads and writes npz files with the runtime's NumPy reader/writer, converting arrays of any
// numeric element type to fp32.
//
//===----------------------------------------------------------------------===//

#include "dialect/interpreter/Program.h"
#include "dialect/interpreter/kernels/KernelSupport.h"

#include "tpuc/runtime/Npz.h"

#include <cmath>
#include <cstring>

namespace tpuc::interpreter {
namespace {

template <typename T> std::vector<float> convert(const std::vector<uint8_t> &bytes, size_t count) {
  std::vector<float> values(count);
  for (size_t i = 0; i < count; ++i) {
    T v;
    std::memcpy(&v, bytes.data() + i * sizeof(T), sizeof(T));
    values[i] = float(v);
  }
  return values;
}

float halfToFloat(uint16_t h) {
  int exponent = (h >> 10) & 0x1F, mantissa = h & 0x3FF;
  float magnitude;
  if (exponent == 0)
    magnitude = std::ldexp(float(mantissa), -24);
  else if (exponent == 31)
    magnitude = mantissa ? NAN : INFINITY;
  else
    magnitude = std::ldexp(float(mantissa | 0x400), exponent - 25);
  return (h & 0x8000) ? -magnitude : magnitude;
}

std::vector<float> toFloats(const runtime::NpyArray &array, const std::string &what) {
  size_t count = array.count();
  if (array.data.size() != count * array.elementSize())
    fail(what, ": array data has ", array.data.size(), " bytes for ", count, " elements");
  const std::string &d = array.descr;
  if (d == "<f4")
    return convert<float>(array.data, count);
  if (d == "<f8")
    return convert<double>(array.data, count);
  if (d == "|i1")
    return convert<int8_t>(array.data, count);
  if (d == "|u1" || d == "|b1")
    return convert<uint8_t>(array.data, count);
  if (d == "<i2")
    return convert<int16_t>(array.data, count);
  if (d == "<u2")
    return convert<uint16_t>(array.data, count);
  if (d == "<i4")
    return convert<int32_t>(array.data, count);
  if (d == "<u4")
    return convert<uint32_t>(array.data, count);
  if (d == "<i8")
    return convert<int64_t>(array.data, count);
  if (d == "<u8")
    return convert<uint64_t>(array.data, count);
  if (d == "<f2") {
    std::vector<uint16_t> halves(count);
    std::memcpy(halves.data(), array.data.data(), count * 2);
    std::vector<float> values(count);
    for (size_t i = 0; i < count; ++i)
      values[i] = halfToFloat(halves[i]);
    return values;
  }
  fail(what, ": unsupported element type '", d, "'");
}

template <typename T>
std::vector<int64_t> convertInts(const std::vector<uint8_t> &bytes, size_t count) {
  std::vector<int64_t> values(count);
  for (size_t i = 0; i < count; ++i) {
    T v;
    std::memcpy(&v, bytes.data() + i * sizeof(T), sizeof(T));
    values[i] = int64_t(v);
  }
  return values;
}

// The exact values of an integer array (descr of an integer type); false for other arrays.
bool toIntegers(const runtime::NpyArray &array, std::vector<int64_t> &values) {
  const std::string &d = array.descr;
  size_t count = array.count();
  if (d == "|i1")
    values = convertInts<int8_t>(array.data, count);
  else if (d == "|u1" || d == "|b1")
    values = convertInts<uint8_t>(array.data, count);
  else if (d == "<i2")
    values = convertInts<int16_t>(array.data, count);
  else if (d == "<u2")
    values = convertInts<uint16_t>(array.data, count);
  else if (d == "<i4")
    values = convertInts<int32_t>(array.data, count);
  else if (d == "<u4")
    values = convertInts<uint32_t>(array.data, count);
  else if (d == "<i8")
    values = convertInts<int64_t>(array.data, count);
  else
    return false;
  return true;
}

} // namespace

std::string int8ScaleName(const std::string &name, const TensorList &tensors) {
  std::string scaleName = name + "_scale";
  auto taken = [&](const std::string &candidate) {
    for (const NamedTensor &t : tensors)
      if (t.name == candidate)
        return true;
    return false;
  };
  while (taken(scaleName))
    scaleName += "_";
  return scaleName;
}

Status readTensorFile(const std::string &path, TensorList &tensors,
                      IntegerArrays *integers) noexcept {
  try {
    tensors.clear();
    for (runtime::NpzEntry &entry : runtime::readNpzFile(path)) {
      if (integers && entry.array.data.size() == entry.array.count() * entry.array.elementSize()) {
        std::vector<int64_t> values;
        if (toIntegers(entry.array, values))
          (*integers)[entry.name] = std::move(values);
      }
      Tensor tensor;
      tensor.shape = entry.array.shape;
      tensor.data = std::make_shared<std::vector<float>>(
          toFloats(entry.array, path + ": array '" + entry.name + "'"));
      tensors.push_back({entry.name, std::move(tensor)});
    }
    return Status::success();
  } catch (const std::exception &error) {
    return Status::error(error.what());
  }
}

Status writeTensorFile(const std::string &path, const TensorList &tensors) noexcept {
  try {
    std::vector<runtime::NpzEntry> entries;
    for (const NamedTensor &named : tensors) {
      runtime::NpzEntry entry;
      entry.name = named.name;
      if (named.int8Step > 0) {
        // int8 codes, and their step as `<name>_scale`.
        entry.array.descr = "|i1";
        entry.array.shape = named.tensor.shape;
        const float *values = named.tensor.values();
        for (int64_t i = 0; i < named.tensor.count(); ++i) {
          if (!(values[i] >= -128.0f && values[i] <= 127.0f) || values[i] != std::trunc(values[i]))
            fail("tensor '", named.name, "' holds ", values[i], ", which is not an int8 value");
          entry.array.data.push_back(uint8_t(int8_t(values[i])));
        }
        entries.push_back(std::move(entry));
        runtime::NpzEntry scale;
        scale.name = int8ScaleName(named.name, tensors);
        scale.array.descr = "<f4";
        float step = float(named.int8Step);
        scale.array.data.resize(sizeof(float));
        std::memcpy(scale.array.data.data(), &step, sizeof(float));
        entries.push_back(std::move(scale));
        continue;
      }
      entry.array.descr = "<f4";
      entry.array.shape = named.tensor.shape;
      size_t bytes = size_t(named.tensor.count()) * sizeof(float);
      entry.array.data.resize(bytes);
      if (bytes)
        std::memcpy(entry.array.data.data(), named.tensor.values(), bytes);
      entries.push_back(std::move(entry));
    }
    runtime::writeNpzFile(path, entries);
    return Status::success();
  } catch (const std::exception &error) {
    return Status::error(error.what());
  }
}

} // namespace tpuc::interpreter
