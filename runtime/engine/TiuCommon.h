//===- TiuCommon.h - operands of TIU descriptors ----------------*- C++ -*-===//
//
// Shapes, stride modes (short_*_str, cv183x-isa.md §2.3) and element access of the four TIU
// operands res0, opd0, opd1, opd2. 16-bit values are two byte planes `b_str` apart (§2.5).
//
//===----------------------------------------------------------------------===//
#pragma once

#include "ExecContext.h"
#include "LocalMemory.h"

#include "tpuc/Arith.h"
#include "tpuc/runtime/Descriptors.h"
#include "tpuc/runtime/Error.h"

#include <cstring>
#include <optional>

namespace tpuc::runtime {

/// Field names of one TIU operand.
struct TiuOperand {
  const char *name;
  TiuField addr, n, c, h, w, nStr, cStr, hStr, wStr, bStr, shortStr, sign, int8;
  std::optional<TiuField> isConst;
};

extern const TiuOperand kRes0, kOpd0, kOpd1, kOpd2;

/// Stride mode values of short_*_str.
enum class StrideMode : uint8_t { Default = 0, ConvWeight = 1, PerChannel = 2, Explicit = 3 };

/// Descriptor plus context with operand helpers.
class TiuOp {
public:
  TiuOp(const TiuFieldValues &f, ExecContext &ctx) : f(f), ctx(ctx) {}

  const TiuFieldValues &f;
  ExecContext &ctx;

  uint64_t operator[](TiuField field) const { return f[field]; }
  bool flag(TiuField field) const { return f[field] != 0; }
  bool bf16() const { return f[TiuField::opd_typ] != 0; }
  unsigned lanes() const { return ctx.chip.lanes; }

  Shape4 shape(const TiuOperand &o) const {
    return {static_cast<uint32_t>(f[o.n]), static_cast<uint32_t>(f[o.c]),
            static_cast<uint32_t>(f[o.h]), static_cast<uint32_t>(f[o.w])};
  }
  StrideMode mode(const TiuOperand &o) const { return static_cast<StrideMode>(f[o.shortStr]); }

  /// Default ("stride type 0") layout of `shape` with element size `es` starting on lane
  /// `startLane` (§2.3, §6): c = align16(h * w * es), n = c * (channel rounds from the start lane;
  /// probed).
  Strides4 defaultStrides(const Shape4 &s, unsigned es, uint32_t startLane = 0) const {
    int64_t cs = (int64_t{s.h} * s.w * es + 15) / 16 * 16;
    return {cs * ((startLane + s.c + lanes() - 1) / lanes()), cs, int64_t{s.w} * es, es};
  }
  Strides4 explicitStrides(const TiuOperand &o) const {
    return {static_cast<int64_t>(f[o.nStr]), static_cast<int64_t>(f[o.cStr]),
            static_cast<int64_t>(f[o.hStr]), static_cast<int64_t>(f[o.wStr])};
  }
  /// Strides for stride mode 0 or 3; other modes must be handled by the caller.
  Strides4 strides(const TiuOperand &o, const Shape4 &s, unsigned es) const {
    switch (mode(o)) {
    case StrideMode::Default:
      return defaultStrides(s, es, address(o) / ctx.chip.lmemPerLane);
    case StrideMode::Explicit:
      return explicitStrides(o);
    default:
      throw Error(ctx.where(TiuDesc::name(o.shortStr)) + ": stride mode " +
                  std::to_string(f[o.shortStr]) + " is not supported for " + o.name +
                  " of this operation");
    }
  }

  /// Local address of an operand. opd1_addr and opd2_addr hold 16 bits; the bits above come from
  /// res0_addr (probed: a conv's weights and per-channel records follow the result's start lane,
  /// rounded down to an even lane).
  uint32_t address(const TiuOperand &o) const {
    uint32_t a = static_cast<uint32_t>(f[o.addr]);
    if (o.addr == TiuField::opd1_addr || o.addr == TiuField::opd2_addr)
      a |= static_cast<uint32_t>(f[TiuField::res0_addr]) & ~0xFFFFu;
    return a;
  }

  /// The operand as a checked local tensor.
  LocalTensor tensor(const TiuOperand &o, const Shape4 &s, const Strides4 &st, unsigned es,
                     unsigned planes = 1, int64_t planeStride = 0) const {
    return LocalTensor(ctx.lmem, address(o), s, st, es, planes, planeStride,
                       ctx.where(TiuDesc::name(o.addr)));
  }
  LocalTensor tensor(const TiuOperand &o, const Shape4 &s, unsigned es, unsigned planes = 1,
                     int64_t planeStride = 0) const {
    return tensor(o, s, strides(o, s, es), es, planes, planeStride);
  }

