//===- TdmaOps.cpp - TDMA transfers (cv183x-isa.md §3.2) ------------------===//
#include "Impl.h"

#include "tpuc/Arith.h"

namespace tpuc::kernel {

namespace {

using F = TdmaField;

enum class Dir : uint8_t { G2L = 0, L2G = 1, G2G = 2, L2L = 3 };

/// One side of a tensor transfer as the descriptor sees it.
struct End {
  bool local = false;
  uint32_t laddr = 0; ///< local: lane-encoded address
  GlobalAddr gaddr;   ///< global
  Shape shape;
  uint32_t ns = 0, cs = 0, hs = 0;
  DType dtype = DType::Int8;
};

End localEnd(const LocalTensor &t) {
  return {true, t.addr, {}, t.shape, t.stride.n, t.stride.c, t.stride.h, t.dtype};
}
End globalEnd(const GlobalTensor &t) {
  return {false, 0, t.addr, t.shape, t.stride.n, t.stride.c, t.stride.h, t.dtype};
}

uint64_t fmtOf(DType t) { return t == DType::Bf16 ? 2 : 1; }

class Transfers {
public:
  Transfers(Context::Impl &impl, const char *op) : impl(impl), op(op) {}

  /// Source/destination dtypes a plain transfer accepts (§3.1 src_fmt/dst_fmt).
  bool checkFormats(DType src, DType dst) {
    bool s16 = src == DType::Int16, d16 = dst == DType::Int16;
    if (s16 != d16)
      return impl.fail(op, std::string("cannot convert ") + dtypeName(src) + " to " +
                               dtypeName(dst) + " (TDMA converts between 8-bit types and bf16)");
    return true;
  }

  bool checkLocalForTdma(const char *role, const LocalTensor &t) {
    if (!impl.checkLocal(op, role, t))
      return false;
    if (t.stride.w != localElemBytes(t.dtype))
      return impl.fail(op, std::string(role) + " has w stride " + std::to_string(t.stride.w) +
                               "; TDMA moves the W elements of a row contiguously (w stride " +
                               std::to_string(localElemBytes(t.dtype)) + ")");
    return true;
  }

  bool checkGlobalForTdma(const char *role, const GlobalTensor &t) {
    if (!impl.checkGlobal(op, role, t))
      return false;
    if (t.stride.w != 0 && t.stride.w != globalElemBytes(t.dtype))
      return impl.fail(op, std::string(role) + " has w stride " + std::to_string(t.stride.w) +
                               "; global W elements are contiguous (w stride " +
                               std::to_string(globalElemBytes(t.dtype)) + ")");
    return true;
  }

  /// Emits one tensor transfer from `s` to `d` (8-bit or bf16 elements).
  void tensor(Dir dir, const End &s, const End &d, Bf16Rounding round,
              std::initializer_list<Footprint> reads, std::initializer_list<Footprint> writes,
              uint64_t specFunc = 0, uint64_t transposeMd = 0) {
    TdmaBuilder b(impl, op);
    b.set(F::trans_dir, static_cast<uint64_t>(dir));
    b.set(F::spec_func, specFunc).set(F::transpose_md, transposeMd);
    if (s.local)
      b.set(F::src_base_addr, s.laddr);
    else
      b.global(true, s.gaddr);
    if (d.local)
      b.set(F::dst_base_addr, d.laddr);
    else
      b.global(false, d.gaddr);
    b.set(F::src_n, s.shape.n).set(F::src_c, s.shape.c).set(F::src_h, s.shape.h);
    b.set(F::src_w, s.shape.w);
    b.set(F::dst_c, d.shape.c).set(F::dst_h, d.shape.h).set(F::dst_w, d.shape.w);
    b.set(F::src_n_stride, s.ns).set(F::src_c_stride, s.cs).set(F::src_h_stride, s.hs);
    b.set(F::dst_n_stride, d.ns).set(F::dst_c_stride, d.cs).set(F::dst_h_stride, d.hs);
    b.set(F::src_fmt, fmtOf(s.dtype)).set(F::dst_fmt, fmtOf(d.dtype));
    DType eight = s.dtype == DType::Bf16 ? d.dtype : s.dtype;
    b.set(F::int8_sign, eight == DType::Int8 ? 1 : 0);
    if (s.dtype == DType::Bf16 && d.dtype != DType::Bf16)
      b.set(F::int8_rnd_mode, static_cast<uint64_t>(round));
    b.emit(reads, writes);
  }

