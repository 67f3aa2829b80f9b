//===- Gemm.cpp - fp32 matrix product -------------------------------------===//
//
// GotoBLAS-style blocking: B is packed in panels of NR columns (KC rows deep), A in panels of MR
// rows, and a micro-kernel keeps an MR x NR block of C in vector registers while it walks K. The
// micro-kernel is written once with GCC vector extensions and instantiated per instruction set.
//
//===----------------------------------------------------------------------===//

#include "dialect/interpreter/kernels/Gemm.h"
#include "dialect/interpreter/kernels/Parallel.h"

#include <algorithm>
#include <cstring>
#include <vector>

namespace tpuc::interpreter {
namespace {

typedef float Vec4 __attribute__((vector_size(16)));
typedef float Vec8 __attribute__((vector_size(32)));
typedef float Vec16 __attribute__((vector_size(64)));

constexpr int64_t kBlockK = 256;
constexpr int64_t kBlockN = 1024;

#define TPUC_ALWAYS_INLINE inline __attribute__((always_inline))

template <typename V> TPUC_ALWAYS_INLINE V loadVec(const float *p) {
  V v;
  std::memcpy(&v, p, sizeof(V));
  return v;
}
template <typename V> TPUC_ALWAYS_INLINE void storeVec(float *p, V v) {
  std::memcpy(p, &v, sizeof(V));
}

// Packs rows [0, mc) x columns [0, kc) of A into panels of MR rows: panel p holds, for each k,
// the MR values of rows p*MR .. p*MR+MR-1 (zero past mc).
template <int MR>
TPUC_ALWAYS_INLINE void packA(int64_t mc, int64_t kc, const float *a, int64_t rowStride,
                              int64_t colStride, float *packed) {
  for (int64_t i0 = 0; i0 < mc; i0 += MR) {
    int64_t rows = std::min<int64_t>(MR, mc - i0);
    for (int64_t k = 0; k < kc; ++k) {
      for (int64_t r = 0; r < rows; ++r)
        packed[r] = a[(i0 + r) * rowStride + k * colStride];
      for (int64_t r = rows; r < MR; ++r)
        packed[r] = 0.0f;
      packed += MR;
    }
  }
}

// Packs rows [0, kc) x columns [0, nc) of B into panels of NR columns, k-major within a panel.
template <int NR>
TPUC_ALWAYS_INLINE void packB(int64_t kc, int64_t nc, const float *b, int64_t rowStride,
                              int64_t colStride, float *packed) {
  for (int64_t j0 = 0; j0 < nc; j0 += NR) {
    int64_t cols = std::min<int64_t>(NR, nc - j0);
    for (int64_t k = 0; k < kc; ++k) {
      const float *row = b + k * rowStride + j0 * colStride;
      if (colStride == 1 && cols == NR) {
        std::memcpy(packed, row, NR * sizeof(float));
      } else {
        for (int64_t j = 0; j < cols; ++j)
          packed[j] = row[j * colStride];
        for (int64_t j = cols; j < NR; ++j)
          packed[j] = 0.0f;
      }
      packed += NR;
    }
  }
}

// Where a product goes: element (i, j) of C is data[i * rowStride + j * colStride].
struct OutputView {
  float *data;
  int64_t rowStride, colStride;
};

// The epilogue of one micro-tile (bias pointers already offset to the tile), or null before the
// last block of K.
struct TileEpilogue {
  const float *rowBias, *colBias;
  float lo, hi;
};

// C[mr x nr] (+)= packed A panel * packed B panel over kc, then the epilogue if any.
template <typename V, int MR, int NV>
TPUC_ALWAYS_INLINE void microKernel(int64_t kc, const float *a, const float *b, OutputView c,
                                    int64_t mr, int64_t nr, bool accumulate,
                                    const TileEpilogue *epilogue) {
  constexpr int W = int(sizeof(V) / sizeof(float));
  constexpr int NR = NV * W;
  V acc[MR][NV];
#pragma GCC unroll 16
  for (int r = 0; r < MR; ++r)
#pragma GCC unroll 4
    for (int v = 0; v < NV; ++v)
      acc[r][v] = V{};
  for (int64_t k = 0; k < kc; ++k) {
    V bv[NV];
#pragma GCC unroll 4
    for (int v = 0; v < NV; ++v)
      bv[v] = loadVec<V>(b + v * W);
#pragma GCC unroll 16
    for (int r = 0; r < MR; ++r) {
      float av = a[r];
#pragma GCC unroll 4
      for (int v = 0; v < NV; ++v)
        acc[r][v] += av * bv[v];
    }
    a += MR;
    b += NR;
  }
  if (mr == MR && nr == NR && c.colStride == 1) {
    V colBias[NV] = {};
    if (epilogue && epilogue->colBias)
      for (int v = 0; v < NV; ++v)
        colBias[v] = loadVec<V>(epilogue->colBias + v * W);
#pragma GCC unroll 16
    for (int r = 0; r < MR; ++r)
#pragma GCC unroll 4
      for (int v = 0; v < NV; ++v) {
        float *p = c.data + r * c.rowStride + v * W;
        V out = acc[r][v];
        if (accumulate)
          out += loadVec<V>(p);
        if (epilogue) {
          if (epilogue->rowBias)
            out += epilogue->rowBias[r];
          if (epilogue->colBias)
            out += colBias[v];
          V lo = V{} + epilogue->lo, hi = V{} + epilogue->hi;
          out = out < lo ? lo : out;
          out = out > hi ? hi : out;
        }
        storeVec<V>(p, out);
      }
    return;
  }
  alignas(64) float tile[MR][NR];
  for (int r = 0; r < MR; ++r)
    for (int v = 0; v < NV; ++v)
      storeVec<V>(&tile[r][v * W], acc[r][v]);
  for (int64_t r = 0; r < mr; ++r)
    for (int64_t j = 0; j < nr; ++j) {
      float *p = c.data + r * c.rowStride + j * c.colStride;
      float out = accumulate ? *p + tile[r][j] : tile[r][j];
      if (epilogue) {
        if (epilogue->rowBias)
          out += epilogue->rowBias[r];
        if (epilogue->colBias)
          out += epilogue->colBias[j];
        out = out < epilogue->lo ? epilogue->lo : out;
        out = out > epilogue->hi ? epilogue->hi : out;
      }
      *p = out;
    }
}

struct PackBuffers {
  std::vector<float> a, b;
};
thread_local PackBuffers packBuffers;

// Single-threaded blocked GEMM, instantiated per instruction set.
template <typename V, int MR, int NV>
TPUC_ALWAYS_INLINE void blockedGemm(int64_t m, int64_t n, int64_t k, MatrixView a, MatrixView b,
                                    OutputView c, bool accumulate, const GemmEpilogue &epilogue) {
  constexpr int NR = NV * int(sizeof(V) / sizeof(float));
  constexpr int64_t blockM = MR * 20;
  PackBuffers &buffers = packBuffers;
  int64_t ncMax = std::min<int64_t>(kBlockN, (n + NR - 1) / NR * NR);
  int64_t kcMax = std::min<int64_t>(kBlockK, k);
  int64_t mcMax = std::min<int64_t>(blockM, (m + MR - 1) / MR * MR);
  if (buffers.b.size() < size_t(ncMax * kcMax))
    buffers.b.resize(ncMax * kcMax);
  if (buffers.a.size() < size_t(mcMax * kcMax))
    buffers.a.resize(mcMax * kcMax);
  float *packedB = buffers.b.data();
  float *packedA = buffers.a.data();

  for (int64_t jc = 0; jc < n; jc += kBlockN) {
    int64_t nc = std::min(kBlockN, n - jc);
    for (int64_t pc = 0; pc < k; pc += kBlockK) {
      int64_t kc = std::min(kBlockK, k - pc);
      bool addToC = accumulate || pc > 0, last = pc + kc == k;
      packB<NR>(kc, nc, b.data + pc * b.rowStride + jc * b.colStride, b.rowStride, b.colStride,
                packedB);
      for (int64_t ic = 0; ic < m; ic += blockM) {
        int64_t mc = std::min(blockM, m - ic);
        packA<MR>(mc, kc, a.data + ic * a.rowStride + pc * a.colStride, a.rowStride, a.colStride,
                  packedA);
        for (int64_t jr = 0; jr < nc; jr += NR) {
          const float *bPanel = packedB + jr * kc;
          for (int64_t ir = 0; ir < mc; ir += MR) {
            int64_t i = ic + ir, j = jc + jr;
            TileEpilogue tileEpilogue{epilogue.rowBias ? epilogue.rowBias + i : nullptr,
                                      epilogue.colBias ? epilogue.colBias + j : nullptr,
                                      epilogue.lo, epilogue.hi};
            OutputView tile{c.data + i * c.rowStride + j * c.colStride, c.rowStride, c.colStride};
            microKernel<V, MR, NV>(kc, packedA + ir * kc, bPanel, tile,
                                   std::min<int64_t>(MR, mc - ir), std::min<int64_t>(NR, nc - jr),
                                   addToC, last ? &tileEpilogue : nullptr);
          }
        }
      }
    }
  }
}

using GemmFunction = void (*)(int64_t, int64_t, int64_t, MatrixView, MatrixView, OutputView, bool,
                              const GemmEpilogue &);

void gemmGeneric(int64_t m, int64_t n, int64_t k, MatrixView a, MatrixView b, OutputView c,
                 bool accumulate, const GemmEpilogue &epilogue) {
  blockedGemm<Vec4, 4, 2>(m, n, k, a, b, c, accumulate, epilogue);
}

#if defined(__x86_64__) && defined(__GNUC__)
__attribute__((target("avx2,fma"))) void gemmAvx2(int64_t m, int64_t n, int64_t k, MatrixView a,
                                                  MatrixView b, OutputView c, bool accumulate,
                                                  const GemmEpilogue &epilogue) {
  blockedGemm<Vec8, 6, 2>(m, n, k, a, b, c, accumulate, epilogue);
}
__attribute__((target("avx512f,avx512vl,avx512bw,avx512dq,avx2,fma"))) void
gemmAvx512(int64_t m, int64_t n, int64_t k, MatrixView a, MatrixView b, OutputView c,
           bool accumulate, const GemmEpilogue &epilogue) {
  blockedGemm<Vec16, 6, 2>(m, n, k, a, b, c, accumulate, epilogue);
}
#endif

struct Dispatch {
  GemmFunction function;
  int64_t mr, nr;
};

Dispatch selectGemm() {
#if defined(__x86_64__) && defined(__GNUC__)
  __builtin_cpu_init();
  if (__builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512vl") &&
      __builtin_cpu_supports("avx512bw") && __builtin_cpu_supports("avx512dq"))
    return {gemmAvx512, 6, 32};
  if (__builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma"))
    return {gemmAvx2, 6, 16};
#endif
  return {gemmGeneric, 4, 8};
}

// Padding waste of tiling `rows` x `cols` with MR x NR tiles.
double tilingWaste(int64_t rows, int64_t cols, int64_t mr, int64_t nr) {
  return double((rows + mr - 1) / mr * mr) * double((cols + nr - 1) / nr * nr) /
         (double(rows) * double(cols));
}

void gemmSerial(const Dispatch &dispatch, int64_t m, int64_t n, int64_t k, MatrixView a,
                MatrixView b, OutputView c, bool accumulate, const GemmEpilogue &epilogue) {
  if (k == 0) { // the product is empty: C (or zero) plus the epilogue
    for (int64_t i = 0; i < m; ++i)
      for (int64_t j = 0; j < n; ++j) {
        float &out = c.data[i * c.rowStride + j * c.colStride];
        float value = accumulate ? out : 0.0f;
        value += (epilogue.rowBias ? epilogue.rowBias[i] : 0.0f) +
                 (epilogue.colBias ? epilogue.colBias[j] : 0.0f);
        out = std::min(std::max(value, epilogue.lo), epilogue.hi);
      }
    return;
  }
  dispatch.function(m, n, k, a, b, c, accumulate, epilogue);
}

} // namespace

void gemm(int64_t m, int64_t n, int64_t k, MatrixView a, MatrixView b, float *c, int64_t ldc,
          bool accumulate, const GemmEpilogue &epilogue) {
  static const Dispatch dispatch = selectGemm();
  if (m <= 0 || n <= 0)
    return;
  OutputView out{c, ldc, 1};
  GemmEpilogue e = epilogue;
  // Narrow results (N much smaller than a tile row, M large) tile better transposed:
  // C^T = B^T A^T, written through a transposed view of C.
  if (tilingWaste(n, m, dispatch.mr, dispatch.nr) < tilingWaste(m, n, dispatch.mr, dispatch.nr)) {
    std::swap(m, n);
    MatrixView at{a.data, a.colStride, a.rowStride}, bt{b.data, b.colStride, b.rowStride};
    a = bt;
    b = at;
    out = OutputView{c, 1, ldc};
    std::swap(e.rowBias, e.colBias);
  }
  // Split the larger of M and N over the threads, in whole micro-tiles, when there is enough work.
  double work = double(m) * double(n) * double(k);
  int threads = work < 2e5 ? 1 : workerThreadCount();
  if (threads <= 1) {
    gemmSerial(dispatch, m, n, k, a, b, out, accumulate, e);
    return;
  }
  if (n >= m * 2 || m < 2 * dispatch.mr) {
    int64_t tiles = (n + dispatch.nr - 1) / dispatch.nr;
    parallelFor(tiles, 1, [&](int64_t begin, int64_t end) {
      int64_t j0 = begin * dispatch.nr, j1 = std::min(n, end * dispatch.nr);
      MatrixView bPart{b.data + j0 * b.colStride, b.rowStride, b.colStride};
      GemmEpilogue part = e;
      if (part.colBias)
        part.colBias += j0;
      gemmSerial(dispatch, m, j1 - j0, k, a, bPart,
                 OutputView{out.data + j0 * out.colStride, out.rowStride, out.colStride},
                 accumulate, part);
    });
  } else {
    int64_t tiles = (m + dispatch.mr - 1) / dispatch.mr;
    parallelFor(tiles, 1, [&](int64_t begin, int64_t end) {
      int64_t i0 = begin * dispatch.mr, i1 = std::min(m, end * dispatch.mr);
      MatrixView aPart{a.data + i0 * a.rowStride, a.rowStride, a.colStride};
      GemmEpilogue part = e;
      if (part.rowBias)
        part.rowBias += i0;
      gemmSerial(dispatch, i1 - i0, n, k, aPart, b,
                 OutputView{out.data + i0 * out.rowStride, out.rowStride, out.colStride},
                 accumulate, part);
    });
  }
}

} // namespace tpuc::interpreter
