//===- Window.h - sliding-window geometry of conv, depthwise and pooling --*- C++ -*-===//
#pragma once

#include "Impl.h"

namespace tpuc::kernel {

/// Kernel, stride, dilation, padding and insertion of a sliding-window operation.
struct Window {
  uint32_t kh, kw, strideH, strideW, dilationH, dilationW;
  uint32_t padTop, padBottom, padLeft, padRight;
  uint32_t insH, insW, insLastH, insLastW;

  /// Output extent along one axis; 0 if the window does not fit.
  static uint32_t outExtent(uint32_t in, uint32_t padA, uint32_t padB, uint32_t ins,
                            uint32_t insLast, uint32_t k, uint32_t dil, uint32_t stride) {
    uint64_t ext = uint64_t{padA} + uint64_t{in - 1} * (ins + 1) + 1 + insLast + padB;
    uint64_t kext = uint64_t{k - 1} * dil + 1;
    if (kext > ext || stride == 0)
      return 0;
    return static_cast<uint32_t>((ext - kext) / stride + 1);
  }
  uint32_t outH(uint32_t h) const {
    return outExtent(h, padTop, padBottom, insH, insLastH, kh, dilationH, strideH);
  }
  uint32_t outW(uint32_t w) const {
    return outExtent(w, padLeft, padRight, insW, insLastW, kw, dilationW, strideW);
  }

  /// Field ranges (4-bit pads, strides, insertions and dilation - 1; 12-bit kernel).
  bool check(Context::Impl &impl, const char *op) const {
    struct Item {
      const char *name;
      uint32_t value, lo, hi;
    };
    const Item items[] = {{"kernel height", kh, 1, kTiuMaxHW},
                          {"kernel width", kw, 1, kTiuMaxHW},
                          {"stride h", strideH, 1, 15},
                          {"stride w", strideW, 1, 15},
                          {"dilation h", dilationH, 1, 16},
                          {"dilation w", dilationW, 1, 16},
                          {"pad top", padTop, 0, 15},
                          {"pad bottom", padBottom, 0, 15},
                          {"pad left", padLeft, 0, 15},
                          {"pad right", padRight, 0, 15},
                          {"insertion h", insH, 0, 15},
                          {"insertion w", insW, 0, 15},
                          {"insertion after last h", insLastH, 0, 15},
                          {"insertion after last w", insLastW, 0, 15}};
    for (const Item &i : items)
      if (i.value < i.lo || i.value > i.hi)
        return impl.fail(op, std::string(i.name) + " " + std::to_string(i.value) +
                                 " is out of range (" + std::to_string(i.lo) + ".." +
                                 std::to_string(i.hi) + ")");
    return true;
  }

  /// Checks that `out` is the window's output for `in`.
  bool checkOutput(Context::Impl &impl, const char *op, const Shape &in, const Shape &out) const {
    uint32_t oh = outH(in.h), ow = outW(in.w);
    if (oh == 0 || ow == 0)
      return impl.fail(op, "the kernel does not fit the padded input " + shapeStr(in));
    if (out.h != oh || out.w != ow)
      return impl.fail(op, "output is " + std::to_string(out.h) + " x " + std::to_string(out.w) +
                               " but the window gives " + std::to_string(oh) + " x " +
                               std::to_string(ow));
    return true;
  }

  void setFields(TiuBuilder &b) const {
    b.set(TiuField::opd1_h, kh).set(TiuField::opd1_w, kw);
    b.set(TiuField::conv_op_y_str, strideH).set(TiuField::conv_op_x_str, strideW);
    b.set(TiuField::conv_opd1_y_ins0, dilationH - 1).set(TiuField::conv_opd1_x_ins0, dilationW - 1);
    b.set(TiuField::conv_opd0_up_pad, padTop).set(TiuField::conv_opd0_dn_pad, padBottom);
    b.set(TiuField::conv_opd0_lf_pad, padLeft).set(TiuField::conv_opd0_rt_pad, padRight);
    b.set(TiuField::conv_opd0_y_ins0, insH).set(TiuField::conv_opd0_x_ins0, insW);
    b.set(TiuField::conv_opd0_y_ins0_last, insLastH).set(TiuField::conv_opd0_x_ins0_last, insLastW);
  }
};

} // namespace tpuc::kernel
