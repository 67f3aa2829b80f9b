//===- Conv.cpp - conv_2d and deconv_2d ------------------------------------===//
//
// Convolution runs as im2col + GEMM per group (the input itself is the column matrix for 1x1,
// stride 1, unpadded convolutions); depthwise convolution (one input channel per group) runs as
// direct loops whose inner loop walks an output row. Deconvolution is GEMM + col2im.
//
//===----------------------------------------------------------------------===//

#include "dialect/interpreter/Kernels.h"
#include "dialect/interpreter/kernels/Depthwise.h"
#include "dialect/interpreter/kernels/Gemm.h"
#include "dialect/interpreter/kernels/KernelSupport.h"
#include "dialect/interpreter/kernels/Parallel.h"

#include <algorithm>
#include <limits>

namespace tpuc::interpreter {
namespace {

int64_t ceilDiv(int64_t a, int64_t b) { return a >= 0 ? (a + b - 1) / b : -((-a) / b); }

// The output columns ox whose input column ox * stride + offset lies in [0, width).
void validRange(int64_t outWidth, int64_t width, int64_t stride, int64_t offset, int64_t &begin,
                int64_t &end) {
  begin = std::max<int64_t>(0, ceilDiv(-offset, stride));
  end = std::min<int64_t>(outWidth, offset >= width ? 0 : (width - 1 - offset) / stride + 1);
  if (end < begin)
    end = begin;
}

void addBiasAndRelu(float *out, int64_t channels, int64_t plane, const float *bias, bool relu) {
  parallelFor(channels, std::max<int64_t>(1, 16384 / std::max<int64_t>(plane, 1)),
              [&](int64_t begin, int64_t end) {
                for (int64_t c = begin; c < end; ++c) {
                  float *p = out + c * plane;
                  float b = bias ? bias[c] : 0.0f;
                  if (relu) {
                    for (int64_t i = 0; i < plane; ++i) {
                      float v = p[i] + b;
                      p[i] = v > 0.0f ? v : 0.0f;
                    }
                  } else if (bias) {
                    for (int64_t i = 0; i < plane; ++i)
                      p[i] += b;
                  }
                }
              });
}

struct ConvGeometry {
  int64_t n, c, h, w, o, kh, kw, oh, ow;
};

constexpr float kInfinity = std::numeric_limits<float>::infinity();

class Conv2DKernel : public Kernel {
public:
  explicit Conv2DKernel(const ConvParams &params)
      : p(params), lo(params.doRelu ? 0.0f : -kInfinity) {}

  std::unique_ptr<Kernel> withClamp(float clampLo, float clampHi) const override {
    auto fused = std::make_unique<Conv2DKernel>(*this);
    if (!composeClamps(lo, hi, clampLo, clampHi, fused->lo, fused->hi))
      return nullptr;
    return fused;
  }

  void check(const std::vector<Shape> &operands, const Shape &result) override {
    expectOperands(operands, p.hasBias ? 3 : 2, p.hasBias ? 3 : 2);
    const Shape &in = operands[0], &filter = operands[1];
    expectRank(in, 4, "input");
    expectRank(filter, 4, "filter");
    for (int i = 0; i < 2; ++i)
      if (p.strides[i] <= 0 || p.dilations[i] <= 0)
        fail("strides and dilations must be positive");
    for (int64_t pad : p.pads)
      if (pad < 0)
        fail("pads must be non-negative");
    if (p.group <= 0 || in[1] % p.group || filter[0] % p.group)
      fail("group ", p.group, " must divide the input channels (", in[1],
           ") and the output channels (", filter[0], ")");
    if (filter[1] != in[1] / p.group)
      fail("filter ", filter, " expects ", filter[1], " input channels per group, the input ", in,
           " has ", in[1] / p.group, " per group");
    if (p.hasBias && elementCount(operands[2]) != filter[0])
      fail("bias ", operands[2], " must have ", filter[0], " elements");
    Shape expected = {in[0], filter[0], 0, 0};
    for (int i = 0; i < 2; ++i) {
      int64_t padded = in[2 + i] + p.pads[i] + p.pads[i + 2];
      int64_t extent = p.dilations[i] * (filter[2 + i] - 1) + 1;
      if (padded < extent)
        fail("kernel extent ", extent, " exceeds the padded input (", padded, ")");
      expected[2 + i] = (padded - extent) / p.strides[i] + 1;
    }
    expectShape(result, expected, "result");
    g = {in[0], in[1], in[2], in[3], filter[0], filter[2], filter[3], expected[2], expected[3]};
  }

