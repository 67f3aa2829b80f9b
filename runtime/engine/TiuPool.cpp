//===- TiuPool.cpp - pooling and depthwise convolution (tsk_typ 1) --------===//
//
// cv183x-isa.md §2.4 (max/avg pool, depthwise), §5.1-5.3. Padding and insertion positions take
// opd0_ins_val (int8 data path) or opd0_ins_fp (bf16).
//
//===----------------------------------------------------------------------===//
#include "ConvWindow.h"
#include "TiuCommon.h"

#include <algorithm>
#include <vector>

namespace tpuc::runtime {

namespace {

using T = TiuField;

int32_t insValue(const TiuOp &op) {
  uint8_t v = static_cast<uint8_t>(op[T::opd0_ins_val]);
  return load8(&v, op.flag(T::opt_opd0_sign));
}

/// Walks every output element of channel c, batch b: fn(y, x, acc) with the window reduced by
/// `reduce` starting from `init`.
template <typename Val, typename Acc, typename Reduce, typename Emit>
void windowReduce(const ConvWindow &win, const Val *plane, Acc init, Reduce reduce, Emit emit) {
  for (uint32_t y = 0; y < win.out.h; ++y)
    for (uint32_t x = 0; x < win.out.w; ++x) {
      Acc acc = init;
      const Val *base = plane + size_t{y * win.sy} * win.wp + size_t{x} * win.sx;
      for (uint32_t ky = 0; ky < win.kh; ++ky) {
        const Val *row = base + size_t{ky * win.dy} * win.wp;
        for (uint32_t kx = 0; kx < win.kw; ++kx)
          acc = reduce(acc, row[size_t{kx} * win.dx]);
      }
      emit(y, x, acc);
    }
}

void poolInt8(TiuOp &op, PoolKind kind) {
  ConvWindow win(op);
  op.require(win.in.c == win.out.c, T::res0_c, "pooling: res0_c must equal opd0_c");
  LocalTensor in = op.tensor(kOpd0, win.in, 1);
  LocalTensor out = op.tensor(kRes0, win.out, 1);
  op.require(op.flag(T::opt_res0_int8), T::opt_res0_int8, "pooling with a 16-bit result");
  op.require(op[T::ps32_md] == 0, T::ps32_md, "partial sums in pooling");
  op.require(!op.flag(T::opt_chl_quan), T::opt_chl_quan, "per-channel quantisation in pooling");
  bool inSigned = op.flag(T::opt_opd0_sign), resSigned = op.flag(T::opt_res0_sign);
  std::vector<int16_t> planes;
  const Strides4 &os = out.strides();
  if (kind == PoolKind::Max) {
    // The vendor model's max pooling does not implement zero insertion (it reads the input with
    // the wrong row pitch), so descriptors that ask for it are rejected.
    op.require(!win.insX && !win.insY && !win.insXLast && !win.insYLast, T::conv_opd0_x_ins0,
               "insertion (conv_opd0_*_ins0*) in max pooling");
    // The running maximum starts from opd0_ins_val, so the result is never below it (probed).
    for (uint32_t b = 0; b < win.in.n; ++b) {
      win.expandInt8(in, b, inSigned, insValue(op), planes);
      for (uint32_t c = 0; c < win.in.c; ++c) {
        uint8_t *dst = out.channel(c) + b * os.n;
        windowReduce(
            win, planes.data() + c * win.planeSize(), insValue(op),
            [](int32_t a, int16_t v) { return std::max<int32_t>(a, v); },
            [&](uint32_t y, uint32_t x, int32_t m) {
              dst[y * os.h + x * os.w] = static_cast<uint8_t>(arith::saturate8(m, resSigned));
            });
      }
    }
    return;
  }
  // Average: sum of the window times the 8-bit constant, then the per-tensor shift.
  op.require(op.flag(T::opt_opd1_const), T::opt_opd1_const, "average pooling without a constant");
  uint8_t cb = static_cast<uint8_t>(op[T::opd1_addr]);
  int32_t k = load8(&cb, op.flag(T::opt_opd1_sign));
  unsigned rshift = static_cast<unsigned>(op[T::opt_right_shift]);
  bool relu = op.flag(T::opt_relu);
  for (uint32_t b = 0; b < win.in.n; ++b) {
    win.expandInt8(in, b, inSigned, insValue(op), planes);
    for (uint32_t c = 0; c < win.in.c; ++c) {
      uint8_t *dst = out.channel(c) + b * os.n;
      windowReduce(
          win, planes.data() + c * win.planeSize(), int64_t{0},
          [](int64_t a, int16_t v) { return a + v; },
          [&](uint32_t y, uint32_t x, int64_t sum) {
            dst[y * os.h + x * os.w] =
                static_cast<uint8_t>(arith::requantPerTensor(sum * k, rshift, relu, resSigned));
          });
    }
  }
}

void depthwiseInt8(TiuOp &op) {
  ConvWindow win(op);
  uint32_t c = win.in.c;
  op.require(win.out.c == c, T::res0_c, "depthwise: res0_c must equal opd0_c");
  op.require(op[T::short_res0_str] == op[T::short_opd0_str], T::short_res0_str,
             "depthwise with different res0 and opd0 stride modes");
  op.require(op[T::ps32_md] == 0, T::ps32_md, "partial sums in int8 depthwise");
  op.require(op.flag(T::opt_res0_int8), T::opt_res0_int8, "depthwise with a 16-bit result");
  bool chlQuan = op.flag(T::opt_chl_quan);
  bool hasBias = op[T::tsk_opd_num] == 3;
  LocalTensor in = op.tensor(kOpd0, win.in, 1);
  LocalTensor out = op.tensor(kRes0, win.out, 1);
  uint32_t k = win.kh * win.kw;
  std::vector<int32_t> weights(size_t{c} * k);
  bool wSigned = op.flag(T::opt_opd1_sign);
  if (op.flag(T::opt_opd1_const)) {
    uint8_t v = static_cast<uint8_t>(op[T::opd1_addr]);
    std::fill(weights.begin(), weights.end(), load8(&v, wSigned));
  } else {
    Shape4 ws{1, c, win.kh, win.kw};
    LocalTensor wt = op.tensor(kOpd1, ws, 1);
    const Strides4 &st = wt.strides();
    for (uint32_t ch = 0; ch < c; ++ch)
      for (uint32_t ky = 0; ky < win.kh; ++ky)
        for (uint32_t kx = 0; kx < win.kw; ++kx)
          weights[size_t{ch} * k + ky * win.kw + kx] =
              load8(wt.channel(ch) + ky * st.h + kx * st.w, wSigned);
  }
  PerChannelParams params(op, c, chlQuan, hasBias);
  bool inSigned = op.flag(T::opt_opd0_sign), resSigned = op.flag(T::opt_res0_sign);
  bool relu = op.flag(T::opt_relu);
  unsigned rshift = static_cast<unsigned>(op[T::opt_right_shift]);
  std::vector<int16_t> planes;
  std::vector<int32_t> acc(size_t{win.out.h} * win.out.w);
  const Strides4 &os = out.strides();
  for (uint32_t b = 0; b < win.in.n; ++b) {
    win.expandInt8(in, b, inSigned, insValue(op), planes);
    for (uint32_t ch = 0; ch < c; ++ch) {
      std::fill(acc.begin(), acc.end(), 0);
      const int16_t *plane = planes.data() + ch * win.planeSize();
      for (uint32_t ky = 0; ky < win.kh; ++ky)
        for (uint32_t kx = 0; kx < win.kw; ++kx)
          if (int32_t w = weights[size_t{ch} * k + ky * win.kw + kx])
            win.accumulate(acc.data(), plane, ky, kx, w);
      uint8_t *dst = out.channel(ch) + b * os.n;
      for (uint32_t y = 0; y < win.out.h; ++y)
        for (uint32_t x = 0; x < win.out.w; ++x)
          dst[y * os.h + x * os.w] = static_cast<uint8_t>(
              params.requant(ch, acc[size_t{y} * win.out.w + x], rshift, relu, resSigned));
    }
  }
}

} // namespace

void executePool(TiuOp &op) {
  auto kind = static_cast<PoolKind>(op[T::tsk_eu_typ]);
  if (kind != PoolKind::Max && kind != PoolKind::Avg)
    op.unsupported(T::tsk_eu_typ, "pooling kind " + std::to_string(op[T::tsk_eu_typ]) +
                                      " (cv183x has max 0, average 1, depthwise 2)");
  if (op.bf16()) {
    poolBf16(op, kind);
    return;
  }
  poolInt8(op, kind);
}

void executeDepthwise(TiuOp &op) {
  if (op.bf16()) {
    depthwiseBf16(op);
    return;
  }
  depthwiseInt8(op);
}

} // namespace tpuc::runtime
