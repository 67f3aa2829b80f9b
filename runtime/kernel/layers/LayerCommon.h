//===- LayerCommon.h - shared helpers of the INT8 layer kernels --*- C++ -*-===//
//
// Internal to the layer kernels (runtime/kernel/layers): error reporting with the layer's name,
// the local-memory budget, views of tile buffers and sub-tensors of global tensors.
//
//===----------------------------------------------------------------------===//
#pragma once

#include "tpuc/kernel/Layers.h"

#include <algorithm>
#include <cstdint>
#include <functional>
#include <string>
#include <vector>

namespace tpuc::kernel::layers::detail {

inline uint32_t align16(uint64_t x) { return static_cast<uint32_t>((x + 15) / 16 * 16); }
inline uint32_t ceilDiv(uint64_t x, uint64_t d) { return static_cast<uint32_t>((x + d - 1) / d); }

std::string shapeStr(const Shape &s);

/// Emission scope of one layer: sets the layer id, reports errors as "<op> '<name>': ..." and
/// frees every local tensor allocated through it when it ends.
class Scope {
public:
  Scope(Context &ctx, const char *op, const LayerBase &layer, const EmitOptions &opts);
  ~Scope();
  Scope(const Scope &) = delete;
  Scope &operator=(const Scope &) = delete;

  /// False when the Context held an error on entry (nothing is emitted then).
  bool entered() const { return enteredOk; }
  /// Records an error of the layer itself; returns false.
  bool fail(const std::string &msg);
  /// ctx.ok(), adding the layer prefix to an error raised inside the layer.
  bool finish();
  /// Bytes per lane the layer may use.
  uint32_t budget() const { return budgetBytes; }
  /// Bytes per lane the scope's live allocations take (each rounded to 16 bytes).
  uint32_t allocatedBytes() const;
  /// budget() minus allocatedBytes() (0 when exhausted).
  uint32_t remaining() const {
    uint32_t a = allocatedBytes();
    return a >= budgetBytes ? 0 : budgetBytes - a;
  }
  const EmitOptions &options() const { return opts; }

  LocalTensor alloc(const Shape &s, DType dt, bool euAlign = true);
  LocalTensor allocConvWeight(uint32_t ic, uint32_t oc, uint32_t kh, uint32_t kw);
  LocalTensor allocChannelParams(uint32_t oc, bool withBias);
  LocalTensor allocConvBias(uint32_t oc);
  LocalTensor allocLutTable();
  LocalMatrix allocMatrix(uint32_t rows, uint32_t cols, DType dt);
  /// Frees everything allocated so far (in reverse order).
  void freeAll();

  Context &ctx;
  const char *op;
  const LayerBase &layer;

private:
  EmitOptions opts;
  bool enteredOk = false;
  bool finished = false;
  uint32_t budgetBytes = 0;
  std::vector<LocalTensor> allocated;
};

/// `buf` seen as a tensor of shape `s` with default strides (a tile of a larger buffer).
LocalTensor view(Context &ctx, const LocalTensor &buf, const Shape &s, DType dt,
                 bool euAlign = true);
/// The sub-tensor starting at (n0, c0, h0, w0) with shape `s`.
GlobalTensor subTensor(const GlobalTensor &t, uint32_t n0, uint32_t c0, uint32_t h0, uint32_t w0,
                       const Shape &s);
/// Whether the tensor is NCHW-contiguous.
bool isDense(const GlobalTensor &t);
/// Per-lane bytes of a default EU-aligned 8-bit tensor (n, c, h, w) starting on lane 0.
inline uint32_t laneBytes8(uint32_t lanes, uint32_t n, uint32_t c, uint32_t h, uint32_t w) {
  return n * ceilDiv(c, lanes) * align16(uint64_t{h} * w);
}

/// One tile of a 4-D element-wise iteration.
struct Tile4 {
  uint32_t n0, c0, h0, w0;
  Shape s;
};

/// Splits `shape` into tiles whose per-lane footprint (one 8-bit tensor, EU-aligned) is at most
/// `maxLaneBytes`: whole W rows when possible, then rows, then channel groups of the lanes, then
/// batches. Returns an empty list when not even one element fits.
std::vector<Tile4> tileElementwise(const Shape &shape, uint32_t lanes, uint32_t maxLaneBytes,
                                   uint32_t maxW = 4000);

/// Tiles of `shape` (tileElementwise) whose buffers fit `avail` bytes per lane: `needPerSet(t)`
/// gives the bytes per lane (16-byte rounded allocations) of one buffer set for tile shape t;
/// `units` estimates the 8-bit tensors per set. Tries two sets first when `doubleBuffer` (with
/// tiles of at most `cap` bytes per unit, so that there are several), then one; `sets` receives
/// the number chosen. Empty when nothing fits.
std::vector<Tile4> fitTiles(const Shape &shape, uint32_t lanes, uint32_t avail, bool doubleBuffer,
                            uint32_t units, uint32_t maxW, uint32_t cap,
                            const std::function<uint64_t(const Shape &)> &needPerSet,
                            uint32_t &sets);

/// A shape with the same element count that fills the lanes better, for layers whose operands
/// are all dense and whose arithmetic does not depend on the position: (1, lanes, h, w) when the
/// count allows, else `shape` itself.
Shape flatShape(const Shape &shape, uint32_t lanes, uint32_t maxW = 2048);

/// Applies y = sat8(rshift_up(x * m, r)) in place on an int8 tile (nothing for m = 1, r = 0).
void rescaleInt8(Context &ctx, const LocalTensor &t, int32_t m, uint32_t r);

} // namespace tpuc::kernel::layers::detail
