//===- TiuArith.cpp - tensor arithmetic and lookup (tsk_typ 3), int8 ------===//
//
// cv183x-isa.md §2.4 "Element-wise ops", §5.1/§5.2/§5.5. All operands have the res0 shape. An
// operand is 8-bit or 16-bit (two byte planes b_str apart, *_int8 = 0); opd1 may be a constant held
// in opd1_addr. The bf16 data path is in TiuArithBf16.cpp.
//
//===----------------------------------------------------------------------===//
#include "TiuArith.h"

#include <algorithm>
#include <vector>

namespace tpuc::runtime {

namespace {

using T = TiuField;

int64_t shiftRoundHalfUp(int64_t v, unsigned r) { return arith::roundingRightShift(v, r); }

/// Result writer: 8-bit saturation or a 16-bit value in two planes.
struct ResultWriter {
  bool is16, isSigned;
  int64_t bstr;
  void operator()(uint8_t *p, int64_t v) const {
    if (is16)
      store16(p, bstr, static_cast<int32_t>(arith::saturate(v, 16, isSigned)));
    else
      *p = static_cast<uint8_t>(arith::saturate8(v, isSigned));
  }
};

void lookupInt8(TiuOp &op) {
  Shape4 s = op.shape(kRes0);
  op.require(op.shape(kOpd0).count() == s.count(), T::opd0_c, "lookup: opd0 and res0 differ");
  LocalTensor in = op.tensor(kOpd0, op.shape(kOpd0), 1);
  LocalTensor out = op.tensor(kRes0, s, 1);
  op.require(in.startLane() == out.startLane(), T::opd0_addr,
             "lookup with opd0 and res0 on different start lanes");
  // The table: 256 bytes per lane (shape (1, 32, 16, 16)) at per-lane offset opd1_addr % 32 KiB.
  // Result channel c reads the table of lane base + c % 32 with base = opd1_addr / 32 KiB +
  // 3 * (res0 start lane / 2): the vendor model's address arithmetic (probed); it equals the
  // computing lane for results starting on lane 0 or 1, the only placement compilers use.
  Shape4 ts = op.shape(kOpd1);
  op.require(uint64_t{ts.h} * ts.w == 256, T::opd1_h, "int8 lookup table that is not 16x16");
  uint32_t laneBytes = op.ctx.chip.lmemPerLane, lanes = op.lanes();
  uint32_t tableAddr = static_cast<uint32_t>(op[T::opd1_addr]);
  uint32_t tableOff = tableAddr % laneBytes;
  uint32_t base = tableAddr / laneBytes + 3 * (out.startLane() / 2);
  if (tableOff + 256 > laneBytes || base + std::min(s.c, lanes) > lanes)
    throw Error("local-memory overflow: " + op.ctx.where("opd1_addr") + ": lookup table lanes " +
                std::to_string(base) + ".." + std::to_string(base + std::min(s.c, lanes) - 1) +
                " at offset " + std::to_string(tableOff) + " (result start lane " +
                std::to_string(out.startLane()) + ")");
  const Strides4 &is = in.strides(), &os = out.strides();
  for (uint32_t c = 0; c < s.c; ++c) {
    const uint8_t *tab = op.ctx.lmem.data() + size_t{base + c % lanes} * laneBytes + tableOff;
    for (uint32_t n = 0; n < s.n; ++n)
      for (uint32_t h = 0; h < s.h; ++h) {
        const uint8_t *src = in.channel(c) + n * is.n + h * is.h;
        uint8_t *dst = out.channel(c) + n * os.n + h * os.h;
        for (uint32_t w = 0; w < s.w; ++w)
          dst[w * os.w] = tab[arith::lutIndexInt8(src[w * is.w])];
      }
  }
}

/// tens_mdsum: per-channel sum of opd0 over (n, h, w), rounding right shift, written at
/// res0 = (1, C, 1, 1) in the per-channel layout with a one-byte record (stride mode 1; a 16-bit
/// result's high byte follows its low byte, so channel rounds overlap and the lower round is
/// written last; opt_relu is ignored; probed).
void mdsumInt8(TiuOp &op) {
  Shape4 is = op.shape(kOpd0), rs = op.shape(kRes0);
  op.require(op.flag(T::opt_opd0_int8), T::opt_opd0_int8, "mdsum of 16-bit data");
  op.require(op.mode(kOpd0) == StrideMode::Default, T::short_opd0_str,
             "mdsum input stride mode (expected 0)");
  op.require(op.mode(kRes0) == StrideMode::ConvWeight, T::short_res0_str,
             "mdsum result stride mode (expected 1)");
  op.require(rs.c == is.c && rs.n == 1 && rs.h == 1 && rs.w == 1, T::res0_c,
             "mdsum result shape (expected (1, C, 1, 1))");
  bool res16 = !op.flag(T::opt_res0_int8);
  op.require(!res16 || !op.flag(T::opt_relu), T::opt_relu, "ReLU with a 16-bit mdsum result");
  LocalTensor in = op.tensor(kOpd0, is, 1);
  LocalTensor out = op.tensor(kRes0, rs, {0, 1, 0, 1}, res16 ? 2 : 1);
  bool inSigned = op.flag(T::opt_opd0_sign), resSigned = op.flag(T::opt_res0_sign);
  unsigned rshift = static_cast<unsigned>(op[T::opt_right_shift]);
  const Strides4 &st = in.strides();
  for (uint32_t c = rs.c; c-- > 0;) {
    int64_t sum = 0;
    for (uint32_t n = 0; n < is.n; ++n)
      for (uint32_t h = 0; h < is.h; ++h)
        for (uint32_t w = 0; w < is.w; ++w)
          sum += load8(in.channel(c) + n * st.n + h * st.h + w * st.w, inSigned);
    int64_t y = arith::roundingRightShift(sum, rshift);
    uint8_t *p = out.channel(c);
    if (res16) {
      int32_t v = static_cast<int32_t>(arith::saturate(y, 16, resSigned));
      p[0] = static_cast<uint8_t>(v);
      p[1] = static_cast<uint8_t>(v >> 8);
    } else {
      p[0] = static_cast<uint8_t>(arith::saturate8(y, resSigned));
    }
  }
}

} // namespace

ArithOperand ArithOperand::make(const TiuOp &op, const TiuOperand &o, const Shape4 &s) {
  ArithOperand a;
  a.isSigned = op.flag(o.sign);
  a.is16 = !op.flag(o.int8);
  a.bstr = static_cast<int64_t>(op[o.bStr]);
  if (o.isConst && op.flag(*o.isConst)) {
    a.isConst = true;
    uint64_t v = op[o.addr];
    uint8_t low = static_cast<uint8_t>(v);
    a.constVal = a.is16 ? (a.isSigned ? static_cast<int16_t>(v) : static_cast<uint16_t>(v))
                        : load8(&low, a.isSigned);
    return a;
  }
  a.t.emplace(op.tensor(o, s, 1, a.is16 ? 2 : 1, a.bstr));
  return a;
}

void executeTensorArith(TiuOp &op) {
  if (op.bf16()) {
    tensorArithBf16(op);
    return;
  }
  if (op.flag(T::tens_lookup)) {
    lookupInt8(op);
    return;
  }
  op.require(op[T::ps32_md] == 0, T::ps32_md, "partial sums in tensor arithmetic");
  if (op.flag(T::tens_mdsum)) {
    mdsumInt8(op);
    return;
  }
  auto kind = static_cast<ArithKind>(op[T::tsk_eu_typ]);
  Shape4 s = op.shape(kRes0);
  validateSigns(op);
  op.require(op.flag(T::opt_res0_int8) || !op.flag(T::opt_relu), T::opt_relu,
             "ReLU with a 16-bit tensor-arithmetic result");
  if (kind == ArithKind::Add || kind == ArithKind::Sub)
    op.require(!op.flag(T::opt_opd0_int8), T::opt_opd0_int8,
               "8-bit opd0 in add/sub (the int8 data path adds 16-bit operands)");
  ArithOperand a = ArithOperand::make(op, kOpd0, s);
  unsigned rshift = static_cast<unsigned>(op[T::opt_right_shift]);
  unsigned lshift = static_cast<unsigned>(op[T::opt_left_shift]);
  bool relu = op.flag(T::opt_relu);
  bool resSigned = op.flag(T::opt_res0_sign);
  ResultWriter write{!op.flag(T::opt_res0_int8), resSigned,
                     static_cast<int64_t>(op[T::res0_b_str])};
  bool needsRes16 = kind == ArithKind::Mac;
  LocalTensor res = op.tensor(kRes0, s, 1, (write.is16 || needsRes16) ? 2 : 1, write.bstr);

  auto relu0 = [relu](int64_t v) { return (relu && v < 0) ? 0 : v; };
  switch (kind) {
  case ArithKind::Copy:
    forEach(res, s, a, [&](uint8_t *p, int64_t x) { write(p, x); });
    return;
  default:
    break;
  }
  ArithOperand b = ArithOperand::make(op, kOpd1, s);
  switch (kind) {
  case ArithKind::Mul:
    if (op.flag(T::opt_chl_quan)) {
      int64_t m = static_cast<int32_t>(op[T::quan_m]);
      forEach(res, s, a, b, [&](uint8_t *p, int64_t x, int64_t y) {
        write(p, arith::requantQdm(x * y, m, rshift, relu, resSigned));
      });
    } else {
      forEach(res, s, a, b, [&](uint8_t *p, int64_t x, int64_t y) {
        write(p, relu0(shiftRoundHalfUp(x * y, rshift)));
      });
    }
    return;
  case ArithKind::Mac:
    forEach(res, s, a, b, [&](uint8_t *p, int64_t x, int64_t y) {
      int64_t acc = static_cast<int64_t>(load16(p, write.bstr, true)) << lshift;
      write(p, relu0(shiftRoundHalfUp(acc + x * y, rshift)));
    });
    return;
  case ArithKind::Add:
    forEach(res, s, a, b, [&](uint8_t *p, int64_t x, int64_t y) {
      write(p, relu0(shiftRoundHalfUp(x + y, rshift)));
    });
    return;
  case ArithKind::Sub:
    // The vendor model's sub ignores opt_relu (probed).
    forEach(res, s, a, b,
            [&](uint8_t *p, int64_t x, int64_t y) { write(p, shiftRoundHalfUp(x - y, rshift)); });
    return;
  case ArithKind::Max:
    forEach(res, s, a, b, [&](uint8_t *p, int64_t x, int64_t y) { write(p, x > y ? x : y); });
    return;
  case ArithKind::Min:
    forEach(res, s, a, b, [&](uint8_t *p, int64_t x, int64_t y) { write(p, x < y ? x : y); });
    return;
  case ArithKind::And:
    forEach(res, s, a, b, [&](uint8_t *p, int64_t x, int64_t y) { write(p, x & y); });
    return;
  case ArithKind::Or:
    forEach(res, s, a, b, [&](uint8_t *p, int64_t x, int64_t y) { write(p, x | y); });
    return;
  case ArithKind::Xor:
    forEach(res, s, a, b, [&](uint8_t *p, int64_t x, int64_t y) { write(p, x ^ y); });
    return;
  case ArithKind::Shift:
    // Per-element shift of a 16-bit value by a signed amount in [-16, 16]: left shifts wrap to 16
    // bits, right shifts are arithmetic without rounding (probed).
    op.require(write.is16, T::opt_res0_int8, "arith_shift with an 8-bit result");
    forEach(res, s, a, b, [&](uint8_t *p, int64_t x, int64_t y) {
      if (y < -16 || y > 16)
        throw Error(op.ctx.where("opd1_addr") + ": arith_shift amount " + std::to_string(y) +
                    " outside [-16, 16]");
      store16(p, write.bstr, static_cast<int32_t>(y >= 0 ? x << y : x >> -y));
    });
    return;
  default:
    op.unsupported(T::tsk_eu_typ, "tensor arithmetic type " + std::to_string(op[T::tsk_eu_typ]));
  }
}

} // namespace tpuc::runtime
