//===- Context.h - CV183x kernel emitter: typed TIU/TDMA command builder --*- C++ -*-===//
//
// tpuc::kernel::Context builds a CV183x command buffer (the CMDBUF section of a cvimodel,
// cv183x-isa.md §1.1/§1.2) from typed operations: local-memory allocation, TDMA transfers between
// global and local memory, and TIU computations. It is what the compiler's code generation calls
// per op and what custom-op plugins receive in codeGenInt8.
//
// Error handling: no function throws or aborts. The first error (bad shape, misaligned operand,
// local-memory overflow, a value that does not fit its descriptor field, ...) is recorded with a
// message naming the operation; from then on ok() is false, allocation returns invalid handles and
// every other call does nothing. Check ok()/error() after emitting a group of operations.
//
// Dependencies: each queued command records the local-memory bytes it reads and writes. A TIU
// command waits (cmd_id_gdma) for the last earlier TDMA command it conflicts with and a TDMA
// command (wait_id_tpu) for the last earlier TIU command it conflicts with, so loads, computes and
// stores of independent data overlap. SyncMode::Serial instead makes every command wait for the
// latest command of the other engine (cv183x-isa.md §4 serial mode). Within one engine commands run
// in order.
//
// This header does not require exceptions or RTTI.
//
//===----------------------------------------------------------------------===//
#pragma once

#include "tpuc/kernel/Params.h"
#include "tpuc/kernel/Types.h"
#include "tpuc/runtime/Chip.h"

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

namespace tpuc::kernel {

/// How command ids and wait ids are assigned.
enum class SyncMode : uint8_t {
  Dependencies, ///< wait only for conflicting commands of the other engine (default)
  Serial,       ///< wait for the latest command of the other engine
};

/// Rounding of bf16 -> 8-bit conversions in TDMA transfers (int8_rnd_mode, §5.6).
enum class Bf16Rounding : uint8_t { NearestEven = 0, TowardZero = 1 };

/// Placement requests for local-memory allocation.
struct AllocOptions {
  bool euAlign = true; ///< channel stride aligned to the 16 EUs (required by most TIU operands)
  int bank = -1; ///< >= 0: start in this bank (and stay inside it when the tensor fits in one bank)
};

/// Counts of the command buffer built so far.
struct CmdStats {
  uint32_t tiuCommands = 0, tdmaCommands = 0;
  uint32_t tiuWaits = 0;  ///< TIU commands whose cmd_id_gdma is nonzero
  uint32_t tdmaWaits = 0; ///< TDMA commands whose wait_id_tpu is nonzero
  /// Commands that wait for a later id than the previous command of their engine did (each is a
  /// point where the engines synchronise).
  uint32_t syncPoints = 0;
};

class Context {
public:
  explicit Context(const runtime::ChipInfo &chip = runtime::ChipInfo::cv183x(),
                   SyncMode sync = SyncMode::Dependencies);
  ~Context();
  Context(Context &&) noexcept;
  Context &operator=(Context &&) noexcept;
  Context(const Context &) = delete;
  Context &operator=(const Context &) = delete;

  //===--------------------------------------------------------------------===//
  // Chip, errors, settings
  //===--------------------------------------------------------------------===//
  unsigned lanes() const;
  unsigned eusPerLane() const;
  unsigned lmemPerLane() const;
  unsigned banks() const;
  unsigned bankBytes() const;

  bool ok() const;
  /// The first error recorded, or an empty string.
  const std::string &error() const;
  /// Records `message` as the error if none is recorded yet (for code built on the Context, such
  /// as the layer kernels of Layers.h, that detects an error of its own).
  void reportError(const std::string &message);
  /// Prepends `prefix` to the recorded error, if any (e.g. the name of the layer being emitted).
  void prefixError(const std::string &prefix);

