//===- Normalization.cpp - per-channel and normalizing layers --------------===//
//
// batch_norm, scale, prelu (per channel along axis 1), lrn and lrn_part (ONNX LRN), normalize
// (Caffe Normalize: x / sqrt(sum x^2 + eps) * scale), softmax, reduce_mean.
//
//===----------------------------------------------------------------------===//

#include "dialect/interpreter/Kernels.h"
#include "dialect/interpreter/kernels/KernelSupport.h"
#include "dialect/interpreter/kernels/Parallel.h"

#include <algorithm>
#include <cmath>
#include <numeric>

namespace tpuc::interpreter {
namespace {

// An NC... tensor seen as [outer = N][channels = C][inner = product of the rest].
struct ChannelView {
  int64_t outer, channels, inner;
};
ChannelView channelView(const Shape &shape) {
  if (shape.size() < 2)
    fail("input must have rank >= 2 (channels on axis 1), got ", shape);
  int64_t inner = 1;
  for (size_t i = 2; i < shape.size(); ++i)
    inner *= shape[i];
  return {shape[0], shape[1], inner};
}

// out[n, c, i] = in[n, c, i] * a[n, c] + b[n, c], then optional ReLU.
void affinePerChannel(const float *in, float *out, const ChannelView &v, const float *a,
                      const float *b, bool relu) {
  parallelFor(v.outer * v.channels, std::max<int64_t>(1, 16384 / std::max<int64_t>(v.inner, 1)),
              [&](int64_t begin, int64_t end) {
                for (int64_t plane = begin; plane < end; ++plane) {
                  const float *src = in + plane * v.inner;
                  float *dst = out + plane * v.inner;
                  float scale = a[plane], shift = b[plane];
                  for (int64_t i = 0; i < v.inner; ++i)
                    dst[i] = src[i] * scale + shift;
                  if (relu)
                    reluInPlace(dst, v.inner);
                }
              });
}

// Expands C per-channel values (or N*C per-sample ones) to N*C.
std::vector<float> perPlane(const Tensor &values, const ChannelView &v, const char *what) {
  int64_t count = values.count();
  std::vector<float> planes(size_t(v.outer * v.channels));
  if (count == v.channels) {
    for (int64_t n = 0; n < v.outer; ++n)
      std::copy(values.values(), values.values() + count, planes.begin() + n * v.channels);
  } else if (count == v.outer * v.channels) {
    std::copy(values.values(), values.values() + count, planes.begin());
  } else {
    fail(what, " has ", count, " values for ", v.channels, " channels");
  }
  return planes;
}

void expectChannelValues(const Shape &operand, const ChannelView &v, const char *what,
                         bool allowPerSample) {
  int64_t count = elementCount(operand);
  if (count != v.channels && !(allowPerSample && count == v.outer * v.channels))
    fail(what, " ", operand, " must have one value per channel (", v.channels, ")");
}

class BatchNormKernel : public Kernel {
public:
  explicit BatchNormKernel(float epsilon) : epsilon(epsilon) {}

  void check(const std::vector<Shape> &operands, const Shape &result) override {
    expectOperands(operands, 5, 5);
    expectShape(result, operands[0], "result");
    view = channelView(operands[0]);
    const char *names[] = {"mean", "variance", "scale", "bias"};
    for (int i = 0; i < 4; ++i)
      expectChannelValues(operands[1 + i], view, names[i], false);
  }

  Tensor run(const std::vector<const Tensor *> &operands, const Shape &result) override {
    Tensor out = newTensor(result, Fill::Uninitialized);
    std::vector<float> a(size_t(view.outer * view.channels)), b(a.size());
    const float *mean = operands[1]->values(), *var = operands[2]->values();
    const float *scale = operands[3]->values(), *bias = operands[4]->values();
    for (int64_t n = 0; n < view.outer; ++n)
      for (int64_t c = 0; c < view.channels; ++c) {
        float factor = scale[c] / std::sqrt(var[c] + epsilon);
        a[n * view.channels + c] = factor;
        b[n * view.channels + c] = bias[c] - mean[c] * factor;
      }
    affinePerChannel(operands[0]->values(), out.mutableValues(), view, a.data(), b.data(), false);
    return out;
  }

private:
  float epsilon;
  ChannelView view{};
};

class ScaleKernel : public Kernel {
public:
  ScaleKernel(bool hasBias, bool doRelu) : hasBias(hasBias), doRelu(doRelu) {}

