//===- Pool2d.cpp - INT8 pool_max_2d / pool_avg_2d layer kernel -----------===//
//
// Tiles: channel groups of the lanes, output rows (input rows with the window's halo), then
// batches. Max pooling pads with -128 (the hardware's neutral element); average pooling computes
// sat8(rshift_up(m * Σ window, r)) with padded positions 0 (§5.1/§5.3). ReLU is a max with 0 on
// the result. A global average pool is the window kh = H, kw = W (one window per image).
//
//===----------------------------------------------------------------------===//
#include "LayerCommon.h"

namespace tpuc::kernel::layers {

using namespace detail;

bool emitPool2d(Context &ctx, const Pool2dLayer &L, const EmitOptions &opts) {
  Scope S(ctx, L.kind == PoolKind::Max ? "pool_max_2d" : "pool_avg_2d", L, opts);
  if (!S.entered())
    return false;
  const Shape &in = L.input.shape, &out = L.output.shape;
  if (L.input.dtype != DType::Int8 || L.output.dtype != DType::Int8)
    return S.fail("input and output must be int8");
  if (L.kh == 0 || L.kw == 0 || L.strideH == 0 || L.strideW == 0)
    return S.fail("kernel and stride must be positive");
  uint32_t oh = windowOutputSize(in.h, L.kh, L.strideH, 1, L.padTop, L.padBottom);
  uint32_t ow = windowOutputSize(in.w, L.kw, L.strideW, 1, L.padLeft, L.padRight);
  if (out.n != in.n || out.c != in.c || out.h != oh || out.w != ow)
    return S.fail("output shape " + shapeStr(out) + " does not match the input " + shapeStr(in) +
                  " and window (expected (" + std::to_string(in.n) + ", " + std::to_string(in.c) +
                  ", " + std::to_string(oh) + ", " + std::to_string(ow) + "))");
  if (L.kind == PoolKind::Avg && (L.multiplier > 255 || L.rshift > 31))
    return S.fail("average multiplier " + std::to_string(L.multiplier) + " / rshift " +
                  std::to_string(L.rshift) + " out of range (0..255, 0..31)");
  const uint32_t lanes = ctx.lanes(), maxC = 4064, maxHW = 4000;
  auto rows = [&](uint32_t ohT) {
    return std::min<uint64_t>(in.h, uint64_t{ohT - 1} * L.strideH + L.kh);
  };
  auto cost = [&](uint32_t B, uint32_t nT, uint32_t cT, uint32_t ohT) {
    return B * (laneBytes8(lanes, nT, cT, rows(ohT), in.w) + laneBytes8(lanes, nT, cT, ohT, ow));
  };
  uint32_t B = 0, cT = 0, ohT = 0, nT = 1;
  for (uint32_t b : {2u, 1u}) {
    if (b == 2 && !opts.doubleBuffer)
      continue;
    for (uint32_t c = std::min(in.c, maxC); c > 0; c = (c - 1) / lanes * lanes) {
      uint32_t lo = 0, hi = std::min(oh, maxHW);
      while (lo < hi) {
        uint32_t mid = (lo + hi + 1) / 2;
        if (cost(b, 1, c, mid) <= S.budget())
          lo = mid;
        else
          hi = mid - 1;
      }
      if (lo > 0 && rows(lo) <= maxHW) {
        B = b, cT = c, ohT = lo;
        break;
      }
    }
    if (B)
      break;
  }
  if (!B)
    return S.fail("no tiling fits " + std::to_string(S.budget()) +
                  " bytes of local memory per lane (input row width " + std::to_string(in.w) +
                  ", kernel " + std::to_string(L.kh) + "x" + std::to_string(L.kw) + ")");
  if (ohT == oh && cT == in.c)
    while (nT < in.n && nT < maxC && cost(B, nT + 1, cT, ohT) <= S.budget())
      ++nT;
  LocalTensor inBuf[2], outBuf[2];
  for (uint32_t b = 0; b < B; ++b) {
    inBuf[b] = S.alloc({nT, cT, static_cast<uint32_t>(rows(ohT)), in.w}, DType::Int8);
    outBuf[b] = S.alloc({nT, cT, ohT, ow}, DType::Int8);
  }
  if (!ctx.ok())
    return S.finish();

  struct Step {
    uint32_t n0, nT, c0, cT, oh0, ohT, ih0, ihT, pt, pb, buf;
  };
  std::vector<Step> steps;
  for (uint32_t n0 = 0; n0 < in.n; n0 += nT)
    for (uint32_t c0 = 0; c0 < in.c; c0 += cT)
      for (uint32_t oh0 = 0; oh0 < oh; oh0 += ohT) {
        Step s{};
        s.n0 = n0, s.nT = std::min(nT, in.n - n0), s.c0 = c0, s.cT = std::min(cT, in.c - c0);
        s.oh0 = oh0, s.ohT = std::min(ohT, oh - oh0);
        int64_t r0 = int64_t{oh0} * L.strideH - L.padTop;
        int64_t r1 = int64_t{oh0 + s.ohT - 1} * L.strideH - L.padTop + L.kh;
        s.ih0 = static_cast<uint32_t>(std::max<int64_t>(0, r0));
        s.ihT = static_cast<uint32_t>(std::min<int64_t>(in.h, r1)) - s.ih0;
        s.pt = static_cast<uint32_t>(std::max<int64_t>(0, -r0));
        s.pb = static_cast<uint32_t>(std::max<int64_t>(0, r1 - int64_t{in.h}));
        s.buf = static_cast<uint32_t>(steps.size() % B);
        steps.push_back(s);
      }
  auto load = [&](const Step &s) {
    Shape is{s.nT, s.cT, s.ihT, in.w};
    ctx.load(view(ctx, inBuf[s.buf], is, DType::Int8),
             subTensor(L.input, s.n0, s.c0, s.ih0, 0, is));
  };
  auto compute = [&](const Step &s) {
    Shape is{s.nT, s.cT, s.ihT, in.w}, os{s.nT, s.cT, s.ohT, ow};
    PoolParams p;
    p.ifmap = view(ctx, inBuf[s.buf], is, DType::Int8);
    p.ofmap = view(ctx, outBuf[s.buf], os, DType::Int8);
    p.kh = L.kh, p.kw = L.kw, p.strideH = L.strideH, p.strideW = L.strideW;
    p.padTop = s.pt, p.padBottom = s.pb, p.padLeft = L.padLeft, p.padRight = L.padRight;
    if (L.kind == PoolKind::Max) {
      ctx.maxPool(p);
    } else {
      p.padValue = 0;
      p.avgMultiplier = L.multiplier;
      p.rshift = L.rshift;
      ctx.avgPool(p);
    }
    if (L.doRelu)
      ctx.max(p.ofmap, p.ofmap, Operand::scalar(0));
    ctx.store(subTensor(L.output, s.n0, s.c0, s.oh0, 0, os), p.ofmap);
  };
  if (!steps.empty() && B == 2)
    load(steps[0]);
  for (size_t i = 0; i < steps.size() && ctx.ok(); ++i) {
    if (B == 2) {
      if (i + 1 < steps.size())
        load(steps[i + 1]);
    } else {
      load(steps[i]);
    }
    compute(steps[i]);
  }
  return S.finish();
}

} // namespace tpuc::kernel::layers