  /// Layer id written into subsequent descriptors (debug information of the command buffer).
  void setLayerId(uint32_t id);
  /// Changes the sync mode for commands queued from now on.
  void setSyncMode(SyncMode mode);
  SyncMode syncMode() const;
  /// The next command of each engine waits for everything queued so far on the other engine.
  void fence();

  //===--------------------------------------------------------------------===//
  // Layouts (cv183x-isa.md §6)
  //===--------------------------------------------------------------------===//
  /// Default local strides: w = es, h = W*es, c = H*W*es (aligned to 16 when euAlign), n = c *
  /// ceil((startLane + C) / lanes).
  Strides defaultStrides(const Shape &shape, DType dtype, bool euAlign = true,
                         unsigned startLane = 0) const;
  /// Default local matrix shape (rows, C, 1, W) for `cols` columns.
  Shape matrixShape(uint32_t rows, uint32_t cols, DType dtype) const;
  /// Bytes per lane a tensor of this shape takes when allocated (both planes for Int16); use it to
  /// choose tile sizes before allocating.
  uint32_t bytesPerLane(const Shape &shape, DType dtype, bool euAlign = true) const;
  unsigned startLane(const LocalTensor &t) const;
  uint32_t laneOffset(const LocalTensor &t) const;
  /// Bytes per lane covered by the tensor from its per-lane offset (all planes).
  uint32_t laneFootprint(const LocalTensor &t) const;

  //===--------------------------------------------------------------------===//
  // Local-memory allocation (first fit over the per-lane address space; every allocation starts
  // on lane 0 at a 16-byte aligned offset)
  //===--------------------------------------------------------------------===//
  LocalTensor allocTensor(const Shape &shape, DType dtype, AllocOptions opts = {});
  /// A tensor with explicit strides (w stride must be the element size for TDMA use).
  LocalTensor allocTensor(const Shape &shape, DType dtype, const Strides &strides,
                          AllocOptions opts = {});
  LocalMatrix allocMatrix(uint32_t rows, uint32_t cols, DType dtype, AllocOptions opts = {});
  /// Convolution weights (1, OC, 1, kh*kw*IC): output channel oc on lane oc mod lanes; 8-bit or
  /// Bf16.
  LocalTensor allocConvWeight(uint32_t ic, uint32_t oc, uint32_t kh, uint32_t kw,
                              DType dtype = DType::Int8);
  /// Depthwise weights (1, C, kh, kw) with the default EU-aligned layout; Int8 or Bf16.
  LocalTensor allocDepthwiseWeight(uint32_t c, uint32_t kh, uint32_t kw, DType dtype = DType::Int8);
  /// Per-tensor bias of a convolution on `data` (the ifmap type). 8-bit data: an Int16 tensor
  /// (1, OC, 1, 1) whose planes are ceil(OC/lanes) bytes apart. Bf16 data: fp32 biases as the Bf16
  /// tensor (2, OC, 1, 1), row 0 the high halves and row 1 the low halves (packFp32Bias).
  LocalTensor allocConvBias(uint32_t oc, DType data = DType::Int8);
  /// Per-channel quantisation records (1, OC, 1, 9) with a bias, (1, OC, 1, 5) without.
  LocalTensor allocChannelParams(uint32_t oc, bool withBias);
  /// Lookup table (1, lanes, 16, 16) of uint8 (one 256-entry table per lane).
  LocalTensor allocLutTable();
  /// 32-bit partial-sum buffer for a conv/matmul result of shape `ofmap`: (4N, C, H, W) int8.
  LocalTensor allocPartialSum(const Shape &ofmap);
  void free(const LocalTensor &t);
  void free(const LocalMatrix &m) { free(m.t); }
  uint32_t lmemUsed() const;        ///< bytes per lane currently allocated
  uint32_t lmemPeak() const;        ///< largest lmemUsed() so far
  uint32_t lmemLargestFree() const; ///< the largest allocation that fits now (bytes per lane)
  unsigned bankOf(const LocalTensor &t) const;