  Tensor run(const std::vector<const Tensor *> &operands, const Shape &result) override {
    Tensor out = newTensor(result, Fill::Uninitialized);
    const float *in = operands[0]->values();
    const float *filter = operands[1]->values();
    const float *bias = p.hasBias ? operands[2]->values() : nullptr;
    if (g.c / p.group == 1 && p.group > 1)
      runDepthwise(in, filter, bias, out.mutableValues());
    else
      runGemm(in, filter, bias, out.mutableValues());
    return out;
  }

private:
  void runGemm(const float *in, const float *filter, const float *bias, float *out) const {
    int64_t cg = g.c / p.group, og = g.o / p.group;
    int64_t plane = g.oh * g.ow, rows = cg * g.kh * g.kw;
    bool direct = g.kh == 1 && g.kw == 1 && p.strides[0] == 1 && p.strides[1] == 1 &&
                  p.pads[0] == 0 && p.pads[1] == 0 && p.pads[2] == 0 && p.pads[3] == 0;
    float *columns = direct ? nullptr : threadScratch(size_t(rows * plane));
    for (int64_t n = 0; n < g.n; ++n) {
      for (int64_t grp = 0; grp < p.group; ++grp) {
        const float *input = in + (n * g.c + grp * cg) * g.h * g.w;
        const float *colData = input;
        if (!direct) {
          im2col(input, cg, columns);
          colData = columns;
        }
        GemmEpilogue epilogue{bias ? bias + grp * og : nullptr, nullptr, lo, hi};
        gemm(og, plane, rows, MatrixView{filter + grp * og * rows, rows},
             MatrixView{colData, plane}, out + (n * g.o + grp * og) * plane, plane, false,
             epilogue);
      }
    }
  }

  void im2col(const float *input, int64_t channels, float *columns) const {
    int64_t plane = g.oh * g.ow;
    parallelFor(channels * g.kh * g.kw, 4, [&](int64_t begin, int64_t end) {
      for (int64_t row = begin; row < end; ++row) {
        int64_t c = row / (g.kh * g.kw), ky = row / g.kw % g.kh, kx = row % g.kw;
        float *dst = columns + row * plane;
        const float *src = input + c * g.h * g.w;
        int64_t xOffset = kx * p.dilations[1] - p.pads[1];
        int64_t xBegin, xEnd;
        validRange(g.ow, g.w, p.strides[1], xOffset, xBegin, xEnd);
        for (int64_t oy = 0; oy < g.oh; ++oy, dst += g.ow) {
          int64_t iy = oy * p.strides[0] - p.pads[0] + ky * p.dilations[0];
          if (iy < 0 || iy >= g.h) {
            std::fill(dst, dst + g.ow, 0.0f);
            continue;
          }
          const float *line = src + iy * g.w + xOffset;
          std::fill(dst, dst + xBegin, 0.0f);
          if (p.strides[1] == 1)
            std::copy(line + xBegin, line + xEnd, dst + xBegin);
          else
            for (int64_t ox = xBegin; ox < xEnd; ++ox)
              dst[ox] = line[ox * p.strides[1]];
          std::fill(dst + xEnd, dst + g.ow, 0.0f);
        }
      }
    });
  }

  void runDepthwise(const float *in, const float *filter, const float *bias, float *out) const {
    int64_t multiplier = g.o / p.group;
    int64_t plane = g.oh * g.ow;
    DepthwiseGeometry geometry{
        g.h,          g.w,          g.oh,           g.ow,           g.kh,      g.kw,
        p.strides[0], p.strides[1], p.dilations[0], p.dilations[1], p.pads[0], p.pads[1]};
    int64_t blocksPerImage = (g.o + kDepthwiseLanes - 1) / kDepthwiseLanes;
    parallelFor(g.n * blocksPerImage, 1, [&](int64_t begin, int64_t end) {
      for (int64_t block = begin; block < end; ++block) {
        int64_t n = block / blocksPerImage, first = block % blocksPerImage * kDepthwiseLanes;
        int lanes = int(std::min<int64_t>(kDepthwiseLanes, g.o - first));
        const float *src[kDepthwiseLanes], *weights[kDepthwiseLanes];
        float *dst[kDepthwiseLanes];
        for (int lane = 0; lane < lanes; ++lane) {
          int64_t oc = first + lane;
          src[lane] = in + (n * g.c + oc / multiplier) * g.h * g.w;
          weights[lane] = filter + oc * g.kh * g.kw;
          dst[lane] = out + (n * g.o + oc) * plane;
        }
        depthwiseBlock(src, weights, bias ? bias + first : nullptr, lo, hi, dst, lanes, geometry);
      }
    });
  }

  ConvParams p;
  ConvGeometry g{};
  float lo, hi = kInfinity; // the result's clamp: do_relu and fused relu / clip
};

class Deconv2DKernel : public Kernel {
public:
  explicit Deconv2DKernel(const ConvParams &params) : p(params) {}

