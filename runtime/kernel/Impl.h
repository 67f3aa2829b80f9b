//===- Impl.h - state and shared helpers of tpuc::kernel::Context --*- C++ -*-===//
//
// Internal to the kernel library. Holds the chip geometry, the first error, the allocator and the
// command queue, plus the checks and descriptor builders every operation uses. Descriptor fields
// are written through the one field table of tpuc/runtime/Descriptors.h; values are range-checked
// here first so that the table's own checks never fire.
//
//===----------------------------------------------------------------------===//
#pragma once

#include "CommandQueue.h"
#include "LocalAllocator.h"

#include "tpuc/kernel/Context.h"
#include "tpuc/runtime/Descriptors.h"

#include <initializer_list>
#include <string>
#include <vector>

namespace tpuc::kernel {

using runtime::TdmaDesc;
using runtime::TdmaField;
using runtime::TiuDesc;
using runtime::TiuField;

/// Base of the descriptor global address field (cv183x-isa.md §1.4).
inline constexpr uint64_t kGlobalBias = 0x1'0000'0000ULL;
/// Largest per-dimension TIU extent for n and c (12-bit fields).
inline constexpr uint32_t kTiuMaxNC = 4095;
/// Largest TIU h and w (cv183x-isa.md §2.1: at most 4095 - 32).
inline constexpr uint32_t kTiuMaxHW = 4095 - 32;

inline uint32_t alignUp(uint64_t x, uint32_t a) {
  return static_cast<uint32_t>((x + a - 1) / a * a);
}
inline uint32_t ceilDiv(uint64_t x, uint64_t d) { return static_cast<uint32_t>((x + d - 1) / d); }
std::string shapeStr(const Shape &s);

/// Field names of one TIU operand (cv183x-isa.md §2.1).
struct TiuOperandFields {
  TiuField addr, n, c, h, w, nStr, cStr, hStr, wStr, bStr, shortStr, sign, int8;
};
extern const TiuOperandFields kRes0, kOpd0, kOpd1, kOpd2;

/// Stride modes of short_*_str (§2.3).
enum class StrideMode : uint8_t { Default = 0, ConvWeight = 1, PerChannel = 2, Explicit = 3 };

struct Context::Impl {
  Impl(const runtime::ChipInfo &chip, SyncMode sync);

  const runtime::ChipInfo &chip;
  unsigned lanes, laneBytes, bankBytes;
  SyncMode sync;
  std::string err;
  uint32_t layerId = 0;
  LocalAllocator alloc;
  CommandQueue queue;

  bool ok() const { return err.empty(); }
  /// Records "op: msg" as the error if none is recorded yet; returns false.
  bool fail(const char *op, const std::string &msg);

  //===--- Local tensors -------------------------------------------------===//
  unsigned startLane(const LocalTensor &t) const { return t.addr / laneBytes; }
  uint32_t offset(const LocalTensor &t) const { return t.addr % laneBytes; }
  Strides defaultStrides(const Shape &s, DType dt, bool euAlign, unsigned startLane) const;
  /// Bytes per lane from the tensor's offset to the end of its last byte (all planes).
  uint64_t laneExtent(const LocalTensor &t) const;
  Footprint footprint(const LocalTensor &t) const;
  /// Valid handle, nonzero dims, inside local memory, consistent Int16 planes.
  bool checkLocal(const char *op, const char *role, const LocalTensor &t);
  /// Dimensions within the TIU field limits.
  bool checkTiuShape(const char *op, const char *role, const Shape &s);
  bool checkSameShape(const char *op, const char *role, const LocalTensor &t, const Shape &s);
  bool checkAligned16(const char *op, const char *role, const LocalTensor &t);
  /// Stride mode 0 requires the default EU-aligned layout for the tensor's start lane.
  bool checkDefaultLayout(const char *op, const char *role, const LocalTensor &t);
  /// 16-bit opd1/opd2 address fields take the bits above 16 from res0_addr (§6).
  bool checkShortAddr(const char *op, const char *role, const LocalTensor &t,
                      const LocalTensor &res);

  //===--- Global tensors ------------------------------------------------===//
  bool checkGlobal(const char *op, const char *role, const GlobalTensor &t);
  bool checkGlobalAddr(const char *op, const char *role, GlobalAddr a, uint64_t extent);
};

/// Builds one TIU descriptor from reset values; field values are range-checked.
class TiuBuilder {
public:
  TiuBuilder(Context::Impl &impl, const char *op);
  TiuBuilder &set(TiuField f, uint64_t v);
  TiuBuilder &setSigned(TiuField f, int64_t v);
  /// Address, shape, strides (when `mode` is Explicit), sign and 8-bit flag of an operand.
  /// 16-bit operands (Int16) set the plane distance and clear the 8-bit flag.
  TiuBuilder &operand(const TiuOperandFields &o, const LocalTensor &t, StrideMode mode);
  /// Shape fields only.
  TiuBuilder &shape(const TiuOperandFields &o, const Shape &s);
  /// Queues the descriptor with the footprints it reads and writes.
  void emit(std::initializer_list<Footprint> reads, std::initializer_list<Footprint> writes);
  bool ok() const;

  TiuDesc d;

private:
  Context::Impl &impl;
  const char *op;
};

/// Builds one TDMA descriptor from reset values (vld = 1, bar_en = 1).
class TdmaBuilder {
public:
  TdmaBuilder(Context::Impl &impl, const char *op);
  TdmaBuilder &set(TdmaField f, uint64_t v);
  /// Global address field plus base-register select.
  TdmaBuilder &global(bool isSrc, GlobalAddr a);
  void emit(std::initializer_list<Footprint> reads, std::initializer_list<Footprint> writes);
  bool ok() const;

  TdmaDesc d;

private:
  Context::Impl &impl;
  const char *op;
};

} // namespace tpuc::kernel
