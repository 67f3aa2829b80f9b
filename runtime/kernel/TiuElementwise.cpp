//===- TiuElementwise.cpp - TIU tensor arithmetic (tsk_typ 3) -------------===//
//
// Fill rules of cv183x-isa.md §2.4 "Element-wise ops": all operands share the shape, every operand
// uses explicit strides (short_*_str = 3), opd2 carries the result shape. bf16 variants set
// opd_typ = 1 with every sign flag set.
//
//===----------------------------------------------------------------------===//
#include "Impl.h"

namespace tpuc::kernel {

namespace {

enum Eu : uint8_t {
  kMul = 0,
  kMac = 1,
  kAdd = 2,
  kSub = 3,
  kMax = 4,
  kMin = 5,
  kShift = 6,
  kAnd = 7,
  kOr = 8,
  kXor = 9,
  kCopy = 10,
};

bool is8(DType t) { return t == DType::Int8 || t == DType::Uint8; }

/// Shared checks and descriptor set-up of an element-wise operation.
class Eltwise {
public:
  Eltwise(Context::Impl &impl, const char *op) : impl(impl), op(op), b(impl, op) {}

  /// Checks res, a (and b when it is a tensor): valid, in memory, same shape, TIU limits.
  bool check(const LocalTensor &res, const LocalTensor &a, const Operand *bo) {
    if (!impl.checkLocal(op, "result", res) || !impl.checkLocal(op, "operand a", a))
      return false;
    if (!impl.checkTiuShape(op, "result", res.shape) ||
        !impl.checkSameShape(op, "operand a", a, res.shape))
      return false;
    if (bo && !bo->isConst) {
      if (!impl.checkLocal(op, "operand b", bo->tensor) ||
          !impl.checkSameShape(op, "operand b", bo->tensor, res.shape) ||
          !impl.checkShortAddr(op, "operand b", bo->tensor, res))
        return false;
    }
    return true;
  }

  bool fail(const std::string &msg) { return impl.fail(op, msg); }

  /// Descriptor of the common part: task, result, opd0, opd2 shape.
  void start(Eu eu, unsigned opdNum, const LocalTensor &res, const LocalTensor &a, bool bf16) {
    b.set(TiuField::tsk_typ, 3).set(TiuField::tsk_eu_typ, eu).set(TiuField::tsk_opd_num, opdNum);
    b.operand(kRes0, res, StrideMode::Explicit);
    b.operand(kOpd0, a, StrideMode::Explicit);
    b.shape(kOpd2, res.shape).set(TiuField::short_opd2_str, 3);
    b.set(TiuField::opt_relu, 0).set(TiuField::opt_right_shift, 0);
    if (bf16)
      b.set(TiuField::opd_typ, 1);
    reads = {impl.footprint(a)};
    writes = impl.footprint(res);
  }

  /// Operand b: a tensor or a constant of `bits` (8 or 16) held in opd1_addr.
  void operandB(const Operand &bo, const LocalTensor &res, bool signedConst, unsigned bits) {
    if (bo.isConst) {
      b.shape(kOpd1, res.shape).set(TiuField::short_opd1_str, 3);
      b.set(TiuField::opt_opd1_const, 1);
      uint64_t mask = bits == 16 ? 0xFFFF : 0xFF;
      b.set(TiuField::opd1_addr, bo.isBf16Const ? bo.bf16 : static_cast<uint64_t>(bo.value) & mask);
      b.set(TiuField::opt_opd1_sign, signedConst ? 1 : 0);
      return;
    }
    b.operand(kOpd1, bo.tensor, StrideMode::Explicit);
    reads.push_back(impl.footprint(bo.tensor));
  }

  void emit() {
    if (reads.size() == 1)
      b.emit({reads[0]}, {writes});
    else
      b.emit({reads[0], reads[1]}, {writes});
  }

  /// A constant operand must fit the range of `t` (int8 / uint8 / int16).
  bool checkConst(const Operand &bo, DType t, bool bf16) {
    if (!bo.isConst)
      return true;
    if (bf16 != bo.isBf16Const)
      return fail(bf16 ? "a bf16 operation needs a bf16 constant (Operand::scalarBf16)"
                       : "an integer operation needs an integer constant (Operand::scalar)");
    if (bf16)
      return true;
    int64_t lo = t == DType::Uint8 ? 0 : (t == DType::Int16 ? -32768 : -128);
    int64_t hi = t == DType::Uint8 ? 255 : (t == DType::Int16 ? 32767 : 127);
    if (bo.value < lo || bo.value > hi)
      return fail("constant " + std::to_string(bo.value) + " does not fit " + dtypeName(t));
    return true;
  }

