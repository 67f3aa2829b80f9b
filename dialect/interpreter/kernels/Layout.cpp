//===- Layout.cpp - data movement ops --------------------------------------===//
//
// Most layout ops are strided views of their operand: the result is read from the input through
// one stride per result dimension (permute, slice, crop, pixel_shuffle, reorg, shuffle_channel,
// and upsample with zero strides over the repeated positions). They share gatherStrided().
//
//===----------------------------------------------------------------------===//

#include "dialect/interpreter/Kernels.h"
#include "dialect/interpreter/kernels/KernelSupport.h"
#include "dialect/interpreter/kernels/Parallel.h"

#include <algorithm>
#include <cstring>

namespace tpuc::interpreter {
namespace {

// A result of shape `dims` (row-major) whose element i1..ir is in[offset + sum ik * strides[k]].
struct StridedView {
  Shape dims;
  std::vector<int64_t> strides;
  int64_t offset = 0;
};

StridedView simplify(const StridedView &view) {
  StridedView out;
  out.offset = view.offset;
  for (size_t i = 0; i < view.dims.size(); ++i) {
    if (view.dims[i] == 1)
      continue;
    if (!out.dims.empty() && out.strides.back() == view.strides[i] * view.dims[i]) {
      out.dims.back() *= view.dims[i];
      out.strides.back() = view.strides[i];
      continue;
    }
    out.dims.push_back(view.dims[i]);
    out.strides.push_back(view.strides[i]);
  }
  if (out.dims.empty()) {
    out.dims.push_back(1);
    out.strides.push_back(1);
  }
  return out;
}

void gatherStrided(const float *in, float *out, const StridedView &original) {
  StridedView view = simplify(original);
  size_t rank = view.dims.size();
  int64_t inner = view.dims.back(), step = view.strides.back();
  int64_t rows = elementCount(view.dims) / inner;
  parallelFor(rows, std::max<int64_t>(1, 32768 / inner), [&](int64_t begin, int64_t end) {
    for (int64_t row = begin; row < end; ++row) {
      int64_t offset = view.offset, rest = row;
      for (size_t d = rank - 1; d-- > 0;) {
        offset += (rest % view.dims[d]) * view.strides[d];
        rest /= view.dims[d];
      }
      const float *src = in + offset;
      float *dst = out + row * inner;
      if (step == 1) {
        std::memcpy(dst, src, size_t(inner) * sizeof(float));
      } else {
        for (int64_t i = 0; i < inner; ++i)
          dst[i] = src[i * step];
      }
    }
  });
}

// Kernels whose result is a strided view of their single operand.
class ViewKernel : public Kernel {
public:
  Tensor run(const std::vector<const Tensor *> &operands, const Shape &result) override {
    Tensor out = newTensor(result, Fill::Uninitialized);
    gatherStrided(operands[0]->values(), out.mutableValues(), view);
    return out;
  }

protected:
  StridedView view;
};

class IdentityKernel : public Kernel {
public:
  void check(const std::vector<Shape> &operands, const Shape &result) override {
    expectOperands(operands, 1, 1);
    expectShape(result, operands[0], "result");
  }
  Tensor run(const std::vector<const Tensor *> &operands, const Shape &) override {
    return *operands[0];
  }
};

class ReshapeKernel : public Kernel {
public:
  void check(const std::vector<Shape> &operands, const Shape &result) override {
    expectOperands(operands, 1, 1);
    if (elementCount(operands[0]) != elementCount(result))
      fail("cannot reshape ", operands[0], " (", elementCount(operands[0]), " elements) to ",
           result, " (", elementCount(result), " elements)");
  }
  Tensor run(const std::vector<const Tensor *> &operands, const Shape &result) override {
    Tensor out = *operands[0];
    out.shape = result;
    return out;
  }
};

class PermuteKernel : public ViewKernel {
public:
  explicit PermuteKernel(std::vector<int64_t> order) : order(std::move(order)) {}

