//===- TiuPool.cpp - max, average and min pooling (tsk_typ 1) -------------===//
//
// cv183x-isa.md §2.4 "Max pool" / "Average pool", §5.3. The cv183x TIU has no min pooling
// (tsk_eu_typ 3 is rejected by the vendor simulator); minPool maps the values through an
// order-reversing map (bitwise NOT for int8 and uint8, negation for bf16) and max-pools them.
//
//===----------------------------------------------------------------------===//
#include "Window.h"

#include "tpuc/Arith.h"

namespace tpuc::kernel {

namespace {

bool is8(DType t) { return t == DType::Int8 || t == DType::Uint8; }

enum class PoolKind : uint8_t { Max = 0, Avg = 1 };

/// The most negative finite bf16: the padding of bf16 max pooling (the TIU reads infinities as
/// NaN).
constexpr uint16_t kBf16Lowest = 0xFF7F;

bool checkPool(Context::Impl &m, const char *op, const PoolParams &p, Window &win,
               bool allowInsertion) {
  if (!m.checkLocal(op, "ifmap", p.ifmap) || !m.checkLocal(op, "ofmap", p.ofmap))
    return false;
  bool bf16 = p.ifmap.dtype == DType::Bf16;
  if (bf16 ? p.ofmap.dtype != DType::Bf16 : !is8(p.ifmap.dtype) || !is8(p.ofmap.dtype))
    return m.fail(op, std::string("unsupported types (ifmap ") + dtypeName(p.ifmap.dtype) +
                          ", ofmap " + dtypeName(p.ofmap.dtype) + "); 8-bit or bf16 pooling");
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
  bool bf16 = p.ifmap.dtype == DType::Bf16;
  TiuBuilder b(m, op);
  b.set(TiuField::tsk_typ, 1).set(TiuField::tsk_eu_typ, static_cast<uint64_t>(kind));
  b.set(TiuField::opt_relu, 0).set(TiuField::opt_shift_typ, isSigned(p.ifmap.dtype) ? 1 : 0);
  if (bf16)
    b.set(TiuField::opd_typ, 1);
  b.operand(kRes0, p.ofmap, StrideMode::Default).operand(kOpd0, p.ifmap, StrideMode::Default);
  win.setFields(b);
  if (kind == PoolKind::Max) {
    b.set(TiuField::tsk_opd_num, 1).set(TiuField::opt_right_shift, 0);
    if (bf16)
      b.set(TiuField::opd0_ins_fp, kBf16Lowest);
    else
      b.set(TiuField::opd0_ins_val, isSigned(p.ifmap.dtype) ? 0x80 : 0);
  } else {
    b.set(TiuField::tsk_opd_num, 2).set(TiuField::opt_right_shift, bf16 ? 0 : p.rshift);
    b.set(TiuField::opt_opd1_const, 1).set(TiuField::opt_opd1_sign, 0);
    if (bf16) {
      float scale = p.avgScale != 0.0f ? p.avgScale : 1.0f / static_cast<float>(p.kh * p.kw);
      b.set(TiuField::opd1_addr, arith::floatToBf16(scale));
    } else {
      b.set(TiuField::opd1_addr, p.avgMultiplier);
      b.set(TiuField::opd0_ins_val, static_cast<uint8_t>(p.padValue));
    }
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
  bool bf16 = p.ifmap.dtype == DType::Bf16;
  if (bf16 && (p.rshift || p.padValue)) {
    impl->fail(op, "bf16 average pooling takes avgScale, no rshift, and pads with 0");
    return;
  }
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
  LocalTensor in = p.ifmap, out = p.ofmap;
  if (p.ifmap.dtype == DType::Bf16) {
    // Negation is exact in bf16 and reverses the order; the lowest-value padding maps back to
    // the largest finite value.
    mul(in, in, Operand::scalarBf16(-1.0f));
    emitPool(*impl, op, PoolKind::Max, p, win);
    mul(out, out, Operand::scalarBf16(-1.0f));
    mul(in, in, Operand::scalarBf16(-1.0f));
    return;
  }
  // ~x reverses the order of both int8 and uint8, and max pooling pads with the smallest value,
  // which ~ maps back to the largest: min(x) = ~max(~x).
  in.dtype = out.dtype = DType::Uint8;
  bitXor(in, in, Operand::scalar(0xFF));
  emitPool(*impl, op, PoolKind::Max, p, win);
  bitXor(out, out, Operand::scalar(0xFF));
  bitXor(in, in, Operand::scalar(0xFF));
}

} // namespace tpuc::kernel
