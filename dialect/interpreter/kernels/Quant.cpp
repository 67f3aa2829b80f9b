//===- Quant.cpp - preprocess, quant and lut -------------------------------===//
//
// quant converts between number formats, all held in floats: int8 / uint8 values are integers,
// bf16 values are exactly representable bf16 numbers.
//   fp32 -> int8/uint8: saturate(round_half_away(x * scale) + zero_point) (the CPU "quant" routine
//                       of cv183x-isa.md 5.6 for fp32 model inputs)
//   int8 -> fp32 (zero point 0, bf16OutputCast): bf16(q * bf16(threshold / 127)), the TPU's
//                       cast (arith::dequantInt8Bf16), for function results and for operands of
//                       fp32 layers alike (the backend computes every one on the TPU)
//   int8/uint8 -> fp32 otherwise: (q - zero_point) / scale
//   fp32 -> bf16:       round to nearest even;  bf16 -> fp32: exact
//
//===----------------------------------------------------------------------===//

#include "dialect/interpreter/Kernels.h"
#include "dialect/interpreter/kernels/KernelSupport.h"
#include "dialect/interpreter/kernels/Parallel.h"

#include "tpuc/Arith.h"

#include <algorithm>
#include <cmath>

namespace tpuc::interpreter {
namespace {

class PreprocessKernel : public Kernel {
public:
  explicit PreprocessKernel(const PreprocessParams &params) : p(params) {}

  void check(const std::vector<Shape> &operands, const Shape &result) override {
    expectOperands(operands, 1, 1);
    const Shape &in = operands[0];
    if (in.size() < 2)
      fail("input must have rank >= 2 (channels on axis 1), got ", in);
    if (p.channelOrder.empty())
      for (int64_t c = 0; c < in[1]; ++c)
        p.channelOrder.push_back(c);
    int64_t channels = int64_t(p.channelOrder.size());
    for (int64_t c : p.channelOrder)
      if (c < 0 || c >= in[1])
        fail("channel_order entry ", c, " is out of range for ", in[1], " input channels");
    auto checkCount = [&](const std::vector<float> &values, const char *what) {
      if (values.size() != size_t(channels) && values.size() != 1)
        fail(what, " has ", values.size(), " values for ", channels, " channels");
    };
    checkCount(p.mean, "mean");
    checkCount(p.scale, "scale");
    Shape expected = in;
    expected[1] = channels;
    expectShape(result, expected, "result");
    inner = elementCount(in) / (in[0] * in[1]);
    inChannels = in[1];
  }

  Tensor run(const std::vector<const Tensor *> &operands, const Shape &result) override {
    Tensor out = newTensor(result, Fill::Uninitialized);
    const float *in = operands[0]->values();
    float *dst = out.mutableValues();
    int64_t channels = result[1];
    for (int64_t n = 0; n < result[0]; ++n)
      for (int64_t c = 0; c < channels; ++c) {
        const float *src = in + (n * inChannels + p.channelOrder[c]) * inner;
        float *d = dst + (n * channels + c) * inner;
        float mean = p.mean.size() == 1 ? p.mean[0] : p.mean[c];
        float scale = p.scale.size() == 1 ? p.scale[0] : p.scale[c];
        for (int64_t i = 0; i < inner; ++i)
          d[i] = (src[i] - mean) * scale;
      }
    return out;
  }

private:
  PreprocessParams p;
  int64_t inner = 1, inChannels = 0;
};

float quantizeTo8Bit(float x, float scale, int64_t zeroPoint, bool isSigned) {
  if (isSigned && zeroPoint == 0)
    return float(arith::quantizeFp32ToInt8(x, scale));
  float scaled = std::round(x * scale);
  if (std::isnan(scaled))
    scaled = 0.0f;
  scaled = std::clamp(scaled, -1e9f, 1e9f);
  return float(arith::saturate(int64_t(scaled) + zeroPoint, 8, isSigned));
}

const char *formatName(NumberFormat format) {
  switch (format) {
  case NumberFormat::Fp32:
    return "FP32";
  case NumberFormat::Int8:
    return "INT8";
  case NumberFormat::Uint8:
    return "UINT8";
  case NumberFormat::Bf16:
    return "BF16";
  }
  return "?";
}

class QuantKernel : public Kernel {
public:
  explicit QuantKernel(const QuantParams &params) : p(params) {}

