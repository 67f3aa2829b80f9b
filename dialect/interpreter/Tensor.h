//===- Tensor.h - fp32 tensors of the interpreter ---------------*- C++ -*-===//
//
// The interpreter computes every tpu op in fp32: a tensor is a shape plus a shared, C-ordered
// float buffer. Integer and bf16 tensors of quantized IR hold their values as floats. Tensors are
// immutable once produced, so ops such as reshape share the buffer of their operand.
//
// This header is used by both halves of the interpreter (the MLIR-facing code compiled without
// exceptions and the kernels compiled with them); it never throws.
//
//===----------------------------------------------------------------------===//
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

namespace tpuc::interpreter {

using Shape = std::vector<int64_t>;

/// Number of elements of `shape` (1 for a scalar).
inline int64_t elementCount(const Shape &shape) {
  int64_t count = 1;
  for (int64_t dim : shape)
    count *= dim;
  return count;
}

/// "[1, 3, 224, 224]".
std::string formatShape(const Shape &shape);

struct Tensor {
  Shape shape;
  std::shared_ptr<std::vector<float>> data;

  /// A zero-filled tensor of `shape`.
  static Tensor zeros(Shape shape) {
    Tensor t;
    t.data = std::make_shared<std::vector<float>>(size_t(elementCount(shape)), 0.0f);
    t.shape = std::move(shape);
    return t;
  }
  /// A tensor holding `values` (whose size must be the element count of `shape`).
  static Tensor fromValues(Shape shape, std::vector<float> values) {
    Tensor t;
    t.shape = std::move(shape);
    t.data = std::make_shared<std::vector<float>>(std::move(values));
    return t;
  }

  int64_t count() const { return data ? int64_t(data->size()) : 0; }
  int64_t rank() const { return int64_t(shape.size()); }
  const float *values() const { return data->data(); }
  float *mutableValues() { return data->data(); }
};

struct NamedTensor {
  std::string name;
  Tensor tensor;
  /// 0: the values are real numbers. > 0: they are the int8 codes of an INT8 tensor, whose real
  /// values are code * int8Step (threshold / 127).
  double int8Step = 0.0;
};
using TensorList = std::vector<NamedTensor>;

} // namespace tpuc::interpreter
