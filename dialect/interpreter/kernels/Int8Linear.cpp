//===- Int8Linear.cpp - INT8 conv_2d, deconv_2d, fully_connected, matmul, scale ===//
//
// Exact int32 accumulators of int8 products (docs/quantization.md), then the layer's rescale
// (requantize). Shapes are validated by the fp32 kernel of the same op, so both agree on what
// a valid op is.
//
//===----------------------------------------------------------------------===//

#include "dialect/interpreter/Int8Kernels.h"
#include "dialect/interpreter/kernels/Int8Support.h"
#include "dialect/interpreter/kernels/Parallel.h"

#include <algorithm>
#include <limits>

namespace tpuc::interpreter {
namespace {

// Products of int8 values summed over K terms stay inside int32 up to this K.
constexpr int64_t kMaxReduction = std::numeric_limits<int32_t>::max() / (128 * 128);

void expectReduction(int64_t k) {
  if (k > kMaxReduction)
    fail("the reduction of ", k, " products exceeds the int32 accumulator (at most ", kMaxReduction,
         ")");
}

struct ConvGeometry {
  int64_t n, c, h, w, o, kh, kw, oh, ow;
};

class Int8Conv2DKernel : public Kernel {
public:
  Int8Conv2DKernel(const ConvParams &params, Int8Requant requant, std::vector<int64_t> bias)
      : p(params), requant(std::move(requant)), bias(std::move(bias)) {
    this->requant.doRelu = params.doRelu;
  }

  void check(const std::vector<Shape> &operands, const Shape &result) override {
    makeConv2D(p)->check(operands, result);
    const Shape &in = operands[0], &filter = operands[1];
    g = {in[0], in[1], in[2], in[3], filter[0], filter[2], filter[3], result[2], result[3]};
    expectReduction(filter[1] * g.kh * g.kw);
    checkRequant(requant, g.o);
    expectBias(bias, p.hasBias, g.o);
  }

  Tensor run(const std::vector<const Tensor *> &operands, const Shape &result) override {
    Tensor out = newTensor(result, Fill::Uninitialized);
    std::vector<int16_t> in = int8Codes<int16_t>(*operands[0], "the input");
    std::vector<int16_t> filter = int8Codes<int16_t>(*operands[1], "the filter");
    int64_t cg = g.c / p.group, og = g.o / p.group, plane = g.oh * g.ow;
    int64_t rows = cg * g.kh * g.kw;
    std::vector<int16_t> columns(size_t(rows * plane));
    float *dst = out.mutableValues();
    for (int64_t n = 0; n < g.n; ++n)
      for (int64_t grp = 0; grp < p.group; ++grp) {
        im2col(in.data() + (n * g.c + grp * cg) * g.h * g.w, cg, columns.data());
        parallelFor(og, 1, [&](int64_t begin, int64_t end) {
          std::vector<int32_t> acc(static_cast<size_t>(plane));
          for (int64_t local = begin; local < end; ++local) {
            int64_t oc = grp * og + local;
            std::fill(acc.begin(), acc.end(), 0);
            const int16_t *weights = filter.data() + oc * rows;
            for (int64_t row = 0; row < rows; ++row) {
              int32_t wv = weights[row];
              if (wv == 0)
                continue;
              const int16_t *col = columns.data() + row * plane;
              for (int64_t j = 0; j < plane; ++j)
                acc[j] += wv * col[j];
            }
            int64_t b = bias.empty() ? 0 : bias[oc];
            float *o = dst + (n * g.o + oc) * plane;
            for (int64_t j = 0; j < plane; ++j)
              o[j] = float(requantize(requant, int64_t(acc[j]) + b, oc));
          }
        });
      }
    return out;
  }

private:
  void im2col(const int16_t *input, int64_t channels, int16_t *columns) const {
    int64_t plane = g.oh * g.ow;
    for (int64_t row = 0; row < channels * g.kh * g.kw; ++row) {
      int64_t c = row / (g.kh * g.kw), ky = row / g.kw % g.kh, kx = row % g.kw;
      int16_t *dst = columns + row * plane;
      const int16_t *src = input + c * g.h * g.w;
      for (int64_t oy = 0; oy < g.oh; ++oy) {
        int64_t iy = oy * p.strides[0] - p.pads[0] + ky * p.dilations[0];
        for (int64_t ox = 0; ox < g.ow; ++ox) {
          int64_t ix = ox * p.strides[1] - p.pads[1] + kx * p.dilations[1];
          bool inside = iy >= 0 && iy < g.h && ix >= 0 && ix < g.w;
          dst[oy * g.ow + ox] = inside ? src[iy * g.w + ix] : int16_t(0);
        }
      }
    }
  }

  ConvParams p;
  Int8Requant requant;
  std::vector<int64_t> bias;
  ConvGeometry g{};
};

class Int8Deconv2DKernel : public Kernel {
public:
  Int8Deconv2DKernel(const ConvParams &params, Int8Requant requant, std::vector<int64_t> bias)
      : p(params), requant(std::move(requant)), bias(std::move(bias)) {
    this->requant.doRelu = params.doRelu;
  }

