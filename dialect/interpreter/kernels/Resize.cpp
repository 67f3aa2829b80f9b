//===- Resize.cpp - interp (ONNX Resize of H and W) ------------------------===//
//
// Follows ONNX Resize as onnxruntime computes it in fp32: the scale of an axis is
// output size / input size, a result coordinate maps to an input coordinate through the
// coordinate transformation mode; nearest picks a pixel with the nearest rounding mode (clamped to
// the input), bilinear clamps the coordinate to the input and interpolates its two neighbours.
//
//===----------------------------------------------------------------------===//

#include "dialect/interpreter/Kernels.h"
#include "dialect/interpreter/kernels/KernelSupport.h"
#include "dialect/interpreter/kernels/Parallel.h"

#include <algorithm>
#include <cmath>

namespace tpuc::interpreter {
namespace {

float originalCoordinate(CoordinateMode mode, int64_t resizedIndex, float scale, int64_t resized,
                         int64_t original) {
  float x = float(resizedIndex);
  switch (mode) {
  case CoordinateMode::HalfPixel:
    return (x + 0.5f) / scale - 0.5f;
  case CoordinateMode::PytorchHalfPixel:
    return resized > 1 ? (x + 0.5f) / scale - 0.5f : 0.0f;
  case CoordinateMode::AlignCorners:
    return resized == 1 ? 0.0f : x * float(original - 1) / float(resized - 1);
  case CoordinateMode::Asymmetric:
    return x / scale;
  }
  return x;
}

int64_t nearestIndex(NearestRounding rounding, float x) {
  switch (rounding) {
  case NearestRounding::RoundPreferFloor:
    if (x == float(int64_t(x)) + 0.5f)
      return int64_t(std::floor(x));
    return int64_t(std::round(x));
  case NearestRounding::RoundPreferCeil:
    return int64_t(std::round(x));
  case NearestRounding::Floor:
    return int64_t(std::floor(x));
  case NearestRounding::Ceil:
    return int64_t(std::ceil(x));
  }
  return int64_t(x);
}

// For each result index along one axis: the two input indices and their weights.
struct AxisSamples {
  std::vector<int64_t> low, high;
  std::vector<float> lowWeight, highWeight;
};

AxisSamples sampleAxis(const InterpParams &p, int64_t resized, int64_t original) {
  AxisSamples s;
  float scale = float(resized) / float(original);
  for (int64_t i = 0; i < resized; ++i) {
    float x = originalCoordinate(p.coordinates, i, scale, resized, original);
    if (p.mode == ResizeMode::Nearest) {
      int64_t index = std::clamp<int64_t>(nearestIndex(p.rounding, x), 0, original - 1);
      s.low.push_back(index);
      s.high.push_back(index);
      s.lowWeight.push_back(1.0f);
      s.highWeight.push_back(0.0f);
      continue;
    }
    x = std::max(0.0f, std::min(x, float(original - 1)));
    int64_t low = std::min<int64_t>(int64_t(x), original - 1);
    int64_t high = std::min<int64_t>(low + 1, original - 1);
    float dLow = std::fabs(x - float(low)), dHigh = std::fabs(x - float(high));
    if (low == high) {
      dLow = 0.5f;
      dHigh = 0.5f;
    }
    s.low.push_back(low);
    s.high.push_back(high);
    s.lowWeight.push_back(dHigh); // the farther the other neighbour, the heavier this one
    s.highWeight.push_back(dLow);
  }
  return s;
}

class InterpKernel : public Kernel {
public:
  explicit InterpKernel(const InterpParams &params) : p(params) {}

  void check(const std::vector<Shape> &operands, const Shape &result) override {
    expectOperands(operands, 1, 1);
    const Shape &in = operands[0];
    expectRank(in, 4, "input");
    expectRank(result, 4, "result");
    if (result[0] != in[0] || result[1] != in[1])
      fail("result ", result, " must keep the input's batch and channels ", in);
    if (in[2] <= 0 || in[3] <= 0 || result[2] <= 0 || result[3] <= 0)
      fail("cannot resize ", in, " to ", result);
    rows = sampleAxis(p, result[2], in[2]);
    cols = sampleAxis(p, result[3], in[3]);
  }

  Tensor run(const std::vector<const Tensor *> &operands, const Shape &result) override {
    Tensor out = newTensor(result, Fill::Uninitialized);
    const Shape &in = operands[0]->shape;
    int64_t h = in[2], w = in[3], oh = result[2], ow = result[3];
    const float *src = operands[0]->values();
    float *dst = out.mutableValues();
    bool nearest = p.mode == ResizeMode::Nearest;
    parallelFor(in[0] * in[1], 1, [&](int64_t begin, int64_t end) {
      for (int64_t plane = begin; plane < end; ++plane) {
        const float *s = src + plane * h * w;
        float *d = dst + plane * oh * ow;
        for (int64_t y = 0; y < oh; ++y) {
          const float *top = s + rows.low[y] * w, *bottom = s + rows.high[y] * w;
          float wt = rows.lowWeight[y], wb = rows.highWeight[y];
          float *line = d + y * ow;
          if (nearest) {
            for (int64_t x = 0; x < ow; ++x)
              line[x] = top[cols.low[x]];
            continue;
          }
          for (int64_t x = 0; x < ow; ++x) {
            int64_t x0 = cols.low[x], x1 = cols.high[x];
            float wl = cols.lowWeight[x], wr = cols.highWeight[x];
            line[x] =
                wl * wt * top[x0] + wr * wt * top[x1] + wl * wb * bottom[x0] + wr * wb * bottom[x1];
          }
        }
      }
    });
    return out;
  }

private:
  InterpParams p;
  AxisSamples rows, cols;
};

} // namespace

std::unique_ptr<Kernel> makeInterp(const InterpParams &params) {
  return std::make_unique<InterpKernel>(params);
}

} // namespace tpuc::interpreter
