//===- Int8Elementwise.cpp - INT8 eltwise_*, pool_avg_2d, leaky_relu, prelu, concat ===//
//
// The formulas of docs/quantization.md on int8 codes. Shapes are validated by the fp32 kernel of
// the same op.
//
//===----------------------------------------------------------------------===//

#include "dialect/interpreter/Int8Kernels.h"
#include "dialect/interpreter/kernels/Broadcast.h"
#include "dialect/interpreter/kernels/Int8Support.h"

#include <algorithm>

namespace tpuc::interpreter {
namespace {

/// `rescale(q, m, r)` of the int8 pairs: sat8(roundingRightShift(q * m, r)).
int32_t rescaleInt8(int64_t q, int64_t m, int64_t r) {
  return arith::requantPerTensor(q * m, unsigned(r), false, true);
}

void expectInt8Multipliers(const std::vector<int64_t> &multiplier) {
  for (int64_t m : multiplier)
    if (m < -128 || m > 127)
      fail("quant.multiplier ", m, " is not an int8 multiplier");
}

class Int8EltwiseKernel : public Kernel {
public:
  explicit Int8EltwiseKernel(const Int8EltwiseParams &params) : p(params) {}

  void check(const std::vector<Shape> &operands, const Shape &result) override {
    makeEltwise(EltwiseParams{p.kind, {}, p.doRelu})->check(operands, result);
    plans.clear();
    for (const Shape &operand : operands)
      plans.push_back(planBroadcast(operand, result));
    expectRshifts(p.rshift);
    if (p.rshift.size() != 1)
      fail("quant.rshift must have one entry, got ", p.rshift.size());
    if (p.kind == EltwiseKind::Mul) {
      if (operands.size() != 2)
        fail("an INT8 eltwise_mul takes two operands, got ", operands.size());
      if (p.multiplier.size() != 1)
        fail("quant.multiplier of an INT8 eltwise_mul must have one entry");
      Int8Requant requant{Int8RequantKind::Qdm, p.multiplier, p.rshift, p.doRelu};
      checkRequant(requant, 1);
    } else {
      if (p.multiplier.size() != operands.size())
        fail("quant.multiplier has ", p.multiplier.size(), " entries for ", operands.size(),
             " operands");
      expectInt8Multipliers(p.multiplier);
    }
  }

  Tensor run(const std::vector<const Tensor *> &operands, const Shape &result) override {
    Tensor out = newTensor(result, Fill::Uninitialized);
    int64_t count = out.count();
    std::vector<std::vector<int32_t>> inputs;
    for (size_t i = 0; i < operands.size(); ++i) {
      Tensor wide = newTensor(result, Fill::Zeros);
      combineBroadcast(wide.mutableValues(), operands[i]->values(), plans[i],
                       [](float, float value) { return value; });
      inputs.push_back(int8Codes(wide, "an operand"));
    }
    float *dst = out.mutableValues();
    unsigned r = unsigned(p.rshift[0]);
    for (int64_t e = 0; e < count; ++e) {
      int32_t y = 0;
      switch (p.kind) {
      case EltwiseKind::Add: {
        int64_t acc = 0;
        for (size_t i = 0; i < inputs.size(); ++i)
          acc += int64_t(inputs[i][e]) * p.multiplier[i];
        y = arith::requantPerTensor(acc, r, p.doRelu, true);
        break;
      }
      case EltwiseKind::Mul:
        y = arith::requantQdm(int64_t(inputs[0][e]) * inputs[1][e],
                              int64_t(int32_t(uint32_t(p.multiplier[0]))), r, p.doRelu, true);
        break;
      case EltwiseKind::Max:
      case EltwiseKind::Min: {
        y = rescaleInt8(inputs[0][e], p.multiplier[0], r);
        for (size_t i = 1; i < inputs.size(); ++i) {
          int32_t v = rescaleInt8(inputs[i][e], p.multiplier[i], r);
          y = p.kind == EltwiseKind::Max ? std::max(y, v) : std::min(y, v);
        }
        if (p.doRelu)
          y = std::max(y, 0);
        break;
      }
      }
      dst[e] = float(y);
    }
    return out;
  }

private:
  Int8EltwiseParams p;
  std::vector<BroadcastPlan> plans;
};

class Int8AvgPoolKernel : public Kernel {
public:
  Int8AvgPoolKernel(const PoolParams &params, int64_t multiplier, int64_t rshift)
      : p(params), multiplier(multiplier), rshift(rshift) {}

