//===- TpuQuantParams.cpp - INT8 quantization parameters ------------------===//
#include "passes/TpuQuantParams.h"

#include "tpuc/Arith.h"

#include <algorithm>
#include <climits>
#include <cmath>

namespace tpuc::quant {

std::optional<QdmScale> qdmScaleFor(double scale) {
  if (!(scale >= 0) || !(scale < 1))
    return std::nullopt;
  if (scale == 0)
    return QdmScale{0, 0};
  unsigned rshift = 0;
  while (scale * std::ldexp(1.0, static_cast<int>(rshift)) < 0.5 && rshift < 63)
    ++rshift;
  int64_t multiplier =
      static_cast<int64_t>(std::llround(std::ldexp(scale, 31 + static_cast<int>(rshift))));
  if (multiplier >= (int64_t{1} << 31)) {
    // Rounded up to 2^31: one bit less of shift, multiplier 2^30.
    if (rshift == 0)
      return std::nullopt;
    --rshift;
    multiplier = int64_t{1} << 30;
  }
  return QdmScale{multiplier, rshift};
}

double float32QdmFactor(double a, double b, double c) {
  float numerator = static_cast<float>(a) * static_cast<float>(b);
  float denominator = 127.0f * static_cast<float>(c);
  return static_cast<double>(numerator / denominator);
}

std::optional<unsigned> commonRshiftFor(double maxAbs, int64_t maxMultiplier) {
  if (!(maxAbs <= static_cast<double>(maxMultiplier)))
    return std::nullopt;
  unsigned rshift = 0;
  while (rshift < 31 && maxAbs * std::ldexp(1.0, static_cast<int>(rshift) + 1) <=
                            static_cast<double>(maxMultiplier))
    ++rshift;
  return rshift;
}

int64_t roundClamped(double x, int64_t lo, int64_t hi) {
  if (std::isnan(x))
    return 0;
  if (x <= static_cast<double>(lo))
    return lo;
  if (x >= static_cast<double>(hi))
    return hi;
  return std::llround(x);
}

std::optional<Int8Scale> int8ScaleFor(double scale, int64_t maxMultiplier) {
  std::optional<unsigned> rshift = commonRshiftFor(std::fabs(scale), maxMultiplier);
  if (!rshift)
    return std::nullopt;
  int64_t m =
      roundClamped(std::ldexp(scale, static_cast<int>(*rshift)), -maxMultiplier, maxMultiplier);
  return Int8Scale{m, *rshift};
}

int64_t roundHalfEven(float x) {
  if (std::isnan(x))
    return 0;
  float clamped = std::fmax(std::fmin(x, 9.2e18f), -9.2e18f);
  return static_cast<int64_t>(std::nearbyint(clamped)); // default rounding: to nearest even
}

namespace {
// float(scale) * 2^(31 + rshift) / multiplier, the product in double (the vendor's factor).
float qdmWeightFactor(float scale, int64_t multiplier, unsigned rshift) {
  if (multiplier == 0)
    return 0.0f;
  return static_cast<float>(static_cast<double>(scale) * std::ldexp(1.0, 31 + int(rshift)) /
                            static_cast<double>(multiplier));
}
} // namespace

int8_t quantizeWeightQdm(float w, double thrIn, double thrOut, int64_t multiplier,
                         unsigned rshift) {
  float ratio = static_cast<float>(thrIn) / static_cast<float>(thrOut);
  float factor = qdmWeightFactor(ratio, multiplier, rshift);
  return static_cast<int8_t>(arith::saturateInt8(roundHalfEven(w * factor)));
}

int32_t quantizeBiasQdm(float b, double thrOut, int64_t multiplier, unsigned rshift) {
  float factor = qdmWeightFactor(127.0f / static_cast<float>(thrOut), multiplier, rshift);
  int64_t q = roundHalfEven(b * factor);
  return static_cast<int32_t>(std::clamp<int64_t>(q, INT32_MIN, INT32_MAX));
}

std::vector<int8_t> quantizeWithScale(llvm::ArrayRef<float> values, double scale) {
  std::vector<int8_t> out;
  out.reserve(values.size());
  for (float v : values)
    out.push_back(static_cast<int8_t>(arith::saturateInt8(roundClamped(v * scale, -128, 127))));
  return out;
}

QuantizedFilter quantizeFilterPerChannel(llvm::ArrayRef<float> values, int64_t channels,
                                         llvm::function_ref<int64_t(int64_t)> channelOf) {
  std::vector<double> maxAbs(channels, 0.0);
  for (int64_t i = 0, e = values.size(); i < e; ++i)
    maxAbs[channelOf(i)] = std::max(maxAbs[channelOf(i)], std::fabs(double(values[i])));
  QuantizedFilter q;
  q.scales.resize(channels);
  for (double m : maxAbs)
    q.maxAbs.push_back(static_cast<float>(m));
  for (int64_t c = 0; c < channels; ++c)
    q.scales[c] = maxAbs[c] > 0 ? 127.0 / maxAbs[c] : 0.0;
  q.values.reserve(values.size());
  for (int64_t i = 0, e = values.size(); i < e; ++i)
    q.values.push_back(static_cast<int8_t>(
        arith::saturateInt8(roundClamped(values[i] * q.scales[channelOf(i)], -128, 127))));
  return q;
}

std::vector<int8_t> makeInt8Table(double thrIn, double thrOut,
                                  llvm::function_ref<double(double)> f) {
  std::vector<int8_t> table(256);
  for (int index = 0; index < 256; ++index) {
    int8_t in = static_cast<int8_t>(static_cast<uint8_t>(index));
    double y = f(in * thrIn / 127.0) * 127.0 / thrOut;
    table[arith::lutIndexInt8(in)] =
        static_cast<int8_t>(arith::saturateInt8(roundClamped(y, -128, 127)));
  }
  return table;
}

void appendQdmChannelRecord(std::vector<uint8_t> &out, int32_t bias, uint32_t multiplier,
                            uint8_t rshift) {
  uint32_t b = static_cast<uint32_t>(bias);
  for (int i = 0; i < 4; ++i)
    out.push_back(static_cast<uint8_t>(b >> (8 * i)));
  for (int i = 0; i < 4; ++i)
    out.push_back(static_cast<uint8_t>(multiplier >> (8 * i)));
  out.push_back(rshift);
}

} // namespace tpuc::quant
