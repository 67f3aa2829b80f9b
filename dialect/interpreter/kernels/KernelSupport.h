//===- KernelSupport.h - errors and shape helpers of the kernels -*- C++ -*-===//
//
// For the kernel half of the interpreter only (compiled with exceptions).
//
//===----------------------------------------------------------------------===//
#pragma once

#include "dialect/interpreter/Kernel.h"

#include <map>
#include <mutex>
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

/// How a kernel's result buffer starts out.
enum class Fill { Zeros, Uninitialized };

/// A result tensor of `shape`. While a program runs, buffers freed by earlier ops are recycled
/// (their contents are arbitrary unless Fill::Zeros is asked for).
Tensor newTensor(const Shape &shape, Fill fill);

/// Free result buffers of a program, recycled by newTensor() on the threads running it.
class BufferPool {
public:
  std::shared_ptr<std::vector<float>> take(size_t count);
  /// Keeps `buffer` for reuse unless something else still refers to it.
  void give(std::shared_ptr<std::vector<float>> buffer);

private:
  std::mutex mutex;
  std::multimap<size_t, std::shared_ptr<std::vector<float>>> free;
};

/// Makes newTensor() on this thread draw from `pool` until destroyed.
class BufferPoolScope {
public:
  explicit BufferPoolScope(BufferPool *pool);
  ~BufferPoolScope();

private:
  BufferPool *previous;
};

/// Intersects clamp ranges: false when applying [lo2, hi2] after [lo1, hi1] is not a clamp to
/// one range (the ranges are disjoint).
bool composeClamps(float lo1, float hi1, float lo2, float hi2, float &lo, float &hi);

/// A scratch buffer of at least `count` floats owned by the calling thread, reused by the next
/// call on that thread (kernels keep no per-run state, so programs may run concurrently).
float *threadScratch(size_t count);

/// max(x, 0) over `count` values in place.
void reluInPlace(float *data, int64_t count);

} // namespace tpuc::interpreter