  void check(const std::vector<Shape> &operands, const Shape &result) override {
    expectOperands(operands, 1, 1);
    expectShape(result, operands[0], "result");
    if (p.from == p.to)
      fail("converts ", formatName(p.from), " to itself");
    bool integer = p.from == NumberFormat::Int8 || p.from == NumberFormat::Uint8 ||
                   p.to == NumberFormat::Int8 || p.to == NumberFormat::Uint8;
    if (integer && (!(p.scale > 0.0f) || !std::isfinite(p.scale)))
      fail("scale must be positive and finite, got ", p.scale);
    if (p.bf16OutputCast &&
        (p.from != NumberFormat::Int8 || p.to != NumberFormat::Fp32 || p.zeroPoint != 0 ||
         !(p.outputStep > 0.0f) || !std::isfinite(p.outputStep)))
      fail("the bf16 output cast converts INT8 (zero point 0) to FP32 with a positive step");
  }

  Tensor run(const std::vector<const Tensor *> &operands, const Shape &result) override {
    Tensor out = newTensor(result, Fill::Uninitialized);
    const float *in = operands[0]->values();
    float *dst = out.mutableValues();
    int64_t count = out.count();
    float scale = p.scale;
    float zeroPoint = float(p.zeroPoint);
    if (p.bf16OutputCast) {
      for (int64_t i = 0; i < count; ++i) {
        float q = in[i];
        if (!(q >= -128.0f && q <= 127.0f) || q != std::trunc(q))
          fail("the input holds ", q, " at element ", i, ", which is not an int8 value");
        dst[i] = arith::dequantInt8Bf16(int32_t(q), p.outputStep);
      }
      return out;
    }
    for (int64_t i = 0; i < count; ++i) {
      float x = in[i];
      if (p.from == NumberFormat::Int8 || p.from == NumberFormat::Uint8)
        x = (x - zeroPoint) / scale;
      switch (p.to) {
      case NumberFormat::Int8:
        x = quantizeTo8Bit(x, scale, p.zeroPoint, true);
        break;
      case NumberFormat::Uint8:
        x = quantizeTo8Bit(x, scale, p.zeroPoint, false);
        break;
      case NumberFormat::Bf16:
        x = arith::bf16ToFloat(arith::floatToBf16(x));
        break;
      case NumberFormat::Fp32:
        break;
      }
      dst[i] = x;
    }
    return out;
  }

private:
  QuantParams p;
};

class LutKernel : public Kernel {
public:
  LutKernel(bool signedInput, bool hasMantissa)
      : signedInput(signedInput), hasMantissa(hasMantissa) {}

  void check(const std::vector<Shape> &operands, const Shape &result) override {
    if (hasMantissa)
      fail("bf16 lookups (a table and a mantissa table) are not supported by the fp32 "
           "interpreter; only 256-entry int8 tables are");
    expectOperands(operands, 2, 2);
    expectShape(result, operands[0], "result");
    if (elementCount(operands[1]) != 256)
      fail("table ", operands[1], " must have 256 entries");
  }

  Tensor run(const std::vector<const Tensor *> &operands, const Shape &result) override {
    Tensor out = newTensor(result, Fill::Uninitialized);
    const float *in = operands[0]->values(), *table = operands[1]->values();
    float *dst = out.mutableValues();
    int64_t count = out.count();
    for (int64_t i = 0; i < count; ++i) {
      float value = std::clamp(std::round(in[i]), -1e9f, 1e9f);
      int64_t byte = arith::saturate(std::isnan(value) ? 0 : int64_t(value), 8, signedInput);
      dst[i] = table[arith::lutIndexInt8(int32_t(byte))];
    }
    return out;
  }

private:
  bool signedInput, hasMantissa;
};

} // namespace

std::unique_ptr<Kernel> makePreprocess(const PreprocessParams &params) {
  return std::make_unique<PreprocessKernel>(params);
}
std::unique_ptr<Kernel> makeQuant(const QuantParams &params) {
  return std::make_unique<QuantKernel>(params);
}
std::unique_ptr<Kernel> makeLut(bool signedInput, bool hasMantissa) {
  return std::make_unique<LutKernel>(signedInput, hasMantissa);
}

} // namespace tpuc::interpreter