  void check(const std::vector<Shape> &operands, const Shape &result) override {
    expectOperands(operands, 1, 1);
    const Shape &in = operands[0];
    if (order.size() != in.size())
      fail("order has ", order.size(), " entries for an input of rank ", in.size());
    std::vector<bool> seen(in.size(), false);
    std::vector<int64_t> strides = stridesOf(in);
    view = {};
    Shape expected;
    for (int64_t axis : order) {
      int64_t a = normalizeAxis(axis, int64_t(in.size()), "order entry");
      if (seen[a])
        fail("order ", Shape(order), " is not a permutation");
      seen[a] = true;
      expected.push_back(in[a]);
      view.strides.push_back(strides[a]);
    }
    expectShape(result, expected, "result");
    view.dims = expected;
  }

private:
  std::vector<int64_t> order;
};

class SliceKernel : public ViewKernel {
public:
  SliceKernel(std::vector<int64_t> offsets, std::vector<int64_t> steps, bool isCrop)
      : offsets(std::move(offsets)), steps(std::move(steps)), isCrop(isCrop) {}

  void check(const std::vector<Shape> &operands, const Shape &result) override {
    expectOperands(operands, 1, 1);
    const Shape &in = operands[0];
    if (steps.empty())
      steps.assign(in.size(), 1);
    if (offsets.size() != in.size() || steps.size() != in.size())
      fail(isCrop ? "offsets" : "offsets and steps", " must have one entry per input dimension (",
           in.size(), ")");
    if (result.size() != in.size())
      fail("result ", result, " must have the input's rank ", in.size());
    std::vector<int64_t> strides = stridesOf(in);
    view = {};
    view.dims = result;
    for (size_t i = 0; i < in.size(); ++i) {
      int64_t start = offsets[i] < 0 ? offsets[i] + in[i] : offsets[i];
      if (steps[i] == 0)
        fail("steps must be non-zero");
      int64_t last = start + (result[i] - 1) * steps[i];
      if (result[i] > 0 && (start < 0 || start >= in[i] || last < 0 || last >= in[i]))
        fail("dimension ", i, ": ", result[i], " elements from offset ", offsets[i], " by step ",
             steps[i], " leave the input ", in);
      view.offset += start * strides[i];
      view.strides.push_back(steps[i] * strides[i]);
    }
  }

private:
  std::vector<int64_t> offsets, steps;
  bool isCrop;
};

class PixelShuffleKernel : public ViewKernel {
public:
  PixelShuffleKernel(int64_t factor, bool crd) : factor(factor), crd(crd) {}

  void check(const std::vector<Shape> &operands, const Shape &result) override {
    expectOperands(operands, 1, 1);
    const Shape &in = operands[0];
    expectRank(in, 4, "input");
    int64_t b = factor;
    if (b <= 0 || in[1] % (b * b))
      fail("channels ", in[1], " are not a multiple of upscale_factor^2 = ", b * b);
    int64_t c = in[1] / (b * b), h = in[2], w = in[3];
    expectShape(result, {in[0], c, h * b, w * b}, "result");
    int64_t plane = h * w;
    // Result viewed as [N, C', H, b1, W, b2].
    view.dims = {in[0], c, h, b, w, b};
    if (crd) // input [N, C', b1, b2, H, W]
      view.strides = {in[1] * plane, b * b * plane, w, b * plane, 1, plane};
    else // DCR: input [N, b1, b2, C', H, W]
      view.strides = {in[1] * plane, plane, w, b * c * plane, 1, c * plane};
  }

private:
  int64_t factor;
  bool crd;
};

class ReorgKernel : public ViewKernel {
public:
  explicit ReorgKernel(int64_t stride) : stride(stride) {}

  void check(const std::vector<Shape> &operands, const Shape &result) override {
    expectOperands(operands, 1, 1);
    const Shape &in = operands[0];
    expectRank(in, 4, "input");
    int64_t b = stride;
    if (b <= 0 || in[2] % b || in[3] % b)
      fail("height and width of ", in, " must be multiples of stride ", b);
    int64_t c = in[1], h = in[2], w = in[3];
    expectShape(result, {in[0], c * b * b, h / b, w / b}, "result");
    // Result viewed as [N, b1, b2, C, H/b, W/b] (ONNX SpaceToDepth).
    view.dims = {in[0], b, b, c, h / b, w / b};
    view.strides = {c * h * w, w, 1, h * w, b * w, b};
  }

private:
  int64_t stride;
};

class ShuffleChannelKernel : public ViewKernel {
public:
  explicit ShuffleChannelKernel(int64_t group) : group(group) {}

