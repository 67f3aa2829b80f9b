//===- LayerCommon.cpp - shared helpers of the INT8 layer kernels ---------===//
#include "LayerCommon.h"

#include <cstring>

namespace tpuc::kernel::layers {

namespace detail {

std::string shapeStr(const Shape &s) {
  return "(" + std::to_string(s.n) + ", " + std::to_string(s.c) + ", " + std::to_string(s.h) +
         ", " + std::to_string(s.w) + ")";
}

Scope::Scope(Context &ctx, const char *op, const LayerBase &layer, const EmitOptions &opts)
    : ctx(ctx), op(op), layer(layer), opts(opts) {
  if (!ctx.ok())
    return;
  enteredOk = true;
  if (layer.layerId > 0xFFFF) {
    fail("layer id " + std::to_string(layer.layerId) + " does not fit 16 bits");
    return;
  }
  ctx.setLayerId(layer.layerId);
  budgetBytes = ctx.lmemLargestFree();
  if (opts.lmemBudget != 0)
    budgetBytes = std::min(budgetBytes, opts.lmemBudget);
}

Scope::~Scope() {
  freeAll();
  if (!finished)
    finish();
}

bool Scope::fail(const std::string &msg) {
  ctx.reportError(msg);
  return false;
}

bool Scope::finish() {
  if (!enteredOk)
    return false;
  if (!finished) {
    finished = true;
    if (!ctx.ok())
      ctx.prefixError(std::string(op) + " '" + layer.name + "': ");
  }
  return ctx.ok();
}

uint32_t Scope::allocatedBytes() const {
  uint64_t total = 0;
  for (const LocalTensor &t : allocated)
    if (t.valid())
      total += align16(ctx.laneFootprint(t));
  return static_cast<uint32_t>(std::min<uint64_t>(total, 0xFFFFFFFFu));
}

void Scope::freeAll() {
  for (auto it = allocated.rbegin(); it != allocated.rend(); ++it)
    if (it->valid() && ctx.ok())
      ctx.free(*it);
  allocated.clear();
}

LocalTensor Scope::alloc(const Shape &s, DType dt, bool euAlign) {
  AllocOptions o;
  o.euAlign = euAlign;
  LocalTensor t = ctx.allocTensor(s, dt, o);
  allocated.push_back(t);
  return t;
}
LocalTensor Scope::allocConvWeight(uint32_t ic, uint32_t oc, uint32_t kh, uint32_t kw) {
  LocalTensor t = ctx.allocConvWeight(ic, oc, kh, kw);
  allocated.push_back(t);
  return t;
}
LocalTensor Scope::allocChannelParams(uint32_t oc, bool withBias) {
  LocalTensor t = ctx.allocChannelParams(oc, withBias);
  allocated.push_back(t);
  return t;
}
LocalTensor Scope::allocConvBias(uint32_t oc) {
  LocalTensor t = ctx.allocConvBias(oc);
  allocated.push_back(t);
  return t;
}
LocalTensor Scope::allocLutTable() {
  LocalTensor t = ctx.allocLutTable();
  allocated.push_back(t);
  return t;
}
LocalMatrix Scope::allocMatrix(uint32_t rows, uint32_t cols, DType dt) {
  LocalMatrix m = ctx.allocMatrix(rows, cols, dt);
  allocated.push_back(m.t);
  return m;
}

LocalTensor view(Context &ctx, const LocalTensor &buf, const Shape &s, DType dt, bool euAlign) {
  return ctx.reinterpret(buf, s, ctx.defaultStrides(s, dt, euAlign), dt);
}

GlobalTensor subTensor(const GlobalTensor &t, uint32_t n0, uint32_t c0, uint32_t h0, uint32_t w0,
                       const Shape &s) {
  GlobalTensor r = t;
  r.addr = t.addr + (uint64_t{n0} * t.stride.n + uint64_t{c0} * t.stride.c +
                     uint64_t{h0} * t.stride.h + uint64_t{w0} * globalElemBytes(t.dtype));
  r.shape = s;
  return r;
}

bool isDense(const GlobalTensor &t) {
  GlobalTensor d = GlobalTensor::dense(t.addr, t.shape, t.dtype);
  auto eq = [](uint32_t dim, uint32_t a, uint32_t b) { return dim <= 1 || a == b; };
  return eq(t.shape.n, t.stride.n, d.stride.n) && eq(t.shape.c, t.stride.c, d.stride.c) &&
         eq(t.shape.h, t.stride.h, d.stride.h) &&
         (t.stride.w == 0 || t.stride.w == globalElemBytes(t.dtype));
}

std::vector<Tile4> tileElementwise(const Shape &shape, uint32_t lanes, uint32_t maxLaneBytes,
                                   uint32_t maxW) {
  std::vector<Tile4> tiles;
  if (shape.count() == 0 || maxLaneBytes < 16)
    return tiles;
  // Hardware field limits: W and H below 4064, C and N below 4096 per command.
  const uint32_t maxHW = 4000, maxNC = 4064;
  uint32_t wT = std::min({shape.w, maxW, maxLaneBytes});
  // Channels up to the lane count cost no extra bytes per lane, whatever the row split.
  uint32_t hT = 1, cT = std::min(shape.c, lanes), nT = 1;
  if (wT == shape.w) {
    hT = std::min<uint32_t>({shape.h, maxHW, std::max<uint32_t>(1, maxLaneBytes / wT)});
    while (hT > 1 && align16(uint64_t{hT} * wT) > maxLaneBytes)
      --hT;
    if (hT == shape.h) {
      uint32_t per = align16(uint64_t{hT} * wT);
      uint32_t rounds = std::max<uint32_t>(1, maxLaneBytes / per);
      cT = std::min<uint64_t>({shape.c, uint64_t{rounds} * lanes, maxNC});
      if (cT == shape.c) {
        uint32_t used = ceilDiv(cT, lanes) * per;
        nT = std::min<uint32_t>({shape.n, std::max<uint32_t>(1, maxLaneBytes / used), maxNC});
      }
    }
  }
  for (uint32_t n0 = 0; n0 < shape.n; n0 += nT)
    for (uint32_t c0 = 0; c0 < shape.c; c0 += cT)
      for (uint32_t h0 = 0; h0 < shape.h; h0 += hT)
        for (uint32_t w0 = 0; w0 < shape.w; w0 += wT)
          tiles.push_back({n0, c0, h0, w0,
                           Shape{std::min(nT, shape.n - n0), std::min(cT, shape.c - c0),
                                 std::min(hT, shape.h - h0), std::min(wT, shape.w - w0)}});
  return tiles;
}

std::vector<Tile4> fitTiles(const Shape &shape, uint32_t lanes, uint32_t avail, bool doubleBuffer,
                            uint32_t units, uint32_t maxW, uint32_t cap,
                            const std::function<uint64_t(const Shape &)> &needPerSet,
                            uint32_t &sets) {
  units = std::max<uint32_t>(units, 1);
  for (sets = doubleBuffer ? 2 : 1; sets >= 1; --sets) {
    uint32_t unit = avail / (sets * units) / 16 * 16;
    if (sets == 2)
      unit = std::min(unit, cap);
    for (; unit >= 16; unit -= 16) {
      std::vector<Tile4> tiles = tileElementwise(shape, lanes, unit, maxW);
      if (!tiles.empty() && needPerSet(tiles[0].s) * sets <= avail)
        return tiles;
    }
  }
  sets = 0;
  return {};
}

Shape flatShape(const Shape &shape, uint32_t lanes, uint32_t maxW) {
  uint64_t count = shape.count();
  if (count % lanes != 0 || count / lanes < 16)
    return shape;
  uint64_t per = count / lanes;
  // The widest row up to 2048 that divides the per-lane count.
  for (uint64_t w = std::min<uint64_t>(per, maxW); w >= 16; --w)
    if (per % w == 0 && per / w <= 4000)
      return Shape{1, lanes, static_cast<uint32_t>(per / w), static_cast<uint32_t>(w)};
  return shape;
}

void rescaleInt8(Context &ctx, const LocalTensor &t, int32_t m, uint32_t r) {
  if (m == 1 && r == 0)
    return;
  ctx.mul(t, t, Operand::scalar(m), r);
}

} // namespace detail

//===----------------------------------------------------------------------===//
// Host-side packing
//===----------------------------------------------------------------------===//

void packConvFilter(const int8_t *oihw, uint32_t oc, uint32_t icPerGroup, uint32_t kh, uint32_t kw,
                    int8_t *out) {
  for (uint32_t o = 0; o < oc; ++o)
    for (uint32_t i = 0; i < icPerGroup; ++i)
      for (uint32_t y = 0; y < kh; ++y)
        for (uint32_t x = 0; x < kw; ++x)
          out[((uint64_t{o} * kh + y) * kw + x) * icPerGroup + i] =
              oihw[((uint64_t{o} * icPerGroup + i) * kh + y) * kw + x];
}

void packDeconvFilter(const int8_t *iohw, uint32_t ic, uint32_t ocPerGroup, uint32_t group,
                      uint32_t kh, uint32_t kw, int8_t *out) {
  const uint32_t icg = ic / group;
  for (uint32_t g = 0; g < group; ++g)
    for (uint32_t o = 0; o < ocPerGroup; ++o)
      for (uint32_t i = 0; i < icg; ++i)
        for (uint32_t y = 0; y < kh; ++y)
          for (uint32_t x = 0; x < kw; ++x) {
            uint64_t src = ((uint64_t{g * icg + i} * ocPerGroup + o) * kh + y) * kw + x;
            uint64_t oc = uint64_t{g} * ocPerGroup + o;
            out[((oc * kh + (kh - 1 - y)) * kw + (kw - 1 - x)) * icg + i] = iohw[src];
          }
}

void packFcBiasInt32(const int32_t *bias, uint32_t n, uint8_t *out) {
  for (uint32_t i = 0; i < n; ++i) {
    uint32_t v = static_cast<uint32_t>(bias[i]);
    for (uint32_t k = 0; k < 4; ++k)
      out[uint64_t{k} * n + i] = static_cast<uint8_t>(v >> (8 * k));
  }
}

void packFcBiasInt16(const int16_t *bias, uint32_t n, uint8_t *out) {
  for (uint32_t i = 0; i < n; ++i) {
    uint16_t v = static_cast<uint16_t>(bias[i]);
    out[i] = static_cast<uint8_t>(v);
    out[n + i] = static_cast<uint8_t>(v >> 8);
  }
}

uint32_t windowOutputSize(uint32_t in, uint32_t k, uint32_t stride, uint32_t dilation,
                          uint32_t padBefore, uint32_t padAfter) {
  uint64_t ext = uint64_t{in} + padBefore + padAfter;
  uint64_t kext = uint64_t{dilation} * (k - 1) + 1;
  if (k == 0 || stride == 0 || dilation == 0 || ext < kext)
    return 0;
  return static_cast<uint32_t>((ext - kext) / stride + 1);
}

} // namespace tpuc::kernel::layers
