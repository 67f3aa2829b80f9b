//===- ArgMax.cpp - index of the first maximum along an axis -------------===//
//
// One kernel for fp32 values and int8 codes (stored as floats): with a positive threshold the
// largest code is the largest value, so both give the same index. The index is written as f32.
//
//===----------------------------------------------------------------------===//
#include "dialect/interpreter/Kernels.h"
#include "dialect/interpreter/kernels/KernelSupport.h"

namespace tpuc::interpreter {
namespace {

class ArgMaxKernel : public Kernel {
public:
  explicit ArgMaxKernel(int64_t axis) : axis(axis) {}

  void check(const std::vector<Shape> &operands, const Shape &result) override {
    expectOperands(operands, 1, 1);
    const Shape &in = operands[0];
    int64_t a = normalizeAxis(axis, int64_t(in.size()));
    outer = inner = 1;
    for (int64_t i = 0; i < a; ++i)
      outer *= in[i];
    for (size_t i = a + 1; i < in.size(); ++i)
      inner *= in[i];
    length = in[a];
    if (length == 0)
      fail("axis ", axis, " is empty");
    int64_t count = 1;
    for (int64_t d : result)
      count *= d;
    if (count != outer * inner)
      fail("result has ", count, " elements, expected ", outer * inner);
  }

  Tensor run(const std::vector<const Tensor *> &operands, const Shape &result) override {
    Tensor out = newTensor(result, Fill::Uninitialized);
    const float *in = operands[0]->values();
    float *dst = out.mutableValues();
    for (int64_t o = 0; o < outer; ++o) {
      for (int64_t i = 0; i < inner; ++i) {
        const float *src = in + o * length * inner + i;
        int64_t best = 0;
        for (int64_t k = 1; k < length; ++k)
          if (src[k * inner] > src[best * inner])
            best = k;
        dst[o * inner + i] = static_cast<float>(best);
      }
    }
    return out;
  }

private:
  int64_t axis, outer = 1, inner = 1, length = 1;
};

} // namespace

std::unique_ptr<Kernel> makeArgMax(int64_t axis) { return std::make_unique<ArgMaxKernel>(axis); }

} // namespace tpuc::interpreter