  void check(const std::vector<Shape> &operands, const Shape &result) override {
    expectOperands(operands, 1, 1);
    const Shape &in = operands[0];
    if (in.size() < 2)
      fail("input must have rank >= 2, got ", in);
    if (group <= 0 || in[1] % group)
      fail("group ", group, " must divide the channels ", in[1]);
    expectShape(result, in, "result");
    int64_t inner = elementCount(in) / (in[0] * in[1]), perGroup = in[1] / group;
    view.dims = {in[0], perGroup, group, inner};
    view.strides = {in[1] * inner, inner, perGroup * inner, 1};
  }

private:
  int64_t group;
};

class UpsampleKernel : public ViewKernel {
public:
  UpsampleKernel(int64_t scaleH, int64_t scaleW) : scaleH(scaleH), scaleW(scaleW) {}

  void check(const std::vector<Shape> &operands, const Shape &result) override {
    expectOperands(operands, 1, 1);
    const Shape &in = operands[0];
    expectRank(in, 4, "input");
    if (scaleH <= 0 || scaleW <= 0)
      fail("scale_h and scale_w must be positive");
    expectShape(result, {in[0], in[1], in[2] * scaleH, in[3] * scaleW}, "result");
    view.dims = {in[0] * in[1], in[2], scaleH, in[3], scaleW};
    view.strides = {in[2] * in[3], in[3], 0, 1, 0};
  }

private:
  int64_t scaleH, scaleW;
};

class ConcatKernel : public Kernel {
public:
  explicit ConcatKernel(int64_t axis) : axis(axis) {}

  void check(const std::vector<Shape> &operands, const Shape &result) override {
    expectOperands(operands, 1, size_t(-1));
    const Shape &first = operands[0];
    int64_t a = normalizeAxis(axis, int64_t(first.size()));
    Shape expected = first;
    expected[a] = 0;
    for (const Shape &operand : operands) {
      if (operand.size() != first.size())
        fail("operands ", first, " and ", operand, " differ in rank");
      for (size_t i = 0; i < first.size(); ++i)
        if (int64_t(i) != a && operand[i] != first[i])
          fail("operands ", first, " and ", operand, " differ outside axis ", axis);
      expected[a] += operand[a];
    }
    expectShape(result, expected, "result");
    outer = 1;
    for (int64_t i = 0; i < a; ++i)
      outer *= first[i];
    chunks.clear();
    for (const Shape &operand : operands)
      chunks.push_back(outer ? elementCount(operand) / outer : 0);
  }

  Tensor run(const std::vector<const Tensor *> &operands, const Shape &result) override {
    Tensor out = newTensor(result, Fill::Uninitialized);
    float *dst = out.mutableValues();
    int64_t row = 0;
    for (int64_t chunk : chunks)
      row += chunk;
    int64_t column = 0;
    for (size_t i = 0; i < operands.size(); ++i) {
      const float *src = operands[i]->values();
      int64_t chunk = chunks[i];
      for (int64_t o = 0; o < outer; ++o)
        std::memcpy(dst + o * row + column, src + o * chunk, size_t(chunk) * sizeof(float));
      column += chunk;
    }
    return out;
  }

private:
  int64_t axis, outer = 1;
  std::vector<int64_t> chunks;
};

// Each result coordinate reads an input coordinate (per dimension index maps) or the constant.
class PadKernel : public Kernel {
public:
  PadKernel(std::vector<int64_t> pads, float value, PadMode mode)
      : pads(std::move(pads)), value(value), mode(mode) {}

