//===- Tdma.cpp - TDMA descriptor execution -------------------------------===//
//
// cv183x-isa.md §3. A transfer reads its source in (n, c, h, w) order and writes the elements in
// the same order into the destination shape (src_n, dst_c, dst_h, dst_w); shapes that differ but
// hold the same number of elements reshape. Matrix transfers (sys_dtype = 1) map a global
// rows x cols matrix onto a local (rows, C, 1, W) tensor, column k on lane-channel k / W.
//
//===----------------------------------------------------------------------===//
#include "Tdma.h"

#include "Vlc.h"

#include "tpuc/Arith.h"
#include "tpuc/runtime/Error.h"

#include <algorithm>
#include <cstring>
#include <optional>
#include <vector>

namespace tpuc::runtime {

namespace {

using F = TdmaField;

std::string hex(uint64_t v) {
  char buf[32];
  std::snprintf(buf, sizeof(buf), "0x%llx", static_cast<unsigned long long>(v));
  return buf;
}

/// Element format of one side (src_fmt / dst_fmt).
unsigned elemBytes(uint64_t fmt, ExecContext &ctx, const char *field) {
  if (fmt == 1)
    return 1;
  if (fmt == 2)
    return 2;
  throw Error(ctx.where(field) + ": unsupported data format " + std::to_string(fmt) +
              " (1 = 8-bit, 2 = bf16)");
}

/// Converts `count` elements from `src` to `dst` (element steps in bytes).
struct Converter {
  unsigned srcEs, dstEs;
  bool int8Signed;
  arith::Bf16ToIntRound round;

  void row(uint8_t *dst, int64_t dstStep, const uint8_t *src, int64_t srcStep,
           uint32_t count) const {
    if (srcEs == dstEs) {
      if (srcStep == srcEs && dstStep == dstEs) {
        std::memmove(dst, src, size_t{count} * srcEs);
        return;
      }
      for (uint32_t i = 0; i < count; ++i)
        std::memmove(dst + i * dstStep, src + i * srcStep, srcEs);
      return;
    }
    if (srcEs == 1) { // 8-bit -> bf16
      for (uint32_t i = 0; i < count; ++i) {
        uint8_t b = src[i * srcStep];
        int32_t v = int8Signed ? static_cast<int8_t>(b) : b;
        uint16_t h = arith::int8ToBf16(v);
        dst[i * dstStep] = static_cast<uint8_t>(h);
        dst[i * dstStep + 1] = static_cast<uint8_t>(h >> 8);
      }
      return;
    }
    for (uint32_t i = 0; i < count; ++i) { // bf16 -> 8-bit
      const uint8_t *s = src + i * srcStep;
      uint16_t h = static_cast<uint16_t>(s[0] | s[1] << 8);
      dst[i * dstStep] = static_cast<uint8_t>(arith::bf16ToInt8(h, int8Signed, round));
    }
  }
};

/// One side of a transfer: global (base pointer + strides) or local (lane-encoded tensor).
struct Endpoint {
  Shape4 shape;
  unsigned es = 1;
  uint8_t *gbase = nullptr;
  Strides4 gs;
  std::optional<LocalTensor> local;

  uint8_t *row(uint32_t n, uint32_t c, uint32_t h) const {
    if (local)
      return local->at(n, c, h, 0);
    return gbase + n * gs.n + c * gs.c + h * gs.h;
  }
  int64_t wStep() const { return local ? local->strides().w : gs.w; }
};

class TdmaExecutor {
public:
  TdmaExecutor(const TdmaFieldValues &f, ExecContext &ctx) : f(f), ctx(ctx) {}
  void run();

private:
  const TdmaFieldValues &f;
  ExecContext &ctx;

  uint64_t c32(F field) const { return f[field]; }

