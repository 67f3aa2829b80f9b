//===- Linear.cpp - fully_connected and matmul -----------------------------===//

#include "dialect/interpreter/Kernels.h"
#include "dialect/interpreter/kernels/Gemm.h"
#include "dialect/interpreter/kernels/KernelSupport.h"
#include "dialect/interpreter/kernels/Parallel.h"

#include <algorithm>
#include <limits>

namespace tpuc::interpreter {
namespace {

float dot(const float *a, const float *b, int64_t n) {
  constexpr int kLanes = 16;
  float partial[kLanes] = {};
  int64_t i = 0;
  for (; i + kLanes <= n; i += kLanes)
    for (int j = 0; j < kLanes; ++j)
      partial[j] += a[i + j] * b[i + j];
  float sum = 0.0f;
  for (int j = 0; j < kLanes; ++j)
    sum += partial[j];
  for (; i < n; ++i)
    sum += a[i] * b[i];
  return sum;
}

constexpr float kInfinity = std::numeric_limits<float>::infinity();

class FullyConnectedKernel : public Kernel {
public:
  FullyConnectedKernel(bool hasBias, bool doRelu)
      : hasBias(hasBias), lo(doRelu ? 0.0f : -kInfinity) {}

  std::unique_ptr<Kernel> withClamp(float clampLo, float clampHi) const override {
    auto fused = std::make_unique<FullyConnectedKernel>(*this);
    if (!composeClamps(lo, hi, clampLo, clampHi, fused->lo, fused->hi))
      return nullptr;
    return fused;
  }

  void check(const std::vector<Shape> &operands, const Shape &result) override {
    expectOperands(operands, hasBias ? 3 : 2, hasBias ? 3 : 2);
    const Shape &filter = operands[1];
    expectRank(filter, 2, "filter");
    n = filter[0];
    k = filter[1];
    int64_t count = elementCount(operands[0]);
    if (k <= 0 || count % k)
      fail("input ", operands[0], " does not split into rows of K = ", k,
           " (the filter's second dimension)");
    m = count / k;
    if (elementCount(result) != m * n || result.empty() || result.back() != n)
      fail("result ", result, " must hold ", m, " rows of N = ", n, " outputs");
    if (hasBias && elementCount(operands[2]) != n)
      fail("bias ", operands[2], " must have ", n, " elements");
  }

  Tensor run(const std::vector<const Tensor *> &operands, const Shape &result) override {
    Tensor out = newTensor(result, Fill::Uninitialized);
    const float *in = operands[0]->values(), *filter = operands[1]->values();
    const float *bias = hasBias ? operands[2]->values() : nullptr;
    float *dst = out.mutableValues();
    if (m < 4) {
      parallelFor(n, std::max<int64_t>(1, 65536 / std::max<int64_t>(k, 1)),
                  [&](int64_t begin, int64_t end) {
                    for (int64_t row = 0; row < m; ++row)
                      for (int64_t j = begin; j < end; ++j) {
                        float v = dot(in + row * k, filter + j * k, k) + (bias ? bias[j] : 0.0f);
                        v = v < lo ? lo : v;
                        dst[row * n + j] = v > hi ? hi : v;
                      }
                  });
    } else {
      gemm(m, n, k, MatrixView{in, k}, MatrixView{filter, 1, k}, dst, n, false,
           GemmEpilogue{nullptr, bias, lo, hi});
    }
    return out;
  }

private:
  bool hasBias;
  float lo, hi = kInfinity;
  int64_t m = 0, n = 0, k = 0;
};

class MatMulKernel : public Kernel {
public:
  explicit MatMulKernel(bool doRelu) : lo(doRelu ? 0.0f : -kInfinity) {}

  std::unique_ptr<Kernel> withClamp(float clampLo, float clampHi) const override {
    auto fused = std::make_unique<MatMulKernel>(*this);
    if (!composeClamps(lo, hi, clampLo, clampHi, fused->lo, fused->hi))
      return nullptr;
    return fused;
  }

  void check(const std::vector<Shape> &operands, const Shape &result) override {
    expectOperands(operands, 2, 2);
    Shape lhs = operands[0], rhs = operands[1];
    if (lhs.empty() || rhs.empty())
      fail("operands must have rank >= 1");
    bool lhsVector = lhs.size() == 1, rhsVector = rhs.size() == 1;
    if (lhsVector)
      lhs.insert(lhs.begin(), 1);
    if (rhsVector)
      rhs.push_back(1);
    m = lhs[lhs.size() - 2];
    k = lhs.back();
    n = rhs.back();
    if (rhs[rhs.size() - 2] != k)
      fail("contraction mismatch: lhs ", operands[0], " has K = ", k, ", rhs ", operands[1],
           " has K = ", rhs[rhs.size() - 2]);
    Shape lhsBatch(lhs.begin(), lhs.end() - 2), rhsBatch(rhs.begin(), rhs.end() - 2);
    batch = broadcastShapes(lhsBatch, rhsBatch);
    Shape expected = batch;
    if (!lhsVector)
      expected.push_back(m);
    if (!rhsVector)
      expected.push_back(n);
    expectShape(result, expected, "result");
    // Per batch dimension, the element step of each operand (0 where it broadcasts).
    size_t rank = batch.size();
    lhsSteps.assign(rank, 0);
    rhsSteps.assign(rank, 0);
    auto fill = [&](const Shape &dims, std::vector<int64_t> &steps, int64_t matrix) {
      int64_t stride = matrix;
      for (size_t i = 0; i < dims.size(); ++i) {
        size_t axis = rank - 1 - i, dim = dims.size() - 1 - i;
        steps[axis] = dims[dim] == 1 ? 0 : stride;
        stride *= dims[dim];
      }
    };
    fill(lhsBatch, lhsSteps, m * k);
    fill(rhsBatch, rhsSteps, k * n);
  }

  Tensor run(const std::vector<const Tensor *> &operands, const Shape &result) override {
    Tensor out = newTensor(result, Fill::Uninitialized);
    const float *lhs = operands[0]->values(), *rhs = operands[1]->values();
    float *dst = out.mutableValues();
    int64_t batches = elementCount(batch);
    std::vector<int64_t> index(batch.size(), 0);
    for (int64_t b = 0; b < batches; ++b) {
      int64_t lhsOffset = 0, rhsOffset = 0;
      for (size_t i = 0; i < batch.size(); ++i) {
        lhsOffset += index[i] * lhsSteps[i];
        rhsOffset += index[i] * rhsSteps[i];
      }
      gemm(m, n, k, MatrixView{lhs + lhsOffset, k}, MatrixView{rhs + rhsOffset, n}, dst + b * m * n,
           n, false, GemmEpilogue{nullptr, nullptr, lo, hi});
      for (size_t i = batch.size(); i-- > 0;) {
        if (++index[i] < batch[i])
          break;
        index[i] = 0;
      }
    }
    return out;
  }

private:
  float lo, hi = kInfinity;
  int64_t m = 0, n = 0, k = 0;
  Shape batch;
  std::vector<int64_t> lhsSteps, rhsSteps;
};

} // namespace

std::unique_ptr<Kernel> makeFullyConnected(bool hasBias, bool doRelu) {
  return std::make_unique<FullyConnectedKernel>(hasBias, doRelu);
}

std::unique_ptr<Kernel> makeMatMul(bool doRelu) { return std::make_unique<MatMulKernel>(doRelu); }

} // namespace tpuc::interpreter