  //===--------------------------------------------------------------------===//
  // Views
  //===--------------------------------------------------------------------===//
  /// Channels [c0, c0 + count) of `t` (start lane and offset move accordingly).
  LocalTensor channelSlice(const LocalTensor &t, uint32_t c0, uint32_t count);
  /// The bytes of `t` from per-lane offset + `byteOffset` on, with another shape, strides and
  /// dtype (checked to stay inside the original).
  LocalTensor reinterpret(const LocalTensor &t, const Shape &shape, const Strides &strides,
                          DType dtype, uint32_t byteOffset = 0);
  /// The two byte planes of an Int16 tensor with N = 1 as an Int8 tensor (2, C, H, W).
  LocalTensor planes(const LocalTensor &int16);
  /// The two byte planes of an Int16 matrix as an Int8 matrix of 2 x rows rows (low bytes first).
  LocalMatrix matrixPlanes(const LocalMatrix &int16);
  /// Rows [r0, r0 + count) of a matrix.
  LocalMatrix matrixRows(const LocalMatrix &m, uint32_t r0, uint32_t count);

  //===--------------------------------------------------------------------===//
  // TDMA (cv183x-isa.md §3). Shapes of source and destination must be equal. Int8/Uint8 <-> Bf16
  // converts; Int16 moves both byte planes (two descriptors, or one per row for strided rows).
  //===--------------------------------------------------------------------===//
  void load(const LocalTensor &dst, const GlobalTensor &src,
            Bf16Rounding round = Bf16Rounding::NearestEven);
  void store(const GlobalTensor &dst, const LocalTensor &src,
             Bf16Rounding round = Bf16Rounding::NearestEven);
  void copy(const LocalTensor &dst, const LocalTensor &src,
            Bf16Rounding round = Bf16Rounding::NearestEven);
  /// Global to global; converts nothing (equal bf16-ness of source and destination).
  void copy(const GlobalTensor &dst, const GlobalTensor &src);
  void loadMatrix(const LocalMatrix &dst, const GlobalMatrix &src);
  void storeMatrix(const GlobalMatrix &dst, const LocalMatrix &src);
  /// dst (src.cols x src.rows) = transpose(src).
  void loadMatrixTransposed(const LocalMatrix &dst, const GlobalMatrix &src);
  /// Global (N, C, H, W) -> local (C, N, H, W).
  void loadTransposedNC(const LocalTensor &dst, const GlobalTensor &src);
  /// Local (N, C, H, W) -> global (C, N, H, W).
  void storeTransposedNC(const GlobalTensor &dst, const LocalTensor &src);
  /// Local (N, C, H, W) -> global (N, W, H, C) (8-bit only).
  void storeTransposedCW(const GlobalTensor &dst, const LocalTensor &src);
  /// HWC-packed global image with C = 3 or 4 -> local planar (N, C, H, W); the destination must be
  /// EU-aligned with h stride W. `nStride` = bytes between images (0: H*W*C).
  void loadHwc(const LocalTensor &dst, GlobalAddr src, uint32_t nStride = 0);
  /// Fills a tensor with an integer (8-bit types; Int16 fills both planes).
  void fill(const LocalTensor &dst, int32_t value);
  void fill(const GlobalTensor &dst, int32_t value);
  /// Fills a bf16 tensor with `value` rounded to bf16.
  void fillBf16(const LocalTensor &dst, float value);
  void fillBf16(const GlobalTensor &dst, float value);
  /// Flat copy of `bytes` bytes in global memory (general copy).
  void copyBytes(GlobalAddr dst, GlobalAddr src, uint32_t bytes);

