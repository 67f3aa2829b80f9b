//===- TiuConv.cpp - convolution (tsk_typ 0) ------------------------------===//
//
// cv183x-isa.md §2.4 (conv fill rules), §5.1/§5.2 (post-processing), §5.4 (partial sums).
// opd0 = ifmap (n, ic, h, w); opd1 = weights, one output channel per lane, [ky][kx][ic] bytes
// (stride mode 1); opd2 = 16-bit bias (two planes, stride mode 2) or, with opt_chl_quan, the 9-byte
// per-channel records; res0 = ofmap.
//
//===----------------------------------------------------------------------===//
#include "ConvWindow.h"
#include "TiuCommon.h"

#include <vector>

namespace tpuc::runtime {

namespace {

using T = TiuField;

/// Weights of one output channel as int32, [ky][kx][ic].
void loadWeights(const TiuOp &op, const LocalTensor *wt, uint32_t oc, uint32_t ic, uint32_t k,
                 std::vector<int32_t> &out) {
  out.resize(size_t{k} * ic);
  if (!wt) {
    uint8_t b = static_cast<uint8_t>(op[T::opd1_addr]);
    std::fill(out.begin(), out.end(), load8(&b, op.flag(T::opt_opd1_sign)));
    return;
  }
  const uint8_t *p = wt->channel(oc);
  bool s = op.flag(T::opt_opd1_sign);
  for (size_t i = 0; i < out.size(); ++i)
    out[i] = load8(p + i, s);
}

void convInt8(TiuOp &op) {
  ConvWindow win(op);
  uint32_t n = win.in.n, ic = win.in.c, oc = win.out.c;
  uint32_t k = win.kh * win.kw;
  bool chlQuan = op.flag(T::opt_chl_quan);
  bool hasBias = op[T::tsk_opd_num] == 3;
  unsigned ps32 = static_cast<unsigned>(op[T::ps32_md]);
  op.require(op[T::opd1_n] == ic, T::opd1_n, "conv: opd1_n must equal the ifmap channels");
  op.require(op[T::opd1_c] == oc, T::opd1_c, "conv: opd1_c must equal the ofmap channels");

  if (op.flag(T::double_conv))
    op.require(ic % 2 == 0 && ic >= 4 && op[T::opd1_addr] % 2 == 0 && op[T::opd0_addr] % 2 == 0,
               T::double_conv, "double_conv without an even IC >= 4 and even addresses");
  if (op.mode(kRes0) == StrideMode::Explicit)
    op.require(op[T::res0_n_str] % 16 == 0, T::res0_n_str,
               "convolution result n stride that is not a multiple of 16");
  LocalTensor in = op.tensor(kOpd0, win.in, 1);
  std::optional<LocalTensor> wt;
  if (!op.flag(T::opt_opd1_const)) {
    op.require(op.mode(kOpd1) == StrideMode::ConvWeight, T::short_opd1_str,
               "conv weight stride mode (expected 1)");
    int64_t cs = int64_t{k} * ic;
    wt.emplace(op.tensor(kOpd1, {1, oc, 1, k * ic}, {0, cs, 0, 1}, 1));
  }
  PerChannelParams params(op, oc, chlQuan, hasBias);

  bool resInt8 = op.flag(T::opt_res0_int8);
  op.require(resInt8 || ps32 == 2 || ps32 == 3, T::opt_res0_int8, "conv with a 16-bit result");
  int64_t bstr = ps32 ? op.ps32PlaneStride(win.out, 1) : 0;
  unsigned planes = (ps32 & 2) ? 4 : 1;
  if (ps32 == 1)
    planes = 4; // reads the stored partial sum from all four planes
  LocalTensor out = op.tensor(kRes0, win.out, 1, planes, bstr);

  bool inSigned = op.flag(T::opt_opd0_sign);
  uint8_t insVal = static_cast<uint8_t>(op[T::opd0_ins_val]);
  int32_t fill = load8(&insVal, inSigned);
  bool relu = op.flag(T::opt_relu), resSigned = op.flag(T::opt_res0_sign);
  unsigned rshift = static_cast<unsigned>(op[T::opt_right_shift]);
  uint32_t oh = win.out.h, ow = win.out.w;
  std::vector<int16_t> planesIn;
  std::vector<int32_t> acc(size_t{oh} * ow), w;
  for (uint32_t b = 0; b < n; ++b) {
    win.expandInt8(in, b, inSigned, fill, planesIn);
    for (uint32_t o = 0; o < oc; ++o) {
      std::fill(acc.begin(), acc.end(), 0);
      loadWeights(op, wt ? &*wt : nullptr, o, ic, k, w);
      for (uint32_t c = 0; c < ic; ++c)
        for (uint32_t ky = 0; ky < win.kh; ++ky)
          for (uint32_t kx = 0; kx < win.kw; ++kx) {
            int32_t wv = w[(size_t{ky} * win.kw + kx) * ic + c];
            if (wv)
              win.accumulate(acc.data(), planesIn.data() + size_t{c} * win.planeSize(), ky, kx, wv);
          }
      uint8_t *dst = out.channel(o) + b * out.strides().n;
      const auto &st = out.strides();
      for (uint32_t y = 0; y < oh; ++y)
        for (uint32_t x = 0; x < ow; ++x) {
          uint8_t *p = dst + y * st.h + x * st.w;
          int64_t a = acc[size_t{y} * ow + x];
          if (ps32 & 1)
            a += load32(p, bstr);
          if (ps32 & 2) {
            store32(p, bstr, static_cast<int32_t>(a));
            continue;
          }
          *p = static_cast<uint8_t>(params.requant(o, a, rshift, relu, resSigned));
        }
    }
  }
}

} // namespace

void executeConv(TiuOp &op) {
  if (op.bf16()) {
    convBf16(op);
    return;
  }
  convInt8(op);
}

} // namespace tpuc::runtime