  /// Pointer to `extent` bytes of global memory at the address in `field` via base register
  /// `selField`.
  uint8_t *global(F field, F selField, uint64_t extent) {
    uint64_t addr = f[field];
    unsigned sel = static_cast<unsigned>(f[selField]);
    const char *name = TdmaDesc::name(field).data();
    if (addr < kGlobalMemStart)
      throw Error(ctx.where(name) + ": global address " + hex(addr) +
                  " is below the global-memory start 0x100000000");
    uint64_t eff = addr - kGlobalMemStart + ctx.mem.baseReg[sel];
    if (eff > ctx.mem.bytes.size() || extent > ctx.mem.bytes.size() - eff)
      throw Error(ctx.where(name) + ": global access [" + hex(eff) + ", " + hex(eff + extent) +
                  ") via base register " + std::to_string(sel) + " is outside device memory of " +
                  hex(ctx.mem.bytes.size()) + " bytes");
    return ctx.mem.bytes.data() + eff;
  }

  static uint64_t extentOf(const Shape4 &s, const Strides4 &st, unsigned es) {
    if (s.count() == 0)
      return 0;
    return (s.n - 1) * st.n + (s.c - 1) * st.c + (s.h - 1) * st.h + (s.w - 1) * st.w + es;
  }

  Endpoint globalEnd(F addr, F sel, Shape4 shape, Strides4 st, unsigned es) {
    Endpoint e;
    e.shape = shape;
    e.es = es;
    e.gs = st;
    e.gbase = global(addr, sel, extentOf(shape, st, es));
    return e;
  }

  Endpoint localEnd(F addr, Shape4 shape, Strides4 st, unsigned es) {
    uint64_t a = f[addr];
    const char *name = TdmaDesc::name(addr).data();
    if (a >> 32)
      throw Error(ctx.where(name) + ": local address " + hex(a) + " has bits above 31 set");
    Endpoint e;
    e.shape = shape;
    e.es = es;
    e.local.emplace(ctx.lmem, static_cast<uint32_t>(a), shape, st, es, 1, 0, ctx.where(name));
    return e;
  }

  Shape4 srcShape() const {
    return {static_cast<uint32_t>(f[F::src_n]), static_cast<uint32_t>(f[F::src_c]),
            static_cast<uint32_t>(f[F::src_h]), static_cast<uint32_t>(f[F::src_w])};
  }
  Shape4 dstShape() const {
    return {static_cast<uint32_t>(f[F::src_n]), static_cast<uint32_t>(f[F::dst_c]),
            static_cast<uint32_t>(f[F::dst_h]), static_cast<uint32_t>(f[F::dst_w])};
  }
  Strides4 srcStrides(unsigned es) const {
    return {static_cast<int64_t>(f[F::src_n_stride]), static_cast<int64_t>(f[F::src_c_stride]),
            static_cast<int64_t>(f[F::src_h_stride]), es};
  }
  Strides4 dstStrides(unsigned es) const {
    return {static_cast<int64_t>(f[F::dst_n_stride]), static_cast<int64_t>(f[F::dst_c_stride]),
            static_cast<int64_t>(f[F::dst_h_stride]), es};
  }

  Converter converter(unsigned srcEs, unsigned dstEs) const {
    return {srcEs, dstEs, f[F::int8_sign] != 0,
            f[F::int8_rnd_mode] ? arith::Bf16ToIntRound::TowardZero
                                : arith::Bf16ToIntRound::NearestEven};
  }

  Endpoint side(bool isSrc, bool isLocal, Shape4 shape, Strides4 st, unsigned es) {
    if (isLocal)
      return localEnd(isSrc ? F::src_base_addr : F::dst_base_addr, shape, st, es);
    return globalEnd(isSrc ? F::src_base_addr : F::dst_base_addr,
                     isSrc ? F::src_base_reg_sel : F::dst_base_reg_sel, shape, st, es);
  }