  void check(const std::vector<Shape> &operands, const Shape &result) override {
    expectOperands(operands, p.hasBias ? 3 : 2, p.hasBias ? 3 : 2);
    const Shape &in = operands[0], &filter = operands[1];
    expectRank(in, 4, "input");
    expectRank(filter, 4, "filter");
    for (int i = 0; i < 2; ++i)
      if (p.strides[i] <= 0 || p.dilations[i] <= 0 || p.outputPadding[i] < 0)
        fail("strides and dilations must be positive, output_padding non-negative");
    for (int64_t pad : p.pads)
      if (pad < 0)
        fail("pads must be non-negative");
    if (p.group <= 0 || in[1] % p.group)
      fail("group ", p.group, " must divide the input channels (", in[1], ")");
    if (filter[0] != in[1])
      fail("filter ", filter, " must have the input's ", in[1],
           " channels as its first dimension ([C_in, C_out / group, kh, kw])");
    int64_t outChannels = filter[1] * p.group;
    if (p.hasBias && elementCount(operands[2]) != outChannels)
      fail("bias ", operands[2], " must have ", outChannels, " elements");
    Shape expected = {in[0], outChannels, 0, 0};
    for (int i = 0; i < 2; ++i) {
      expected[2 + i] = (in[2 + i] - 1) * p.strides[i] - p.pads[i] - p.pads[i + 2] +
                        p.dilations[i] * (filter[2 + i] - 1) + 1 + p.outputPadding[i];
      if (expected[2 + i] <= 0)
        fail("the output would be empty (size ", expected[2 + i], ")");
    }
    expectShape(result, expected, "result");
    g = {in[0], in[1], in[2], in[3], outChannels, filter[2], filter[3], expected[2], expected[3]};
  }

  Tensor run(const std::vector<const Tensor *> &operands, const Shape &result) override {
    Tensor out = newTensor(result, Fill::Zeros);
    const float *in = operands[0]->values();
    const float *filter = operands[1]->values();
    int64_t cg = g.c / p.group, og = g.o / p.group;
    int64_t inPlane = g.h * g.w, outPlane = g.oh * g.ow, rows = og * g.kh * g.kw;
    float *columns = threadScratch(size_t(rows * inPlane));
    for (int64_t n = 0; n < g.n; ++n) {
      for (int64_t grp = 0; grp < p.group; ++grp) {
        // columns[oc, ky, kx][iy, ix] = sum_c filter[c, oc, ky, kx] * input[c, iy, ix]
        gemm(rows, inPlane, cg, MatrixView{filter + grp * cg * rows, 1, rows},
             MatrixView{in + (n * g.c + grp * cg) * inPlane, inPlane}, columns, inPlane);
        col2im(columns, out.mutableValues() + (n * g.o + grp * og) * outPlane, og);
      }
    }
    const float *bias = p.hasBias ? operands[2]->values() : nullptr;
    if (bias || p.doRelu)
      for (int64_t n = 0; n < g.n; ++n)
        addBiasAndRelu(out.mutableValues() + n * g.o * outPlane, g.o, outPlane, bias, p.doRelu);
    return out;
  }

private:
  void col2im(const float *columns, float *out, int64_t channels) const {
    parallelFor(channels, 1, [&](int64_t begin, int64_t end) {
      for (int64_t oc = begin; oc < end; ++oc) {
        float *dst = out + oc * g.oh * g.ow;
        for (int64_t ky = 0; ky < g.kh; ++ky) {
          for (int64_t kx = 0; kx < g.kw; ++kx) {
            const float *src = columns + ((oc * g.kh + ky) * g.kw + kx) * g.h * g.w;
            int64_t xOffset = kx * p.dilations[1] - p.pads[1];
            for (int64_t iy = 0; iy < g.h; ++iy) {
              int64_t oy = iy * p.strides[0] - p.pads[0] + ky * p.dilations[0];
              if (oy < 0 || oy >= g.oh)
                continue;
              float *row = dst + oy * g.ow;
              const float *line = src + iy * g.w;
              for (int64_t ix = 0; ix < g.w; ++ix) {
                int64_t ox = ix * p.strides[1] + xOffset;
                if (ox >= 0 && ox < g.ow)
                  row[ox] += line[ix];
              }
            }
          }
        }
      }
    });
  }

  ConvParams p;
  ConvGeometry g{};
};

} // namespace

std::unique_ptr<Kernel> makeConv2D(const ConvParams &params) {
  return std::make_unique<Conv2DKernel>(params);
}

std::unique_ptr<Kernel> makeDeconv2D(const ConvParams &params) {
  return std::make_unique<Deconv2DKernel>(params);
}

} // namespace tpuc::interpreter
