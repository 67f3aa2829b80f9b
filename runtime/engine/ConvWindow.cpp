//===- ConvWindow.cpp - sliding-window geometry of conv and pooling -------===//
#include "ConvWindow.h"

#include <algorithm>

namespace tpuc::runtime {

using T = TiuField;

ConvWindow::ConvWindow(const TiuOp &op) {
  in = op.shape(kOpd0);
  out = op.shape(kRes0);
  kh = static_cast<uint32_t>(op[T::opd1_h]);
  kw = static_cast<uint32_t>(op[T::opd1_w]);
  dy = static_cast<uint32_t>(op[T::conv_opd1_y_ins0]) + 1;
  dx = static_cast<uint32_t>(op[T::conv_opd1_x_ins0]) + 1;
  sy = static_cast<uint32_t>(op[T::conv_op_y_str]);
  sx = static_cast<uint32_t>(op[T::conv_op_x_str]);
  padUp = static_cast<uint32_t>(op[T::conv_opd0_up_pad]);
  padDn = static_cast<uint32_t>(op[T::conv_opd0_dn_pad]);
  padLf = static_cast<uint32_t>(op[T::conv_opd0_lf_pad]);
  padRt = static_cast<uint32_t>(op[T::conv_opd0_rt_pad]);
  insY = static_cast<uint32_t>(op[T::conv_opd0_y_ins0]);
  insX = static_cast<uint32_t>(op[T::conv_opd0_x_ins0]);
  insYLast = static_cast<uint32_t>(op[T::conv_opd0_y_ins0_last]);
  insXLast = static_cast<uint32_t>(op[T::conv_opd0_x_ins0_last]);
  op.require(sy > 0 && sx > 0, T::conv_op_x_str, "stride 0");
  op.require(kh > 0 && kw > 0, T::opd1_h, "kernel size 0");
  op.require(in.n == out.n, T::res0_n, "window op: res0_n must equal opd0_n");
  op.require(in.h > 0 && in.w > 0 && out.h > 0 && out.w > 0, T::opd0_h, "empty window operand");
  uint32_t natH = padUp + (in.h - 1) * (insY + 1) + 1 + insYLast + padDn;
  uint32_t natW = padLf + (in.w - 1) * (insX + 1) + 1 + insXLast + padRt;
  uint32_t kExtH = (kh - 1) * dy + 1, kExtW = (kw - 1) * dx + 1;
  // The result size must be the one the window geometry produces (the vendor model asserts it).
  if (natH < kExtH || natW < kExtW || out.h != (natH - kExtH) / sy + 1 ||
      out.w != (natW - kExtW) / sx + 1)
    throw Error(op.ctx.where("res0_h") + ": result " + std::to_string(out.h) + "x" +
                std::to_string(out.w) + " does not match the window geometry (input " +
                std::to_string(natH) + "x" + std::to_string(natW) + " after padding and " +
                "insertion, kernel " + std::to_string(kExtH) + "x" + std::to_string(kExtW) +
                ", stride " + std::to_string(sy) + "x" + std::to_string(sx) + ")");
  hp = natH;
  wp = natW;
  if (static_cast<double>(hp) * wp * in.c > 268435456.0)
    throw Error(op.ctx.where("opd0_h") + ": padded input of " + std::to_string(hp) + "x" +
                std::to_string(wp) + "x" + std::to_string(in.c) +
                " elements is too large to simulate");
}

int32_t ConvWindow::sourceIndex(uint32_t p, uint32_t pad, uint32_t ins, uint32_t size) {
  if (p < pad)
    return -1;
  uint32_t q = p - pad;
  if (q % (ins + 1))
    return -1;
  q /= ins + 1;
  return q < size ? static_cast<int32_t>(q) : -1;
}

template <typename Val, typename Load>
void ConvWindow::expand(const LocalTensor &t, uint32_t n, Val fill, std::vector<Val> &planes,
                        Load load) const {
  planes.assign(planeSize() * in.c, fill);
  std::vector<int32_t> colSrc(wp);
  for (uint32_t x = 0; x < wp; ++x)
    colSrc[x] = sourceIndex(x, padLf, insX, in.w);
  const Strides4 &st = t.strides();
  for (uint32_t c = 0; c < in.c; ++c) {
    const uint8_t *src = t.channel(c) + n * st.n;
    Val *plane = planes.data() + size_t{c} * planeSize();
    for (uint32_t y = 0; y < hp; ++y) {
      int32_t sy0 = sourceIndex(y, padUp, insY, in.h);
      if (sy0 < 0)
        continue;
      const uint8_t *row = src + sy0 * st.h;
      Val *dst = plane + size_t{y} * wp;
      for (uint32_t x = 0; x < wp; ++x)
        if (colSrc[x] >= 0)
          dst[x] = load(row + colSrc[x] * st.w);
    }
  }
}

void ConvWindow::expandInt8(const LocalTensor &t, uint32_t n, bool isSigned, int32_t fill,
                            std::vector<int16_t> &planes) const {
  expand<int16_t>(t, n, static_cast<int16_t>(fill), planes, [isSigned](const uint8_t *p) {
    return static_cast<int16_t>(load8(p, isSigned));
  });
}

void ConvWindow::expandBf16(const LocalTensor &t, uint32_t n, float fill,
                            std::vector<float> &planes) const {
  expand<float>(t, n, fill, planes, [](const uint8_t *p) { return loadBf16Tiu(p); });
}

PerChannelParams::PerChannelParams(const TiuOp &op, uint32_t channels, bool chlQuan, bool hasBias)
    : chlQuan_(chlQuan), hasBias_(hasBias) {
  if (!chlQuan && !hasBias)
    return;
  op.require(op.mode(kOpd2) == StrideMode::PerChannel, T::short_opd2_str,
             "bias/per-channel stride mode (expected 2)");
  if (chlQuan) {
    // 9-byte records {bias i32, multiplier u32, shift u8} with a bias, else 5-byte {multiplier,
    // shift}.
    uint32_t size = hasBias ? 9 : 5;
    LocalTensor t = op.tensor(kOpd2, {1, channels, 1, size}, {0, size, 0, 1}, 1);
    qdm_.resize(channels);
    for (uint32_t c = 0; c < channels; ++c) {
      const uint8_t *p = t.channel(c);
      if (hasBias) {
        qdm_[c] = arith::readQdmChannelParams(p);
      } else {
        uint8_t rec[9] = {0, 0, 0, 0, p[0], p[1], p[2], p[3], p[4]};
        qdm_[c] = arith::readQdmChannelParams(rec);
      }
      if (qdm_[c].rshift > 31)
        throw Error(op.ctx.where("opd2_addr") + ": per-channel right shift " +
                    std::to_string(qdm_[c].rshift) + " of channel " + std::to_string(c) +
                    " is above 31 (unsupported)");
    }
    return;
  }
  // 16-bit bias: low bytes, then the high bytes one channel-round block later (opd2_b_str is not
  // used by the data path).
  uint32_t rounds = (channels + op.lanes() - 1) / op.lanes();
  int64_t bstr = rounds;
  LocalTensor t = op.tensor(kOpd2, {1, channels, 1, 1}, {0, 1, 0, 1}, 1, 2, bstr);
  bias_.resize(channels);
  bool s = op.flag(T::opt_opd2_sign);
  for (uint32_t c = 0; c < channels; ++c)
    bias_[c] = load16(t.channel(c), bstr, s);
}

} // namespace tpuc::runtime
