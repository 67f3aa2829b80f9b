//===- Elementwise.cpp - unary activations, eltwise_*, broadcast_mul ------===//

#include "dialect/interpreter/Kernels.h"
#include "dialect/interpreter/kernels/Broadcast.h"

#include <cmath>
#include <limits>

namespace tpuc::interpreter {

BroadcastPlan planBroadcast(const Shape &from, const Shape &to) {
  if (from.size() > to.size())
    fail("operand ", from, " has a higher rank than the result ", to);
  size_t lead = to.size() - from.size();
  std::vector<int64_t> steps(to.size(), 0);
  int64_t stride = 1;
  for (size_t i = to.size(); i-- > lead;) {
    int64_t dim = from[i - lead];
    if (dim != to[i] && dim != 1)
      fail("operand ", from, " does not broadcast to ", to);
    steps[i] = dim == 1 ? 0 : stride;
    stride *= dim;
  }
  BroadcastPlan plan;
  for (size_t i = 0; i < to.size(); ++i) {
    if (to[i] == 1)
      continue; // a unit dimension moves nothing
    if (!plan.dims.empty() && plan.steps.back() == steps[i] * to[i]) {
      plan.dims.back() *= to[i];
      plan.steps.back() = steps[i];
      continue;
    }
    plan.dims.push_back(to[i]);
    plan.steps.push_back(steps[i]);
  }
  if (plan.dims.empty()) {
    plan.dims.push_back(1);
    plan.steps.push_back(0);
  }
  return plan;
}

namespace {

//===----------------------------------------------------------------------===//
// Unary
//===----------------------------------------------------------------------===//

template <typename F> void mapValues(const float *in, float *out, int64_t count, F f) {
  parallelFor(count, 16384, [&](int64_t begin, int64_t end) {
    for (int64_t i = begin; i < end; ++i)
      out[i] = f(in[i]);
  });
}

class UnaryKernel : public Kernel {
public:
  explicit UnaryKernel(const UnaryParams &params) : p(params) {}

  bool clampRange(float &lo, float &hi) const override {
    if (p.kind == UnaryKind::Relu) {
      lo = 0.0f;
      hi = std::numeric_limits<float>::infinity();
      return true;
    }
    if (p.kind == UnaryKind::Clip && p.a <= p.b) {
      lo = p.a;
      hi = p.b;
      return true;
    }
    return false;
  }

  void check(const std::vector<Shape> &operands, const Shape &result) override {
    expectOperands(operands, 1, 1);
    expectShape(result, operands[0], "result");
  }

  Tensor run(const std::vector<const Tensor *> &operands, const Shape &result) override {
    Tensor out = newTensor(result, Fill::Uninitialized);
    const float *in = operands[0]->values();
    float *dst = out.mutableValues();
    int64_t n = out.count();
    float a = p.a, b = p.b, c = p.c;
    switch (p.kind) {
    case UnaryKind::Relu:
      mapValues(in, dst, n, [](float x) { return x > 0.0f ? x : 0.0f; });
      break;
    case UnaryKind::Sigmoid:
      mapValues(in, dst, n, [](float x) { return 1.0f / (1.0f + std::exp(-x)); });
      break;
    case UnaryKind::TanH:
      mapValues(in, dst, n, [](float x) { return std::tanh(x); });
      break;
    case UnaryKind::Sqrt:
      mapValues(in, dst, n, [](float x) { return std::sqrt(x); });
      break;
    case UnaryKind::Reciprocal:
      mapValues(in, dst, n, [](float x) { return 1.0f / x; });
      break;
    case UnaryKind::Exp:
      mapValues(in, dst, n, [](float x) { return std::exp(x); });
      break;
    case UnaryKind::Mish:
      mapValues(in, dst, n, [](float x) {
        float softplus = x > 20.0f ? x : std::log1p(std::exp(x));
        return x * std::tanh(softplus);
      });
      break;
    case UnaryKind::SiLU:
      mapValues(in, dst, n, [](float x) { return x / (1.0f + std::exp(-x)); });
      break;
    case UnaryKind::HardSwish:
      mapValues(in, dst, n, [](float x) {
        return x * std::max(0.0f, std::min(1.0f, x * (1.0f / 6.0f) + 0.5f));
      });
      break;
    case UnaryKind::HardSigmoid:
      mapValues(in, dst, n, [a, b](float x) { return std::max(0.0f, std::min(1.0f, a * x + b)); });
      break;
    case UnaryKind::LeakyRelu:
      mapValues(in, dst, n, [a](float x) { return x >= 0.0f ? x : a * x; });
      break;
    case UnaryKind::Clip:
      mapValues(in, dst, n, [a, b](float x) { return std::min(std::max(x, a), b); });
      break;
    case UnaryKind::Power:
      mapValues(in, dst, n, [a, b, c](float x) { return std::pow(c + b * x, a); });
      break;
    }
    return out;
  }

private:
  UnaryParams p;
};

//===----------------------------------------------------------------------===//
// Eltwise
//===----------------------------------------------------------------------===//

class EltwiseKernel : public Kernel {
public:
  explicit EltwiseKernel(const EltwiseParams &params) : p(params) {}