  void check(const std::vector<Shape> &operands, const Shape &result) override {
    expectOperands(operands, hasBias ? 3 : 2, hasBias ? 3 : 2);
    expectShape(result, operands[0], "result");
    view = channelView(operands[0]);
    expectChannelValues(operands[1], view, "scale", true);
    if (hasBias)
      expectChannelValues(operands[2], view, "bias", true);
  }

  Tensor run(const std::vector<const Tensor *> &operands, const Shape &result) override {
    Tensor out = newTensor(result, Fill::Uninitialized);
    std::vector<float> a = perPlane(*operands[1], view, "scale");
    std::vector<float> b =
        hasBias ? perPlane(*operands[2], view, "bias") : std::vector<float>(a.size(), 0.0f);
    affinePerChannel(operands[0]->values(), out.mutableValues(), view, a.data(), b.data(), doRelu);
    return out;
  }

private:
  bool hasBias, doRelu;
  ChannelView view{};
};

class PReluKernel : public Kernel {
public:
  void check(const std::vector<Shape> &operands, const Shape &result) override {
    expectOperands(operands, 2, 2);
    expectShape(result, operands[0], "result");
    view = channelView(operands[0]);
    int64_t count = elementCount(operands[1]);
    if (count != view.channels && count != 1)
      fail("slope ", operands[1], " must have one value per channel (", view.channels,
           ") or a single value");
  }

  Tensor run(const std::vector<const Tensor *> &operands, const Shape &result) override {
    Tensor out = newTensor(result, Fill::Uninitialized);
    const float *in = operands[0]->values(), *slope = operands[1]->values();
    float *dst = out.mutableValues();
    bool shared = operands[1]->count() == 1;
    parallelFor(view.outer * view.channels, 1, [&](int64_t begin, int64_t end) {
      for (int64_t plane = begin; plane < end; ++plane) {
        float s = slope[shared ? 0 : plane % view.channels];
        const float *src = in + plane * view.inner;
        float *d = dst + plane * view.inner;
        for (int64_t i = 0; i < view.inner; ++i)
          d[i] = src[i] >= 0.0f ? src[i] : s * src[i];
      }
    });
    return out;
  }

private:
  ChannelView view{};
};

//===----------------------------------------------------------------------===//
// Lrn
//===----------------------------------------------------------------------===//

// The quantized form splits y = x * (k + alpha / size * sum_window x^2) ^ -beta into tables:
// part 1 = x^2, part 2 = the windowed channel sum, part 3 = (k + alpha / size * s) ^ -beta; the
// product of the input and part 3 is the Lrn.
class LrnKernel : public Kernel {
public:
  explicit LrnKernel(const LrnParams &params) : p(params) {}

  void check(const std::vector<Shape> &operands, const Shape &result) override {
    expectOperands(operands, 1, 1);
    expectShape(result, operands[0], "result");
    if (p.size <= 0)
      fail("local_size must be positive, got ", p.size);
    if (p.part < 0 || p.part > 3)
      fail("part must be 1, 2 or 3, got ", p.part);
    view = channelView(operands[0]);
  }

  Tensor run(const std::vector<const Tensor *> &operands, const Shape &result) override {
    Tensor out = newTensor(result, Fill::Uninitialized);
    const float *in = operands[0]->values();
    float *dst = out.mutableValues();
    int64_t count = out.count();
    float factor = p.alpha / float(p.size);
    switch (p.part) {
    case 1:
      for (int64_t i = 0; i < count; ++i)
        dst[i] = in[i] * in[i];
      break;
    case 2:
      windowSum(in, dst, false);
      break;
    case 3:
      for (int64_t i = 0; i < count; ++i)
        dst[i] = std::pow(p.k + factor * in[i], -p.beta);
      break;
    default:
      windowSum(in, dst, true);
      for (int64_t i = 0; i < count; ++i)
        dst[i] = in[i] * std::pow(p.k + factor * dst[i], -p.beta);
      break;
    }
    return out;
  }

private:
  // dst[n, c] = sum over c' in [c - (size-1)/2, c + ceil((size-1)/2)] of v[n, c'], where v is the
  // input or its square.
  void windowSum(const float *in, float *dst, bool square) const {
    int64_t before = (p.size - 1) / 2, after = p.size - 1 - before;
    parallelFor(view.outer * view.channels, 1, [&](int64_t begin, int64_t end) {
      for (int64_t plane = begin; plane < end; ++plane) {
        int64_t n = plane / view.channels, c = plane % view.channels;
        float *d = dst + plane * view.inner;
        std::fill(d, d + view.inner, 0.0f);
        int64_t c0 = std::max<int64_t>(0, c - before);
        int64_t c1 = std::min<int64_t>(view.channels - 1, c + after);
        for (int64_t cc = c0; cc <= c1; ++cc) {
          const float *src = in + (n * view.channels + cc) * view.inner;
          if (square)
            for (int64_t i = 0; i < view.inner; ++i)
              d[i] += src[i] * src[i];
          else
            for (int64_t i = 0; i < view.inner; ++i)
              d[i] += src[i];
        }
      }
    });
  }