  //===--------------------------------------------------------------------===//
  // TIU element-wise operations (cv183x-isa.md §2.4, §5). All tensors have the same shape; any
  // strides. Int8/Uint8 unless noted; Bf16 variants where stated.
  //===--------------------------------------------------------------------===//
  /// res = sat(round(a * b >> rshift)), optional ReLU. res Int16 keeps 16 bits. Bf16: res = a * b.
  /// Integer results are signed exactly when an operand is signed (mul, mulQm, mac, add, sub).
  void mul(const LocalTensor &res, const LocalTensor &a, const Operand &b, uint32_t rshift = 0,
           bool relu = false);
  /// res = sat(round_away(SRDHM(a * b, multiplier) >> rshift)) (§5.2).
  void mulQm(const LocalTensor &res, const LocalTensor &a, const Operand &b, int32_t multiplier,
             uint32_t rshift, bool relu = false);
  /// acc = sat(round(((acc << lshift) + a * b) >> rshift)): acc is Int16 (both planes read and
  /// written; with int8Result the 8-bit result goes to the low plane). Bf16: acc = acc + a * b.
  void mac(const LocalTensor &acc, const LocalTensor &a, const Operand &b, uint32_t lshift,
           uint32_t rshift, bool relu = false, bool int8Result = false);
  /// res = sat(round((a + b) >> rshift)); a and b Int16 (b may be a 16-bit constant), res
  /// Int8 or Int16. Bf16: res = a + b.
  void add(const LocalTensor &res, const LocalTensor &a, const Operand &b, uint32_t rshift = 0,
           bool relu = false);
  /// res = sat(round((a - b) >> rshift)); a, b Int16 tensors, res Int8 or Int16. Bf16: a - b.
  void sub(const LocalTensor &res, const LocalTensor &a, const LocalTensor &b, uint32_t rshift = 0,
           bool relu = false);
  void max(const LocalTensor &res, const LocalTensor &a, const Operand &b);
  void min(const LocalTensor &res, const LocalTensor &a, const Operand &b);
  /// Bitwise operations on Int8/Uint8 (b may be a constant) or Int16 tensors.
  void bitAnd(const LocalTensor &res, const LocalTensor &a, const Operand &b);
  void bitOr(const LocalTensor &res, const LocalTensor &a, const Operand &b);
  void bitXor(const LocalTensor &res, const LocalTensor &a, const Operand &b);
  /// res = bits >= 0 ? a << bits : a >> -bits (arithmetic), 16-bit wrap; res, a Int16, bits Int8.
  void arithShift(const LocalTensor &res, const LocalTensor &a, const LocalTensor &bits);
  /// res = a (any strides; 8-bit or Bf16).
  void copyTiu(const LocalTensor &res, const LocalTensor &a);
  /// res = a >= b ? 1 : 0 for Int8/Uint8. cv183x's TIU has no compare operation, so this emits
  /// four commands on res (max, xor, min, xor); res must not overlap a or b.
  void ge(const LocalTensor &res, const LocalTensor &a, const Operand &b);
  /// res = table[lane][uint8(a)] with the table from allocLutTable (all EU-aligned, 8-bit).
  void lookup(const LocalTensor &res, const LocalTensor &a, const LocalTensor &table);

  //===--------------------------------------------------------------------===//
  // TIU convolution, pooling, matrix multiplication
  //===--------------------------------------------------------------------===//
  void conv(const ConvParams &p);
  void depthwise(const DepthwiseParams &p);
  void maxPool(const PoolParams &p);
  void avgPool(const PoolParams &p);
  /// cv183x has no min pooling: emitted as xor 0xFF on the input, max pooling, xor 0xFF on the
  /// result and xor 0xFF restoring the input (four TIU commands; the input is modified in between).
  void minPool(const PoolParams &p);
  void matmul(const MatMulParams &p);

  //===--------------------------------------------------------------------===//
  // Output
  //===--------------------------------------------------------------------===//
  /// The command buffer in cvimodel CMDBUF form: 8-byte cmd_hdr + descriptor per command, TIU and
  /// TDMA in queue order, ids filled, cmd_end/eod/interrupt bits clear. Empty after an error.
  std::vector<uint8_t> cmdbuf() const;
  CmdStats stats() const;

  struct Impl;

private:
  std::unique_ptr<Impl> impl;
};

} // namespace tpuc::kernel
