//===- TiuBf16Window.cpp - bf16 convolution, depthwise and pooling --------===//
//
// The bf16 data path of the sliding-window operations. Operands are read as the TIU reads bf16
// (arith::bf16ToFloatTiu), padding and insertion take opd0_ins_fp, products are accumulated in
// fp32, the fp32 bias (two bf16 planes: high half at opd2_addr, low half one channel-round block
// later) is added, and the result is written with arith::floatToBf16Tiu.
//
//===----------------------------------------------------------------------===//
#include "ConvWindow.h"
#include "TiuCommon.h"

#include <algorithm>
#include <cmath>
#include <vector>

namespace tpuc::runtime {

namespace {

using T = TiuField;

/// Padding/insertion value. Max pooling reads opd0_ins_fp as a bf16 pattern; the vendor model's
/// convolution, depthwise convolution and average pooling use the 16-bit field as an integer
/// (probed).
float insFill(const TiuOp &op, bool asBf16) {
  uint16_t v = static_cast<uint16_t>(op[T::opd0_ins_fp]);
  return asBf16 ? arith::bf16ToFloatTiu(v) : static_cast<float>(v);
}

/// fp32 bias per output channel: high 16 bits at the record, low 16 bits one channel-round
/// block (ceil(C / 32) * 2 bytes) later.
std::vector<float> bf16Bias(const TiuOp &op, uint32_t channels) {
  std::vector<float> bias(channels, 0.0f);
  if (op[T::tsk_opd_num] != 3)
    return bias;
  op.require(op.mode(kOpd2) == StrideMode::PerChannel, T::short_opd2_str,
             "bias stride mode (expected 2)");
  int64_t bstr = 2 * ((channels + op.lanes() - 1) / op.lanes());
  LocalTensor t = op.tensor(kOpd2, {1, channels, 1, 1}, {0, 2, 0, 2}, 2, 2, bstr);
  for (uint32_t c = 0; c < channels; ++c) {
    const uint8_t *p = t.channel(c);
    uint32_t bits = static_cast<uint32_t>(loadBf16(p)) << 16 | loadBf16(p + bstr);
    bias[c] = arith::bitsToFloat(bits);
  }
  return bias;
}

/// fp32 partial sum split over two bf16-sized planes (high half first).
float loadFp32Split(const uint8_t *p, int64_t planeStride) {
  return arith::bitsToFloat(static_cast<uint32_t>(loadBf16(p)) << 16 | loadBf16(p + planeStride));
}
void storeFp32Split(uint8_t *p, int64_t planeStride, float v) {
  uint32_t bits = arith::floatBits(v);
  storeBf16(p, static_cast<uint16_t>(bits >> 16));
  storeBf16(p + planeStride, static_cast<uint16_t>(bits));
}

void store(uint8_t *p, float v, bool relu) {
  uint16_t r = arith::floatToBf16Tiu(v);
  storeBf16(p, (relu && (r & 0x8000)) ? 0 : r);
}

} // namespace

void convBf16(TiuOp &op) {
  ConvWindow win(op);
  uint32_t n = win.in.n, ic = win.in.c, oc = win.out.c, k = win.kh * win.kw;
  op.require(!op.flag(T::opt_chl_quan), T::opt_chl_quan, "per-channel quantisation in bf16");
  unsigned ps32 = static_cast<unsigned>(op[T::ps32_md]);
  op.require(op[T::opd1_n] == ic, T::opd1_n, "conv: opd1_n must equal the ifmap channels");
  op.require(op[T::opd1_c] == oc, T::opd1_c, "conv: opd1_c must equal the ofmap channels");
  LocalTensor in = op.tensor(kOpd0, win.in, 2);
  std::vector<float> weights(size_t{oc} * k * ic);
  if (op.flag(T::opt_opd1_const)) {
    std::fill(weights.begin(), weights.end(),
              arith::bf16ToFloatTiu(static_cast<uint16_t>(op[T::opd1_addr])));
  } else {
    op.require(op.mode(kOpd1) == StrideMode::ConvWeight, T::short_opd1_str,
               "conv weight stride mode (expected 1)");
    int64_t cs = int64_t{k} * ic * 2;
    LocalTensor wt = op.tensor(kOpd1, {1, oc, 1, k * ic}, {0, cs, 0, 2}, 2);
    for (uint32_t o = 0; o < oc; ++o)
      for (uint32_t i = 0; i < k * ic; ++i)
        weights[size_t{o} * k * ic + i] = loadBf16Tiu(wt.channel(o) + 2 * i);
  }
  std::vector<float> bias = bf16Bias(op, oc);
  // Partial sums (ps32_md): the fp32 accumulator as two bf16-sized halves, high half at the
  // result, low half one plane stride later. Reading (bit 0) seeds the accumulator; writing
  // (bit 1) stores it without bias or ReLU (probed).
  int64_t planeStride = ps32 ? op.ps32PlaneStride(win.out, 2) : 0;
  LocalTensor out = op.tensor(kRes0, win.out, 2, ps32 ? 2 : 1, planeStride);
  bool relu = op.flag(T::opt_relu);
  std::vector<float> planes, acc(size_t{win.out.h} * win.out.w);
  const Strides4 &os = out.strides();
  for (uint32_t b = 0; b < n; ++b) {
    win.expandBf16(in, b, insFill(op, false), planes);
    for (uint32_t o = 0; o < oc; ++o) {
      uint8_t *dst = out.channel(o) + b * os.n;
      for (uint32_t y = 0; y < win.out.h; ++y)
        for (uint32_t x = 0; x < win.out.w; ++x)
          acc[size_t{y} * win.out.w + x] =
              (ps32 & 1) ? loadFp32Split(dst + y * os.h + x * os.w, planeStride) : 0.0f;
      const float *w = weights.data() + size_t{o} * k * ic;
      for (uint32_t ky = 0; ky < win.kh; ++ky)
        for (uint32_t kx = 0; kx < win.kw; ++kx)
          for (uint32_t c = 0; c < ic; ++c)
            win.accumulateRz(acc.data(), planes.data() + size_t{c} * win.planeSize(), ky, kx,
                             w[(size_t{ky} * win.kw + kx) * ic + c]);
      for (uint32_t y = 0; y < win.out.h; ++y)
        for (uint32_t x = 0; x < win.out.w; ++x) {
          float a = acc[size_t{y} * win.out.w + x];
          uint8_t *p = dst + y * os.h + x * os.w;
          if (ps32 & 2)
            storeFp32Split(p, planeStride, a);
          else
            store(p, arith::addFp32Rz(a, bias[o]), relu);
        }
    }
  }
}

void depthwiseBf16(TiuOp &op) {
  ConvWindow win(op);
  uint32_t c = win.in.c, k = win.kh * win.kw;
  op.require(win.out.c == c, T::res0_c, "depthwise: res0_c must equal opd0_c");
  op.require(op[T::short_res0_str] == op[T::short_opd0_str], T::short_res0_str,
             "depthwise with different res0 and opd0 stride modes");
  unsigned ps32 = static_cast<unsigned>(op[T::ps32_md]);
  op.require(ps32 == 0 || ps32 == 2, T::ps32_md,
             "bf16 depthwise partial-sum mode other than 0 or 2");
  LocalTensor in = op.tensor(kOpd0, win.in, 2);
  std::vector<float> weights(size_t{c} * k);
  if (op.flag(T::opt_opd1_const)) {
    std::fill(weights.begin(), weights.end(),
              arith::bf16ToFloatTiu(static_cast<uint16_t>(op[T::opd1_addr])));
  } else {
    LocalTensor wt = op.tensor(kOpd1, {1, c, win.kh, win.kw}, 2);
    const Strides4 &st = wt.strides();
    for (uint32_t ch = 0; ch < c; ++ch)
      for (uint32_t ky = 0; ky < win.kh; ++ky)
        for (uint32_t kx = 0; kx < win.kw; ++kx)
          weights[size_t{ch} * k + ky * win.kw + kx] =
              loadBf16Tiu(wt.channel(ch) + ky * st.h + kx * st.w);
  }
  std::vector<float> bias = bf16Bias(op, c);
  int64_t planeStride = ps32 ? op.ps32PlaneStride(win.out, 2) : 0;
  LocalTensor out = op.tensor(kRes0, win.out, 2, ps32 ? 2 : 1, planeStride);
  bool relu = op.flag(T::opt_relu);
  std::vector<float> planes, acc(size_t{win.out.h} * win.out.w);
  const Strides4 &os = out.strides();
  for (uint32_t b = 0; b < win.in.n; ++b) {
    win.expandBf16(in, b, insFill(op, false), planes);
    for (uint32_t ch = 0; ch < c; ++ch) {
      std::fill(acc.begin(), acc.end(), 0.0f);
      for (uint32_t ky = 0; ky < win.kh; ++ky)
        for (uint32_t kx = 0; kx < win.kw; ++kx)
          win.accumulateRz(acc.data(), planes.data() + size_t{ch} * win.planeSize(), ky, kx,
                           weights[size_t{ch} * k + ky * win.kw + kx]);
      uint8_t *dst = out.channel(ch) + b * os.n;
      for (uint32_t y = 0; y < win.out.h; ++y)
        for (uint32_t x = 0; x < win.out.w; ++x)
          if (ps32)
            storeFp32Split(dst + y * os.h + x * os.w, planeStride, acc[size_t{y} * win.out.w + x]);
          else
            store(dst + y * os.h + x * os.w,
                  arith::addFp32Rz(acc[size_t{y} * win.out.w + x], bias[ch]), relu);
    }
  }
}

void poolBf16(TiuOp &op, PoolKind kind) {
  ConvWindow win(op);
  op.require(win.in.c == win.out.c, T::res0_c, "pooling: res0_c must equal opd0_c");
  op.require(op[T::ps32_md] == 0, T::ps32_md, "partial sums in pooling");
  LocalTensor in = op.tensor(kOpd0, win.in, 2);
  LocalTensor out = op.tensor(kRes0, win.out, 2);
  if (kind == PoolKind::Max)
    op.require(!win.insX && !win.insY && !win.insXLast && !win.insYLast, T::conv_opd0_x_ins0,
               "insertion (conv_opd0_*_ins0*) in max pooling");
  float fill = insFill(op, kind == PoolKind::Max);
  float scale = arith::bf16ToFloatTiu(static_cast<uint16_t>(op[T::opd1_addr]));
  std::vector<float> planes;
  const Strides4 &os = out.strides();
  for (uint32_t b = 0; b < win.in.n; ++b) {
    win.expandBf16(in, b, fill, planes);
    for (uint32_t c = 0; c < win.in.c; ++c) {
      const float *plane = planes.data() + size_t{c} * win.planeSize();
      uint8_t *dst = out.channel(c) + b * os.n;
      for (uint32_t y = 0; y < win.out.h; ++y)
        for (uint32_t x = 0; x < win.out.w; ++x) {
          const float *base = plane + size_t{y * win.sy} * win.wp + size_t{x} * win.sx;
          // Unlike the int8 path, the bf16 maximum does not start from the padding value; a NaN
          // (read from an inf/NaN pattern) in the window propagates. The average scales every
          // element before summing (probed on overflow).
          float acc = kind == PoolKind::Max ? -INFINITY : 0.0f;
          for (uint32_t ky = 0; ky < win.kh; ++ky)
            for (uint32_t kx = 0; kx < win.kw; ++kx) {
              float v = base[size_t{ky * win.dy} * win.wp + size_t{kx} * win.dx];
              acc = kind == PoolKind::Max ? ((std::isnan(v) || v > acc) ? v : acc)
                                          : arith::addFp32Rz(acc, arith::mulFp32Ftz(v, scale));
            }
          store(dst + y * os.h + x * os.w, acc, false);
        }
    }
  }
}

} // namespace tpuc::runtime
