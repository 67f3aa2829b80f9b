//===- TiuArith.h - element-wise operand access for tsk_typ 3 ---*- C++ -*-===//
#pragma once

#include "TiuCommon.h"

#include <optional>

namespace tpuc::runtime {

/// An element-wise source operand: a local tensor of 8-bit or 16-bit (two planes) values, or a
/// constant from the address field.
struct ArithOperand {
  std::optional<LocalTensor> t;
  bool isConst = false, is16 = false, isSigned = false;
  int32_t constVal = 0;
  int64_t bstr = 0;

  static ArithOperand make(const TiuOp &op, const TiuOperand &o, const Shape4 &s);

  int32_t load(const uint8_t *p) const {
    return is16 ? load16(p, bstr, isSigned) : load8(p, isSigned);
  }
};

/// fn(resPtr, a) over every element of shape `s`.
template <typename Fn>
void forEach(const LocalTensor &res, const Shape4 &s, const ArithOperand &a, Fn fn) {
  const Strides4 &rs = res.strides();
  for (uint32_t c = 0; c < s.c; ++c) {
    uint8_t *rc = res.channel(c);
    const uint8_t *ac = a.t ? a.t->channel(c) : nullptr;
    for (uint32_t n = 0; n < s.n; ++n)
      for (uint32_t h = 0; h < s.h; ++h) {
        uint8_t *rrow = rc + n * rs.n + h * rs.h;
        if (a.isConst) {
          for (uint32_t w = 0; w < s.w; ++w)
            fn(rrow + w * rs.w, int64_t{a.constVal});
          continue;
        }
        const Strides4 &as = a.t->strides();
        const uint8_t *arow = ac + n * as.n + h * as.h;
        for (uint32_t w = 0; w < s.w; ++w)
          fn(rrow + w * rs.w, int64_t{a.load(arow + w * as.w)});
      }
  }
}

/// fn(resPtr, a, b) over every element of shape `s`.
template <typename Fn>
void forEach(const LocalTensor &res, const Shape4 &s, const ArithOperand &a, const ArithOperand &b,
             Fn fn) {
  const Strides4 &rs = res.strides();
  Strides4 zero{};
  for (uint32_t c = 0; c < s.c; ++c) {
    uint8_t *rc = res.channel(c);
    const uint8_t *ac = a.t ? a.t->channel(c) : nullptr;
    const uint8_t *bc = b.t ? b.t->channel(c) : nullptr;
    const Strides4 &as = a.t ? a.t->strides() : zero;
    const Strides4 &bs = b.t ? b.t->strides() : zero;
    for (uint32_t n = 0; n < s.n; ++n)
      for (uint32_t h = 0; h < s.h; ++h) {
        uint8_t *rrow = rc + n * rs.n + h * rs.h;
        const uint8_t *arow = ac ? ac + n * as.n + h * as.h : nullptr;
        const uint8_t *brow = bc ? bc + n * bs.n + h * bs.h : nullptr;
        for (uint32_t w = 0; w < s.w; ++w) {
          int64_t x = arow ? a.load(arow + w * as.w) : a.constVal;
          int64_t y = brow ? b.load(brow + w * bs.w) : b.constVal;
          fn(rrow + w * rs.w, x, y);
        }
      }
  }
}

void tensorArithBf16(TiuOp &op);

} // namespace tpuc::runtime
