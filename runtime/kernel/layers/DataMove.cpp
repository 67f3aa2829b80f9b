//===- DataMove.cpp - upsample, permute, reshape, slice and pad layer kernels -===//
//
// Layers that move int8 values without arithmetic. Whatever a strided global-to-global TDMA copy
// can express (slices, crops, reshapes of dense tensors, permutations that keep W innermost, the
// interior of a pad) is one copy and takes no local memory. Upsampling replicates through local
// memory with strided TIU copies; permutations that move W go through local memory and the
// C <-> W transposing store.
//
//===----------------------------------------------------------------------===//
#include "LayerCommon.h"

namespace tpuc::kernel::layers {

using namespace detail;

namespace {

uint32_t dimOf(const Shape &s, uint32_t a) {
  return a == 0 ? s.n : a == 1 ? s.c : a == 2 ? s.h : s.w;
}
uint32_t strideOf(const GlobalTensor &t, uint32_t a) {
  return a == 0 ? t.stride.n : a == 1 ? t.stride.c : a == 2 ? t.stride.h : globalElemBytes(t.dtype);
}

bool check8(Scope &S, const GlobalTensor &in, const GlobalTensor &out) {
  if (globalElemBytes(in.dtype) != 1 || globalElemBytes(out.dtype) != 1 || in.dtype != out.dtype)
    return S.fail("input and output must be of one 8-bit type");
  return true;
}

} // namespace

bool emitUpsample(Context &ctx, const UpsampleLayer &L, const EmitOptions &opts) {
  Scope S(ctx, "upsample", L, opts);
  if (!S.entered())
    return false;
  if (!check8(S, L.input, L.output))
    return false;
  const Shape &in = L.input.shape, &out = L.output.shape;
  if (L.scaleH == 0 || L.scaleW == 0 || L.scaleH > 16 || L.scaleW > 16)
    return S.fail("scales must be in 1..16");
  if (!(out == Shape{in.n, in.c, in.h * L.scaleH, in.w * L.scaleW}))
    return S.fail("output shape " + shapeStr(out) + " is not the input " + shapeStr(in) +
                  " scaled by " + std::to_string(L.scaleH) + " x " + std::to_string(L.scaleW));
  const uint32_t units = 1 + L.scaleH * L.scaleW;
  const DType dt0 = L.input.dtype;
  auto need = [&](const Shape &t) {
    return uint64_t{align16(ctx.bytesPerLane(t, dt0))} +
           align16(ctx.bytesPerLane({t.n, t.c, t.h * L.scaleH, t.w * L.scaleW}, dt0));
  };
  uint32_t B = 0;
  std::vector<Tile4> tiles = fitTiles(in, ctx.lanes(), S.remaining(), opts.doubleBuffer, units,
                                      4000 / L.scaleW, ~0u, need, B);
  if (tiles.empty())
    return S.fail("no tile fits " + std::to_string(S.remaining()) +
                  " bytes of local memory per lane");
  const DType dt = L.input.dtype;
  Shape maxT = tiles[0].s;
  LocalTensor xBuf[2], yBuf[2];
  for (uint32_t b = 0; b < B; ++b) {
    xBuf[b] = S.alloc(maxT, dt);
    yBuf[b] = S.alloc({maxT.n, maxT.c, maxT.h * L.scaleH, maxT.w * L.scaleW}, dt);
  }
  if (!ctx.ok())
    return S.finish();
  auto load = [&](size_t i) {
    const Tile4 &t = tiles[i];
    ctx.load(view(ctx, xBuf[i % B], t.s, dt), subTensor(L.input, t.n0, t.c0, t.h0, t.w0, t.s));
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
    LocalTensor x = view(ctx, xBuf[i % B], t.s, dt);
    Shape ys{t.s.n, t.s.c, t.s.h * L.scaleH, t.s.w * L.scaleW};
    LocalTensor y = view(ctx, yBuf[i % B], ys, dt);
    for (uint32_t dy = 0; dy < L.scaleH; ++dy)
      for (uint32_t dx = 0; dx < L.scaleW; ++dx) {
        LocalTensor v =
            ctx.reinterpret(y, t.s, {y.stride.n, y.stride.c, y.stride.h * L.scaleH, L.scaleW}, dt,
                            dy * y.stride.h + dx);
        ctx.copyTiu(v, x);
      }
    ctx.store(subTensor(L.output, t.n0, t.c0, t.h0 * L.scaleH, t.w0 * L.scaleW, ys), y);
  }
  return S.finish();
}

bool emitPermute(Context &ctx, const PermuteLayer &L, const EmitOptions &opts) {
  Scope S(ctx, "permute", L, opts);
  if (!S.entered())
    return false;
  if (!check8(S, L.input, L.output))
    return false;
  bool seen[4] = {false, false, false, false};
  for (uint32_t a : L.order) {
    if (a > 3 || seen[a])
      return S.fail("order is not a permutation of 0..3");
    seen[a] = true;
  }
  const Shape &in = L.input.shape, &out = L.output.shape;
  for (uint32_t j = 0; j < 4; ++j)
    if (dimOf(out, j) != dimOf(in, L.order[j]))
      return S.fail("output shape " + shapeStr(out) + " is not the input " + shapeStr(in) +
                    " permuted");
  // Output stride of input axis x.
  uint32_t outStride[4];
  for (uint32_t j = 0; j < 4; ++j)
    outStride[L.order[j]] = strideOf(L.output, j);
  if (L.order[3] == 3) {
    // W stays innermost: one strided copy reading the input in output order.
    GlobalTensor src = L.input;
    src.shape = out;
    src.stride = {strideOf(L.input, L.order[0]), strideOf(L.input, L.order[1]),
                  strideOf(L.input, L.order[2]), globalElemBytes(L.input.dtype)};
    ctx.copy(L.output, src);
    return S.finish();
  }
  // Local (a, o3, b, W) from the input (W contiguous), then the C <-> W transposing store writes
  // global (a, W, b, o3) whose innermost axis o3 is the output's innermost axis.
  const uint32_t o3 = L.order[3];
  uint32_t rest[2], k = 0;
  for (uint32_t x = 0; x < 3; ++x)
    if (x != o3)
      rest[k++] = x;
  const uint32_t a = rest[0], b = rest[1];
  Shape ls{dimOf(in, a), dimOf(in, o3), dimOf(in, b), in.w};
  GlobalTensor src{L.input.addr,
                   ls,
                   {strideOf(L.input, a), strideOf(L.input, o3), strideOf(L.input, b),
                    globalElemBytes(L.input.dtype)},
                   L.input.dtype};
  GlobalTensor dst{L.output.addr,
                   {ls.n, ls.w, ls.h, ls.c},
                   {outStride[a], outStride[3], outStride[b], globalElemBytes(L.output.dtype)},
                   L.output.dtype};
  auto need = [&](const Shape &t) { return uint64_t{align16(ctx.bytesPerLane(t, L.input.dtype))}; };
  uint32_t B = 0;
  std::vector<Tile4> tiles =
      fitTiles(ls, ctx.lanes(), S.remaining(), opts.doubleBuffer, 1, 4000, ~0u, need, B);
  if (tiles.empty())
    return S.fail("no tile fits " + std::to_string(S.remaining()) +
                  " bytes of local memory per lane");
  LocalTensor buf[2];
  for (uint32_t i = 0; i < B; ++i)
    buf[i] = S.alloc(tiles[0].s, L.input.dtype);
  if (!ctx.ok())
    return S.finish();
  for (size_t i = 0; i < tiles.size() && ctx.ok(); ++i) {
    const Tile4 &t = tiles[i];
    LocalTensor x = view(ctx, buf[i % B], t.s, L.input.dtype);
    ctx.load(x, subTensor(src, t.n0, t.c0, t.h0, t.w0, t.s));
    GlobalTensor d = dst;
    d.addr = dst.addr + (uint64_t{t.n0} * dst.stride.n + uint64_t{t.w0} * dst.stride.c +
                         uint64_t{t.h0} * dst.stride.h + uint64_t{t.c0} * dst.stride.w);
    d.shape = {t.s.n, t.s.w, t.s.h, t.s.c};
    ctx.storeTransposedCW(d, x);
  }
  return S.finish();
}

bool emitReshape(Context &ctx, const ReshapeLayer &L, const EmitOptions &opts) {
  Scope S(ctx, "reshape", L, opts);
  if (!S.entered())
    return false;
  if (globalElemBytes(L.input.dtype) != globalElemBytes(L.output.dtype))
    return S.fail("input and output element sizes differ");
  if (L.input.shape.count() != L.output.shape.count())
    return S.fail("input " + shapeStr(L.input.shape) + " and output " + shapeStr(L.output.shape) +
                  " have different element counts");
  if (L.input.shape == L.output.shape) {
    ctx.copy(L.output, L.input);
    return S.finish();
  }
  if (!isDense(L.input) || !isDense(L.output))
    return S.fail("a reshape that changes the shape needs dense input and output");
  uint64_t bytes = L.input.shape.count() * globalElemBytes(L.input.dtype);
  const uint64_t chunk = 1u << 30;
  for (uint64_t done = 0; done < bytes && ctx.ok(); done += chunk)
    ctx.copyBytes(L.output.addr + done, L.input.addr + done,
                  static_cast<uint32_t>(std::min(chunk, bytes - done)));
  return S.finish();
}

bool emitSlice(Context &ctx, const SliceLayer &L, const EmitOptions &opts) {
  Scope S(ctx, "slice", L, opts);
  if (!S.entered())
    return false;
  if (!check8(S, L.input, L.output))
    return false;
  const Shape &in = L.input.shape, &out = L.output.shape;
  for (uint32_t a = 0; a < 4; ++a) {
    if (L.steps[a] == 0)
      return S.fail("steps must be positive");
    uint64_t last = L.offsets[a] + uint64_t{dimOf(out, a) - 1} * L.steps[a];
    if (dimOf(out, a) == 0 || last >= dimOf(in, a))
      return S.fail("output " + shapeStr(out) + " with offset " + std::to_string(L.offsets[a]) +
                    " and step " + std::to_string(L.steps[a]) + " reaches beyond input " +
                    shapeStr(in) + " on axis " + std::to_string(a));
  }
  GlobalTensor src =
      subTensor(L.input, L.offsets[0], L.offsets[1], L.offsets[2], L.offsets[3], out);
  src.stride.n *= L.steps[0];
  src.stride.c *= L.steps[1];
  src.stride.h *= L.steps[2];
  if (L.steps[3] == 1) {
    ctx.copy(L.output, src);
    return S.finish();
  }
  // A step along W: TDMA moves W contiguously, so tiles load the covered span of each row and a
  // TIU copy with w stride = step picks the elements.
  const uint32_t sw = L.steps[3];
  if (sw > 4000)
    return S.fail("step " + std::to_string(sw) + " along W is too large");
  const DType dt = L.input.dtype;
  auto span = [&](const Shape &s) { return Shape{s.n, s.c, s.h, (s.w - 1) * sw + 1}; };
  auto need = [&](const Shape &t) {
    return uint64_t{align16(ctx.bytesPerLane(span(t), dt))} + align16(ctx.bytesPerLane(t, dt));
  };
  uint32_t B = 0;
  std::vector<Tile4> tiles =
      fitTiles(out, ctx.lanes(), S.remaining(), opts.doubleBuffer, 1 + sw, 4000 / sw, ~0u, need, B);
  if (tiles.empty())
    return S.fail("no tile fits " + std::to_string(S.remaining()) +
                  " bytes of local memory per lane");
  LocalTensor xBuf[2], yBuf[2];
  for (uint32_t b = 0; b < B; ++b) {
    xBuf[b] = S.alloc(span(tiles[0].s), dt);
    yBuf[b] = S.alloc(tiles[0].s, dt);
  }
  if (!ctx.ok())
    return S.finish();
  GlobalTensor rows = src; // the covered spans: w counts input columns
  rows.shape = span(out);
  auto load = [&](size_t i) {
    const Tile4 &t = tiles[i];
    Shape xs = span(t.s);
    ctx.load(view(ctx, xBuf[i % B], xs, dt), subTensor(rows, t.n0, t.c0, t.h0, t.w0 * sw, xs));
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
    LocalTensor x = view(ctx, xBuf[i % B], span(t.s), dt);
    LocalTensor y = view(ctx, yBuf[i % B], t.s, dt);
    ctx.copyTiu(y, ctx.reinterpret(x, t.s, {x.stride.n, x.stride.c, x.stride.h, sw}, dt));
    ctx.store(subTensor(L.output, t.n0, t.c0, t.h0, t.w0, t.s), y);
  }
  return S.finish();
}

bool emitPad(Context &ctx, const PadLayer &L, const EmitOptions &opts) {
  Scope S(ctx, "pad", L, opts);
  if (!S.entered())
    return false;
  if (!check8(S, L.input, L.output))
    return false;
  const Shape &in = L.input.shape, &out = L.output.shape;
  for (uint32_t a = 0; a < 4; ++a)
    if (uint64_t{dimOf(in, a)} + L.padsBegin[a] + L.padsEnd[a] != dimOf(out, a))
      return S.fail("output " + shapeStr(out) + " is not the input " + shapeStr(in) +
                    " with the pads on axis " + std::to_string(a));
  if (L.constVal < -128 || L.constVal > 255)
    return S.fail("pad value " + std::to_string(L.constVal) + " is not an 8-bit value");
  // Fill the whole output, then copy the input into its interior (TDMA commands run in order).
  ctx.fill(L.output, L.constVal);
  ctx.copy(subTensor(L.output, L.padsBegin[0], L.padsBegin[1], L.padsBegin[2], L.padsBegin[3], in),
           L.input);
  return S.finish();
}

} // namespace tpuc::kernel::layers
