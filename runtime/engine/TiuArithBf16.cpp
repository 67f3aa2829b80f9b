//===- TiuArithBf16.cpp - tensor arithmetic and lookup, bf16 data path ----===//
//
// bf16 element-wise operations read operands with arith::bf16ToFloatTiu (zero/denormal -> +0,
// inf/NaN -> NaN), compute in fp32 and write with arith::floatToBf16Tiu (nearest even; NaN/inf ->
// +max finite; zero exponent -> +0). mac: arith::bf16MacTiu. Copy goes through
// the same conversions. All probed against the vendor model. The bf16 lookup (tsk_eu_typ 12)
// indexes a 256-entry bf16 table with the low byte of the input pattern.
//
//===----------------------------------------------------------------------===//
#include "TiuArith.h"

#include <algorithm>
#include <cmath>

namespace tpuc::runtime {

namespace {

using T = TiuField;

/// A bf16 source operand: a local tensor or a constant bf16 pattern from the address field.
struct Bf16Operand {
  std::optional<LocalTensor> t;
  bool isConst = false;
  float constVal = 0;

  static Bf16Operand make(const TiuOp &op, const TiuOperand &o, const Shape4 &s) {
    Bf16Operand b;
    if (o.isConst && op.flag(*o.isConst)) {
      b.isConst = true;
      b.constVal = arith::bf16ToFloatTiu(static_cast<uint16_t>(op[o.addr]));
      return b;
    }
    b.t.emplace(op.tensor(o, s, 2));
    return b;
  }
};

template <typename Fn>
void forEachBf16(const LocalTensor &res, const Shape4 &s, const Bf16Operand &a,
                 const Bf16Operand &b, Fn fn) {
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
          float x = arow ? loadBf16Tiu(arow + w * as.w) : a.constVal;
          float y = brow ? loadBf16Tiu(brow + w * bs.w) : b.constVal;
          fn(rrow + w * rs.w, x, y);
        }
      }
  }
}

void lookupBf16(TiuOp &op) {
  Shape4 s = op.shape(kRes0);
  LocalTensor in = op.tensor(kOpd0, op.shape(kOpd0), 2);
  LocalTensor out = op.tensor(kRes0, s, 2);
  op.require(in.startLane() == out.startLane(), T::opd0_addr,
             "lookup with opd0 and res0 on different start lanes");
  op.require(op.shape(kOpd0).count() == s.count(), T::opd0_c, "lookup: opd0 and res0 differ");
  Shape4 ts = op.shape(kOpd1);
  op.require(uint64_t{ts.h} * ts.w == 256, T::opd1_h, "bf16 lookup table that is not 32x8");
  // Table lanes as for the int8 lookup (TiuArith.cpp); 256 bf16 entries per lane.
  uint32_t laneBytes = op.ctx.chip.lmemPerLane, lanes = op.lanes();
  uint32_t tableAddr = static_cast<uint32_t>(op[T::opd1_addr]);
  uint32_t tableOff = tableAddr % laneBytes;
  uint32_t base = tableAddr / laneBytes + 3 * (out.startLane() / 2);
  if (tableOff + 512 > laneBytes || base + std::min(s.c, lanes) > lanes)
    throw Error("local-memory overflow: " + op.ctx.where("opd1_addr") + ": lookup table lanes " +
                std::to_string(base) + ".." + std::to_string(base + std::min(s.c, lanes) - 1) +
                " at offset " + std::to_string(tableOff));
  const Strides4 &is = in.strides(), &os = out.strides();
  for (uint32_t c = 0; c < s.c; ++c) {
    const uint8_t *tab = op.ctx.lmem.data() + size_t{base + c % lanes} * laneBytes + tableOff;
    for (uint32_t n = 0; n < s.n; ++n)
      for (uint32_t h = 0; h < s.h; ++h) {
        const uint8_t *src = in.channel(c) + n * is.n + h * is.h;
        uint8_t *dst = out.channel(c) + n * os.n + h * os.h;
        for (uint32_t w = 0; w < s.w; ++w) {
          const uint8_t *e = tab + 2 * size_t{arith::lutIndexBf16(loadBf16(src + w * is.w))};
          dst[w * os.w] = e[0];
          dst[w * os.w + 1] = e[1];
        }
      }
  }
}

} // namespace