  Context::Impl &impl;
  const char *op;
  TiuBuilder b;
  std::vector<Footprint> reads;
  Footprint writes;
};

DType typeOfB(const Operand &bo, DType a) { return bo.isConst ? a : bo.tensor.dtype; }

bool allBf16(const LocalTensor &res, const LocalTensor &a, const Operand *bo) {
  return res.dtype == DType::Bf16 && a.dtype == DType::Bf16 &&
         (!bo || bo->isConst || bo->tensor.dtype == DType::Bf16);
}

bool anyBf16(const LocalTensor &res, const LocalTensor &a, const Operand *bo) {
  return res.dtype == DType::Bf16 || a.dtype == DType::Bf16 ||
         (bo && !bo->isConst && bo->tensor.dtype == DType::Bf16);
}

std::string types(const LocalTensor &res, const LocalTensor &a, const Operand *bo) {
  std::string s = std::string("result ") + dtypeName(res.dtype) + ", a " + dtypeName(a.dtype);
  if (bo)
    s += std::string(", b ") + (bo->isConst ? "constant" : dtypeName(bo->tensor.dtype));
  return s;
}

/// The TIU produces a signed result exactly when an operand is signed (the vendor simulator
/// rejects any other res0_sign).
bool checkResultSign(Eltwise &e, const LocalTensor &res, const LocalTensor &a, const Operand &bo) {
  bool operandSigned = isSigned(a.dtype) || (!bo.isConst && isSigned(bo.tensor.dtype));
  if (isSigned(res.dtype) != operandSigned)
    return e.fail(std::string("the result must be ") + (operandSigned ? "signed" : "unsigned") +
                  " because " +
                  (operandSigned ? "an operand is signed" : "both operands are unsigned") + " (" +
                  types(res, a, &bo) + ")");
  return true;
}

/// ReLU needs a signed 8-bit result (the vendor simulator rejects it otherwise).
bool checkRelu(Eltwise &e, bool relu, const LocalTensor &res, bool int8Result = false) {
  if (relu && res.dtype != DType::Bf16 && !(res.dtype == DType::Int8 || int8Result))
    return e.fail(std::string("ReLU needs a signed 8-bit result, not ") + dtypeName(res.dtype));
  return true;
}

bool checkShift(Eltwise &e, const char *what, uint32_t v, uint32_t limit) {
  if (v >= limit)
    return e.fail(std::string(what) + " " + std::to_string(v) + " is out of range (0.." +
                  std::to_string(limit - 1) + ")");
  return true;
}

/// mul and mul_qm share everything but the quantisation fields.
void mulCommon(Context::Impl &impl, const char *op, const LocalTensor &res, const LocalTensor &a,
               const Operand &bo, uint32_t rshift, bool relu, const int32_t *multiplier) {
  Eltwise e(impl, op);
  if (!e.check(res, a, &bo))
    return;
  bool bf16 = anyBf16(res, a, &bo);
  if (bf16) {
    if (!allBf16(res, a, &bo) || multiplier)
      return (void)e.fail("unsupported types (" + types(res, a, &bo) +
                          "); bf16 mul needs bf16 everywhere and has no multiplier");
    if (rshift)
      return (void)e.fail("bf16 mul has no right shift");
  } else {
    bool resOk = is8(res.dtype) || (res.dtype == DType::Int16 && !multiplier);
    if (!is8(a.dtype) || !is8(typeOfB(bo, a.dtype)) || !resOk)
      return (void)e.fail("unsupported types (" + types(res, a, &bo) +
                          "); operands are 8-bit, the result 8-bit" +
                          (multiplier ? "" : " or int16"));
  }
  if (!e.checkConst(bo, a.dtype, bf16) || !checkShift(e, "rshift", rshift, 32) ||
      (!bf16 && !checkResultSign(e, res, a, bo)) || !checkRelu(e, relu, res))
    return;
  e.start(kMul, 2, res, a, bf16);
  e.operandB(bo, res, bf16 || isSigned(a.dtype), 8);
  e.b.set(TiuField::opt_shift_typ, isSigned(res.dtype) ? 1 : 0);
  e.b.set(TiuField::opt_right_shift, rshift).set(TiuField::opt_relu, relu ? 1 : 0);
  if (multiplier)
    e.b.set(TiuField::opt_chl_quan, 1).set(TiuField::quan_m, static_cast<uint32_t>(*multiplier));
  e.emit();
}

/// max / min: 8-bit operands of one signedness, or bf16.
void maxMin(Context::Impl &impl, const char *op, Eu eu, const LocalTensor &res,
            const LocalTensor &a, const Operand &bo) {
  Eltwise e(impl, op);
  if (!e.check(res, a, &bo))
    return;
  bool bf16 = anyBf16(res, a, &bo);
  if (bf16 ? !allBf16(res, a, &bo)
           : !(is8(res.dtype) && res.dtype == a.dtype && typeOfB(bo, a.dtype) == a.dtype))
    return (void)e.fail("unsupported types (" + types(res, a, &bo) +
                        "); needs one 8-bit type or bf16 everywhere");
  if (!e.checkConst(bo, a.dtype, bf16))
    return;
  e.start(eu, 2, res, a, bf16);
  e.operandB(bo, res, bf16 || isSigned(a.dtype), 8);
  e.b.set(TiuField::opt_shift_typ, isSigned(a.dtype) ? 1 : 0);
  e.emit();
}

/// and / or / xor: 8-bit (b may be constant) or int16 tensors; every sign flag 0.
void bitwise(Context::Impl &impl, const char *op, Eu eu, const LocalTensor &res,
             const LocalTensor &a, const Operand &bo) {
  Eltwise e(impl, op);
  if (!e.check(res, a, &bo))
    return;
  bool wide = res.dtype == DType::Int16;
  DType bt = typeOfB(bo, a.dtype);
  bool ok = wide ? (a.dtype == DType::Int16 && !bo.isConst && bt == DType::Int16)
                 : (is8(res.dtype) && is8(a.dtype) && is8(bt));
  if (!ok)
    return (void)e.fail("unsupported types (" + types(res, a, &bo) +
                        "); needs 8-bit operands (b may be a constant) or int16 tensors");
  if (bo.isConst && (bo.isBf16Const || bo.value < -128 || bo.value > 255))
    return (void)e.fail("constant " + std::to_string(bo.value) + " is not an 8-bit value");
  e.start(eu, 2, res, a, false);
  e.operandB(bo, res, false, 8);
  e.b.set(TiuField::opt_shift_typ, 0);
  e.b.set(TiuField::opt_res0_sign, 0).set(TiuField::opt_opd0_sign, 0);
  e.b.set(TiuField::opt_opd1_sign, 0);
  e.emit();
}

} // namespace

void Context::mul(const LocalTensor &res, const LocalTensor &a, const Operand &b, uint32_t rshift,
                  bool relu) {
  mulCommon(*impl, "mul", res, a, b, rshift, relu, nullptr);
}

void Context::mulQm(const LocalTensor &res, const LocalTensor &a, const Operand &b,
                    int32_t multiplier, uint32_t rshift, bool relu) {
  mulCommon(*impl, "mulQm", res, a, b, rshift, relu, &multiplier);
}

void Context::mac(const LocalTensor &acc, const LocalTensor &a, const Operand &bo, uint32_t lshift,
                  uint32_t rshift, bool relu, bool int8Result) {
  Eltwise e(*impl, "mac");
  if (!e.check(acc, a, &bo))
    return;
  bool bf16 = anyBf16(acc, a, &bo);
  if (bf16) {
    if (!allBf16(acc, a, &bo))
      return (void)e.fail("unsupported types (" + types(acc, a, &bo) +
                          "); bf16 mac needs bf16 everywhere");
    if (lshift || rshift || int8Result)
      return (void)e.fail("bf16 mac has no shifts and no 8-bit result");
  } else if (acc.dtype != DType::Int16 || !is8(a.dtype) || !is8(typeOfB(bo, a.dtype))) {
    return (void)e.fail("unsupported types (" + types(acc, a, &bo) +
                        "); the accumulator is int16, the operands 8-bit");
  }
  if (!e.checkConst(bo, a.dtype, bf16) || !checkShift(e, "lshift", lshift, 32) ||
      !checkShift(e, "rshift", rshift, 16) || (!bf16 && !checkResultSign(e, acc, a, bo)) ||
      !checkRelu(e, relu, acc, int8Result))
    return;
  e.start(kMac, 2, acc, a, bf16);
  e.operandB(bo, acc, bf16 || isSigned(a.dtype), 8);
  e.b.set(TiuField::opt_res_add, 1).set(TiuField::opt_shift_typ, 1);
  e.b.set(TiuField::opt_left_shift, lshift).set(TiuField::opt_right_shift, rshift);
  e.b.set(TiuField::opt_relu, relu ? 1 : 0);
  if (int8Result)
    e.b.set(TiuField::opt_res0_int8, 1);
  // The accumulator is read as well as written.
  e.reads.push_back(e.writes);
  if (e.reads.size() == 3) {
    e.b.emit({e.reads[0], e.reads[1], e.reads[2]}, {e.writes});
    return;
  }
  e.emit();
}

void Context::add(const LocalTensor &res, const LocalTensor &a, const Operand &bo, uint32_t rshift,
                  bool relu) {
  Eltwise e(*impl, "add");
  if (!e.check(res, a, &bo))
    return;
  bool bf16 = anyBf16(res, a, &bo);
  if (bf16) {
    if (!allBf16(res, a, &bo))
      return (void)e.fail("unsupported types (" + types(res, a, &bo) +
                          "); bf16 add needs bf16 everywhere");
    if (rshift)
      return (void)e.fail("bf16 add has no right shift");
  } else if (a.dtype != DType::Int16 || typeOfB(bo, a.dtype) != DType::Int16 ||
             !(res.dtype == DType::Int8 || res.dtype == DType::Int16)) {
    return (void)e.fail("unsupported types (" + types(res, a, &bo) +
                        "); integer add takes int16 operands (b may be a 16-bit constant) and "
                        "gives a signed int8 or int16 result");
  }
  if (!e.checkConst(bo, a.dtype, bf16) || !checkShift(e, "rshift", rshift, 32) ||
      !checkRelu(e, relu, res))
    return;
  e.start(kAdd, 2, res, a, bf16);
  e.operandB(bo, res, true, 16);
  if (bo.isConst && !bf16)
    e.b.set(TiuField::opt_opd1_int8, 0);
  e.b.set(TiuField::opt_shift_typ, 1);
  e.b.set(TiuField::opt_right_shift, rshift).set(TiuField::opt_relu, relu ? 1 : 0);
  e.emit();
}

void Context::sub(const LocalTensor &res, const LocalTensor &a, const LocalTensor &bt,
                  uint32_t rshift, bool relu) {
  Eltwise e(*impl, "sub");
  Operand bo(bt);
  if (!e.check(res, a, &bo))
    return;
  bool bf16 = anyBf16(res, a, &bo);
  if (bf16) {
    if (!allBf16(res, a, &bo))
      return (void)e.fail("unsupported types (" + types(res, a, &bo) +
                          "); bf16 sub needs bf16 everywhere");
    if (rshift)
      return (void)e.fail("bf16 sub has no right shift");
  } else if (a.dtype != DType::Int16 || bt.dtype != DType::Int16 ||
             !(res.dtype == DType::Int8 || res.dtype == DType::Int16)) {
    return (void)e.fail("unsupported types (" + types(res, a, &bo) +
                        "); integer sub takes int16 operands and gives a signed int8 or int16 "
                        "result");
  }
  if (!checkShift(e, "rshift", rshift, 32) || !checkRelu(e, relu, res))
    return;
  e.start(kSub, 2, res, a, bf16);
  e.operandB(bo, res, true, 16);
  e.b.set(TiuField::opt_shift_typ, 1).set(TiuField::opt_res0_sign, 1);
  e.b.set(TiuField::opt_right_shift, rshift).set(TiuField::opt_relu, relu ? 1 : 0);
  e.emit();
}

void Context::max(const LocalTensor &res, const LocalTensor &a, const Operand &b) {
  maxMin(*impl, "max", kMax, res, a, b);
}
void Context::min(const LocalTensor &res, const LocalTensor &a, const Operand &b) {
  maxMin(*impl, "min", kMin, res, a, b);
}
void Context::bitAnd(const LocalTensor &res, const LocalTensor &a, const Operand &b) {
  bitwise(*impl, "bitAnd", kAnd, res, a, b);
}
void Context::bitOr(const LocalTensor &res, const LocalTensor &a, const Operand &b) {
  bitwise(*impl, "bitOr", kOr, res, a, b);
}
void Context::bitXor(const LocalTensor &res, const LocalTensor &a, const Operand &b) {
  bitwise(*impl, "bitXor", kXor, res, a, b);
}

void Context::arithShift(const LocalTensor &res, const LocalTensor &a, const LocalTensor &bits) {
  Eltwise e(*impl, "arithShift");
  Operand bo(bits);
  if (!e.check(res, a, &bo))
    return;
  if (res.dtype != DType::Int16 || a.dtype != DType::Int16 || bits.dtype != DType::Int8)
    return (void)e.fail("unsupported types (" + types(res, a, &bo) +
                        "); needs an int16 result and value and int8 shift amounts");
  e.start(kShift, 2, res, a, false);
  e.operandB(bo, res, true, 8);
  e.b.set(TiuField::opt_shift_typ, 1).set(TiuField::opt_rshift_typ, 0);
  e.emit();
}

void Context::copyTiu(const LocalTensor &res, const LocalTensor &a) {
  Eltwise e(*impl, "copyTiu");
  if (!e.check(res, a, nullptr))
    return;
  bool bf16 = res.dtype == DType::Bf16;
  if (res.dtype == DType::Int16 || (bf16 != (a.dtype == DType::Bf16)))
    return (void)e.fail("unsupported types (" + types(res, a, nullptr) +
                        "); copies 8-bit or bf16 tensors");
  e.start(kCopy, 1, res, a, bf16);
  e.b.set(TiuField::opt_shift_typ, 0);
  if (!bf16)
    e.b.set(TiuField::opt_res0_sign, 0).set(TiuField::opt_opd0_sign, 0);
  e.emit();
}

void Context::ge(const LocalTensor &res, const LocalTensor &a, const Operand &bo) {
  const char *op = "ge";
  Eltwise e(*impl, op);
  if (!e.check(res, a, &bo))
    return;
  DType bt = typeOfB(bo, a.dtype);
  if (!is8(a.dtype) || bt != a.dtype || !is8(res.dtype))
    return (void)e.fail("unsupported types (" + types(res, a, &bo) +
                        "); needs 8-bit operands of one type and an 8-bit result");
  if (!e.checkConst(bo, a.dtype, false))
    return;
  Footprint fr = impl->footprint(res);
  if (fr.overlaps(impl->footprint(a)) || (!bo.isConst && fr.overlaps(impl->footprint(bo.tensor))))
    return (void)e.fail("the result must not overlap the operands (it holds intermediates)");
  // max(a, b) equals a exactly when a >= b: res = min(max(a, b) ^ a, 1) ^ 1.
  LocalTensor r = res;
  r.dtype = a.dtype;
  LocalTensor ru = res;
  ru.dtype = DType::Uint8;
  maxMin(*impl, op, kMax, r, a, bo);
  bitwise(*impl, op, kXor, ru, ru, Operand(a));
  maxMin(*impl, op, kMin, ru, ru, Operand::scalar(1));
  bitwise(*impl, op, kXor, ru, ru, Operand::scalar(1));
}

void Context::lookup(const LocalTensor &res, const LocalTensor &a, const LocalTensor &table) {
  const char *op = "lookup";
  Eltwise e(*impl, op);
  if (!e.check(res, a, nullptr) || !impl->checkLocal(op, "table", table))
    return;
  if (!is8(res.dtype) || !is8(a.dtype) || !is8(table.dtype))
    return (void)e.fail("unsupported types (" + types(res, a, nullptr) + ", table " +
                        dtypeName(table.dtype) + "); the 8-bit lookup needs 8-bit tensors");
  if (!(table.shape == Shape{1, impl->lanes, 16, 16}))
    return (void)e.fail("table shape " + shapeStr(table.shape) + " must be " +
                        shapeStr({1, impl->lanes, 16, 16}));
  for (auto [role, t] : {std::pair<const char *, const LocalTensor *>{"result", &res},
                         {"operand a", &a},
                         {"table", &table}})
    if (!impl->checkAligned16(op, role, *t) || !impl->checkDefaultLayout(op, role, *t))
      return;
  if (!impl->checkShortAddr(op, "table", table, res))
    return;
  e.b.set(TiuField::tsk_typ, 3).set(TiuField::tsk_eu_typ, 0).set(TiuField::tsk_opd_num, 2);
  e.b.set(TiuField::tens_lookup, 1).set(TiuField::opt_shift_typ, 0);
  e.b.set(TiuField::opt_relu, 0).set(TiuField::opt_right_shift, 0);
  e.b.operand(kRes0, res, StrideMode::Default).operand(kOpd0, a, StrideMode::Default);
  e.b.operand(kOpd1, table, StrideMode::Default);
  for (TiuField f : {TiuField::opt_res0_sign, TiuField::opt_opd0_sign, TiuField::opt_opd1_sign,
                     TiuField::opt_opd2_sign})
    e.b.set(f, 0);
  e.b.emit({impl->footprint(a), impl->footprint(table)}, {impl->footprint(res)});
}

} // namespace tpuc::kernel