  Context::Impl &impl;
  const char *op;
};

using Parts = std::vector<std::pair<End, End>>;

/// Appends the transfers of byte plane `plane` of a 16-bit tensor as 8-bit transfers. Global
/// elements are 2 bytes apart, so the W elements become rows of one byte with a 2-byte pitch: one
/// transfer when W = 1 or both sides have contiguous rows, else one per row.
void addPlaneParts(const End &src, const End &dst, unsigned plane, uint32_t srcPlane,
                   uint32_t dstPlane, Parts &out) {
  auto planeOf = [&](End e, uint32_t planeStride) {
    if (e.local)
      e.laddr += plane * planeStride;
    else
      e.gaddr = e.gaddr + plane;
    e.dtype = DType::Int8;
    return e;
  };
  End s = planeOf(src, srcPlane), d = planeOf(dst, dstPlane);
  // Element pitch in bytes of W along each side: local planes 1, global 2.
  uint32_t sp = src.local ? 1 : 2, dp = dst.local ? 1 : 2;
  const Shape &sh = src.shape;
  auto asRows = [&](End e, uint32_t pitch, uint32_t h) {
    e.shape = {sh.n, sh.c, h, 1};
    e.hs = pitch;
    return e;
  };
  if (sh.w == 1) {
    out.push_back({s, d});
    return;
  }
  bool srcRows = src.hs == sh.w * sp, dstRows = dst.hs == sh.w * dp;
  uint64_t hw = uint64_t{sh.h} * sh.w;
  if (srcRows && dstRows && hw <= 0xFFFF) {
    out.push_back(
        {asRows(s, sp, static_cast<uint32_t>(hw)), asRows(d, dp, static_cast<uint32_t>(hw))});
    return;
  }
  for (uint32_t h = 0; h < sh.h; ++h) {
    End rs = asRows(s, sp, sh.w), rd = asRows(d, dp, sh.w);
    if (rs.local)
      rs.laddr += h * src.hs;
    else
      rs.gaddr = rs.gaddr + uint64_t{h} * src.hs;
    if (rd.local)
      rd.laddr += h * dst.hs;
    else
      rd.gaddr = rd.gaddr + uint64_t{h} * dst.hs;
    out.push_back({rs, rd});
  }
}

void transfer(Context::Impl &impl, const char *op, Dir dir, const End &s, const End &d,
              uint32_t srcPlane, uint32_t dstPlane, Bf16Rounding round,
              std::initializer_list<Footprint> reads, std::initializer_list<Footprint> writes) {
  Transfers t(impl, op);
  if (!t.checkFormats(s.dtype, d.dtype))
    return;
  if (!(s.shape == d.shape)) {
    impl.fail(op, "source shape " + shapeStr(s.shape) + " differs from destination shape " +
                      shapeStr(d.shape));
    return;
  }
  if (s.dtype != DType::Int16) {
    t.tensor(dir, s, d, round, reads, writes);
    return;
  }
  Parts parts;
  for (unsigned p = 0; p < 2; ++p)
    addPlaneParts(s, d, p, srcPlane, dstPlane, parts);
  for (const auto &[ps, pd] : parts)
    t.tensor(dir, ps, pd, round, reads, writes);
}

} // namespace

//===----------------------------------------------------------------------===//
// Tensor copies
//===----------------------------------------------------------------------===//

void Context::load(const LocalTensor &dst, const GlobalTensor &src, Bf16Rounding round) {
  Transfers t(*impl, "load");
  if (!t.checkLocalForTdma("destination", dst) || !t.checkGlobalForTdma("source", src))
    return;
  transfer(*impl, "load", Dir::G2L, globalEnd(src), localEnd(dst), 0, dst.planeStride, round, {},
           {impl->footprint(dst)});
}

void Context::store(const GlobalTensor &dst, const LocalTensor &src, Bf16Rounding round) {
  Transfers t(*impl, "store");
  if (!t.checkLocalForTdma("source", src) || !t.checkGlobalForTdma("destination", dst))
    return;
  transfer(*impl, "store", Dir::L2G, localEnd(src), globalEnd(dst), src.planeStride, 0, round,
           {impl->footprint(src)}, {});
}

void Context::copy(const LocalTensor &dst, const LocalTensor &src, Bf16Rounding round) {
  Transfers t(*impl, "copy");
  if (!t.checkLocalForTdma("source", src) || !t.checkLocalForTdma("destination", dst))
    return;
  if (src.dtype == DType::Int16 && dst.dtype == DType::Int16) {
    // Both planes are plain 8-bit local copies with identical layouts.
    for (unsigned p = 0; p < 2; ++p) {
      End s = localEnd(src), d = localEnd(dst);
      s.dtype = d.dtype = DType::Int8;
      s.laddr += p * src.planeStride;
      d.laddr += p * dst.planeStride;
      if (!(s.shape == d.shape)) {
        impl->fail("copy", "source shape " + shapeStr(s.shape) +
                               " differs from destination shape " + shapeStr(d.shape));
        return;
      }
      t.tensor(Dir::L2L, s, d, round, {impl->footprint(src)}, {impl->footprint(dst)});
    }
    return;
  }
  transfer(*impl, "copy", Dir::L2L, localEnd(src), localEnd(dst), 0, 0, round,
           {impl->footprint(src)}, {impl->footprint(dst)});
}

void Context::copy(const GlobalTensor &dst, const GlobalTensor &src) {
  const Bf16Rounding round = Bf16Rounding::NearestEven; // no conversion happens
  Transfers t(*impl, "copy");
  if (!t.checkGlobalForTdma("source", src) || !t.checkGlobalForTdma("destination", dst))
    return;
  if (src.dtype == DType::Int16 && dst.dtype == DType::Int16) {
    // 16-bit elements move as byte pairs: W doubles, strides stay.
    End s = globalEnd(src), d = globalEnd(dst);
    if (!(s.shape == d.shape)) {
      impl->fail("copy", "source shape " + shapeStr(s.shape) + " differs from destination shape " +
                             shapeStr(d.shape));
      return;
    }
    s.dtype = d.dtype = DType::Int8;
    s.shape.w *= 2;
    d.shape.w *= 2;
    t.tensor(Dir::G2G, s, d, round, {}, {});
    return;
  }
  if ((src.dtype == DType::Bf16) != (dst.dtype == DType::Bf16)) {
    impl->fail("copy", "global-to-global copies do not convert between bf16 and 8-bit types");
    return;
  }
  transfer(*impl, "copy", Dir::G2G, globalEnd(src), globalEnd(dst), 0, 0, round, {}, {});
}

//===----------------------------------------------------------------------===//
// Matrices
//===----------------------------------------------------------------------===//

namespace {

bool checkMatrixPair(Context::Impl &impl, const char *op, const LocalMatrix &l,
                     const GlobalMatrix &g, bool transposed) {
  if (!impl.checkLocal(op, "local matrix", l.t))
    return false;
  if (l.t.dtype == DType::Int16 || g.dtype == DType::Int16)
    return impl.fail(op, "int16 matrices are not transferred by TDMA matrix mode");
  if ((l.t.dtype == DType::Bf16) != (g.dtype == DType::Bf16))
    return impl.fail(op, "matrix transfers do not convert between bf16 and 8-bit types");
  uint32_t rows = transposed ? g.cols : g.rows, cols = transposed ? g.rows : g.cols;
  if (l.rows != rows || l.cols != cols)
    return impl.fail(op, "local matrix is " + std::to_string(l.rows) + " x " +
                             std::to_string(l.cols) + " but the transfer needs " +
                             std::to_string(rows) + " x " + std::to_string(cols));
  if (l.t.shape.n != l.rows || l.t.shape.h != 1 || uint64_t{l.t.shape.c} * l.t.shape.w < l.cols ||
      uint64_t{l.t.shape.c - 1} * l.t.shape.w >= l.cols)
    return impl.fail(op, "local matrix tensor " + shapeStr(l.t.shape) + " does not hold " +
                             std::to_string(l.rows) + " x " + std::to_string(l.cols));
  if (!impl.checkAligned16(op, "local matrix", l.t))
    return false;
  uint32_t es = globalElemBytes(g.dtype);
  if (g.rows == 0 || g.cols == 0 || g.rowStride < uint64_t{g.cols} * es)
    return impl.fail(op, "global matrix " + std::to_string(g.rows) + " x " +
                             std::to_string(g.cols) + " with row stride " +
                             std::to_string(g.rowStride) + " is not valid");
  return impl.checkGlobalAddr(op, "global matrix", g.addr,
                              uint64_t{g.rows - 1} * g.rowStride + uint64_t{g.cols} * es);
}

void matrixLoad(Context::Impl &impl, const char *op, const LocalMatrix &dst,
                const GlobalMatrix &src, bool transposed) {
  if (!checkMatrixPair(impl, op, dst, src, transposed))
    return;
  TdmaBuilder b(impl, op);
  b.set(F::trans_dir, static_cast<uint64_t>(Dir::G2L)).set(F::sys_dtype, 1);
  if (transposed)
    b.set(F::spec_func, 1).set(F::transpose_md, 0);
  b.global(true, src.addr).set(F::dst_base_addr, dst.t.addr);
  b.set(F::src_n, src.rows).set(F::src_c, src.rows).set(F::src_h, 1).set(F::src_w, src.cols);
  b.set(F::src_c_stride, src.rowStride).set(F::src_n_stride, src.rowStride);
  b.set(F::src_h_stride, src.rowStride);
  b.set(F::dst_c, dst.t.shape.c).set(F::dst_h, 1).set(F::dst_w, dst.t.shape.w);
  b.set(F::dst_n_stride, dst.t.stride.n).set(F::dst_c_stride, dst.t.stride.c);
  b.set(F::dst_h_stride, dst.t.stride.h);
  b.set(F::src_fmt, fmtOf(src.dtype)).set(F::dst_fmt, fmtOf(dst.t.dtype));
  b.set(F::int8_sign, src.dtype == DType::Int8 ? 1 : 0);
  b.emit({}, {impl.footprint(dst.t)});
}

} // namespace

void Context::loadMatrix(const LocalMatrix &dst, const GlobalMatrix &src) {
  matrixLoad(*impl, "loadMatrix", dst, src, false);
}

void Context::loadMatrixTransposed(const LocalMatrix &dst, const GlobalMatrix &src) {
  matrixLoad(*impl, "loadMatrixTransposed", dst, src, true);
}

void Context::storeMatrix(const GlobalMatrix &dst, const LocalMatrix &src) {
  const char *op = "storeMatrix";
  if (!checkMatrixPair(*impl, op, src, dst, false))
    return;
  TdmaBuilder b(*impl, op);
  b.set(F::trans_dir, static_cast<uint64_t>(Dir::L2G)).set(F::sys_dtype, 1);
  b.set(F::src_base_addr, src.t.addr).global(false, dst.addr);
  b.set(F::src_n, src.t.shape.n).set(F::src_c, src.t.shape.c).set(F::src_h, 1);
  b.set(F::src_w, src.t.shape.w);
  b.set(F::src_n_stride, src.t.stride.n).set(F::src_c_stride, src.t.stride.c);
  b.set(F::src_h_stride, src.t.stride.h);
  b.set(F::dst_c, dst.rows).set(F::dst_h, 1).set(F::dst_w, dst.cols);
  b.set(F::dst_c_stride, dst.rowStride).set(F::dst_n_stride, dst.rowStride);
  b.set(F::dst_h_stride, dst.rowStride);
  b.set(F::src_fmt, fmtOf(src.t.dtype)).set(F::dst_fmt, fmtOf(dst.dtype));
  b.set(F::int8_sign, dst.dtype == DType::Int8 ? 1 : 0);
  b.emit({impl->footprint(src.t)}, {});
}

//===----------------------------------------------------------------------===//
// Transposes and rotation
//===----------------------------------------------------------------------===//

void Context::loadTransposedNC(const LocalTensor &dst, const GlobalTensor &src) {
  const char *op = "loadTransposedNC";
  Transfers t(*impl, op);
  if (!t.checkLocalForTdma("destination", dst) || !t.checkGlobalForTdma("source", src))
    return;
  if (dst.dtype == DType::Int16 || src.dtype == DType::Int16 || dst.dtype != src.dtype) {
    impl->fail(op, "needs equal 8-bit or bf16 element types");
    return;
  }
  const Shape &s = src.shape;
  if (!(dst.shape == Shape{s.c, s.n, s.h, s.w})) {
    impl->fail(op, "destination shape " + shapeStr(dst.shape) + " must be " +
                       shapeStr({s.c, s.n, s.h, s.w}));
    return;
  }
  t.tensor(Dir::G2L, globalEnd(src), localEnd(dst), Bf16Rounding::NearestEven, {},
           {impl->footprint(dst)}, 1, 0);
}

void Context::storeTransposedNC(const GlobalTensor &dst, const LocalTensor &src) {
  const char *op = "storeTransposedNC";
  Transfers t(*impl, op);
  if (!t.checkLocalForTdma("source", src) || !t.checkGlobalForTdma("destination", dst))
    return;
  if (dst.dtype == DType::Int16 || src.dtype == DType::Int16 || dst.dtype != src.dtype) {
    impl->fail(op, "needs equal 8-bit or bf16 element types");
    return;
  }
  const Shape &s = src.shape;
  if (!(dst.shape == Shape{s.c, s.n, s.h, s.w})) {
    impl->fail(op, "destination shape " + shapeStr(dst.shape) + " must be " +
                       shapeStr({s.c, s.n, s.h, s.w}));
    return;
  }
  t.tensor(Dir::L2G, localEnd(src), globalEnd(dst), Bf16Rounding::NearestEven,
           {impl->footprint(src)}, {}, 1, 0);
}

void Context::storeTransposedCW(const GlobalTensor &dst, const LocalTensor &src) {
  const char *op = "storeTransposedCW";
  Transfers t(*impl, op);
  if (!t.checkLocalForTdma("source", src) || !t.checkGlobalForTdma("destination", dst))
    return;
  if (src.dtype == DType::Bf16 || src.dtype == DType::Int16 || dst.dtype != src.dtype) {
    impl->fail(op, "needs equal 8-bit element types (bf16 is not supported by C/W transpose)");
    return;
  }
  const Shape &s = src.shape;
  if (!(dst.shape == Shape{s.n, s.w, s.h, s.c})) {
    impl->fail(op, "destination shape " + shapeStr(dst.shape) + " must be " +
                       shapeStr({s.n, s.w, s.h, s.c}));
    return;
  }
  t.tensor(Dir::L2G, localEnd(src), globalEnd(dst), Bf16Rounding::NearestEven,
           {impl->footprint(src)}, {}, 1, 3);
}

void Context::loadHwc(const LocalTensor &dst, GlobalAddr src, uint32_t nStride) {
  const char *op = "loadHwc";
  Transfers t(*impl, op);
  if (!t.checkLocalForTdma("destination", dst))
    return;
  const Shape &s = dst.shape;
  if (s.c != 3 && s.c != 4) {
    impl->fail(op, "needs C = 3 or 4, got " + std::to_string(s.c));
    return;
  }
  if (dst.dtype == DType::Bf16 || dst.dtype == DType::Int16) {
    impl->fail(op, "supports 8-bit images only");
    return;
  }
  if (!impl->checkAligned16(op, "destination", dst) ||
      !impl->checkDefaultLayout(op, "destination", dst))
    return;
  uint64_t image = uint64_t{s.c} * s.h * s.w;
  if (nStride == 0)
    nStride = static_cast<uint32_t>(image);
  if (!impl->checkGlobalAddr(op, "source", src, uint64_t{s.n - 1} * nStride + image))
    return;
  End g{false, 0, src, s, nStride, 1, s.c * s.w, dst.dtype};
  t.tensor(Dir::G2L, g, localEnd(dst), Bf16Rounding::NearestEven, {}, {impl->footprint(dst)}, 1,
           s.c == 3 ? 1 : 2);
}

//===----------------------------------------------------------------------===//
// Fill and general copy
//===----------------------------------------------------------------------===//

namespace {

void fillEnd(Context::Impl &impl, const char *op, const End &d, uint64_t pattern,
             std::initializer_list<Footprint> writes) {
  TdmaBuilder b(impl, op);
  b.set(F::spec_func, 4).set(F::const_val, pattern);
  if (d.local)
    b.set(F::trans_dir, static_cast<uint64_t>(Dir::G2L)).set(F::dst_base_addr, d.laddr);
  else
    b.set(F::trans_dir, static_cast<uint64_t>(Dir::L2G)).global(false, d.gaddr);
  b.set(F::src_n, d.shape.n).set(F::src_c, d.shape.c).set(F::src_h, d.shape.h);
  b.set(F::src_w, d.shape.w);
  b.set(F::dst_c, d.shape.c).set(F::dst_h, d.shape.h).set(F::dst_w, d.shape.w);
  b.set(F::dst_n_stride, d.ns).set(F::dst_c_stride, d.cs).set(F::dst_h_stride, d.hs);
  b.set(F::src_fmt, fmtOf(d.dtype)).set(F::dst_fmt, fmtOf(d.dtype));
  b.emit({}, writes);
}

bool checkFillValue(Context::Impl &impl, const char *op, DType t, int32_t v) {
  int64_t lo = t == DType::Uint8 ? 0 : (t == DType::Int16 ? -32768 : -128);
  int64_t hi = t == DType::Uint8 ? 255 : (t == DType::Int16 ? 65535 : 255);
  if (t == DType::Bf16)
    return impl.fail(op, "bf16 tensors are filled with fillBf16");
  if (v < lo || v > hi)
    return impl.fail(op, "value " + std::to_string(v) + " does not fit " + dtypeName(t));
  return true;
}

} // namespace

void Context::fill(const LocalTensor &dst, int32_t value) {
  const char *op = "fill";
  Transfers t(*impl, op);
  if (!t.checkLocalForTdma("destination", dst) || !checkFillValue(*impl, op, dst.dtype, value))
    return;
  Footprint fp = impl->footprint(dst);
  End d = localEnd(dst);
  if (dst.dtype != DType::Int16) {
    fillEnd(*impl, op, d, static_cast<uint8_t>(value), {fp});
    return;
  }
  d.dtype = DType::Int8;
  fillEnd(*impl, op, d, static_cast<uint8_t>(value), {fp});
  d.laddr += dst.planeStride;
  fillEnd(*impl, op, d, static_cast<uint8_t>(value >> 8), {fp});
}

void Context::fill(const GlobalTensor &dst, int32_t value) {
  const char *op = "fill";
  Transfers t(*impl, op);
  if (!t.checkGlobalForTdma("destination", dst) || !checkFillValue(*impl, op, dst.dtype, value))
    return;
  End d = globalEnd(dst);
  if (dst.dtype == DType::Int16) // 16-bit elements are written as 2-byte patterns
    d.dtype = DType::Bf16;
  fillEnd(*impl, op, d, static_cast<uint64_t>(value) & (d.dtype == DType::Bf16 ? 0xFFFF : 0xFF),
          {});
}

void Context::fillBf16(const LocalTensor &dst, float value) {
  Transfers t(*impl, "fillBf16");
  if (!t.checkLocalForTdma("destination", dst))
    return;
  if (dst.dtype != DType::Bf16) {
    impl->fail("fillBf16", "needs a bf16 tensor");
    return;
  }
  fillEnd(*impl, "fillBf16", localEnd(dst), arith::floatToBf16(value), {impl->footprint(dst)});
}

void Context::fillBf16(const GlobalTensor &dst, float value) {
  Transfers t(*impl, "fillBf16");
  if (!t.checkGlobalForTdma("destination", dst))
    return;
  if (dst.dtype != DType::Bf16) {
    impl->fail("fillBf16", "needs a bf16 tensor");
    return;
  }
  fillEnd(*impl, "fillBf16", globalEnd(dst), arith::floatToBf16(value), {});
}

void Context::copyBytes(GlobalAddr dst, GlobalAddr src, uint32_t bytes) {
  const char *op = "copyBytes";
  if (!impl->ok())
    return;
  if (bytes == 0) {
    impl->fail(op, "zero bytes");
    return;
  }
  if (!impl->checkGlobalAddr(op, "source", src, bytes) ||
      !impl->checkGlobalAddr(op, "destination", dst, bytes))
    return;
  TdmaBuilder b(*impl, op);
  b.set(F::trans_dir, static_cast<uint64_t>(Dir::G2G)).set(F::trans_fmt, 1);
  b.global(true, src).global(false, dst).set(F::src_n_stride, bytes);
  b.emit({}, {});
}

} // namespace tpuc::kernel