  /// Distance between the byte (int8) or bf16-half planes of a partial-sum result (ps32_md):
  /// res0_b_str with explicit strides, else res0_n times the default n stride (probed).
  int64_t ps32PlaneStride(const Shape4 &res, unsigned es) const {
    if (mode(kRes0) == StrideMode::Explicit)
      return static_cast<int64_t>(f[TiuField::res0_b_str]);
    return int64_t{res.n} * defaultStrides(res, es, address(kRes0) / ctx.chip.lmemPerLane).n;
  }

  [[noreturn]] void unsupported(TiuField field, const std::string &what) const {
    throw Error(ctx.where(TiuDesc::name(field)) + ": unsupported " + what);
  }
  void require(bool cond, TiuField field, const std::string &what) const {
    if (!cond)
      unsupported(field, what);
  }
};

/// The vendor model's sign rules shared by matmul and tensor arithmetic: a result may be signed,
/// be rectified or use an arithmetic shift only if some source operand is signed.
inline void validateSigns(const TiuOp &op) {
  bool anySigned = op.flag(TiuField::opt_opd0_sign) ||
                   (op[TiuField::tsk_opd_num] >= 2 && op.flag(TiuField::opt_opd1_sign)) ||
                   (op[TiuField::tsk_opd_num] == 3 && op.flag(TiuField::opt_opd2_sign));
  if (anySigned)
    return;
  op.require(!op.flag(TiuField::opt_res0_sign), TiuField::opt_res0_sign,
             "signed result from unsigned operands");
  op.require(!op.flag(TiuField::opt_relu), TiuField::opt_relu, "ReLU on unsigned operands");
  op.require(!op.flag(TiuField::opt_shift_typ), TiuField::opt_shift_typ,
             "arithmetic shift on unsigned operands");
}

//===----------------------------------------------------------------------===//
// Element access
//===----------------------------------------------------------------------===//

inline int32_t load8(const uint8_t *p, bool isSigned) {
  return isSigned ? static_cast<int8_t>(*p) : *p;
}
inline int32_t load16(const uint8_t *p, int64_t planeStride, bool isSigned) {
  uint16_t v = static_cast<uint16_t>(p[0] | p[planeStride] << 8);
  return isSigned ? static_cast<int16_t>(v) : v;
}
inline int32_t load32(const uint8_t *p, int64_t planeStride) {
  uint32_t v = p[0] | p[planeStride] << 8 | p[2 * planeStride] << 16 |
               static_cast<uint32_t>(p[3 * planeStride]) << 24;
  return static_cast<int32_t>(v);
}
inline void store16(uint8_t *p, int64_t planeStride, int32_t v) {
  p[0] = static_cast<uint8_t>(v);
  p[planeStride] = static_cast<uint8_t>(v >> 8);
}
inline void store32(uint8_t *p, int64_t planeStride, int32_t v) {
  for (int i = 0; i < 4; ++i)
    p[i * planeStride] = static_cast<uint8_t>(static_cast<uint32_t>(v) >> (8 * i));
}
inline uint16_t loadBf16(const uint8_t *p) { return static_cast<uint16_t>(p[0] | p[1] << 8); }
inline void storeBf16(uint8_t *p, uint16_t v) {
  p[0] = static_cast<uint8_t>(v);
  p[1] = static_cast<uint8_t>(v >> 8);
}
inline float loadBf16Float(const uint8_t *p) { return arith::bf16ToFloat(loadBf16(p)); }
/// A bf16 operand as the TIU data path reads it (arith::bf16ToFloatTiu).
inline float loadBf16Tiu(const uint8_t *p) { return arith::bf16ToFloatTiu(loadBf16(p)); }

//===----------------------------------------------------------------------===//
// Families (one file each)
//===----------------------------------------------------------------------===//

void executeConv(TiuOp &op);
void executePool(TiuOp &op);
void executeDepthwise(TiuOp &op);
void executeMatMul(TiuOp &op);
void executeTensorArith(TiuOp &op);

// bf16 data paths (TiuBf16Window.cpp).
void convBf16(TiuOp &op);
void depthwiseBf16(TiuOp &op);
void poolBf16(TiuOp &op, PoolKind kind);

} // namespace tpuc::runtime
