//===- KernelSupport.cpp - errors and shape helpers of the kernels --------===//

#include "dialect/interpreter/kernels/KernelSupport.h"

#include <algorithm>

namespace tpuc::interpreter {

std::string formatShape(const Shape &shape) {
  std::string text = "[";
  for (size_t i = 0; i < shape.size(); ++i) {
    if (i)
      text += ", ";
    text += std::to_string(shape[i]);
  }
  return text + "]";
}

Kernel::~Kernel() = default;

bool Kernel::clampRange(float &, float &) const { return false; }

std::unique_ptr<Kernel> Kernel::withClamp(float, float) const { return nullptr; }

namespace {
thread_local BufferPool *currentPool = nullptr;
} // namespace

std::shared_ptr<std::vector<float>> BufferPool::take(size_t count) {
  std::lock_guard<std::mutex> lock(mutex);
  auto it = free.find(count);
  if (it == free.end())
    return nullptr;
  std::shared_ptr<std::vector<float>> buffer = std::move(it->second);
  free.erase(it);
  return buffer;
}

void BufferPool::give(std::shared_ptr<std::vector<float>> buffer) {
  if (!buffer || buffer.use_count() != 1 || buffer->empty())
    return;
  std::lock_guard<std::mutex> lock(mutex);
  size_t count = buffer->size();
  free.emplace(count, std::move(buffer));
}

BufferPoolScope::BufferPoolScope(BufferPool *pool) : previous(currentPool) { currentPool = pool; }
BufferPoolScope::~BufferPoolScope() { currentPool = previous; }

Tensor newTensor(const Shape &shape, Fill fill) {
  size_t count = size_t(elementCount(shape));
  Tensor tensor;
  tensor.shape = shape;
  if (currentPool)
    tensor.data = currentPool->take(count);
  if (!tensor.data)
    tensor.data = std::make_shared<std::vector<float>>(count, 0.0f);
  else if (fill == Fill::Zeros)
    std::fill(tensor.data->begin(), tensor.data->end(), 0.0f);
  return tensor;
}

bool composeClamps(float lo1, float hi1, float lo2, float hi2, float &lo, float &hi) {
  lo = std::max(lo1, lo2);
  hi = std::min(hi1, hi2);
  return lo <= hi;
}

void expectOperands(const std::vector<Shape> &operands, size_t min, size_t max) {
  if (operands.size() < min || operands.size() > max) {
    if (min == max)
      fail("expects ", min, " operand(s), got ", operands.size());
    fail("expects ", min, " to ", max, " operands, got ", operands.size());
  }
}

void expectRank(const Shape &shape, size_t rank, const char *what) {
  if (shape.size() != rank)
    fail(what, " must have rank ", rank, ", got shape ", shape);
}

void expectShape(const Shape &actual, const Shape &expected, const char *what) {
  if (actual != expected)
    fail(what, " must have shape ", expected, ", got ", actual);
}

int64_t normalizeAxis(int64_t axis, int64_t rank, const char *what) {
  int64_t normalized = axis < 0 ? axis + rank : axis;
  if (normalized < 0 || normalized >= rank)
    fail(what, " ", axis, " is out of range for rank ", rank);
  return normalized;
}

std::vector<int64_t> stridesOf(const Shape &shape) {
  std::vector<int64_t> strides(shape.size(), 1);
  for (size_t i = shape.size(); i-- > 1;)
    strides[i - 1] = strides[i] * shape[i];
  return strides;
}

Shape broadcastShapes(const Shape &a, const Shape &b) {
  size_t rank = std::max(a.size(), b.size());
  Shape result(rank);
  for (size_t i = 0; i < rank; ++i) {
    int64_t da = i < rank - a.size() ? 1 : a[i - (rank - a.size())];
    int64_t db = i < rank - b.size() ? 1 : b[i - (rank - b.size())];
    if (da != db && da != 1 && db != 1)
      fail("shapes ", a, " and ", b, " do not broadcast");
    result[i] = da == 1 ? db : da;
  }
  return result;
}

float *threadScratch(size_t count) {
  thread_local std::vector<float> scratch;
  if (scratch.size() < count)
    scratch.resize(count);
  return scratch.data();
}

void reluInPlace(float *data, int64_t count) {
  for (int64_t i = 0; i < count; ++i)
    data[i] = data[i] > 0.0f ? data[i] : 0.0f;
}

} // namespace tpuc::interpreter