void tensorArithBf16(TiuOp &op) {
  op.require(!op.flag(T::opt_chl_quan), T::opt_chl_quan, "per-channel quantisation in bf16");
  op.require(op[T::ps32_md] == 0, T::ps32_md, "partial sums in bf16 tensor arithmetic");
  if (op.flag(T::tens_lookup)) {
    lookupBf16(op);
    return;
  }
  op.require(!op.flag(T::tens_mdsum), T::tens_mdsum, "mdsum");
  auto kind = static_cast<ArithKind>(op[T::tsk_eu_typ]);
  Shape4 s = op.shape(kRes0);
  LocalTensor res = op.tensor(kRes0, s, 2);
  // ReLU (mul, mac and add only; sub, max and min ignore it, probed) acts on the written bf16,
  // after NaN/inf became +max finite.
  bool relu = op.flag(T::opt_relu) &&
              (kind == ArithKind::Mul || kind == ArithKind::Mac || kind == ArithKind::Add);
  auto store = [relu](uint8_t *p, float v) {
    uint16_t r = arith::floatToBf16Tiu(v);
    storeBf16(p, (relu && (r & 0x8000)) ? 0 : r);
  };
  if (kind == ArithKind::Copy) {
    LocalTensor a = op.tensor(kOpd0, s, 2);
    const Strides4 &as = a.strides(), &rs = res.strides();
    for (uint32_t c = 0; c < s.c; ++c)
      for (uint32_t n = 0; n < s.n; ++n)
        for (uint32_t h = 0; h < s.h; ++h) {
          const uint8_t *src = a.channel(c) + n * as.n + h * as.h;
          uint8_t *dst = res.channel(c) + n * rs.n + h * rs.h;
          for (uint32_t w = 0; w < s.w; ++w)
            storeBf16(dst + w * rs.w, arith::floatToBf16Tiu(loadBf16Tiu(src + w * as.w)));
        }
    return;
  }
  Bf16Operand a = Bf16Operand::make(op, kOpd0, s);
  Bf16Operand b = Bf16Operand::make(op, kOpd1, s);
  switch (kind) {
  case ArithKind::Mul:
    forEachBf16(res, s, a, b, [&](uint8_t *p, float x, float y) { store(p, x * y); });
    return;
  case ArithKind::Mac:
    forEachBf16(res, s, a, b, [&](uint8_t *p, float x, float y) {
      uint16_t r = arith::bf16MacTiu(x, y, loadBf16(p));
      storeBf16(p, (relu && (r & 0x8000)) ? 0 : r);
    });
    return;
  case ArithKind::Add:
    forEachBf16(res, s, a, b, [&](uint8_t *p, float x, float y) { store(p, x + y); });
    return;
  case ArithKind::Sub:
    forEachBf16(res, s, a, b, [&](uint8_t *p, float x, float y) { store(p, x - y); });
    return;
  case ArithKind::Max:
    forEachBf16(res, s, a, b, [&](uint8_t *p, float x, float y) {
      store(p, (std::isnan(x) || std::isnan(y)) ? x + y : std::max(x, y));
    });
    return;
  case ArithKind::Min:
    forEachBf16(res, s, a, b, [&](uint8_t *p, float x, float y) {
      store(p, (std::isnan(x) || std::isnan(y)) ? x + y : std::min(x, y));
    });
    return;
  default:
    op.unsupported(T::tsk_eu_typ,
                   "bf16 tensor arithmetic type " + std::to_string(op[T::tsk_eu_typ]));
  }
}

} // namespace tpuc::runtime
