//===- Conv2d.cpp - INT8 conv_2d layer kernel (grouped, depthwise, ps32) ----===//
//
// Tiling: output channels in groups of the lanes (ocT), output rows (ohT, each tile loading its
// input rows plus the halo of the kernel) and batches (nT, once a tile holds the whole image).
// When one output-channel tile's weights or input rows do not fit, the input channels are split
// (icT) and the tiles accumulate 32-bit partial sums (ps32 Write / Accumulate / Final). The plan
// minimises the estimated DDR traffic plus a per-tile cost over all tile sizes that fit the
// budget. With double buffering, the loads of step i + 1 are queued before the convolution of
// step i so that the transfers overlap the computation (the Context's dependency ids do the rest).
//
//===----------------------------------------------------------------------===//
#include "LayerCommon.h"

#include <cmath>

namespace tpuc::kernel::layers {

using namespace detail;

namespace {

struct ConvDims {
  uint32_t n, ic, h, w, oc, oh, ow; // ic, oc per group
  uint32_t kh, kw, dkh;             // dkh: dilated kernel height
  bool inDense, outDense;           // channels of the input / output contiguous in DDR
  uint32_t insH;                    // zeros inserted between input rows (deconvolution)
  uint32_t he;                      // input height with the inserted rows
  uint32_t sh;
  bool depthwise;
  uint32_t rec; // bytes per channel-parameter record (0: per tensor)
};

struct ConvPlan {
  uint32_t ocT = 0, icT = 0, ohT = 0, nT = 0;
  uint32_t bufs = 1;
  bool split = false;
  double cost = 0;
  bool resident = false; ///< the whole input stays loaded for all output-channel tiles
};

/// Input rows needed for `ohT` output rows.
uint32_t inRows(const ConvDims &d, uint32_t ohT) {
  uint64_t expanded = std::min<uint64_t>(d.he, uint64_t{ohT - 1} * d.sh + d.dkh);
  if (d.insH == 0)
    return static_cast<uint32_t>(expanded);
  return static_cast<uint32_t>(std::min<uint64_t>(d.h, ceilDiv(expanded, d.insH + 1) + 1));
}

/// Whether every row tile of `ohT` output rows reads at least one input row (tiles whose windows
/// see only padding or inserted zeros cannot be expressed).
bool rowTilesRead(const ConvDims &d, uint32_t ohT, uint32_t padTop) {
  const int64_t step = int64_t{d.insH} + 1;
  for (uint32_t oh0 = 0; oh0 < d.oh; oh0 += ohT) {
    uint32_t rows = std::min(ohT, d.oh - oh0);
    int64_t e0 = std::max<int64_t>(0, int64_t{oh0} * d.sh - padTop);
    int64_t e1 = std::min<int64_t>(d.he, int64_t{oh0 + rows - 1} * d.sh - padTop + d.dkh);
    if (e1 <= e0 || (e0 + step - 1) / step > (e1 - 1) / step)
      return false;
  }
  return true;
}

/// Input channels as convolved: the double-rate convolution (double_conv) needs an even count of
/// at least 4, so fewer or odd input channels within one lane round are padded (the extra ifmap
/// channels hold whatever the buffer holds and meet zero weights).
uint32_t paddedIc(const ConvDims &d, uint32_t lanes, uint32_t icT, bool split) {
  uint32_t pad = std::max(4u, icT + icT % 2);
  if (!d.depthwise && !split && (icT < 4 || icT % 2) && ceilDiv(pad, lanes) == ceilDiv(icT, lanes))
    return pad;
  return icT;
}

/// Bytes per lane of a plan; a resident input (the whole input, loaded once for all output-channel
/// tiles) has one buffer.
uint32_t laneCost(const ConvDims &d, uint32_t lanes, uint32_t ocT, uint32_t icT, uint32_t ohT,
                  uint32_t nT, uint32_t bufs, bool split, bool resident = false) {
  icT = paddedIc(d, lanes, icT, split);
  uint32_t ifm = laneBytes8(lanes, nT, icT, inRows(d, ohT), d.w);
  uint32_t ofm = laneBytes8(lanes, nT * (split ? 4 : 1), ocT, ohT, d.ow);
  uint32_t rounds = ceilDiv(ocT, lanes);
  uint32_t wgt = d.depthwise ? rounds * align16(uint64_t{d.kh} * d.kw)
                             : align16(uint64_t{rounds} * d.kh * d.kw * icT);
  uint32_t par = d.rec ? align16(uint64_t{rounds} * d.rec) : align16(2 * rounds);
  return (resident ? ifm : bufs * ifm) + bufs * (ofm + wgt + par);
}

bool planConv(const ConvDims &d, uint32_t lanes, uint32_t budget, bool doubleBuffer,
              uint32_t padTop, ConvPlan &best) {
  const uint32_t maxC = 4064, maxHW = 4000;
  bool found = false;
  for (uint32_t bufs : {2u, 1u}) {
    if (bufs == 2 && !doubleBuffer)
      continue;
    for (int split = 0; split < 2 && !found; ++split) {
      if (split && d.depthwise)
        break;
      uint32_t ocStart = std::min(d.oc, maxC);
      for (uint32_t ocT = ocStart; ocT > 0;) {
        std::vector<uint32_t> icCands;
        if (d.depthwise)
          icCands.push_back(ocT);
        else if (!split)
          icCands.push_back(d.ic);
        else
          for (uint32_t icT = (std::min(d.ic, maxC) - 1) / lanes * lanes; icT > 0; icT -= lanes)
            icCands.push_back(icT);
        for (uint32_t icT : icCands) {
          if (icT > maxC)
            continue;
          // Largest output-row tile that fits, then the largest batch tile.
          uint32_t lo = 0, hi = std::min(d.oh, maxHW);
          while (lo < hi) {
            uint32_t mid = (lo + hi + 1) / 2;
            if (laneCost(d, lanes, ocT, icT, mid, 1, bufs, split) <= budget)
              lo = mid;
            else
              hi = mid - 1;
          }
          if (lo == 0 || inRows(d, lo) > maxHW)
            continue;
          // Row tiles: the largest that fits and even splits into 2..16 tiles (more tiles
          // overlap more of the transfers with the computation).
          std::vector<uint32_t> ohCands{lo};
          for (uint32_t parts = 2; parts <= 16; ++parts) {
            uint32_t t = ceilDiv(d.oh, parts);
            if (t < lo && t != ohCands.back())
              ohCands.push_back(t);
          }
          // Padding wider than the kernel or rows of inserted zeros wider than the kernel leave
          // windows without input rows; only tilings whose every tile reads a row qualify.
          std::vector<uint32_t> valid;
          for (uint32_t t : ohCands)
            if (rowTilesRead(d, t, padTop))
              valid.push_back(t);
          for (uint32_t t = lo; valid.empty() && t > 0; --t)
            if (rowTilesRead(d, t, padTop))
              valid.push_back(t);
          ohCands = valid;
          struct Option {
            uint32_t ohT, nT;
            bool resident;
          };
          std::vector<Option> options;
          for (uint32_t ohT : ohCands) {
            uint32_t nT = 1;
            if (ohT == d.oh)
              while (nT < d.n && nT < maxC / 4 &&
                     laneCost(d, lanes, ocT, icT, ohT, nT + 1, bufs, split) <= budget)
                ++nT;
            options.push_back({ohT, nT, false});
            if (ohT == d.oh && !split && !d.depthwise && ocT < d.oc && d.n <= maxC / 4 &&
                laneCost(d, lanes, ocT, icT, ohT, d.n, bufs, split, true) <= budget)
              options.push_back({ohT, d.n, true});
          }
          for (const Option &opt : options) {
            const uint32_t ohT = opt.ohT, nT = opt.nT;
            // Estimated cycles (the engine's cycle model: DRAM moves 256-byte bursts at about
            // 11.6 bytes per cycle; convolutions run about 1000 MACs per cycle, depthwise 230).
            auto seg = [](double bytes) { return std::ceil((bytes + 128) / 256) * 256; };
            double rowTiles = ceilDiv(d.oh, ohT), numOc = ceilDiv(d.oc, ocT);
            double numIc = ceilDiv(d.ic, icT), numSp = rowTiles * ceilDiv(d.n, nT);
            // Whole images of dense tensors move as one run; row tiles as one run per channel.
            double inTraffic =
                (d.depthwise || opt.resident ? 1 : numOc) *
                (rowTiles == 1 && d.inDense
                     ? ceilDiv(d.n, nT) * ceilDiv(d.ic, icT) * seg(double(nT) * icT * d.h * d.w)
                     : rowTiles * d.n * d.ic * seg(double(inRows(d, ohT)) * d.w));
            double outTraffic = rowTiles == 1 && d.outDense
                                    ? ceilDiv(d.n, nT) * numOc * seg(double(nT) * ocT * d.oh * d.ow)
                                    : rowTiles * d.n * d.oc * seg(double(ohT) * d.ow);
            double kk = double(d.kh) * d.kw;
            double wTraffic = d.depthwise   ? numOc * seg(kk * ocT)
                              : icT == d.ic ? numOc * seg(kk * d.ic * ocT)
                                            : d.oc * kk * numIc * seg(icT);
            wTraffic *= split ? numSp : 1;
            double tdma = (inTraffic + outTraffic + wTraffic) / 11.6;
            // TIU: per command, lane rounds x 16-pixel groups x the per-pixel loop (the chip's
            // published estimator, which the engine's cycle model follows).
            double tiu = 0;
            for (int lastRow = 0; lastRow < 2; ++lastRow) {
              uint32_t rows = lastRow ? d.oh - (ceilDiv(d.oh, ohT) - 1) * ohT : ohT;
              double count = lastRow ? 1 : rowTiles - 1;
              double px = std::ceil(double(rows) * d.ow / 16);
              double loop = d.depthwise
                                ? std::max(kk * 1.0, 16.0) + 3
                                : std::max(kk * std::ceil(icT / 2.0) + 1, 16.0) + (split ? 6 : 0);
              tiu += count * px * loop;
            }
            tiu *= numOc * double(d.n) * numIc * (d.depthwise ? 1 : ceilDiv(ocT, lanes)) *
                   (d.depthwise ? double(ceilDiv(ocT, lanes)) : 1);
            double tiles = numOc * numSp * numIc;
            // Double buffering overlaps transfers and computation except for the first loads
            // and the last tile; every step costs a fixed overhead.
            double cost = bufs == 2 ? std::max(tdma, tiu) + (tdma + tiu) / tiles : tdma + tiu;
            cost += 60.0 * tiles;
            if (!found || cost < best.cost) {
              best = {ocT, icT, ohT, nT, bufs, split != 0, cost, opt.resident};
              found = true;
            }
          }
        }
        // Next output-channel tile: the next smaller multiple of the lanes.
        uint32_t next = (ocT - 1) / lanes * lanes;
        ocT = next;
      }
    }
    if (found)
      return true;
  }
  return false;
}

struct Step {
  uint32_t n0, nT, oh0, ohT, oc0, ocT, ic0, icT;
  uint32_t ih0, ihT, padTop, padBottom;
  bool loadW, loadParams, loadInput, store;
  uint32_t wBuf, pBuf, inBuf, outBuf;
  PartialSum psum;
};

/// One group of a convolution (or the whole depthwise convolution).
bool emitConvGroup(Scope &S, const Conv2dLayer &L, const GlobalTensor &input,
                   const GlobalTensor &output, GlobalAddr filter, GlobalAddr params,
                   GlobalAddr bias, const ConvDims &d) {
  Context &ctx = S.ctx;
  const uint32_t lanes = ctx.lanes();
  ConvPlan plan;
  if (!rowTilesRead(d, d.oh, L.padTop))
    return S.fail("some output rows see only padding or inserted zeros (no input row); such "
                  "windows are not supported");
  if (!planConv(d, lanes, S.budget(), S.options().doubleBuffer, L.padTop, plan))
    return S.fail("no tiling fits " + std::to_string(S.budget()) +
                  " bytes of local memory per lane (kernel " + std::to_string(d.kh) + "x" +
                  std::to_string(d.kw) + ", input row width " + std::to_string(d.w) + ")");
  const uint32_t B = plan.bufs;
  const bool split = plan.split;
  const uint32_t icPad = paddedIc(d, ctx.lanes(), plan.icT, split);

  // Buffers.
  LocalTensor inBuf[2], outBuf[2], wBuf[2], pBuf[2];
  for (uint32_t b = 0; b < B; ++b) {
    if (b == 0 || !plan.resident)
      inBuf[b] = S.alloc({plan.nT, icPad, inRows(d, plan.ohT), d.w}, DType::Int8);
    outBuf[b] = S.alloc({plan.nT * (split ? 4 : 1), plan.ocT, plan.ohT, d.ow}, DType::Int8);
    wBuf[b] = d.depthwise ? S.alloc({1, plan.ocT, d.kh, d.kw}, DType::Int8)
                          : S.allocConvWeight(icPad, plan.ocT, d.kh, d.kw);
    if (d.rec)
      pBuf[b] = S.allocChannelParams(plan.ocT, d.rec == 9);
    else if (L.hasBias)
      pBuf[b] = S.allocConvBias(plan.ocT);
  }
  if (!ctx.ok())
    return false;

  // Steps.
  std::vector<Step> steps;
  uint32_t wParity = 0, pParity = 0, inParity = 0, outParity = 0;
  for (uint32_t oc0 = 0; oc0 < d.oc; oc0 += plan.ocT) {
    uint32_t ocT = std::min(plan.ocT, d.oc - oc0);
    bool firstOfOc = true;
    for (uint32_t n0 = 0; n0 < d.n; n0 += plan.nT) {
      uint32_t nT = std::min(plan.nT, d.n - n0);
      for (uint32_t oh0 = 0; oh0 < d.oh; oh0 += plan.ohT) {
        uint32_t ohT = std::min(plan.ohT, d.oh - oh0);
        // Rows of the (zero-inserted) input the tile's windows cover, the real input rows among
        // them, and the padding / inserted rows before the first and after the last of those.
        const int64_t step = int64_t{d.insH} + 1;
        int64_t eRaw0 = int64_t{oh0} * d.sh - L.padTop;
        int64_t eRaw1 = int64_t{oh0 + ohT - 1} * d.sh - L.padTop + d.dkh; // exclusive
        int64_t e0 = std::max<int64_t>(0, eRaw0), e1 = std::min<int64_t>(d.he, eRaw1);
        int64_t r0 = (e0 + step - 1) / step, r1 = e1 > 0 ? (e1 - 1) / step + 1 : 0; // exclusive
        uint32_t ih0 = static_cast<uint32_t>(r0), ih1 = static_cast<uint32_t>(std::max(r0, r1));
        uint32_t padT = static_cast<uint32_t>(r0 * step - eRaw0);
        uint32_t padB = ih1 > ih0 ? static_cast<uint32_t>(eRaw1 - ((r1 - 1) * step + 1)) : 0;
        if (ih1 <= ih0)
          return S.fail("output rows " + std::to_string(oh0) + ".." + std::to_string(oh0 + ohT) +
                        " read no input row");
        uint32_t icStep = d.depthwise ? d.ic : plan.icT;
        for (uint32_t ic0 = 0; ic0 < d.ic; ic0 += icStep) {
          uint32_t icT = d.depthwise ? ocT : std::min(plan.icT, d.ic - ic0);
          Step s{};
          s.n0 = n0, s.nT = nT, s.oh0 = oh0, s.ohT = ohT, s.oc0 = oc0, s.ocT = ocT;
          s.ic0 = d.depthwise ? oc0 : ic0, s.icT = icT;
          s.ih0 = ih0, s.ihT = ih1 - ih0, s.padTop = padT, s.padBottom = padB;
          s.loadW = split || firstOfOc;
          s.loadParams = firstOfOc;
          if (s.loadW && !steps.empty())
            wParity = (wParity + 1) % B;
          if (s.loadParams && !steps.empty())
            pParity = (pParity + 1) % B;
          s.loadInput = !plan.resident || steps.empty();
          if (!steps.empty() && !plan.resident)
            inParity = (inParity + 1) % B;
          s.wBuf = wParity, s.pBuf = pParity, s.inBuf = inParity, s.outBuf = outParity;
          bool first = ic0 == 0, last = ic0 + icStep >= d.ic;
          s.psum = !split          ? PartialSum::None
                   : first && last ? PartialSum::None
                   : first         ? PartialSum::Write
                   : last          ? PartialSum::Final
                                   : PartialSum::Accumulate;
          s.store = last;
          steps.push_back(s);
          firstOfOc = false;
        }
        outParity = (outParity + 1) % B;
      }
    }
  }

  const uint32_t kk = d.kh * d.kw;
  auto loads = [&](const Step &s) {
    if (s.loadW) {
      if (d.depthwise) {
        Shape ws{1, s.ocT, d.kh, d.kw};
        ctx.load(view(ctx, wBuf[s.wBuf], ws, DType::Int8),
                 GlobalTensor::dense(filter + uint64_t{s.oc0} * kk, ws, DType::Int8));
      } else {
        uint32_t icW = icPad != plan.icT ? icPad : s.icT;
        LocalTensor w = view(ctx, wBuf[s.wBuf], {1, s.ocT, 1, kk * icW}, DType::Int8, false);
        if (icW != s.icT)
          ctx.fill(w, 0); // zero weights of the padding channels
        Shape ls{1, s.ocT, kk, s.icT};
        LocalTensor wl = ctx.reinterpret(w, ls, {w.stride.n, kk * icW, icW, 1}, DType::Int8);
        GlobalTensor g{filter + (uint64_t{s.oc0} * kk * d.ic + s.ic0),
                       ls,
                       {0, kk * d.ic, d.ic, 1},
                       DType::Int8};
        ctx.load(wl, g);
      }
    }
    if (s.loadParams) {
      uint32_t rounds = ceilDiv(s.ocT, lanes);
      if (d.rec) {
        Shape ps{1, s.ocT, 1, d.rec};
        LocalTensor p =
            ctx.reinterpret(pBuf[s.pBuf], ps, {d.rec * rounds, d.rec, d.rec, 1}, DType::Uint8);
        ctx.load(p, GlobalTensor::dense(params + uint64_t{s.oc0} * d.rec, ps, DType::Uint8));
      } else if (L.hasBias) {
        LocalTensor b = pBuf[s.pBuf];
        b.shape = {1, s.ocT, 1, 1};
        b.stride = {rounds, 1, 1, 1};
        b.planeStride = rounds;
        ctx.load(b, GlobalTensor::dense(bias + uint64_t{s.oc0} * 2, b.shape, DType::Int16));
      }
    }
    if (s.loadInput) {
      Shape is{s.nT, s.icT, s.ihT, d.w};
      ctx.load(view(ctx, inBuf[s.inBuf], is, DType::Int8),
               subTensor(input, s.n0, s.ic0, s.ih0, 0, is));
    }
  };
  auto compute = [&](const Step &s) {
    uint32_t icW = icPad != plan.icT ? icPad : s.icT;
    Shape is{s.nT, icW, s.ihT, d.w};
    LocalTensor ifmap = view(ctx, inBuf[s.inBuf], is, DType::Int8);
    Shape os{s.nT, s.ocT, s.ohT, d.ow};
    LocalTensor ofmap =
        view(ctx, outBuf[s.outBuf], split ? Shape{4 * s.nT, s.ocT, s.ohT, d.ow} : os, DType::Int8);
    bool quant = s.psum == PartialSum::None || s.psum == PartialSum::Final;
    LocalTensor par, bia;
    uint32_t rounds = ceilDiv(s.ocT, lanes);
    if (quant && d.rec) {
      par = ctx.reinterpret(pBuf[s.pBuf], {1, s.ocT, 1, d.rec}, {d.rec * rounds, d.rec, d.rec, 1},
                            DType::Uint8);
    } else if (quant && L.hasBias) {
      bia = pBuf[s.pBuf];
      bia.shape = {1, s.ocT, 1, 1};
      bia.stride = {rounds, 1, 1, 1};
      bia.planeStride = rounds;
    }
    if (d.depthwise) {
      DepthwiseParams p;
      p.ofmap = ofmap;
      p.ifmap = ifmap;
      p.weight = view(ctx, wBuf[s.wBuf], {1, s.ocT, d.kh, d.kw}, DType::Int8);
      p.bias = bia;
      p.channelParams = par;
      p.kh = d.kh, p.kw = d.kw, p.strideH = L.strideH, p.strideW = L.strideW;
      p.dilationH = L.dilationH, p.dilationW = L.dilationW;
      p.padTop = s.padTop, p.padBottom = s.padBottom, p.padLeft = L.padLeft,
      p.padRight = L.padRight;
      p.insH = L.insH, p.insW = L.insW;
      p.padValue = L.padValue;
      p.rshift = d.rec ? 0 : L.rshift;
      p.relu = L.doRelu;
      ctx.depthwise(p);
    } else {
      ConvParams p;
      p.ofmap = ofmap;
      p.ifmap = ifmap;
      p.weight = view(ctx, wBuf[s.wBuf], {1, s.ocT, 1, kk * icW}, DType::Int8, false);
      p.bias = bia;
      p.channelParams = par;
      p.kh = d.kh, p.kw = d.kw, p.strideH = L.strideH, p.strideW = L.strideW;
      p.dilationH = L.dilationH, p.dilationW = L.dilationW;
      p.padTop = s.padTop, p.padBottom = s.padBottom, p.padLeft = L.padLeft,
      p.padRight = L.padRight;
      p.insH = L.insH, p.insW = L.insW;
      p.padValue = L.padValue;
      p.rshift = (quant && !d.rec) ? L.rshift : 0;
      p.relu = quant && L.doRelu;
      p.psum = s.psum;
      ctx.conv(p);
    }
    if (s.store) {
      LocalTensor res = split ? ctx.reinterpret(ofmap, os, ofmap.stride, DType::Int8) : ofmap;
      ctx.store(subTensor(output, s.n0, s.oc0, s.oh0, 0, os), res);
    }
  };

  if (B == 2) {
    if (!steps.empty())
      loads(steps[0]);
    for (size_t i = 0; i < steps.size() && ctx.ok(); ++i) {
      if (i + 1 < steps.size())
        loads(steps[i + 1]);
      compute(steps[i]);
    }
  } else {
    for (size_t i = 0; i < steps.size() && ctx.ok(); ++i) {
      loads(steps[i]);
      compute(steps[i]);
    }
  }
  return ctx.ok();
}

} // namespace

bool emitConv2d(Context &ctx, const Conv2dLayer &L, const EmitOptions &opts) {
  Scope S(ctx, "conv2d", L, opts);
  if (!S.entered())
    return false;
  const Shape &in = L.input.shape, &out = L.output.shape;
  if (L.input.dtype != DType::Int8 || L.output.dtype != DType::Int8)
    return S.fail("input and output must be int8");
  if (L.group == 0 || in.c % L.group || out.c % L.group)
    return S.fail("group " + std::to_string(L.group) + " does not divide the input channels " +
                  std::to_string(in.c) + " and output channels " + std::to_string(out.c));
  if (L.kh == 0 || L.kw == 0 || L.strideH == 0 || L.strideW == 0 || L.dilationH == 0 ||
      L.dilationW == 0)
    return S.fail("kernel, stride and dilation must be positive");
  if (L.insH > 15 || L.insW > 15)
    return S.fail("zero insertion " + std::to_string(L.insH) + " x " + std::to_string(L.insW) +
                  " is out of range (0..15)");
  const uint32_t he = (in.h - 1) * (L.insH + 1) + 1, we = (in.w - 1) * (L.insW + 1) + 1;
  uint32_t oh = windowOutputSize(he, L.kh, L.strideH, L.dilationH, L.padTop, L.padBottom);
  uint32_t ow = windowOutputSize(we, L.kw, L.strideW, L.dilationW, L.padLeft, L.padRight);
  if (out.n != in.n || out.h != oh || out.w != ow)
    return S.fail("output shape " + shapeStr(out) + " does not match the input " + shapeStr(in) +
                  " and window (expected (" + std::to_string(in.n) + ", " + std::to_string(out.c) +
                  ", " + std::to_string(oh) + ", " + std::to_string(ow) + "))");
  if (L.padValue < -128 || L.padValue > 127)
    return S.fail("pad value " + std::to_string(L.padValue) + " is not an int8 value");
  if (!L.perChannel && L.rshift > 31)
    return S.fail("rshift " + std::to_string(L.rshift) + " is out of range (0..31)");
  bool depthwise = L.group > 1 && L.group == in.c && L.group == out.c;
  ConvDims d{};
  d.n = in.n, d.h = in.h, d.w = in.w, d.oh = oh, d.ow = ow;
  d.ic = depthwise ? in.c : in.c / L.group;
  d.oc = depthwise ? out.c : out.c / L.group;
  d.kh = L.kh, d.kw = L.kw, d.dkh = L.dilationH * (L.kh - 1) + 1, d.sh = L.strideH;
  d.insH = L.insH, d.he = he;
  d.inDense = L.input.stride.c == in.h * in.w && L.input.stride.h == in.w;
  d.outDense = L.output.stride.c == oh * ow && L.output.stride.h == ow;
  d.depthwise = depthwise;
  d.rec = L.perChannel ? (L.chanParamHasBias ? 9 : 5) : 0;
  uint32_t groups = depthwise ? 1 : L.group;
  for (uint32_t g = 0; g < groups && ctx.ok(); ++g) {
    GlobalTensor gi = subTensor(L.input, 0, g * d.ic, 0, 0, {in.n, d.ic, in.h, in.w});
    GlobalTensor go = subTensor(L.output, 0, g * d.oc, 0, 0, {out.n, d.oc, oh, ow});
    uint64_t oc0 = uint64_t{g} * d.oc;
    emitConvGroup(S, L, gi, go, L.filter + oc0 * d.kh * d.kw * (depthwise ? 1 : d.ic),
                  L.chanParam + oc0 * d.rec, L.bias + oc0 * 2, d);
    S.freeAll();
  }
  return S.finish();
}

} // namespace tpuc::kernel::layers
