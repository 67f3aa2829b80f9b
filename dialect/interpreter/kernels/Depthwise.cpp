//===- Depthwise.cpp - depthwise convolution -------------------------------===//
//
// Sixteen channels at a time: their planes are interleaved into one zero-padded buffer holding,
// for every pixel, the sixteen channel values side by side. Each output pixel is then one vector
// of sixteen channels accumulating kh * kw vector multiply-adds, eight pixels at once so the
// additions overlap; the result row is de-interleaved into the output planes.
//
//===----------------------------------------------------------------------===//

#include "dialect/interpreter/kernels/Depthwise.h"
#include "dialect/interpreter/kernels/KernelSupport.h"
#include "dialect/interpreter/kernels/Vectorize.h"

#include <algorithm>
#include <cstring>
#include <vector>

namespace tpuc::interpreter {
namespace {

constexpr int L = kDepthwiseLanes;
typedef float Lanes __attribute__((vector_size(L * sizeof(float))));

TPUC_ALWAYS_INLINE Lanes loadLanes(const float *p) {
  Lanes v;
  std::memcpy(&v, p, sizeof(v));
  return v;
}
TPUC_ALWAYS_INLINE void storeLanes(float *p, Lanes v) { std::memcpy(p, &v, sizeof(v)); }

// Output pixels [ox0, ox0 + Pixels) of row `oy`, written interleaved to `row`.
template <int Pixels>
TPUC_ALWAYS_INLINE void pixels(const float *packed, int64_t paddedWidth, const float *weights,
                               Lanes bias, Lanes lo, Lanes hi, int64_t oy, int64_t ox0, float *row,
                               const DepthwiseGeometry &g) {
  Lanes acc[Pixels];
#pragma GCC unroll 8
  for (int p = 0; p < Pixels; ++p)
    acc[p] = bias;
  for (int64_t ky = 0; ky < g.kh; ++ky) {
    const float *line = packed + (oy * g.sy + ky * g.dy) * paddedWidth * L;
    for (int64_t kx = 0; kx < g.kw; ++kx) {
      Lanes weight = loadLanes(weights + (ky * g.kw + kx) * L);
      const float *in = line + (ox0 * g.sx + kx * g.dx) * L;
#pragma GCC unroll 8
      for (int p = 0; p < Pixels; ++p)
        acc[p] += weight * loadLanes(in + p * g.sx * L);
    }
  }
#pragma GCC unroll 8
  for (int p = 0; p < Pixels; ++p) {
    Lanes v = acc[p] < lo ? lo : acc[p];
    v = v > hi ? hi : v;
    storeLanes(row + (ox0 + p) * L, v);
  }
}

} // namespace

TPUC_VECTORIZED void depthwiseBlock(const float *const *src, const float *const *weights,
                                    const float *bias, float lo, float hi, float *const *dst,
                                    int lanes, const DepthwiseGeometry &g) {
  // The zero-padded, interleaved input: every position the kernel reads exists.
  int64_t paddedH = std::max(g.h + g.top, (g.oh - 1) * g.sy + (g.kh - 1) * g.dy + 1);
  int64_t paddedW = std::max(g.w + g.left, (g.ow - 1) * g.sx + (g.kw - 1) * g.dx + 1);
  size_t packedSize = size_t(paddedH * paddedW * L);
  float *packed = threadScratch(packedSize + size_t(g.ow * L));
  float *row = packed + packedSize;
  for (int64_t y = 0; y < paddedH; ++y) {
    float *line = packed + y * paddedW * L;
    int64_t iy = y - g.top;
    if (iy < 0 || iy >= g.h) {
      std::fill(line, line + paddedW * L, 0.0f);
      continue;
    }
    std::fill(line, line + g.left * L, 0.0f);
    std::fill(line + (g.left + g.w) * L, line + paddedW * L, 0.0f);
    float *interior = line + g.left * L;
    // 16 x 16 tiles: 16 columns of every lane, written as 16 interleaved pixels.
    for (int64_t x0 = 0; x0 < g.w; x0 += L) {
      int64_t count = std::min<int64_t>(L, g.w - x0);
      float tile[L][L];
      for (int lane = 0; lane < L; ++lane) {
        if (lane < lanes && count == L)
          std::memcpy(tile[lane], src[lane] + iy * g.w + x0, sizeof(tile[lane]));
        else
          for (int64_t x = 0; x < L; ++x)
            tile[lane][x] = lane < lanes && x < count ? src[lane][iy * g.w + x0 + x] : 0.0f;
      }
      float *out = interior + x0 * L;
      if (count == L) {
        for (int x = 0; x < L; ++x)
          for (int lane = 0; lane < L; ++lane)
            out[x * L + lane] = tile[lane][x];
      } else {
        for (int64_t x = 0; x < count; ++x)
          for (int lane = 0; lane < L; ++lane)
            out[x * L + lane] = tile[lane][x];
      }
    }
  }
  // Weights and bias as lane vectors.
  int64_t taps = g.kh * g.kw;
  std::vector<float> wv(static_cast<size_t>(taps * L));
  for (int64_t t = 0; t < taps; ++t)
    for (int lane = 0; lane < L; ++lane)
      wv[size_t(t * L + lane)] = lane < lanes ? weights[lane][t] : 0.0f;
  Lanes biasLanes{};
  for (int lane = 0; lane < lanes && bias; ++lane)
    biasLanes[lane] = bias[lane];
  Lanes loLanes = Lanes{} + lo, hiLanes = Lanes{} + hi;

  for (int64_t oy = 0; oy < g.oh; ++oy) {
    int64_t ox = 0;
    for (; ox + 8 <= g.ow; ox += 8)
      pixels<8>(packed, paddedW, wv.data(), biasLanes, loLanes, hiLanes, oy, ox, row, g);
    for (; ox < g.ow; ++ox)
      pixels<1>(packed, paddedW, wv.data(), biasLanes, loLanes, hiLanes, oy, ox, row, g);
    for (int64_t x0 = 0; x0 < g.ow; x0 += L) {
      int64_t count = std::min<int64_t>(L, g.ow - x0);
      float tile[L][L];
      for (int64_t x = 0; x < count; ++x)
        for (int lane = 0; lane < L; ++lane)
          tile[lane][x] = row[(x0 + x) * L + lane];
      for (int lane = 0; lane < lanes; ++lane)
        std::memcpy(dst[lane] + oy * g.ow + x0, tile[lane], size_t(count) * sizeof(float));
    }
  }
}

} // namespace tpuc::interpreter
