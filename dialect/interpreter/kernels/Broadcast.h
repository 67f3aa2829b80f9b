//===- Broadcast.h - numpy-broadcast binary loops ---------------*- C++ -*-===//
#pragma once

#include "dialect/interpreter/kernels/KernelSupport.h"
#include "dialect/interpreter/kernels/Parallel.h"

#include <algorithm>

namespace tpuc::interpreter {

/// How an operand of shape `from` is read while walking `to` (which it broadcasts to): `to`'s
/// dimensions merged where possible, and the operand's element step along each (0 = broadcast).
struct BroadcastPlan {
  Shape dims;
  std::vector<int64_t> steps;
};
/// Throws when `from` does not broadcast to `to`.
BroadcastPlan planBroadcast(const Shape &from, const Shape &to);

/// For every element of `out` (the plan's full shape): out[i] = combine(out[i], in[broadcast i]).
/// The innermost loop runs with a unit or zero step, so `combine` is inlined and vectorized.
template <typename Combine>
void combineBroadcast(float *out, const float *in, const BroadcastPlan &plan, Combine combine) {
  size_t rank = plan.dims.size();
  int64_t inner = rank ? plan.dims.back() : 1;
  int64_t innerStep = rank ? plan.steps.back() : 0;
  int64_t outer = inner ? elementCount(plan.dims) / inner : 0;
  parallelFor(outer, std::max<int64_t>(1, 32768 / std::max<int64_t>(inner, 1)),
              [&](int64_t begin, int64_t end) {
                for (int64_t row = begin; row < end; ++row) {
                  // Offset of this row in the operand, from its multi-index.
                  int64_t offset = 0, rest = row;
                  for (size_t d = rank - 1; d-- > 0;) {
                    offset += (rest % plan.dims[d]) * plan.steps[d];
                    rest /= plan.dims[d];
                  }
                  float *dst = out + row * inner;
                  const float *src = in + offset;
                  if (innerStep == 1) {
                    for (int64_t i = 0; i < inner; ++i)
                      dst[i] = combine(dst[i], src[i]);
                  } else {
                    float value = src[0];
                    for (int64_t i = 0; i < inner; ++i)
                      dst[i] = combine(dst[i], value);
                  }
                }
              });
}

} // namespace tpuc::interpreter