  LrnParams p;
  ChannelView view{};
};

//===----------------------------------------------------------------------===//
// Normalize
//===----------------------------------------------------------------------===//

class NormalizeKernel : public Kernel {
public:
  explicit NormalizeKernel(const NormalizeParams &params) : p(params) {}

  void check(const std::vector<Shape> &operands, const Shape &result) override {
    expectOperands(operands, 2, 2);
    expectShape(result, operands[0], "result");
    view = channelView(operands[0]);
    int64_t count = elementCount(operands[1]);
    if (p.channelShared ? count != 1 : count != view.channels)
      fail("scale ", operands[1], " must have ", p.channelShared ? 1 : view.channels,
           p.channelShared ? " value (channel_shared)" : " values (one per channel)");
  }

  Tensor run(const std::vector<const Tensor *> &operands, const Shape &result) override {
    Tensor out = newTensor(result, Fill::Uninitialized);
    const float *in = operands[0]->values(), *scale = operands[1]->values();
    float *dst = out.mutableValues();
    int64_t sampleSize = view.channels * view.inner;
    for (int64_t n = 0; n < view.outer; ++n) {
      const float *src = in + n * sampleSize;
      float *d = dst + n * sampleSize;
      std::vector<float> norm(size_t(p.acrossSpatial ? 1 : view.inner), 0.0f);
      if (p.acrossSpatial) {
        double sum = 0;
        for (int64_t i = 0; i < sampleSize; ++i)
          sum += double(src[i]) * src[i];
        norm[0] = std::sqrt(float(sum) + p.eps);
      } else {
        for (int64_t c = 0; c < view.channels; ++c)
          for (int64_t i = 0; i < view.inner; ++i)
            norm[i] += src[c * view.inner + i] * src[c * view.inner + i];
        for (float &value : norm)
          value = std::sqrt(value + p.eps);
      }
      for (int64_t c = 0; c < view.channels; ++c) {
        float s = scale[p.channelShared ? 0 : c];
        for (int64_t i = 0; i < view.inner; ++i)
          d[c * view.inner + i] = src[c * view.inner + i] / norm[p.acrossSpatial ? 0 : i] * s;
      }
    }
    return out;
  }

private:
  NormalizeParams p;
  ChannelView view{};
};

//===----------------------------------------------------------------------===//
// Softmax, ReduceMean
//===----------------------------------------------------------------------===//

class SoftmaxKernel : public Kernel {
public:
  explicit SoftmaxKernel(int64_t axis) : axis(axis) {}

  void check(const std::vector<Shape> &operands, const Shape &result) override {
    expectOperands(operands, 1, 1);
    expectShape(result, operands[0], "result");
    const Shape &in = operands[0];
    int64_t a = normalizeAxis(axis, int64_t(in.size()));
    outer = 1;
    inner = 1;
    for (int64_t i = 0; i < a; ++i)
      outer *= in[i];
    for (size_t i = a + 1; i < in.size(); ++i)
      inner *= in[i];
    length = in[a];
  }