  void check(const std::vector<Shape> &operands, const Shape &result) override {
    makeDeconv2D(p)->check(operands, result);
    const Shape &in = operands[0], &filter = operands[1];
    g = {in[0], in[1], in[2], in[3], result[1], filter[2], filter[3], result[2], result[3]};
    expectReduction((in[1] / p.group) * g.kh * g.kw);
    checkRequant(requant, g.o);
    expectBias(bias, p.hasBias, g.o);
  }

  Tensor run(const std::vector<const Tensor *> &operands, const Shape &result) override {
    Tensor out = newTensor(result, Fill::Uninitialized);
    std::vector<int32_t> in = int8Codes(*operands[0], "the input");
    std::vector<int32_t> filter = int8Codes(*operands[1], "the filter");
    int64_t cg = g.c / p.group, og = g.o / p.group, inPlane = g.h * g.w, plane = g.oh * g.ow;
    float *dst = out.mutableValues();
    for (int64_t n = 0; n < g.n; ++n)
      parallelFor(g.o, 1, [&](int64_t begin, int64_t end) {
        std::vector<int32_t> acc(static_cast<size_t>(plane));
        for (int64_t oc = begin; oc < end; ++oc) {
          int64_t grp = oc / og, local = oc % og;
          std::fill(acc.begin(), acc.end(), 0);
          for (int64_t c = grp * cg; c < (grp + 1) * cg; ++c) {
            const int32_t *src = in.data() + (n * g.c + c) * inPlane;
            for (int64_t ky = 0; ky < g.kh; ++ky)
              for (int64_t kx = 0; kx < g.kw; ++kx) {
                int32_t wv = filter[((c * og + local) * g.kh + ky) * g.kw + kx];
                if (wv == 0)
                  continue;
                for (int64_t iy = 0; iy < g.h; ++iy) {
                  int64_t oy = iy * p.strides[0] - p.pads[0] + ky * p.dilations[0];
                  if (oy < 0 || oy >= g.oh)
                    continue;
                  for (int64_t ix = 0; ix < g.w; ++ix) {
                    int64_t ox = ix * p.strides[1] - p.pads[1] + kx * p.dilations[1];
                    if (ox >= 0 && ox < g.ow)
                      acc[oy * g.ow + ox] += wv * src[iy * g.w + ix];
                  }
                }
              }
          }
          int64_t b = bias.empty() ? 0 : bias[oc];
          float *o = dst + (n * g.o + oc) * plane;
          for (int64_t j = 0; j < plane; ++j)
            o[j] = float(requantize(requant, int64_t(acc[j]) + b, oc));
        }
      });
    return out;
  }

private:
  ConvParams p;
  Int8Requant requant;
  std::vector<int64_t> bias;
  ConvGeometry g{};
};

class Int8FullyConnectedKernel : public Kernel {
public:
  Int8FullyConnectedKernel(bool hasBias, Int8Requant requant, std::vector<int64_t> bias)
      : hasBias(hasBias), requant(std::move(requant)), bias(std::move(bias)) {}

  void check(const std::vector<Shape> &operands, const Shape &result) override {
    makeFullyConnected(hasBias, requant.doRelu)->check(operands, result);
    n = operands[1][0];
    k = operands[1][1];
    m = elementCount(operands[0]) / k;
    expectReduction(k);
    checkRequant(requant, n);
    expectBias(bias, hasBias, n);
  }

  Tensor run(const std::vector<const Tensor *> &operands, const Shape &result) override {
    Tensor out = newTensor(result, Fill::Uninitialized);
    std::vector<int32_t> in = int8Codes(*operands[0], "the input");
    std::vector<int32_t> filter = int8Codes(*operands[1], "the filter");
    float *dst = out.mutableValues();
    parallelFor(n, std::max<int64_t>(1, 65536 / std::max<int64_t>(k * m, 1)),
                [&](int64_t begin, int64_t end) {
                  for (int64_t j = begin; j < end; ++j)
                    for (int64_t row = 0; row < m; ++row) {
                      const int32_t *x = in.data() + row * k, *w = filter.data() + j * k;
                      int32_t acc = 0;
                      for (int64_t i = 0; i < k; ++i)
                        acc += x[i] * w[i];
                      int64_t b = bias.empty() ? 0 : bias[j];
                      dst[row * n + j] = float(requantize(requant, int64_t(acc) + b, j));
                    }
                });
    return out;
  }

private:
  bool hasBias;
  Int8Requant requant;
  std::vector<int64_t> bias;
  int64_t m = 0, n = 0, k = 0;
};

class Int8MatMulKernel : public Kernel {
public:
  explicit Int8MatMulKernel(Int8Requant requant) : requant(std::move(requant)) {}

