//===- Pool.cpp - pool_max_2d and pool_avg_2d ------------------------------===//
//
// ONNX MaxPool / AveragePool semantics: pads [top, left, bottom, right]; with ceil_mode the last
// window may run past the bottom/right padding but must start inside the input or its top/left
// padding. Averages divide by the number of input elements in the window, or with
// count_include_pad by the window's size clipped to the padded input.
//
//===----------------------------------------------------------------------===//

#include "dialect/interpreter/Kernels.h"
#include "dialect/interpreter/kernels/KernelSupport.h"
#include "dialect/interpreter/kernels/Parallel.h"

#include <algorithm>
#include <limits>

namespace tpuc::interpreter {
namespace {

int64_t pooledSize(int64_t size, int64_t kernel, int64_t stride, int64_t padBegin, int64_t padEnd,
                   bool ceilMode) {
  int64_t span = size + padBegin + padEnd - kernel;
  if (span < 0)
    return 0;
  int64_t out = (ceilMode ? (span + stride - 1) / stride : span / stride) + 1;
  if (ceilMode && (out - 1) * stride >= size + padBegin)
    --out;
  return out;
}

class Pool2DKernel : public Kernel {
public:
  explicit Pool2DKernel(const PoolParams &params) : p(params) {}

  void check(const std::vector<Shape> &operands, const Shape &result) override {
    expectOperands(operands, 1, 1);
    const Shape &in = operands[0];
    expectRank(in, 4, "input");
    for (int i = 0; i < 2; ++i)
      if (p.kernel[i] <= 0 || p.strides[i] <= 0)
        fail("kernel_shape and strides must be positive");
    for (int64_t pad : p.pads)
      if (pad < 0)
        fail("pads must be non-negative");
    for (int i = 0; i < 2; ++i)
      if (p.pads[i] >= p.kernel[i] || p.pads[i + 2] >= p.kernel[i])
        fail("pads ", Shape(p.pads.begin(), p.pads.end()), " must be smaller than the kernel ",
             Shape(p.kernel.begin(), p.kernel.end()));
    Shape expected = {in[0], in[1], 0, 0};
    for (int i = 0; i < 2; ++i) {
      expected[2 + i] =
          pooledSize(in[2 + i], p.kernel[i], p.strides[i], p.pads[i], p.pads[i + 2], p.ceilMode);
      if (expected[2 + i] <= 0)
        fail("kernel ", p.kernel[i], " exceeds the padded input ", in);
    }
    expectShape(result, expected, "result");
    h = in[2];
    w = in[3];
  }

  Tensor run(const std::vector<const Tensor *> &operands, const Shape &result) override {
    Tensor out = newTensor(result, Fill::Uninitialized);
    const float *in = operands[0]->values();
    float *dst = out.mutableValues();
    int64_t planes = result[0] * result[1], oh = result[2], ow = result[3];
    parallelFor(planes, std::max<int64_t>(1, 8192 / (h * w)), [&](int64_t begin, int64_t end) {
      for (int64_t plane = begin; plane < end; ++plane)
        poolPlane(in + plane * h * w, dst + plane * oh * ow, oh, ow);
    });
    if (p.doRelu)
      reluInPlace(dst, out.count());
    return out;
  }

private:
  void poolPlane(const float *src, float *dst, int64_t oh, int64_t ow) const {
    for (int64_t y = 0; y < oh; ++y) {
      int64_t y0 = y * p.strides[0] - p.pads[0];
      int64_t y1 = std::min(y0 + p.kernel[0], h + p.pads[2]);
      int64_t ys = std::max<int64_t>(y0, 0), ye = std::min(y1, h);
      for (int64_t x = 0; x < ow; ++x) {
        int64_t x0 = x * p.strides[1] - p.pads[1];
        int64_t x1 = std::min(x0 + p.kernel[1], w + p.pads[3]);
        int64_t xs = std::max<int64_t>(x0, 0), xe = std::min(x1, w);
        if (p.kind == PoolKind::Max) {
          float best = -std::numeric_limits<float>::infinity();
          for (int64_t iy = ys; iy < ye; ++iy)
            for (int64_t ix = xs; ix < xe; ++ix)
              best = std::max(best, src[iy * w + ix]);
          if (ye <= ys || xe <= xs)
            best = 0.0f;
          dst[y * ow + x] = best;
        } else {
          float sum = 0.0f;
          for (int64_t iy = ys; iy < ye; ++iy)
            for (int64_t ix = xs; ix < xe; ++ix)
              sum += src[iy * w + ix];
          int64_t count = p.countIncludePad ? (y1 - y0) * (x1 - x0) : (ye - ys) * (xe - xs);
          dst[y * ow + x] = count > 0 ? sum / float(count) : 0.0f;
        }
      }
    }
  }

  PoolParams p;
  int64_t h = 0, w = 0;
};

} // namespace

std::unique_ptr<Kernel> makePool2D(const PoolParams &params) {
  return std::make_unique<Pool2DKernel>(params);
}

} // namespace tpuc::interpreter
