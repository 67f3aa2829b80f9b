//===- Elementwise.cpp - INT8 element-wise layer kernels -------------------===//
//
// eltwise add/max/min/mul, lut, leaky_relu, prelu, the rescaling part of concat and the output
// dequantisation. All of them stream tiles through local memory: load the inputs of tile i + 1
// while tile i computes (two buffer sets), compute, store. Layers whose arithmetic does not depend
// on the position and whose operands are all dense are first reshaped to (1, lanes, h, w) so that
// every lane works.
//
//===----------------------------------------------------------------------===//
#include "LayerCommon.h"

#include <cmath>
#include <functional>

namespace tpuc::kernel::layers {

using namespace detail;

namespace {

/// A streamed element-wise layer: 8-bit inputs and output of one shape.
struct Stream {
  std::vector<GlobalTensor> ins;
  GlobalTensor out;
  std::vector<DType> temps; ///< temporaries per tile (Int8 or Int16)
  bool flatten = true;      ///< arithmetic independent of the element position
  /// Computes a tile; returns the 8-bit tensor to store.
  std::function<LocalTensor(const Tile4 &, std::vector<LocalTensor> &in,
                            std::vector<LocalTensor> &tmp, uint32_t buf)>
      compute;
};

bool runStream(Scope &S, Stream st) {
  Context &ctx = S.ctx;
  Shape shape = st.out.shape;
  for (const GlobalTensor &g : st.ins)
    if (!(g.shape == shape))
      return S.fail("input shape " + shapeStr(g.shape) + " differs from the output shape " +
                    shapeStr(shape));
  if (st.flatten) {
    bool dense = isDense(st.out);
    for (const GlobalTensor &g : st.ins)
      dense = dense && isDense(g);
    Shape flat = flatShape(shape, ctx.lanes());
    if (dense && !(flat == shape)) {
      shape = flat;
      for (GlobalTensor &g : st.ins)
        g = GlobalTensor::dense(g.addr, shape, g.dtype);
      st.out = GlobalTensor::dense(st.out.addr, shape, st.out.dtype);
    }
  }
  uint32_t units = static_cast<uint32_t>(st.ins.size());
  for (DType t : st.temps)
    units += t == DType::Int16 ? 2 : 1;
  units = std::max<uint32_t>(units, 1);
  // With double buffering, at least two tiles so that transfers overlap the arithmetic.
  uint32_t overlapCap = std::max<uint32_t>(2048, ceilDiv(shape.count(), ctx.lanes() * 2ull));
  auto need = [&](const Shape &t) {
    uint64_t bytes = 0;
    for (size_t i = 0; i < st.ins.size(); ++i)
      bytes += align16(ctx.bytesPerLane(t, DType::Int8));
    for (DType d : st.temps)
      bytes += align16(ctx.bytesPerLane(t, d));
    return bytes;
  };
  uint32_t B = 0;
  std::vector<Tile4> tiles = fitTiles(shape, ctx.lanes(), S.remaining(), S.options().doubleBuffer,
                                      units, 2048, overlapCap, need, B);
  if (tiles.empty())
    return S.fail("no tile fits " + std::to_string(S.remaining()) +
                  " bytes of local memory per lane");
  Shape maxT = tiles[0].s;
  std::vector<LocalTensor> inBuf[2], tmpBuf[2];
  for (uint32_t b = 0; b < B; ++b) {
    for (size_t i = 0; i < st.ins.size(); ++i)
      inBuf[b].push_back(S.alloc(maxT, DType::Int8));
    for (DType t : st.temps)
      tmpBuf[b].push_back(S.alloc(maxT, t));
  }
  if (!ctx.ok())
    return false;
  auto views = [&](const std::vector<LocalTensor> &bufs, const Shape &s) {
    std::vector<LocalTensor> v;
    for (const LocalTensor &t : bufs)
      v.push_back(view(ctx, t, s, t.dtype));
    return v;
  };
  auto load = [&](size_t i) {
    const Tile4 &t = tiles[i];
    uint32_t b = static_cast<uint32_t>(i % B);
    for (size_t k = 0; k < st.ins.size(); ++k)
      ctx.load(view(ctx, inBuf[b][k], t.s, DType::Int8),
               subTensor(st.ins[k], t.n0, t.c0, t.h0, t.w0, t.s));
  };
  if (B == 2)
    load(0);
  for (size_t i = 0; i < tiles.size() && ctx.ok(); ++i) {
    if (B == 2) {
      if (i + 1 < tiles.size())
        load(i + 1);
    } else {
      load(i);
    }
    const Tile4 &t = tiles[i];
    uint32_t b = static_cast<uint32_t>(i % B);
    std::vector<LocalTensor> in = views(inBuf[b], t.s), tmp = views(tmpBuf[b], t.s);
    LocalTensor res = st.compute(t, in, tmp, b);
    ctx.store(subTensor(st.out, t.n0, t.c0, t.h0, t.w0, t.s), res);
  }
  return ctx.ok();
}

bool checkInt8(Scope &S, const GlobalTensor &t, const char *role) {
  if (t.dtype != DType::Int8)
    return S.fail(std::string(role) + " must be int8");
  return true;
}

/// The low byte plane of an Int16 tensor as an Int8 tensor.
LocalTensor lowPlane(const LocalTensor &t) {
  LocalTensor v = t;
  v.dtype = DType::Int8;
  v.planeStride = 0;
  return v;
}

} // namespace

//===----------------------------------------------------------------------===//
// eltwise add / max / min
//===----------------------------------------------------------------------===//

bool emitEltwise(Context &ctx, const EltwiseLayer &L, const EmitOptions &opts) {
  const char *op = L.kind == EltwiseKind::Add   ? "eltwise_add"
                   : L.kind == EltwiseKind::Max ? "eltwise_max"
                                                : "eltwise_min";
  Scope S(ctx, op, L, opts);
  if (!S.entered())
    return false;
  if (L.inputs.empty())
    return S.fail("no inputs");
  if (L.multipliers.size() != L.inputs.size())
    return S.fail(std::to_string(L.multipliers.size()) + " multipliers for " +
                  std::to_string(L.inputs.size()) + " inputs");
  for (int32_t m : L.multipliers)
    if (m < -128 || m > 127)
      return S.fail("multiplier " + std::to_string(m) + " is not an int8 value");
  if (L.rshift > 31)
    return S.fail("rshift " + std::to_string(L.rshift) + " is out of range (0..31)");
  if (L.kind == EltwiseKind::Add && L.inputs.size() > 1 && L.rshift > 15)
    return S.fail("rshift " + std::to_string(L.rshift) + " is out of range for an add (0..15)");
  for (const GlobalTensor &g : L.inputs)
    if (!checkInt8(S, g, "every input"))
      return false;
  if (!checkInt8(S, L.output, "the output"))
    return false;
  Stream st;
  st.ins = L.inputs;
  st.out = L.output;
  const size_t k = L.inputs.size();
  if (L.kind == EltwiseKind::Add) {
    if (k > 1)
      st.temps = {DType::Int16};
    st.compute = [&](const Tile4 &, std::vector<LocalTensor> &in, std::vector<LocalTensor> &tmp,
                     uint32_t) {
      if (k == 1) {
        ctx.mul(in[0], in[0], Operand::scalar(L.multipliers[0]), L.rshift, L.doRelu);
        return in[0];
      }
      // acc = q0 * m0 (16 bits); acc += qi * mi; the last mac shifts, saturates to 8 bits (and
      // applies ReLU) into the low plane.
      LocalTensor acc = tmp[0];
      ctx.mul(acc, in[0], Operand::scalar(L.multipliers[0]), 0);
      for (size_t i = 1; i + 1 < k; ++i)
        ctx.mac(acc, in[i], Operand::scalar(L.multipliers[i]), 0, 0);
      ctx.mac(acc, in[k - 1], Operand::scalar(L.multipliers[k - 1]), 0, L.rshift, L.doRelu, true);
      return lowPlane(acc);
    };
  } else {
    st.compute = [&](const Tile4 &, std::vector<LocalTensor> &in, std::vector<LocalTensor> &,
                     uint32_t) {
      for (size_t i = 0; i < k; ++i)
        rescaleInt8(ctx, in[i], L.multipliers[i], L.rshift);
      for (size_t i = 1; i < k; ++i) {
        if (L.kind == EltwiseKind::Max)
          ctx.max(in[0], in[0], in[i]);
        else
          ctx.min(in[0], in[0], in[i]);
      }
      if (L.doRelu)
        ctx.max(in[0], in[0], Operand::scalar(0));
      return in[0];
    };
  }
  runStream(S, st);
  return S.finish();
}

//===----------------------------------------------------------------------===//
// eltwise mul (QDM)
//===----------------------------------------------------------------------===//

bool emitEltwiseMul(Context &ctx, const EltwiseMulLayer &L, const EmitOptions &opts) {
  Scope S(ctx, "eltwise_mul", L, opts);
  if (!S.entered())
    return false;
  if (!checkInt8(S, L.a, "input a") || !checkInt8(S, L.b, "input b") ||
      !checkInt8(S, L.output, "the output"))
    return false;
  if (L.rshift > 31)
    return S.fail("rshift " + std::to_string(L.rshift) + " is out of range (0..31)");
  const Shape &as = L.a.shape, &bs = L.b.shape;
  bool same = bs == as;
  bool channel = bs.h == 1 && bs.w == 1 && bs.c == as.c && (bs.n == as.n || bs.n == 1);
  if (!(as == L.output.shape) || (!same && !channel))
    return S.fail("input a " + shapeStr(as) + " must have the output's shape " +
                  shapeStr(L.output.shape) + " and input b " + shapeStr(bs) +
                  " the same shape or (N or 1, C, 1, 1)");
  Stream st;
  st.out = L.output;
  if (same) {
    st.ins = {L.a, L.b};
    st.compute = [&](const Tile4 &, std::vector<LocalTensor> &in, std::vector<LocalTensor> &,
                     uint32_t) {
      ctx.mulQm(in[0], in[0], in[1], L.multiplier, L.rshift, L.doRelu);
      return in[0];
    };
    runStream(S, st);
    return S.finish();
  }
  // Per-channel b: each tile loads its (n, c, 1, 1) slice of b and reads it with zero h and w
  // strides (and a zero n stride when b has one batch).
  uint32_t maxC = std::min<uint32_t>(as.c, 4064), maxN = bs.n == 1 ? 1 : std::min(bs.n, 4064u);
  LocalTensor bBuf[2];
  for (uint32_t k = 0; k < 2; ++k)
    bBuf[k] = S.alloc({maxN, maxC, 1, 1}, DType::Int8);
  if (!ctx.ok())
    return S.finish();
  st.ins = {L.a};
  st.flatten = false;
  st.compute = [&](const Tile4 &t, std::vector<LocalTensor> &in, std::vector<LocalTensor> &,
                   uint32_t buf) {
    uint32_t n = bs.n == 1 ? 1 : t.s.n;
    Shape ls{n, t.s.c, 1, 1};
    LocalTensor bl = view(ctx, bBuf[buf], ls, DType::Int8);
    ctx.load(bl, subTensor(L.b, bs.n == 1 ? 0 : t.n0, t.c0, 0, 0, ls));
    LocalTensor bb =
        ctx.reinterpret(bl, t.s, {bs.n == 1 ? 0 : bl.stride.n, bl.stride.c, 0, 0}, DType::Int8);
    ctx.mulQm(in[0], in[0], bb, L.multiplier, L.rshift, L.doRelu);
    return in[0];
  };
  runStream(S, st);
  return S.finish();
}

//===----------------------------------------------------------------------===//
// lut
//===----------------------------------------------------------------------===//

bool emitLut(Context &ctx, const LutLayer &L, const EmitOptions &opts) {
  Scope S(ctx, "lut", L, opts);
  if (!S.entered())
    return false;
  if (!checkInt8(S, L.input, "the input") || !checkInt8(S, L.output, "the output"))
    return false;
  // The 256-byte table is replicated into every lane (one table per lane).
  LocalTensor table = S.allocLutTable();
  if (!ctx.ok())
    return S.finish();
  const uint32_t lanes = ctx.lanes();
  ctx.load(table, GlobalTensor{L.table, {1, lanes, 16, 16}, {0, 0, 16, 1}, DType::Uint8});
  Stream st;
  st.ins = {L.input};
  st.out = L.output;
  st.compute = [&](const Tile4 &, std::vector<LocalTensor> &in, std::vector<LocalTensor> &,
                   uint32_t) {
    ctx.lookup(in[0], in[0], table);
    return in[0];
  };
  runStream(S, st);
  return S.finish();
}

//===----------------------------------------------------------------------===//
// leaky_relu
//===----------------------------------------------------------------------===//

bool emitLeakyRelu(Context &ctx, const LeakyReluLayer &L, const EmitOptions &opts) {
  Scope S(ctx, "leaky_relu", L, opts);
  if (!S.entered())
    return false;
  if (!checkInt8(S, L.input, "the input") || !checkInt8(S, L.output, "the output"))
    return false;
  for (int32_t m : {L.mPos, L.mNeg})
    if (m < -128 || m > 127)
      return S.fail("multiplier " + std::to_string(m) + " is not an int8 value");
  if (L.rPos > 31 || L.rNeg > 31)
    return S.fail("shifts must be in 0..31");
  Stream st;
  st.ins = {L.input};
  st.out = L.output;
  st.temps = {DType::Int8};
  st.compute = [&](const Tile4 &, std::vector<LocalTensor> &in, std::vector<LocalTensor> &tmp,
                   uint32_t) {
    // One of max(q, 0) and min(q, 0) is 0 and stays 0 after its rescale: OR combines them.
    LocalTensor pos = tmp[0], neg = in[0];
    ctx.max(pos, in[0], Operand::scalar(0));
    rescaleInt8(ctx, pos, L.mPos, L.rPos);
    ctx.min(neg, in[0], Operand::scalar(0));
    ctx.mul(neg, neg, Operand::scalar(L.mNeg), L.rNeg);
    ctx.bitOr(pos, pos, neg);
    return pos;
  };
  runStream(S, st);
  return S.finish();
}

//===----------------------------------------------------------------------===//
// prelu
//===----------------------------------------------------------------------===//

bool emitPRelu(Context &ctx, const PReluLayer &L, const EmitOptions &opts) {
  Scope S(ctx, "prelu", L, opts);
  if (!S.entered())
    return false;
  if (!checkInt8(S, L.input, "the input") || !checkInt8(S, L.output, "the output"))
    return false;
  if (L.mPos < -128 || L.mPos > 127)
    return S.fail("multiplier " + std::to_string(L.mPos) + " is not an int8 value");
  if (L.rPos > 31 || L.rNeg > 31)
    return S.fail("shifts must be in 0..31");
  // The negative part is a 1x1 depthwise convolution with the per-channel slopes as weights and
  // the per-tensor shift r_neg (§5.1 rounding), so the channel structure is kept (no reshape).
  const uint32_t lanes = ctx.lanes();
  uint32_t maxC = std::min<uint32_t>(L.input.shape.c, 4064);
  LocalTensor slope[2];
  for (uint32_t b = 0; b < 2; ++b)
    slope[b] = S.alloc({1, maxC, 1, 1}, DType::Int8);
  if (!ctx.ok())
    return S.finish();
  Stream st;
  st.ins = {L.input};
  st.out = L.output;
  st.temps = {DType::Int8, DType::Int8};
  st.flatten = false;
  st.compute = [&](const Tile4 &t, std::vector<LocalTensor> &in, std::vector<LocalTensor> &tmp,
                   uint32_t b) {
    LocalTensor w = view(ctx, slope[b], {1, t.s.c, 1, 1}, DType::Int8);
    ctx.load(w, GlobalTensor::dense(L.slope + t.c0, {1, t.s.c, 1, 1}, DType::Int8));
    LocalTensor pos = tmp[0], neg = tmp[1];
    ctx.max(pos, in[0], Operand::scalar(0));
    rescaleInt8(ctx, pos, L.mPos, L.rPos);
    ctx.min(in[0], in[0], Operand::scalar(0));
    DepthwiseParams p;
    p.ofmap = neg;
    p.ifmap = in[0];
    p.weight = w;
    p.rshift = L.rNeg;
    ctx.depthwise(p);
    ctx.bitOr(pos, pos, neg);
    return pos;
  };
  (void)lanes;
  runStream(S, st);
  return S.finish();
}

//===----------------------------------------------------------------------===//
// concat
//===----------------------------------------------------------------------===//

bool emitConcat(Context &ctx, const ConcatLayer &L, const EmitOptions &opts) {
  Scope S(ctx, "concat", L, opts);
  if (!S.entered())
    return false;
  if (L.inputs.empty())
    return S.fail("no inputs");
  if (L.axis > 3)
    return S.fail("axis " + std::to_string(L.axis) + " is not an NCHW axis (0..3)");
  if ((!L.multipliers.empty() && L.multipliers.size() != L.inputs.size()) ||
      L.multipliers.size() != L.rshifts.size())
    return S.fail("give one multiplier and one rshift per input (or none)");
  auto dim = [](const Shape &s, uint32_t a) -> uint32_t {
    return a == 0 ? s.n : a == 1 ? s.c : a == 2 ? s.h : s.w;
  };
  uint64_t total = 0;
  for (const GlobalTensor &g : L.inputs) {
    if (!checkInt8(S, g, "every input"))
      return false;
    for (uint32_t a = 0; a < 4; ++a)
      if (a != L.axis && dim(g.shape, a) != dim(L.output.shape, a))
        return S.fail("input " + shapeStr(g.shape) + " does not match the output " +
                      shapeStr(L.output.shape) + " outside axis " + std::to_string(L.axis));
    total += dim(g.shape, L.axis);
  }
  if (!checkInt8(S, L.output, "the output"))
    return false;
  if (total != dim(L.output.shape, L.axis))
    return S.fail("the inputs add up to " + std::to_string(total) + " along axis " +
                  std::to_string(L.axis) + ", the output has " +
                  std::to_string(dim(L.output.shape, L.axis)));
  uint32_t at = 0;
  for (size_t i = 0; i < L.inputs.size() && ctx.ok(); ++i) {
    const GlobalTensor &in = L.inputs[i];
    uint32_t o[4] = {0, 0, 0, 0};
    o[L.axis] = at;
    at += dim(in.shape, L.axis);
    GlobalTensor dst = subTensor(L.output, o[0], o[1], o[2], o[3], in.shape);
    int32_t m = L.multipliers.empty() ? 1 : L.multipliers[i];
    uint32_t r = L.rshifts.empty() ? 0 : L.rshifts[i];
    if (m < -128 || m > 127 || r > 31)
      return S.fail("multiplier " + std::to_string(m) + " / rshift " + std::to_string(r) +
                    " of input " + std::to_string(i) + " out of range");
    if (m == 1 && r == 0 && !L.doRelu) {
      ctx.copy(dst, in); // global to global
      continue;
    }
    Stream st;
    st.ins = {in};
    st.out = dst;
    st.compute = [&, m, r](const Tile4 &, std::vector<LocalTensor> &x, std::vector<LocalTensor> &,
                           uint32_t) {
      if (m == 1 && r == 0)
        ctx.max(x[0], x[0], Operand::scalar(0));
      else
        ctx.mul(x[0], x[0], Operand::scalar(m), r, L.doRelu);
      return x[0];
    };
    runStream(S, st);
    S.freeAll();
  }
  return S.finish();
}

//===----------------------------------------------------------------------===//
// output dequantisation INT8 -> fp32
//===----------------------------------------------------------------------===//

bool emitDequant(Context &ctx, const DequantLayer &L, const EmitOptions &opts) {
  Scope S(ctx, "dequant", L, opts);
  if (!S.entered())
    return false;
  if (!checkInt8(S, L.input, "the input"))
    return false;
  if (!(L.threshold > 0.0f) || !std::isfinite(L.threshold))
    return S.fail("threshold must be positive and finite");
  // As vendor models do it: int8 -> bf16 in the load, x * bf16(threshold / 127) rounded to bf16
  // into the high halves of an fp32 buffer whose low halves are zeroed, one store of the pairs.
  Shape shape = L.input.shape;
  GlobalTensor in = L.input;
  if (isDense(in)) {
    shape = flatShape(shape, ctx.lanes(), 1000);
    in = GlobalTensor::dense(in.addr, shape, DType::Int8);
  }
  // Per tile: the bf16 input and the fp32 output (as bf16 pairs).
  uint32_t overlapCap = std::max<uint32_t>(2048, ceilDiv(shape.count(), ctx.lanes() * 2ull));
  auto need = [&](const Shape &t) {
    return uint64_t{align16(ctx.bytesPerLane(t, DType::Bf16))} +
           align16(ctx.bytesPerLane({t.n, t.c, t.h, 2 * t.w}, DType::Bf16));
  };
  uint32_t B = 0;
  std::vector<Tile4> tiles =
      fitTiles(shape, ctx.lanes(), S.remaining(), opts.doubleBuffer, 6, 1000, overlapCap, need, B);
  if (tiles.empty())
    return S.fail("no tile fits " + std::to_string(S.remaining()) +
                  " bytes of local memory per lane");
  Shape maxT = tiles[0].s;
  LocalTensor xBuf[2], yBuf[2];
  for (uint32_t b = 0; b < B; ++b) {
    xBuf[b] = S.alloc(maxT, DType::Bf16);
    yBuf[b] = S.alloc({maxT.n, maxT.c, maxT.h, 2 * maxT.w}, DType::Bf16);
  }
  if (!ctx.ok())
    return S.finish();
  GlobalTensor out =
      GlobalTensor::dense(L.output, {shape.n, shape.c, shape.h, 2 * shape.w}, DType::Bf16);
  Operand scale = Operand::scalarBf16(L.threshold / 127.0f);
  auto load = [&](size_t i) {
    const Tile4 &t = tiles[i];
    ctx.load(view(ctx, xBuf[i % B], t.s, DType::Bf16), subTensor(in, t.n0, t.c0, t.h0, t.w0, t.s));
  };
  if (B == 2)
    load(0);
  for (size_t i = 0; i < tiles.size() && ctx.ok(); ++i) {
    if (B == 2) {
      if (i + 1 < tiles.size())
        load(i + 1);
    } else {
      load(i);
    }
    const Tile4 &t = tiles[i];
    Shape ys{t.s.n, t.s.c, t.s.h, 2 * t.s.w};
    LocalTensor y = view(ctx, yBuf[i % B], ys, DType::Bf16);
    LocalTensor y8 = ctx.reinterpret(y, {ys.n, ys.c, ys.h, 4 * t.s.w},
                                     {y.stride.n, y.stride.c, y.stride.h, 1}, DType::Int8);
    ctx.bitXor(y8, y8, y8); // zero (the low halves stay zero)
    LocalTensor hi =
        ctx.reinterpret(y, t.s, {y.stride.n, y.stride.c, y.stride.h, 4}, DType::Bf16, 2);
    ctx.mul(hi, view(ctx, xBuf[i % B], t.s, DType::Bf16), scale);
    ctx.store(subTensor(out, t.n0, t.c0, t.h0, 2 * t.w0, ys), y);
  }
  return S.finish();
}

} // namespace tpuc::kernel::layers