  void check(const std::vector<Shape> &operands, const Shape &result) override {
    expectOperands(operands, 1, 1);
    const Shape &in = operands[0];
    size_t rank = in.size();
    if (pads.size() != 2 * rank)
      fail("pads must have 2 * rank = ", 2 * rank, " entries, got ", pads.size());
    Shape expected(rank);
    maps.assign(rank, {});
    for (size_t d = 0; d < rank; ++d) {
      int64_t before = pads[d], after = pads[rank + d];
      expected[d] = in[d] + before + after;
      if (expected[d] < 0)
        fail("pads ", Shape(pads), " remove more than dimension ", d, " of ", in);
      if (mode != PadMode::Constant && in[d] == 0 && expected[d] > 0)
        fail("cannot pad an empty dimension in ", mode == PadMode::Edge ? "edge" : "reflect",
             " mode");
      if (mode == PadMode::Reflect && (before > in[d] - 1 || after > in[d] - 1))
        fail("reflect pads ", Shape(pads), " must be smaller than the dimensions of ", in);
      for (int64_t o = 0; o < expected[d]; ++o) {
        int64_t i = o - before;
        if (i < 0 || i >= in[d]) {
          if (mode == PadMode::Constant)
            i = -1;
          else if (mode == PadMode::Edge)
            i = std::clamp<int64_t>(i, 0, in[d] - 1);
          else
            i = i < 0 ? -i : 2 * (in[d] - 1) - i;
        }
        maps[d].push_back(i);
      }
    }
    expectShape(result, expected, "result");
    strides = stridesOf(in);
  }

  Tensor run(const std::vector<const Tensor *> &operands, const Shape &result) override {
    Tensor out = newTensor(result, Fill::Uninitialized);
    const float *in = operands[0]->values();
    float *dst = out.mutableValues();
    size_t rank = result.size();
    if (rank == 0) {
      dst[0] = in[0];
      return out;
    }
    int64_t inner = result.back();
    int64_t rows = inner ? out.count() / inner : 0;
    const std::vector<int64_t> &innerMap = maps.back();
    parallelFor(rows, std::max<int64_t>(1, 16384 / std::max<int64_t>(inner, 1)),
                [&](int64_t begin, int64_t end) {
                  for (int64_t row = begin; row < end; ++row) {
                    int64_t offset = 0, rest = row;
                    bool constantRow = false;
                    for (size_t d = rank - 1; d-- > 0;) {
                      int64_t i = maps[d][rest % result[d]];
                      rest /= result[d];
                      if (i < 0)
                        constantRow = true;
                      offset += i * strides[d];
                    }
                    float *line = dst + row * inner;
                    if (constantRow) {
                      std::fill(line, line + inner, value);
                      continue;
                    }
                    const float *src = in + offset;
                    for (int64_t o = 0; o < inner; ++o) {
                      int64_t i = innerMap[o];
                      line[o] = i < 0 ? value : src[i];
                    }
                  }
                });
    return out;
  }

private:
  std::vector<int64_t> pads;
  float value;
  PadMode mode;
  std::vector<std::vector<int64_t>> maps;
  std::vector<int64_t> strides;
};

} // namespace

std::unique_ptr<Kernel> makeIdentity() { return std::make_unique<IdentityKernel>(); }
std::unique_ptr<Kernel> makeReshape() { return std::make_unique<ReshapeKernel>(); }
std::unique_ptr<Kernel> makeConcat(int64_t axis) { return std::make_unique<ConcatKernel>(axis); }
std::unique_ptr<Kernel> makePermute(std::vector<int64_t> order) {
  return std::make_unique<PermuteKernel>(std::move(order));
}
std::unique_ptr<Kernel> makeSlice(std::vector<int64_t> offsets, std::vector<int64_t> steps) {
  return std::make_unique<SliceKernel>(std::move(offsets), std::move(steps), false);
}
std::unique_ptr<Kernel> makeCrop(std::vector<int64_t> offsets) {
  return std::make_unique<SliceKernel>(std::move(offsets), std::vector<int64_t>{}, true);
}
std::unique_ptr<Kernel> makePad(std::vector<int64_t> pads, float value, PadMode mode) {
  return std::make_unique<PadKernel>(std::move(pads), value, mode);
}
std::unique_ptr<Kernel> makeUpsample(int64_t scaleH, int64_t scaleW) {
  return std::make_unique<UpsampleKernel>(scaleH, scaleW);
}
std::unique_ptr<Kernel> makePixelShuffle(int64_t factor, bool crd) {
  return std::make_unique<PixelShuffleKernel>(factor, crd);
}
std::unique_ptr<Kernel> makeReorg(int64_t stride) { return std::make_unique<ReorgKernel>(stride); }
std::unique_ptr<Kernel> makeShuffleChannel(int64_t group) {
  return std::make_unique<ShuffleChannelKernel>(group);
}

} // namespace tpuc::interpreter