  void check(const std::vector<Shape> &operands, const Shape &result) override {
    expectOperands(operands, 2, size_t(-1));
    if (!p.coeff.empty() && p.coeff.size() != operands.size())
      fail("coeff has ", p.coeff.size(), " values for ", operands.size(), " operands");
    Shape common = operands[0];
    for (size_t i = 1; i < operands.size(); ++i)
      common = broadcastShapes(common, operands[i]);
    expectShape(result, common, "result (the broadcast of the operands)");
    plans.clear();
    for (const Shape &operand : operands)
      plans.push_back(planBroadcast(operand, result));
  }

  Tensor run(const std::vector<const Tensor *> &operands, const Shape &result) override {
    Tensor out = newTensor(result, Fill::Uninitialized);
    float *dst = out.mutableValues();
    auto coeff = [&](size_t i) { return p.coeff.empty() ? 1.0f : p.coeff[i]; };
    float c0 = coeff(0);
    if (p.kind == EltwiseKind::Add && c0 != 1.0f)
      combineBroadcast(dst, operands[0]->values(), plans[0],
                       [c0](float, float x) { return c0 * x; });
    else
      combineBroadcast(dst, operands[0]->values(), plans[0], [](float, float x) { return x; });
    for (size_t i = 1; i < operands.size(); ++i) {
      const float *in = operands[i]->values();
      float ci = coeff(i);
      switch (p.kind) {
      case EltwiseKind::Add:
        if (ci == 1.0f)
          combineBroadcast(dst, in, plans[i], [](float acc, float x) { return acc + x; });
        else
          combineBroadcast(dst, in, plans[i], [ci](float acc, float x) { return acc + ci * x; });
        break;
      case EltwiseKind::Mul:
        combineBroadcast(dst, in, plans[i], [](float acc, float x) { return acc * x; });
        break;
      case EltwiseKind::Max:
        combineBroadcast(dst, in, plans[i], [](float acc, float x) { return acc > x ? acc : x; });
        break;
      case EltwiseKind::Min:
        combineBroadcast(dst, in, plans[i], [](float acc, float x) { return acc < x ? acc : x; });
        break;
      }
    }
    if (p.doRelu)
      reluInPlace(dst, out.count());
    return out;
  }

private:
  EltwiseParams p;
  std::vector<BroadcastPlan> plans;
};

//===----------------------------------------------------------------------===//
// BroadcastMul
//===----------------------------------------------------------------------===//

class BroadcastMulKernel : public Kernel {
public:
  BroadcastMulKernel(int64_t axis, bool doRelu) : axis(axis), doRelu(doRelu) {}

  void check(const std::vector<Shape> &operands, const Shape &result) override {
    expectOperands(operands, 2, 2);
    const Shape &in = operands[0], &scale = operands[1];
    expectShape(result, in, "result");
    int64_t a = normalizeAxis(axis, int64_t(in.size()));
    scalePlan = planBroadcast(scale, result);
    int64_t scaleDim = a - int64_t(in.size() - scale.size());
    if (scaleDim < 0 || scale[scaleDim] != in[a])
      fail("scale ", scale, " must cover axis ", axis, " of the input ", in);
  }

  Tensor run(const std::vector<const Tensor *> &operands, const Shape &result) override {
    Tensor out = Tensor::fromValues(result, *operands[0]->data);
    float *dst = out.mutableValues();
    combineBroadcast(dst, operands[1]->values(), scalePlan,
                     [](float acc, float s) { return acc * s; });
    if (doRelu)
      reluInPlace(dst, out.count());
    return out;
  }

private:
  int64_t axis;
  bool doRelu;
  BroadcastPlan scalePlan;
};

} // namespace

std::unique_ptr<Kernel> makeUnary(const UnaryParams &params) {
  return std::make_unique<UnaryKernel>(params);
}

std::unique_ptr<Kernel> makeEltwise(const EltwiseParams &params) {
  return std::make_unique<EltwiseKernel>(params);
}

std::unique_ptr<Kernel> makeBroadcastMul(int64_t axis, bool doRelu) {
  return std::make_unique<BroadcastMulKernel>(axis, doRelu);
}

} // namespace tpuc::interpreter
