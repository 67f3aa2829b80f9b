//===- KernelSupport.h - errors and shape helpers of the kernels -*- C++ -*-===//
//
// For the kernel half of the interpreter only (compiled with exceptions).
//
//===----------------------------------------------------------------------===//
#pragma once

#include "dialect/interpreter/Kernel.h"

#include <sstream>
#include <stdexcept>
#include <string>
#include <type_traits>

namespace tpuc::interpreter {

/// What kernels, the program and the npz helpers throw; Program turns it into a Status naming the
/// op, its name and its location.
class Error : public std::runtime_error {
public:
  using std::runtime_error::runtime_error;
};

namespace detail {
inline void appendAll(std::ostringstream &) {}
template <typename T, typename... Rest>
void appendAll(std::ostringstream &os, const T &first, const Rest &...rest) {
  if constexpr (std::is_same_v<T, Shape>)
    os << formatShape(first);
  else
    os << first;
  appendAll(os, rest...);
}
} // namespace detail

/// Throws Error with the concatenation of `parts` (shapes are formatted as [a, b, ...]).
template <typename... Parts> [[noreturn]] void fail(const Parts &...parts) {
  std::ostringstream os;
  detail::appendAll(os, parts...);
  throw Error(os.str());
}

/// Throws unless the op has between `min` and `max` operands.
void expectOperands(const std::vector<Shape> &operands, size_t min, size_t max);
/// Throws unless `shape` has rank `rank`; `what` names the operand ("input", "filter", ...).
void expectRank(const Shape &shape, size_t rank, const char *what);
/// Throws unless `actual` equals `expected`; `what` names the tensor.
void expectShape(const Shape &actual, const Shape &expected, const char *what);
/// Normalizes a possibly negative axis into [0, rank); throws when out of range.
int64_t normalizeAxis(int64_t axis, int64_t rank, const char *what = "axis");
/// Row-major strides of `shape`.
std::vector<int64_t> stridesOf(const Shape &shape);

/// The numpy broadcast of `a` and `b`; throws when they are incompatible.
Shape broadcastShapes(const Shape &a, const Shape &b);

/// max(x, 0) over `count` values in place.
void reluInPlace(float *data, int64_t count);

} // namespace tpuc::interpreter