  Tensor run(const std::vector<const Tensor *> &operands, const Shape &result) override {
    Tensor out = newTensor(result, Fill::Uninitialized);
    const float *in = operands[0]->values();
    float *dst = out.mutableValues();
    parallelFor(outer * inner, 64, [&](int64_t begin, int64_t end) {
      for (int64_t index = begin; index < end; ++index) {
        int64_t o = index / inner, i = index % inner;
        const float *src = in + o * length * inner + i;
        float *d = dst + o * length * inner + i;
        float maxValue = src[0];
        for (int64_t j = 1; j < length; ++j)
          maxValue = std::max(maxValue, src[j * inner]);
        float sum = 0.0f;
        for (int64_t j = 0; j < length; ++j) {
          d[j * inner] = std::exp(src[j * inner] - maxValue);
          sum += d[j * inner];
        }
        float inverse = 1.0f / sum;
        for (int64_t j = 0; j < length; ++j)
          d[j * inner] *= inverse;
      }
    });
    return out;
  }

private:
  int64_t axis, outer = 1, inner = 1, length = 1;
};

class ReduceMeanKernel : public Kernel {
public:
  ReduceMeanKernel(std::vector<int64_t> axes, bool keepdims)
      : axes(std::move(axes)), keepdims(keepdims) {}

  void check(const std::vector<Shape> &operands, const Shape &result) override {
    expectOperands(operands, 1, 1);
    const Shape &in = operands[0];
    int64_t rank = int64_t(in.size());
    reduced.assign(in.size(), false);
    for (int64_t axis : axes) {
      int64_t a = normalizeAxis(axis, rank, "reduction axis");
      if (reduced[a])
        fail("axis ", axis, " is listed twice");
      reduced[a] = true;
    }
    Shape expected;
    for (int64_t i = 0; i < rank; ++i)
      if (!reduced[i])
        expected.push_back(in[i]);
      else if (keepdims)
        expected.push_back(1);
    expectShape(result, expected, "result");
    // Offsets (in the input) of the reduced sub-space and of each kept position.
    std::vector<int64_t> strides = stridesOf(in);
    reducedOffsets.assign(1, 0);
    keptOffsets.assign(1, 0);
    for (int64_t i = 0; i < rank; ++i) {
      std::vector<int64_t> &offsets = reduced[i] ? reducedOffsets : keptOffsets;
      std::vector<int64_t> grown;
      grown.reserve(offsets.size() * in[i]);
      for (int64_t base : offsets)
        for (int64_t j = 0; j < in[i]; ++j)
          grown.push_back(base + j * strides[i]);
      offsets.swap(grown);
    }
  }

  Tensor run(const std::vector<const Tensor *> &operands, const Shape &result) override {
    Tensor out = newTensor(result, Fill::Uninitialized);
    const float *in = operands[0]->values();
    float *dst = out.mutableValues();
    float inverse = 1.0f / float(reducedOffsets.size());
    parallelFor(int64_t(keptOffsets.size()), 16, [&](int64_t begin, int64_t end) {
      for (int64_t k = begin; k < end; ++k) {
        const float *base = in + keptOffsets[k];
        float sum = 0.0f;
        for (int64_t offset : reducedOffsets)
          sum += base[offset];
        dst[k] = sum * inverse;
      }
    });
    return out;
  }

private:
  std::vector<int64_t> axes;
  bool keepdims;
  std::vector<bool> reduced;
  std::vector<int64_t> reducedOffsets, keptOffsets;
};

} // namespace

std::unique_ptr<Kernel> makeBatchNorm(float epsilon) {
  return std::make_unique<BatchNormKernel>(epsilon);
}
std::unique_ptr<Kernel> makeScale(bool hasBias, bool doRelu) {
  return std::make_unique<ScaleKernel>(hasBias, doRelu);
}
std::unique_ptr<Kernel> makePRelu() { return std::make_unique<PReluKernel>(); }
std::unique_ptr<Kernel> makeLrn(const LrnParams &params) {
  return std::make_unique<LrnKernel>(params);
}
std::unique_ptr<Kernel> makeNormalize(const NormalizeParams &params) {
  return std::make_unique<NormalizeKernel>(params);
}
std::unique_ptr<Kernel> makeSoftmax(int64_t axis) { return std::make_unique<SoftmaxKernel>(axis); }
std::unique_ptr<Kernel> makeReduceMean(std::vector<int64_t> axes, bool keepdims) {
  return std::make_unique<ReduceMeanKernel>(std::move(axes), keepdims);
}

} // namespace tpuc::interpreter
