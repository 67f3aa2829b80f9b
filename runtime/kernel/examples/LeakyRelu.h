//===- LeakyRelu.h - worked example: an int8 LeakyRelu kernel --*- C++ -*-===//
//
// The code generation of the custom-op guide's LeakyRelu example written against
// tpuc::kernel::Context (docs/kernel-api.md walks through it). Header-only so that plugins can
// include it as a template for their own kernels.
//
//===----------------------------------------------------------------------===//
#pragma once

#include "tpuc/kernel/Context.h"

#include <algorithm>
#include <cstdint>

namespace tpuc::kernel::examples {

/// Quantised LeakyRelu parameters (RSHIFT_AND_M_I8): y = round(x * m / 2^rshift) with (m, rshift)
/// chosen by the sign of x.
struct LeakyReluQuant {
  int8_t posMultiplier = 1;
  uint8_t posRshift = 0;
  int8_t negMultiplier = 1;
  uint8_t negRshift = 0;
};

/// Emits LeakyRelu over `count` int8 values from `in` to `out` (both contiguous in global
/// memory). The flat tensor is cut into tiles of (n, lanes, 1, EUs) elements, plus one
/// (1, 1, 1, rest) tile; each tile is loaded, split into its positive part max(x, 0) and negative
/// part min(x, 0), each part is scaled with its multiplier and shift, the parts are combined
/// (one of them is 0, so a bitwise OR merges them) and the result is stored. Two buffer sets
/// alternate and the next tile is loaded before the current one is computed, so that transfers
/// overlap computation. Returns ctx.ok().
inline bool emitLeakyRelu(Context &ctx, GlobalAddr in, GlobalAddr out, uint64_t count,
                          const LeakyReluQuant &q, uint32_t maxTileN = 32) {
  const uint32_t lanes = ctx.lanes(), eus = ctx.eusPerLane();
  const uint64_t row = uint64_t{lanes} * eus; // elements of one (1, lanes, 1, EUs) slab
  // Shape of the tile that starts after `done` elements.
  auto tileAt = [&](uint64_t done) {
    uint64_t rest = count - done;
    if (rest >= row)
      return Shape{static_cast<uint32_t>(std::min<uint64_t>(maxTileN, rest / row)), lanes, 1, eus};
    return Shape{1, 1, 1, static_cast<uint32_t>(rest)};
  };
  const Shape full{maxTileN, lanes, 1, eus};
  LocalTensor x[2], pos[2], neg[2];
  for (int b = 0; b < 2; ++b) {
    x[b] = ctx.allocTensor(full, DType::Int8);
    pos[b] = ctx.allocTensor(full, DType::Int8);
    neg[b] = ctx.allocTensor(full, DType::Int8);
  }
  // A view of the first elements of a buffer with the tile's own shape and default strides.
  auto view = [&](const LocalTensor &t, const Shape &s) {
    return ctx.reinterpret(t, s, ctx.defaultStrides(s, DType::Int8), DType::Int8);
  };
  auto load = [&](int b, uint64_t done) {
    Shape s = tileAt(done);
    ctx.load(view(x[b], s), GlobalTensor::dense(in + done, s, DType::Int8));
  };
  if (count > 0)
    load(0, 0);
  int b = 0;
  for (uint64_t done = 0; done < count && ctx.ok(); b ^= 1) {
    Shape s = tileAt(done);
    if (done + s.count() < count) // prefetch the next tile into the other buffer set
      load(b ^ 1, done + s.count());
    LocalTensor xs = view(x[b], s), ps = view(pos[b], s), ns = view(neg[b], s);
    ctx.max(ps, xs, Operand::scalar(0));
    ctx.mul(ps, ps, Operand::scalar(q.posMultiplier), q.posRshift);
    ctx.min(ns, xs, Operand::scalar(0));
    ctx.mul(ns, ns, Operand::scalar(q.negMultiplier), q.negRshift);
    ctx.bitOr(ps, ps, ns);
    ctx.store(GlobalTensor::dense(out + done, s, DType::Int8), ps);
    done += s.count();
  }
  for (int k = 1; k >= 0; --k) {
    ctx.free(neg[k]);
    ctx.free(pos[k]);
    ctx.free(x[k]);
  }
  return ctx.ok();
}

} // namespace tpuc::kernel::examples