  void check(const std::vector<Shape> &operands, const Shape &result) override {
    makeMatMul(requant.doRelu)->check(operands, result);
    if (requant.rshift.size() != 1 ||
        (requant.kind == Int8RequantKind::Qdm && requant.multiplier.size() != 1))
      fail("an INT8 matmul takes one multiplier and one rshift");
    checkRequant(requant, 1);
    Shape lhs = operands[0], rhs = operands[1];
    if (lhs.size() == 1)
      lhs.insert(lhs.begin(), 1);
    if (rhs.size() == 1)
      rhs.push_back(1);
    m = lhs[lhs.size() - 2];
    k = lhs.back();
    n = rhs.back();
    expectReduction(k);
    Shape lhsBatch(lhs.begin(), lhs.end() - 2), rhsBatch(rhs.begin(), rhs.end() - 2);
    batch = broadcastShapes(lhsBatch, rhsBatch);
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
    std::vector<int32_t> lhs = int8Codes(*operands[0], "the left operand");
    std::vector<int32_t> rhs = int8Codes(*operands[1], "the right operand");
    float *dst = out.mutableValues();
    int64_t batches = elementCount(batch);
    for (int64_t b = 0; b < batches; ++b) {
      int64_t lhsOffset = 0, rhsOffset = 0, rest = b;
      for (size_t i = batch.size(); i-- > 0;) {
        int64_t index = rest % batch[i];
        rest /= batch[i];
        lhsOffset += index * lhsSteps[i];
        rhsOffset += index * rhsSteps[i];
      }
      const int32_t *a = lhs.data() + lhsOffset, *bm = rhs.data() + rhsOffset;
      float *o = dst + b * m * n;
      parallelFor(m, 1, [&](int64_t begin, int64_t end) {
        std::vector<int32_t> acc(static_cast<size_t>(n));
        for (int64_t row = begin; row < end; ++row) {
          std::fill(acc.begin(), acc.end(), 0);
          for (int64_t i = 0; i < k; ++i) {
            int32_t av = a[row * k + i];
            const int32_t *line = bm + i * n;
            for (int64_t j = 0; j < n; ++j)
              acc[j] += av * line[j];
          }
          for (int64_t j = 0; j < n; ++j)
            o[row * n + j] = float(requantize(requant, acc[j], 0));
        }
      });
    }
    return out;
  }

private:
  Int8Requant requant;
  int64_t m = 0, n = 0, k = 0;
  Shape batch;
  std::vector<int64_t> lhsSteps, rhsSteps;
};

class Int8ScaleKernel : public Kernel {
public:
  Int8ScaleKernel(bool hasBias, Int8Requant requant, std::vector<int64_t> bias)
      : hasBias(hasBias), requant(std::move(requant)), bias(std::move(bias)) {}

  void check(const std::vector<Shape> &operands, const Shape &result) override {
    makeScale(hasBias, requant.doRelu)->check(operands, result);
    const Shape &in = operands[0];
    outer = in[0];
    channels = in[1];
    inner = elementCount(in) / std::max<int64_t>(outer * channels, 1);
    scales = elementCount(operands[1]);
    checkRequant(requant, scales);
    expectBias(bias, hasBias, scales);
  }

  Tensor run(const std::vector<const Tensor *> &operands, const Shape &result) override {
    Tensor out = newTensor(result, Fill::Uninitialized);
    std::vector<int32_t> in = int8Codes(*operands[0], "the input");
    std::vector<int32_t> scale = int8Codes(*operands[1], "the scale");
    float *dst = out.mutableValues();
    parallelFor(outer * channels, 1, [&](int64_t begin, int64_t end) {
      for (int64_t planeIndex = begin; planeIndex < end; ++planeIndex) {
        int64_t c = scales == channels ? planeIndex % channels : planeIndex;
        int64_t b = bias.empty() ? 0 : bias[c];
        const int32_t *src = in.data() + planeIndex * inner;
        float *o = dst + planeIndex * inner;
        for (int64_t i = 0; i < inner; ++i)
          o[i] = float(requantize(requant, int64_t(src[i]) * scale[c] + b, c));
      }
    });
    return out;
  }

private:
  bool hasBias;
  Int8Requant requant;
  std::vector<int64_t> bias;
  int64_t outer = 0, channels = 0, inner = 0, scales = 0;
};

} // namespace

std::unique_ptr<Kernel> makeInt8Conv2D(const ConvParams &params, Int8Requant requant,
                                       std::vector<int64_t> bias) {
  return std::make_unique<Int8Conv2DKernel>(params, std::move(requant), std::move(bias));
}
std::unique_ptr<Kernel> makeInt8Deconv2D(const ConvParams &params, Int8Requant requant,
                                         std::vector<int64_t> bias) {
  return std::make_unique<Int8Deconv2DKernel>(params, std::move(requant), std::move(bias));
}
std::unique_ptr<Kernel> makeInt8FullyConnected(bool hasBias, Int8Requant requant,
                                               std::vector<int64_t> bias) {
  return std::make_unique<Int8FullyConnectedKernel>(hasBias, std::move(requant), std::move(bias));
}
std::unique_ptr<Kernel> makeInt8MatMul(Int8Requant requant) {
  return std::make_unique<Int8MatMulKernel>(std::move(requant));
}
std::unique_ptr<Kernel> makeInt8Scale(bool hasBias, Int8Requant requant,
                                      std::vector<int64_t> bias) {
  return std::make_unique<Int8ScaleKernel>(hasBias, std::move(requant), std::move(bias));
}

} // namespace tpuc::interpreter
