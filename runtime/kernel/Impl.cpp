//===- Impl.cpp - shared checks and descriptor builders -------------------===//
#include "Impl.h"

#include <algorithm>

namespace tpuc::kernel {

const TiuOperandFields kRes0{
    TiuField::res0_addr,    TiuField::res0_n,     TiuField::res0_c,         TiuField::res0_h,
    TiuField::res0_w,       TiuField::res0_n_str, TiuField::res0_c_str,     TiuField::res0_h_str,
    TiuField::res0_w_str,   TiuField::res0_b_str, TiuField::short_res0_str, TiuField::opt_res0_sign,
    TiuField::opt_res0_int8};
const TiuOperandFields kOpd0{
    TiuField::opd0_addr,    TiuField::opd0_n,     TiuField::opd0_c,         TiuField::opd0_h,
    TiuField::opd0_w,       TiuField::opd0_n_str, TiuField::opd0_c_str,     TiuField::opd0_h_str,
    TiuField::opd0_w_str,   TiuField::opd0_b_str, TiuField::short_opd0_str, TiuField::opt_opd0_sign,
    TiuField::opt_opd0_int8};
const TiuOperandFields kOpd1{
    TiuField::opd1_addr,    TiuField::opd1_n,     TiuField::opd1_c,         TiuField::opd1_h,
    TiuField::opd1_w,       TiuField::opd1_n_str, TiuField::opd1_c_str,     TiuField::opd1_h_str,
    TiuField::opd1_w_str,   TiuField::opd1_b_str, TiuField::short_opd1_str, TiuField::opt_opd1_sign,
    TiuField::opt_opd1_int8};
const TiuOperandFields kOpd2{
    TiuField::opd2_addr,    TiuField::opd2_n,     TiuField::opd2_c,         TiuField::opd2_h,
    TiuField::opd2_w,       TiuField::opd2_n_str, TiuField::opd2_c_str,     TiuField::opd2_h_str,
    TiuField::opd2_w_str,   TiuField::opd2_b_str, TiuField::short_opd2_str, TiuField::opt_opd2_sign,
    TiuField::opt_opd2_int8};

std::string shapeStr(const Shape &s) {
  std::string out = "(";
  for (uint32_t v : {s.n, s.c, s.h, s.w}) {
    if (out.size() > 1)
      out += ", ";
    out += std::to_string(v);
  }
  out += ")";
  return out;
}

const char *dtypeName(DType t) {
  switch (t) {
  case DType::Int8:
    return "int8";
  case DType::Uint8:
    return "uint8";
  case DType::Bf16:
    return "bf16";
  case DType::Int16:
    return "int16";
  }
  return "?";
}

Context::Impl::Impl(const runtime::ChipInfo &chip, SyncMode sync)
    : chip(chip), lanes(chip.lanes), laneBytes(chip.lmemPerLane),
      bankBytes(chip.lmemBanks ? chip.lmemPerLane / chip.lmemBanks : chip.lmemPerLane), sync(sync),
      alloc(chip.lmemPerLane, chip.lmemBanks ? chip.lmemPerLane / chip.lmemBanks : 1) {
  if (chip.lanes == 0 || chip.lanes > 64 || chip.lmemPerLane == 0 || chip.eusPerLane == 0)
    fail("context", "chip " + std::string(chip.name) +
                        " has no documented local-memory geometry; only cv183x is supported");
}

bool Context::Impl::fail(const char *op, const std::string &msg) {
  if (err.empty())
    err = std::string(op) + ": " + msg;
  return false;
}

Strides Context::Impl::defaultStrides(const Shape &s, DType dt, bool euAlign, unsigned lane) const {
  uint32_t es = localElemBytes(dt);
  uint64_t cs = uint64_t{s.h} * s.w * es;
  if (euAlign)
    cs = alignUp(cs, chip.eusPerLane);
  uint64_t ns = cs * ceilDiv(uint64_t{lane} + s.c, lanes);
  return {static_cast<uint32_t>(std::min<uint64_t>(ns, 0xFFFFFFFFu)),
          static_cast<uint32_t>(std::min<uint64_t>(cs, 0xFFFFFFFFu)), s.w * es, es};
}

uint64_t Context::Impl::laneExtent(const LocalTensor &t) const {
  const Shape &s = t.shape;
  if (s.count() == 0)
    return 0;
  uint64_t rounds = ceilDiv(uint64_t{startLane(t)} + s.c, lanes);
  uint64_t ext = (rounds - 1) * t.stride.c + uint64_t{s.n - 1} * t.stride.n +
                 uint64_t{s.h - 1} * t.stride.h + uint64_t{s.w - 1} * t.stride.w +
                 localElemBytes(t.dtype);
  if (t.dtype == DType::Int16)
    ext += t.planeStride;
  return ext;
}

Footprint Context::Impl::footprint(const LocalTensor &t) const {
  Footprint f;
  unsigned l0 = startLane(t);
  uint64_t used = std::min<uint64_t>(t.shape.c, lanes);
  for (uint64_t c = 0; c < used; ++c)
    f.lanes |= uint64_t{1} << ((l0 + c) % lanes);
  f.lo = offset(t);
  f.hi = static_cast<uint32_t>(std::min<uint64_t>(f.lo + laneExtent(t), 0xFFFFFFFFu));
  return f;
}

bool Context::Impl::checkLocal(const char *op, const char *role, const LocalTensor &t) {
  if (!ok())
    return false;
  if (!t.valid())
    return fail(op, std::string(role) + " is not a valid local tensor");
  const Shape &s = t.shape;
  if (s.n == 0 || s.c == 0 || s.h == 0 || s.w == 0)
    return fail(op, std::string(role) + " has an empty shape " + shapeStr(s));
  if (t.addr >= uint64_t{lanes} * laneBytes)
    return fail(op, std::string(role) + " address " + std::to_string(t.addr) +
                        " is outside local memory (" + std::to_string(lanes) + " lanes x " +
                        std::to_string(laneBytes) + " bytes)");
  if (t.dtype == DType::Int16 && t.planeStride == 0)
    return fail(op, std::string(role) + " is int16 without a plane distance");
  uint64_t end = offset(t) + laneExtent(t);
  if (end > laneBytes)
    return fail(op, std::string(role) + " " + shapeStr(s) + " at lane " +
                        std::to_string(startLane(t)) + " offset " + std::to_string(offset(t)) +
                        " ends at per-lane byte " + std::to_string(end) +
                        ", beyond the local memory of " + std::to_string(laneBytes) +
                        " bytes per lane");
  return true;
}

bool Context::Impl::checkTiuShape(const char *op, const char *role, const Shape &s) {
  if (s.n > kTiuMaxNC || s.c > kTiuMaxNC || s.h > kTiuMaxHW || s.w > kTiuMaxHW)
    return fail(op, std::string(role) + " shape " + shapeStr(s) +
                        " is out of range for the TIU (n, c <= 4095; h, w <= 4063)");
  return true;
}

bool Context::Impl::checkSameShape(const char *op, const char *role, const LocalTensor &t,
                                   const Shape &s) {
  if (!(t.shape == s))
    return fail(op,
                std::string(role) + " shape " + shapeStr(t.shape) + " differs from " + shapeStr(s));
  return true;
}

bool Context::Impl::checkAligned16(const char *op, const char *role, const LocalTensor &t) {
  if (offset(t) % chip.eusPerLane != 0)
    return fail(op, std::string(role) + " must start at a multiple of " +
                        std::to_string(chip.eusPerLane) + " bytes (per-lane offset " +
                        std::to_string(offset(t)) + ")");
  return true;
}

bool Context::Impl::checkDefaultLayout(const char *op, const char *role, const LocalTensor &t) {
  Strides want = defaultStrides(t.shape, t.dtype, true, startLane(t));
  if (t.shape.n == 1) // the n stride of a single batch is never used
    want.n = t.stride.n;
  if (!(t.stride == want))
    return fail(op, std::string(role) + " must have the default EU-aligned layout (strides n=" +
                        std::to_string(want.n) + " c=" + std::to_string(want.c) +
                        " h=" + std::to_string(want.h) + " w=" + std::to_string(want.w) +
                        "), got n=" + std::to_string(t.stride.n) +
                        " c=" + std::to_string(t.stride.c) + " h=" + std::to_string(t.stride.h) +
                        " w=" + std::to_string(t.stride.w));
  return true;
}

bool Context::Impl::checkShortAddr(const char *op, const char *role, const LocalTensor &t,
                                   const LocalTensor &res) {
  if ((t.addr >> 16) != (res.addr >> 16))
    return fail(op, std::string(role) + " starts on lane " + std::to_string(startLane(t)) +
                        " but its 16-bit address field takes the upper lane bits from the result" +
                        " (start lane " + std::to_string(startLane(res)) + "); place it on lane " +
                        std::to_string(startLane(res) & ~1u) + " or " +
                        std::to_string((startLane(res) & ~1u) + 1));
  return true;
}

bool Context::Impl::checkGlobalAddr(const char *op, const char *role, GlobalAddr a,
                                    uint64_t extent) {
  if (a.region > 7)
    return fail(op, std::string(role) + " region " + std::to_string(a.region) +
                        " does not exist (0..7)");
  uint64_t limit = (uint64_t{1} << 40) - kGlobalBias;
  if (a.offset >= limit || extent > limit - a.offset)
    return fail(op, std::string(role) + " offset " + std::to_string(a.offset) + " + " +
                        std::to_string(extent) + " bytes exceeds the 40-bit address field");
  return true;
}

bool Context::Impl::checkGlobal(const char *op, const char *role, const GlobalTensor &t) {
  if (!ok())
    return false;
  const Shape &s = t.shape;
  if (s.n == 0 || s.c == 0 || s.h == 0 || s.w == 0)
    return fail(op, std::string(role) + " has an empty shape " + shapeStr(s));
  uint64_t es = globalElemBytes(t.dtype);
  uint64_t ext = uint64_t{s.n - 1} * t.stride.n + uint64_t{s.c - 1} * t.stride.c +
                 uint64_t{s.h - 1} * t.stride.h + uint64_t{s.w} * es;
  return checkGlobalAddr(op, role, t.addr, ext);
}

//===----------------------------------------------------------------------===//
// Descriptor builders
//===----------------------------------------------------------------------===//

namespace {
template <typename Desc, typename Field>
bool setChecked(Context::Impl &impl, const char *op, Desc &d, Field f, uint64_t v) {
  if (!impl.ok())
    return false;
  unsigned width = Desc::spec(f).totalWidth();
  if (width < 64 && (v >> width) != 0)
    return impl.fail(op, "value " + std::to_string(v) + " does not fit descriptor field " +
                             std::string(Desc::name(f)) + " (" + std::to_string(width) + " bits)");
  d.set(f, v);
  return true;
}
} // namespace

TiuBuilder::TiuBuilder(Context::Impl &impl, const char *op)
    : d(TiuDesc::withResetValues()), impl(impl), op(op) {
  set(TiuField::cmd_en, 1);
  set(TiuField::layer_info, impl.layerId);
}

TiuBuilder &TiuBuilder::set(TiuField f, uint64_t v) {
  setChecked(impl, op, d, f, v);
  return *this;
}

TiuBuilder &TiuBuilder::setSigned(TiuField f, int64_t v) {
  unsigned width = TiuDesc::spec(f).totalWidth();
  int64_t lo = -(int64_t{1} << (width - 1)), hi = (int64_t{1} << width) - 1;
  if (v < lo || v > hi) {
    impl.fail(op, "value " + std::to_string(v) + " does not fit descriptor field " +
                      std::string(TiuDesc::name(f)) + " (" + std::to_string(width) + " bits)");
    return *this;
  }
  return set(f, static_cast<uint64_t>(v) & ((uint64_t{1} << width) - 1));
}

TiuBuilder &TiuBuilder::shape(const TiuOperandFields &o, const Shape &s) {
  set(o.n, s.n).set(o.c, s.c).set(o.h, s.h).set(o.w, s.w);
  return *this;
}

TiuBuilder &TiuBuilder::operand(const TiuOperandFields &o, const LocalTensor &t, StrideMode mode) {
  uint64_t addr = t.addr;
  if (o.addr == TiuField::opd1_addr || o.addr == TiuField::opd2_addr)
    addr &= 0xFFFF;
  set(o.addr, addr);
  shape(o, t.shape);
  set(o.shortStr, static_cast<uint64_t>(mode));
  if (mode == StrideMode::Explicit)
    set(o.nStr, t.stride.n).set(o.cStr, t.stride.c).set(o.hStr, t.stride.h).set(o.wStr, t.stride.w);
  set(o.sign, isSigned(t.dtype) ? 1 : 0);
  if (t.dtype == DType::Int16)
    set(o.int8, 0).set(o.bStr, t.planeStride);
  else
    set(o.int8, 1);
  return *this;
}

bool TiuBuilder::ok() const { return impl.ok(); }

void TiuBuilder::emit(std::initializer_list<Footprint> reads,
                      std::initializer_list<Footprint> writes) {
  if (!impl.ok())
    return;
  Command cmd{Engine::Tiu, 0,     0, std::vector<uint32_t>(d.words.begin(), d.words.end()),
              reads,       writes};
  std::string why;
  if (!impl.queue.push(std::move(cmd), impl.sync, why))
    impl.fail(op, why);
}

TdmaBuilder::TdmaBuilder(Context::Impl &impl, const char *op)
    : d(TdmaDesc::withResetValues()), impl(impl), op(op) {
  set(TdmaField::vld, 1);
  set(TdmaField::bar_en, 1);
  set(TdmaField::layer_ID, impl.layerId);
}

TdmaBuilder &TdmaBuilder::set(TdmaField f, uint64_t v) {
  setChecked(impl, op, d, f, v);
  return *this;
}

TdmaBuilder &TdmaBuilder::global(bool isSrc, GlobalAddr a) {
  set(isSrc ? TdmaField::src_base_addr : TdmaField::dst_base_addr, kGlobalBias + a.offset);
  set(isSrc ? TdmaField::src_base_reg_sel : TdmaField::dst_base_reg_sel, a.region);
  return *this;
}

bool TdmaBuilder::ok() const { return impl.ok(); }

void TdmaBuilder::emit(std::initializer_list<Footprint> reads,
                       std::initializer_list<Footprint> writes) {
  if (!impl.ok())
    return;
  Command cmd{Engine::Tdma, 0,     0, std::vector<uint32_t>(d.words.begin(), d.words.end()),
              reads,        writes};
  std::string why;
  if (!impl.queue.push(std::move(cmd), impl.sync, why))
    impl.fail(op, why);
}

} // namespace tpuc::kernel
