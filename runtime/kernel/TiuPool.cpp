//===- TiuPool.cpp - max, average and min pooling (tsk_typ 1) -------------===//
//
// cv183x-isa.md §2.4 "Max pool" / "Average pool", §5.3. The cv183x TIU has no min pooling
// (tsk_eu_typ 3 is rejected by the vendor simulator); minPool maps the values through bitwise NOT,
// which reverses the order of int8 and of uint8 alike, and max-pools them.
//
//===----------------------------------------------------------------------===//
#include "Window.h"

namespace tpuc::kernel {

namespace {

bool is8(DType t) { return t == DType::Int8 || t == DType::Uint8; }

enum class PoolKind : uint8_t { Max = 0, Avg = 1 };

bool checkPool(Context::Impl &m, const char *op, const PoolParams &p, Window &win,
               bool allowInsertion) {
  if (!m.checkLocal(op, "ifmap", p.ifmap) || !m.checkLocal(op, "ofmap", p.ofmap))
    return false;
  if (!is8(p.ifmap.dtype) || !is8(p.ofmap.dtype))
    return m.fail(op, std::string("unsupported types (ifmap ") + dtypeName(p.ifmap.dtype) +
                          ", ofmap " + dtypeName(p.ofmap.dtype) + "); int8/uint8 pooling only");
  win = Window{p.kh,        p.kw,      p.strideH,  p.strideW, 1,      1,          p.padTop,
               p.padBottom, p.padLeft, p.padRight, p.insH,    p.insW, p.insLastH, p.insLastW};
  if (!allowInsertion && (p.insH || p.insW || p.insLastH || p.insLastW))
    return m.fail(op, "max/min pooling does not support zero insertion (only average pooling "
                      "does)");
  if (!win.check(m, op) || !m.checkTiuShape(op, "ifmap", p.ifmap.shape) ||
      !m.checkTiuShape(op, "ofmap", p.ofmap.shape))
    return false;
  if (p.ofmap.shape.n != p.ifmap.shape.n || p.ofmap.shape.c != p.ifmap.shape.c)
    return m.fail(op, "ofmap " + shapeStr(p.ofmap.shape) +
                          " must keep the batch and channels of ifmap " + shapeStr(p.ifmap.shape));
  if (!win.checkOutput(m, op, p.ifmap.shape, p.ofmap.shape))
    return false;
  return m.checkDefaultLayout(op, "ifmap", p.ifmap) && m.checkDefaultLayout(op, "ofmap", p.ofmap) &&
         m.checkAligned16(op, "ifmap", p.ifmap) && m.checkAligned16(op, "ofmap", p.ofmap);
}

void emitPool(Context::Impl &m, const char *op, PoolKind kind, const PoolParams &p,
              const Window &win) {
  TiuBuilder b(m, op);
  b.set(TiuField::tsk_typ, 1).set(TiuField::tsk_eu_typ, static_cast<uint64_t>(kind));
  b.set(TiuField::opt_relu, 0).set(TiuField::opt_shift_typ, isSigned(p.ifmap.dtype) ? 1 : 0);
  b.operand(kRes0, p.ofmap, StrideMode::Default).operand(kOpd0, p.ifmap, StrideMode::Default);
  win.setFields(b);
  if (kind == PoolKind::Max) {
    b.set(TiuField::tsk_opd_num, 1).set(TiuField::opt_right_shift, 0);
    b.set(TiuField::opd0_ins_val, isSigned(p.ifmap.dtype) ? 0x80 : 0);
  } else {
    b.set(TiuField::tsk_opd_num, 2).set(TiuField::opt_right_shift, p.rshift);
    b.set(TiuField::opt_opd1_const, 1).set(TiuField::opd1_addr, p.avgMultiplier);
    b.set(TiuField::opt_opd1_sign, 0);
    b.set(TiuField::opd0_ins_val, static_cast<uint8_t>(p.padValue));
  }
  b.emit({m.footprint(p.ifmap)}, {m.footprint(p.ofmap)});
}

} // namespace

void Context::maxPool(const PoolParams &p) {
  Window win{};
  if (checkPool(*impl, "maxPool", p, win, false))
    emitPool(*impl, "maxPool", PoolKind::Max, p, win);
}

void Context::avgPool(const PoolParams &p) {
  const char *op = "avgPool";
  Window win{};
  if (!checkPool(*impl, op, p, win, true))
    return;
  if (p.avgMultiplier > 255 || p.rshift > 31) {
    impl->fail(op, "multiplier " + std::to_string(p.avgMultiplier) + " (0..255) or rshift " +
                       std::to_string(p.rshift) + " (0..31) out of range");
    return;
  }
  if (p.padValue < -128 || p.padValue > 255) {
    impl->fail(op, "pad value " + std::to_string(p.padValue) + " is not an 8-bit value");
    return;
  }
  emitPool(*impl, op, PoolKind::Avg, p, win);
}

void Context::minPool(const PoolParams &p) {
  const char *op = "minPool";
  Window win{};
  if (!checkPool(*impl, op, p, win, false))
    return;
  if (p.ifmap.dtype != p.ofmap.dtype) {
    impl->fail(op, "ifmap and ofmap must have the same type");
    return;
  }
  if (impl->footprint(p.ifmap).overlaps(impl->footprint(p.ofmap))) {
    impl->fail(op, "ifmap and ofmap must not overlap");
    return;
  }
  // ~x reverses the order of both int8 and uint8, and max pooling pads with the smallest value,
  // which ~ maps back to the largest: min(x) = ~max(~x).
  LocalTensor in = p.ifmap, out = p.ofmap;
  in.dtype = out.dtype = DType::Uint8;
  bitXor(in, in, Operand::scalar(0xFF));
  emitPool(*impl, op, PoolKind::Max, p, win);
  bitXor(out, out, Operand::scalar(0xFF));
  bitXor(in, in, Operand::scalar(0xFF));
}

} // namespace tpuc::kernel
