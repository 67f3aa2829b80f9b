//===- ConvWindow.h - sliding-window geometry of conv and pooling --*- C++ -*-===//
//
// The input of a convolution/pooling descriptor, expanded once per batch item into dense planes
// that hold insertions (conv_opd0_{x,y}_ins0, *_ins0_last, value opd0_ins_val) and padding
// (conv_opd0_{up,dn,lf,rt}_pad), so that the kernels are plain strided window walks. Also the
// per-output-channel bias / QDM parameters of conv and depthwise.
//
//===----------------------------------------------------------------------===//
#pragma once

#include "TiuCommon.h"

#include <vector>

namespace tpuc::runtime {

class ConvWindow {
public:
  explicit ConvWindow(const TiuOp &op);

  Shape4 in, out;
  uint32_t kh, kw, dy, dx, sy, sx;
  uint32_t padUp, padDn, padLf, padRt, insY, insX, insYLast, insXLast;
  uint32_t hp, wp; ///< expanded plane size (covers every window of the output)

  size_t planeSize() const { return size_t{hp} * wp; }

  /// Expands batch item `n` of every channel of `t` into int16 planes (channel-major). Padding
  /// and insertion positions take `fill`.
  void expandInt8(const LocalTensor &t, uint32_t n, bool isSigned, int32_t fill,
                  std::vector<int16_t> &planes) const;
  /// Same for bf16 data, as float.
  void expandBf16(const LocalTensor &t, uint32_t n, float fill, std::vector<float> &planes) const;

  /// acc[y][x] += w * plane[y*sy + ky*dy][x*sx + kx*dx] over the output.
  template <typename Acc, typename Val, typename W>
  void accumulate(Acc *acc, const Val *plane, uint32_t ky, uint32_t kx, W w) const {
    for (uint32_t y = 0; y < out.h; ++y) {
      const Val *row = plane + size_t{y * sy + ky * dy} * wp + kx * dx;
      Acc *a = acc + size_t{y} * out.w;
      if (sx == 1) {
        for (uint32_t x = 0; x < out.w; ++x)
          a[x] += w * row[x];
      } else {
        for (uint32_t x = 0; x < out.w; ++x)
          a[x] += w * row[size_t{x} * sx];
      }
    }
  }

  /// acc[y][x] = acc[y][x] + w * plane[...] in fp32 rounding toward zero (bf16 data path).
  void accumulateRz(float *acc, const float *plane, uint32_t ky, uint32_t kx, float w) const {
    for (uint32_t y = 0; y < out.h; ++y) {
      const float *row = plane + size_t{y * sy + ky * dy} * wp + kx * dx;
      float *a = acc + size_t{y} * out.w;
      for (uint32_t x = 0; x < out.w; ++x)
        a[x] = arith::addFp32Rz(a[x], arith::mulFp32Ftz(w, row[size_t{x} * sx]));
    }
  }

  /// Position of expanded-plane coordinate `p` in the source (or -1 for pad/insert), for one axis.
  static int32_t sourceIndex(uint32_t p, uint32_t pad, uint32_t ins, uint32_t size);

private:
  template <typename Val, typename Load>
  void expand(const LocalTensor &t, uint32_t n, Val fill, std::vector<Val> &planes,
              Load load) const;
};

/// Bias and requantisation per output channel (conv and depthwise): 16-bit per-tensor bias in two
/// planes (stride mode 2, record size 1) or the 9-byte QDM records (§5.2).
class PerChannelParams {
public:
  PerChannelParams(const TiuOp &op, uint32_t channels, bool chlQuan, bool hasBias);
  int32_t requant(uint32_t c, int64_t acc, unsigned rshift, bool relu, bool resSigned) const {
    if (chlQuan_) {
      const arith::QdmChannelParams &q = qdm_[c];
      return arith::requantQdm(acc + (hasBias_ ? q.bias : 0), multiplier(q.multiplier), q.rshift,
                               relu, resSigned);
    }
    return arith::requantPerTensor(acc + (hasBias_ ? bias_[c] : 0), rshift, relu, resSigned);
  }
  int32_t bias(uint32_t c) const { return hasBias_ ? (chlQuan_ ? qdm_[c].bias : bias_[c]) : 0; }
  static int64_t multiplier(uint32_t m) { return static_cast<int32_t>(m); }

private:
  bool chlQuan_, hasBias_;
  std::vector<int32_t> bias_;
  std::vector<arith::QdmChannelParams> qdm_;
};

} // namespace tpuc::runtime