  void check(const std::vector<Shape> &operands, const Shape &result) override {
    makePool2D(p)->check(operands, result);
    if (!p.countIncludePad &&
        std::any_of(p.pads.begin(), p.pads.end(), [](int64_t v) { return v != 0; }))
      fail("INT8 average pooling divides every window by kh * kw; padding with "
           "count_include_pad = false has no INT8 form");
    expectInt8Multipliers({multiplier});
    expectRshifts({rshift});
    h = operands[0][2];
    w = operands[0][3];
  }

  Tensor run(const std::vector<const Tensor *> &operands, const Shape &result) override {
    Tensor out = newTensor(result, Fill::Uninitialized);
    std::vector<int32_t> in = int8Codes(*operands[0], "the input");
    float *dst = out.mutableValues();
    int64_t planes = result[0] * result[1], oh = result[2], ow = result[3];
    for (int64_t plane = 0; plane < planes; ++plane) {
      const int32_t *src = in.data() + plane * h * w;
      float *o = dst + plane * oh * ow;
      for (int64_t y = 0; y < oh; ++y) {
        int64_t y0 = std::max<int64_t>(y * p.strides[0] - p.pads[0], 0);
        int64_t y1 = std::min(y * p.strides[0] - p.pads[0] + p.kernel[0], h);
        for (int64_t x = 0; x < ow; ++x) {
          int64_t x0 = std::max<int64_t>(x * p.strides[1] - p.pads[1], 0);
          int64_t x1 = std::min(x * p.strides[1] - p.pads[1] + p.kernel[1], w);
          int64_t sum = 0;
          for (int64_t iy = y0; iy < y1; ++iy)
            for (int64_t ix = x0; ix < x1; ++ix)
              sum += src[iy * w + ix];
          o[y * ow + x] =
              float(arith::requantPerTensor(sum * multiplier, unsigned(rshift), p.doRelu, true));
        }
      }
    }
    return out;
  }

private:
  PoolParams p;
  int64_t multiplier, rshift;
  int64_t h = 0, w = 0;
};

class Int8LeakyReluKernel : public Kernel {
public:
  Int8LeakyReluKernel(int64_t mPos, int64_t rPos, int64_t mNeg, int64_t rNeg)
      : mPos(mPos), rPos(rPos), mNeg(mNeg), rNeg(rNeg) {}

  void check(const std::vector<Shape> &operands, const Shape &result) override {
    expectOperands(operands, 1, 1);
    expectShape(result, operands[0], "result");
    expectInt8Multipliers({mPos, mNeg});
    expectRshifts({rPos, rNeg});
  }

  Tensor run(const std::vector<const Tensor *> &operands, const Shape &result) override {
    Tensor out = newTensor(result, Fill::Uninitialized);
    std::vector<int32_t> in = int8Codes(*operands[0], "the input");
    float *dst = out.mutableValues();
    for (size_t i = 0; i < in.size(); ++i)
      dst[i] = float(in[i] >= 0 ? rescaleInt8(in[i], mPos, rPos) : rescaleInt8(in[i], mNeg, rNeg));
    return out;
  }

private:
  int64_t mPos, rPos, mNeg, rNeg;
};

class Int8PReluKernel : public Kernel {
public:
  Int8PReluKernel(int64_t mPos, int64_t rPos, int64_t rNeg) : mPos(mPos), rPos(rPos), rNeg(rNeg) {}