  void copyTensor(const Endpoint &src, const Endpoint &dst, const Converter &cv);
  void tensorTransfer(TdmaDir dir, unsigned srcEs, unsigned dstEs);
  void lutMove(const Endpoint &src, const Endpoint &dst, TdmaDir dir, unsigned srcEs,
               unsigned dstEs);
  void matrixTransfer(TdmaDir dir, unsigned srcEs, unsigned dstEs);
  void transposeTransfer(TdmaDir dir, unsigned srcEs, unsigned dstEs);
  void constantFill(TdmaDir dir, unsigned dstEs);
  void generalCopy(TdmaDir dir);
  void decompressLoad(unsigned srcEs, unsigned dstEs);
  void compressStore(unsigned srcEs, unsigned dstEs);
};

void TdmaExecutor::copyTensor(const Endpoint &src, const Endpoint &dst, const Converter &cv) {
  const Shape4 &s = src.shape, &d = dst.shape;
  if (s.count() != d.count())
    throw Error(ctx.where() + ": source has " + std::to_string(s.count()) +
                " elements but the destination " + std::to_string(d.count()));
  if (s.count() == 0)
    return;
  int64_t sw = src.wStep(), dw = dst.wStep();
  if (s.c == d.c && s.h == d.h && s.w == d.w) {
    for (uint32_t n = 0; n < s.n; ++n)
      for (uint32_t c = 0; c < s.c; ++c)
        for (uint32_t h = 0; h < s.h; ++h)
          cv.row(dst.row(n, c, h), dw, src.row(n, c, h), sw, s.w);
    return;
  }
  // Reshaping transfer: walk both index spaces in (n, c, h, w) order.
  uint32_t dn = 0, dc = 0, dh = 0, dwi = 0;
  for (uint32_t n = 0; n < s.n; ++n)
    for (uint32_t c = 0; c < s.c; ++c)
      for (uint32_t h = 0; h < s.h; ++h) {
        const uint8_t *srow = src.row(n, c, h);
        for (uint32_t w = 0; w < s.w; ++w) {
          cv.row(dst.row(dn, dc, dh) + dwi * dw, dw, srow + w * sw, sw, 1);
          if (++dwi == d.w) {
            dwi = 0;
            if (++dh == d.h) {
              dh = 0;
              if (++dc == d.c) {
                dc = 0;
                ++dn;
              }
            }
          }
        }
      }
}

void TdmaExecutor::tensorTransfer(TdmaDir dir, unsigned srcEs, unsigned dstEs) {
  bool srcLocal = dir == TdmaDir::L2G || dir == TdmaDir::L2L;
  bool dstLocal = dir == TdmaDir::G2L || dir == TdmaDir::L2L;
  Endpoint src = side(true, srcLocal, srcShape(), srcStrides(srcEs), srcEs);
  Endpoint dst = side(false, dstLocal, dstShape(), dstStrides(dstEs), dstEs);
  if (f[F::mv_lut_idx] || f[F::mv_lut_base]) {
    lutMove(src, dst, dir, srcEs, dstEs);
    return;
  }
  copyTensor(src, dst, converter(srcEs, dstEs));
}

void TdmaExecutor::lutMove(const Endpoint &src, const Endpoint &dst, TdmaDir dir, unsigned srcEs,
                           unsigned dstEs) {
  if (dir != TdmaDir::L2L || srcEs != 2 || dstEs != 2)
    throw Error(ctx.where("mv_lut_idx") + ": LUT index/base moves are bf16 local-to-local only");
  if (f[F::mv_lut_idx] && f[F::mv_lut_base])
    throw Error(ctx.where("mv_lut_idx") + ": mv_lut_idx and mv_lut_base cannot be combined");
  // Convert into a scratch copy of the source elements, then move them like a plain copy.
  const Shape4 &s = src.shape;
  std::vector<uint8_t> tmp(s.count() * 2);
  Endpoint mid;
  mid.shape = s;
  mid.es = 2;
  mid.gbase = tmp.data();
  mid.gs = {static_cast<int64_t>(uint64_t{s.c} * s.h * s.w * 2),
            static_cast<int64_t>(uint64_t{s.h} * s.w * 2), static_cast<int64_t>(s.w * 2), 2};
  Converter plain = converter(2, 2);
  copyTensor(src, mid, plain);
  bool idx = f[F::mv_lut_idx] != 0;
  for (size_t i = 0; i < tmp.size(); i += 2) {
    uint16_t v = static_cast<uint16_t>(tmp[i] | tmp[i + 1] << 8), r;
    if (!idx) {
      r = arith::bf16ExponentBase(v);
    } else if (!arith::bf16LutIndexPattern(v, r)) {
      throw Error(ctx.where("mv_lut_idx") + ": LUT index move of a negative or NaN value (bf16 " +
                  hex(v) + ")");
    }
    tmp[i] = static_cast<uint8_t>(r);
    tmp[i + 1] = static_cast<uint8_t>(r >> 8);
  }
  copyTensor(mid, dst, plain);
}

void TdmaExecutor::matrixTransfer(TdmaDir dir, unsigned srcEs, unsigned dstEs) {
  Converter cv = converter(srcEs, dstEs);
  uint32_t rows = static_cast<uint32_t>(f[F::src_n]);
  if (dir == TdmaDir::G2L) {
    uint32_t cols = static_cast<uint32_t>(f[F::src_w]);
    uint32_t lw = static_cast<uint32_t>(f[F::dst_w]);
    if (lw == 0)
      throw Error(ctx.where("dst_w") + ": matrix column width 0");
    uint32_t chunks = (cols + lw - 1) / lw;
    Strides4 gs{0, static_cast<int64_t>(f[F::src_c_stride]), 0, srcEs};
    Endpoint g = globalEnd(F::src_base_addr, F::src_base_reg_sel, {1, rows, 1, cols}, gs, srcEs);
    Endpoint l = localEnd(F::dst_base_addr, {rows, chunks, 1, lw}, dstStrides(dstEs), dstEs);
    for (uint32_t r = 0; r < rows; ++r)
      for (uint32_t j = 0; j < chunks; ++j)
        cv.row(l.row(r, j, 0), dstEs, g.row(0, r, 0) + size_t{j} * lw * srcEs, srcEs,
               std::min(lw, cols - j * lw));
    return;
  }
  if (dir == TdmaDir::L2G) {
    uint32_t cols = static_cast<uint32_t>(f[F::dst_w]);
    uint32_t lw = static_cast<uint32_t>(f[F::src_w]);
    if (lw == 0)
      throw Error(ctx.where("src_w") + ": matrix column width 0");
    uint32_t chunks = (cols + lw - 1) / lw;
    Strides4 gs{0, static_cast<int64_t>(f[F::dst_c_stride]), 0, dstEs};
    Endpoint l = localEnd(F::src_base_addr, {rows, chunks, 1, lw}, srcStrides(srcEs), srcEs);
    Endpoint g = globalEnd(F::dst_base_addr, F::dst_base_reg_sel, {1, rows, 1, cols}, gs, dstEs);
    for (uint32_t r = 0; r < rows; ++r)
      for (uint32_t j = 0; j < chunks; ++j)
        cv.row(g.row(0, r, 0) + size_t{j} * lw * dstEs, dstEs, l.row(r, j, 0), srcEs,
               std::min(lw, cols - j * lw));
    return;
  }
  throw Error(ctx.where("sys_dtype") + ": matrix transfers are global<->local only (trans_dir " +
              std::to_string(static_cast<int>(dir)) + ")");
}

void TdmaExecutor::transposeTransfer(TdmaDir dir, unsigned srcEs, unsigned dstEs) {
  Converter cv = converter(srcEs, dstEs);
  unsigned md = static_cast<unsigned>(f[F::transpose_md]);
  Shape4 s = srcShape();
  if (f[F::sys_dtype]) {
    // Matrix row/column transpose (G2L): global rows x cols -> local matrix with cols rows.
    if (dir != TdmaDir::G2L || md != 0)
      throw Error(ctx.where("transpose_md") + ": unsupported matrix transpose (trans_dir " +
                  std::to_string(static_cast<int>(dir)) + ", transpose_md " + std::to_string(md) +
                  ")");
    uint32_t rows = s.n, cols = s.w;
    uint32_t lw = static_cast<uint32_t>(f[F::dst_w]);
    if (lw == 0)
      throw Error(ctx.where("dst_w") + ": matrix column width 0");
    uint32_t chunks = (rows + lw - 1) / lw;
    // Alignment the vendor model asserts for this transfer.
    if (f[F::dst_base_addr] % 16 || f[F::dst_n_stride] % 16 || f[F::dst_c_stride] % 16 ||
        f[F::dst_h_stride] != lw)
      throw Error(ctx.where("dst_base_addr") +
                  ": matrix transpose needs a 16-aligned destination, n and c strides, and "
                  "dst_h_stride = dst_w");
    Strides4 gs{0, static_cast<int64_t>(f[F::src_c_stride]), 0, srcEs};
    Endpoint g = globalEnd(F::src_base_addr, F::src_base_reg_sel, {1, rows, 1, cols}, gs, srcEs);
    Endpoint l = localEnd(F::dst_base_addr, {cols, chunks, 1, lw}, dstStrides(dstEs), dstEs);
    for (uint32_t r = 0; r < rows; ++r) {
      const uint8_t *grow = g.row(0, r, 0);
      for (uint32_t k = 0; k < cols; ++k)
        cv.row(l.row(k, r / lw, 0) + (r % lw) * dstEs, dstEs, grow + k * srcEs, srcEs, 1);
    }
    return;
  }
  if (md == 0) {
    // N/C transpose: source (n, c, h, w) -> destination (c, n, h, w).
    Shape4 d{s.c, static_cast<uint32_t>(f[F::dst_c]), static_cast<uint32_t>(f[F::dst_h]),
             static_cast<uint32_t>(f[F::dst_w])};
    if (d.c != s.n || d.h * d.w != s.h * s.w)
      throw Error(ctx.where("dst_c") + ": N/C transpose needs dst_c = src_n and equal h*w");
    if (dir != TdmaDir::G2L && dir != TdmaDir::L2G)
      throw Error(ctx.where("trans_dir") + ": N/C transpose is G2L or L2G only");
    Endpoint src = side(true, dir == TdmaDir::L2G, s, srcStrides(srcEs), srcEs);
    Endpoint dst = side(false, dir == TdmaDir::G2L, d, dstStrides(dstEs), dstEs);
    for (uint32_t n = 0; n < s.n; ++n)
      for (uint32_t c = 0; c < s.c; ++c)
        for (uint32_t h = 0; h < s.h; ++h)
          for (uint32_t w = 0; w < s.w; ++w) {
            uint32_t i = h * s.w + w;
            cv.row(dst.row(c, n, i / d.w) + (i % d.w) * dst.wStep(), 1,
                   src.row(n, c, h) + w * src.wStep(), 1, 1);
          }
    return;
  }
  if (md == 3) {
    // C/W transpose (L2G): local (n, c, h, w) -> global (n, w, h, c).
    if (dir != TdmaDir::L2G)
      throw Error(ctx.where("transpose_md") + ": C/W transpose is L2G only");
    Endpoint src = side(true, true, s, srcStrides(srcEs), srcEs);
    Shape4 d{s.n, s.w, s.h, s.c};
    Endpoint dst = side(false, false, d, dstStrides(dstEs), dstEs);
    for (uint32_t n = 0; n < s.n; ++n)
      for (uint32_t c = 0; c < s.c; ++c)
        for (uint32_t h = 0; h < s.h; ++h)
          for (uint32_t w = 0; w < s.w; ++w)
            cv.row(dst.row(n, w, h) + c * dst.wStep(), 1, src.row(n, c, h) + w * src.wStep(), 1, 1);
    return;
  }
  // md 1/2: CHW rotation (G2L) from an HWC-packed source with C = 3 or 4.
  if (dir != TdmaDir::G2L)
    throw Error(ctx.where("transpose_md") + ": CHW rotation is G2L only");
  unsigned packedC = md == 1 ? 3 : 4;
  Strides4 gs = srcStrides(srcEs);
  gs.w = static_cast<int64_t>(packedC) * srcEs;
  Endpoint src = side(true, false, s, gs, srcEs);
  Endpoint dst = side(false, true, dstShape(), dstStrides(dstEs), dstEs);
  copyTensor(src, dst, cv);
}

void TdmaExecutor::constantFill(TdmaDir dir, unsigned dstEs) {
  if (dir != TdmaDir::G2L && dir != TdmaDir::L2G)
    throw Error(ctx.where("trans_dir") + ": constant fill needs trans_dir 0 or 1");
  Endpoint dst = side(false, dir == TdmaDir::G2L, dstShape(), dstStrides(dstEs), dstEs);
  uint16_t v = static_cast<uint16_t>(f[F::const_val]);
  uint8_t bytes[2] = {static_cast<uint8_t>(v), static_cast<uint8_t>(v >> 8)};
  const Shape4 &d = dst.shape;
  int64_t step = dst.wStep();
  for (uint32_t n = 0; n < d.n; ++n)
    for (uint32_t c = 0; c < d.c; ++c)
      for (uint32_t h = 0; h < d.h; ++h) {
        uint8_t *row = dst.row(n, c, h);
        for (uint32_t w = 0; w < d.w; ++w)
          std::memcpy(row + w * step, bytes, dstEs);
      }
}

void TdmaExecutor::generalCopy(TdmaDir dir) {
  uint64_t count = f[F::src_n_stride];
  if (dir == TdmaDir::G2G) {
    uint8_t *src = global(F::src_base_addr, F::src_base_reg_sel, count);
    uint8_t *dst = global(F::dst_base_addr, F::dst_base_reg_sel, count);
    std::memmove(dst, src, count);
    return;
  }
  // Local side of a general copy: a flat byte range inside one lane's address space.
  auto localFlat = [&](F field) {
    uint64_t a = f[field];
    uint64_t lm = ctx.lmem.size();
    if (a > lm || count > lm - a)
      throw Error("local-memory overflow: " + ctx.where(TdmaDesc::name(field)) + " bytes [" +
                  std::to_string(a) + ", " + std::to_string(a + count) + ") outside " +
                  std::to_string(lm) + " bytes of local memory");
    return ctx.lmem.data() + a;
  };
  if (dir == TdmaDir::G2L) {
    uint8_t *src = global(F::src_base_addr, F::src_base_reg_sel, count);
    std::memmove(localFlat(F::dst_base_addr), src, count);
  } else if (dir == TdmaDir::L2G) {
    uint8_t *dst = global(F::dst_base_addr, F::dst_base_reg_sel, count);
    std::memmove(dst, localFlat(F::src_base_addr), count);
  } else {
    std::memmove(localFlat(F::dst_base_addr), localFlat(F::src_base_addr), count);
  }
}

void TdmaExecutor::decompressLoad(unsigned srcEs, unsigned dstEs) {
  bool matrix = f[F::sys_dtype] != 0;
  Shape4 s = srcShape();
  uint64_t elems = matrix ? uint64_t{s.n} * s.w : s.count();
  uint64_t bytes = elems * srcEs;
  // The stream length is only known after decoding; give the decoder everything up to the end.
  uint8_t *start = global(F::src_base_addr, F::src_base_reg_sel, 16);
  size_t avail = ctx.mem.bytes.data() + ctx.mem.bytes.size() - start;
  vlc::Params hp = vlc::readHeader({start, avail});
  if (hp.isBf16 != (srcEs == 2))
    throw Error(ctx.where("compress_en") + ": compressed stream header says " +
                (hp.isBf16 ? "bf16" : "8-bit") + " data but src_fmt is " +
                std::to_string(f[F::src_fmt]));
  std::vector<uint8_t> plain;
  try {
    plain = vlc::decode({start, avail}, bytes);
  } catch (const Error &e) {
    throw Error(ctx.where("src_base_addr") + ": " + e.what());
  }
  Converter cv = converter(srcEs, dstEs);
  if (matrix) {
    uint32_t rows = s.n, cols = s.w, lw = static_cast<uint32_t>(f[F::dst_w]);
    if (lw == 0)
      throw Error(ctx.where("dst_w") + ": matrix column width 0");
    uint32_t chunks = (cols + lw - 1) / lw;
    Endpoint l = localEnd(F::dst_base_addr, {rows, chunks, 1, lw}, dstStrides(dstEs), dstEs);
    for (uint32_t r = 0; r < rows; ++r)
      for (uint32_t j = 0; j < chunks; ++j)
        cv.row(l.row(r, j, 0), dstEs, plain.data() + (size_t{r} * cols + size_t{j} * lw) * srcEs,
               srcEs, std::min(lw, cols - j * lw));
    return;
  }
  Endpoint src;
  src.shape = s;
  src.es = srcEs;
  src.gbase = plain.data();
  src.gs = {static_cast<int64_t>(uint64_t{s.c} * s.h * s.w * srcEs),
            static_cast<int64_t>(uint64_t{s.h} * s.w * srcEs), static_cast<int64_t>(s.w * srcEs),
            srcEs};
  Endpoint dst = localEnd(F::dst_base_addr, dstShape(), dstStrides(dstEs), dstEs);
  copyTensor(src, dst, cv);
}

void TdmaExecutor::compressStore(unsigned srcEs, unsigned dstEs) {
  if (srcEs != dstEs)
    throw Error(ctx.where("compress_en") + ": compressed store cannot convert formats");
  if (f[F::compress_bias1] != 0 || (srcEs == 1 && f[F::compress_bias0] != 0))
    throw Error(ctx.where("compress_bias0") +
                ": compressed stores take compress_bias1 = 0 and, for 8-bit data, "
                "compress_bias0 = 0");
  bool matrix = f[F::sys_dtype] != 0;
  Shape4 s = srcShape();
  std::vector<uint8_t> plain;
  if (matrix) {
    uint32_t rows = s.n, cols = static_cast<uint32_t>(f[F::dst_w]), lw = s.w;
    if (lw == 0)
      throw Error(ctx.where("src_w") + ": matrix column width 0");
    uint32_t chunks = (cols + lw - 1) / lw;
    plain.resize(size_t{rows} * cols * srcEs);
    Endpoint l = localEnd(F::src_base_addr, {rows, chunks, 1, lw}, srcStrides(srcEs), srcEs);
    Converter cv = converter(srcEs, srcEs);
    for (uint32_t r = 0; r < rows; ++r)
      for (uint32_t j = 0; j < chunks; ++j)
        cv.row(plain.data() + (size_t{r} * cols + size_t{j} * lw) * srcEs, srcEs, l.row(r, j, 0),
               srcEs, std::min(lw, cols - j * lw));
  } else {
    plain.resize(s.count() * srcEs);
    Endpoint src = localEnd(F::src_base_addr, s, srcStrides(srcEs), srcEs);
    Endpoint dst;
    dst.shape = s;
    dst.es = srcEs;
    dst.gbase = plain.data();
    dst.gs = {static_cast<int64_t>(uint64_t{s.c} * s.h * s.w * srcEs),
              static_cast<int64_t>(uint64_t{s.h} * s.w * srcEs), static_cast<int64_t>(s.w * srcEs),
              srcEs};
    copyTensor(src, dst, converter(srcEs, srcEs));
  }
  vlc::Params p;
  p.isBf16 = srcEs == 2;
  p.isSigned = !p.isBf16 && f[F::cmprs_fmt] != 0;
  p.bias0 = static_cast<uint8_t>(f[F::compress_bias0]);
  p.bias1 = static_cast<uint8_t>(f[F::compress_bias1]);
  p.zeroGuard = f[F::compress_zero_guard] != 0;
  std::vector<uint8_t> enc = vlc::encode(plain, p);
  uint8_t *dst = global(F::dst_base_addr, F::dst_base_reg_sel, enc.size());
  std::memcpy(dst, enc.data(), enc.size());
}

void TdmaExecutor::run() {
  if (!f[F::vld])
    throw Error(ctx.where("vld") + ": descriptor is not marked valid");
  double elems =
      f[F::sys_dtype]
          ? static_cast<double>(f[F::src_n]) * std::max(f[F::src_w], f[F::dst_w]) *
                std::max<uint64_t>(1, std::max(f[F::src_c], f[F::dst_c]))
          : std::max(static_cast<double>(f[F::src_n]) * f[F::src_c] * f[F::src_h] * f[F::src_w],
                     static_cast<double>(f[F::src_n]) * f[F::dst_c] * f[F::dst_h] * f[F::dst_w]);
  if (elems > 4294967296.0)
    throw Error(ctx.where() + ": transfer of " + std::to_string(elems) +
                " elements is too large to simulate");
  auto dir = static_cast<TdmaDir>(f[F::trans_dir]);
  unsigned spec = static_cast<unsigned>(f[F::spec_func]);
  if ((f[F::mv_lut_idx] || f[F::mv_lut_base]) &&
      (dir != TdmaDir::L2L || spec != 0 || f[F::sys_dtype] || f[F::compress_en] || f[F::trans_fmt]))
    throw Error(ctx.where("mv_lut_idx") +
                ": LUT index/base moves are plain bf16 local-to-local tensor copies only");
  if (f[F::trans_fmt]) {
    if (spec != 0 || f[F::compress_en])
      throw Error(ctx.where("trans_fmt") + ": general copy with spec_func " + std::to_string(spec) +
                  " / compression is not supported");
    generalCopy(dir);
    return;
  }
  unsigned dstEs = elemBytes(f[F::dst_fmt], ctx, "dst_fmt");
  if (spec == 4) {
    constantFill(dir, dstEs);
    return;
  }
  unsigned srcEs = elemBytes(f[F::src_fmt], ctx, "src_fmt");
  if (f[F::compress_en]) {
    if (spec != 0)
      throw Error(ctx.where("compress_en") + ": compressed transfer with spec_func " +
                  std::to_string(spec) + " is not supported");
    if (dir == TdmaDir::G2L)
      decompressLoad(srcEs, dstEs);
    else if (dir == TdmaDir::L2G)
      compressStore(srcEs, dstEs);
    else
      throw Error(ctx.where("compress_en") + ": compression needs trans_dir 0 or 1");
    return;
  }
  if (spec == 1) {
    transposeTransfer(dir, srcEs, dstEs);
    return;
  }
  if (spec != 0)
    throw Error(ctx.where("spec_func") + ": unsupported special function " + std::to_string(spec));
  if (f[F::sys_dtype])
    matrixTransfer(dir, srcEs, dstEs);
  else
    tensorTransfer(dir, srcEs, dstEs);
}

} // namespace

void executeTdma(const TdmaFieldValues &fields, ExecContext &ctx) {
  TdmaExecutor(fields, ctx).run();
}

} // namespace tpuc::runtime