  void check(const std::vector<Shape> &operands, const Shape &result) override {
    makePRelu()->check(operands, result);
    expectInt8Multipliers({mPos});
    expectRshifts({rPos, rNeg});
    channels = operands[0][1];
    inner = elementCount(operands[0]) / std::max<int64_t>(operands[0][0] * channels, 1);
  }

  Tensor run(const std::vector<const Tensor *> &operands, const Shape &result) override {
    Tensor out = newTensor(result, Fill::Uninitialized);
    std::vector<int32_t> in = int8Codes(*operands[0], "the input");
    std::vector<int32_t> slope = int8Codes(*operands[1], "the slope");
    float *dst = out.mutableValues();
    for (size_t i = 0; i < in.size(); ++i) {
      int64_t c = (int64_t(i) / inner) % channels;
      int64_t mNeg = slope[slope.size() == 1 ? 0 : size_t(c)];
      dst[i] = float(in[i] >= 0 ? rescaleInt8(in[i], mPos, rPos) : rescaleInt8(in[i], mNeg, rNeg));
    }
    return out;
  }

private:
  int64_t mPos, rPos, rNeg;
  int64_t channels = 1, inner = 1;
};

class Int8ConcatKernel : public Kernel {
public:
  Int8ConcatKernel(int64_t axis, std::vector<int64_t> multiplier, std::vector<int64_t> rshift)
      : concat(makeConcat(axis)), multiplier(std::move(multiplier)), rshift(std::move(rshift)) {}

  void check(const std::vector<Shape> &operands, const Shape &result) override {
    concat->check(operands, result);
    if (multiplier.size() != operands.size() || rshift.size() != operands.size())
      fail("quant.multiplier and quant.rshift must have one entry per operand (", operands.size(),
           "), got ", multiplier.size(), " and ", rshift.size());
    expectInt8Multipliers(multiplier);
    expectRshifts(rshift);
  }

  Tensor run(const std::vector<const Tensor *> &operands, const Shape &result) override {
    std::vector<Tensor> rescaled;
    std::vector<const Tensor *> pointers;
    for (size_t i = 0; i < operands.size(); ++i) {
      std::vector<int32_t> codes = int8Codes(*operands[i], "an operand");
      Tensor t = newTensor(operands[i]->shape, Fill::Uninitialized);
      float *dst = t.mutableValues();
      for (size_t e = 0; e < codes.size(); ++e)
        dst[e] = float(rescaleInt8(codes[e], multiplier[i], rshift[i]));
      rescaled.push_back(std::move(t));
    }
    for (const Tensor &t : rescaled)
      pointers.push_back(&t);
    return concat->run(pointers, result);
  }

private:
  std::unique_ptr<Kernel> concat;
  std::vector<int64_t> multiplier, rshift;
};

} // namespace

std::unique_ptr<Kernel> makeInt8Eltwise(const Int8EltwiseParams &params) {
  return std::make_unique<Int8EltwiseKernel>(params);
}
std::unique_ptr<Kernel> makeInt8AvgPool(const PoolParams &params, int64_t multiplier,
                                        int64_t rshift) {
  return std::make_unique<Int8AvgPoolKernel>(params, multiplier, rshift);
}
std::unique_ptr<Kernel> makeInt8LeakyRelu(int64_t multiplierPos, int64_t rshiftPos,
                                          int64_t multiplierNeg, int64_t rshiftNeg) {
  return std::make_unique<Int8LeakyReluKernel>(multiplierPos, rshiftPos, multiplierNeg, rshiftNeg);
}
std::unique_ptr<Kernel> makeInt8PRelu(int64_t multiplierPos, int64_t rshiftPos, int64_t rshiftNeg) {
  return std::make_unique<Int8PReluKernel>(multiplierPos, rshiftPos, rshiftNeg);
}
std::unique_ptr<Kernel> makeInt8Concat(int64_t axis, std::vector<int64_t> multiplier,
                                       std::vector<int64_t> rshift) {
  return std::make_unique<Int8ConcatKernel>(axis, std::move(multiplier), std::move(rshift));
}

} // namespace tpuc::interpreter
