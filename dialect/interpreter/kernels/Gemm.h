//===- Gemm.h - fp32 matrix product -----------------------------*- C++ -*-===//
//
// The matrix product behind convolution, deconvolution, fully_connected and matmul: a packed,
// cache-blocked GEMM with register-blocked micro-kernels for AVX-512, AVX2+FMA and plain SSE,
// chosen at run time, split over the worker threads. Bias and clamping (ReLU, ReLU6) are applied
// while the result is still in registers.
//
//===----------------------------------------------------------------------===//
#pragma once

#include <cstdint>
#include <limits>

namespace tpuc::interpreter {

/// A read-only matrix: element (i, j) is data[i * rowStride + j * colStride].
struct MatrixView {
  const float *data;
  int64_t rowStride;
  int64_t colStride = 1;
};

/// What is applied to each final result element (i, j): + rowBias[i] + colBias[j] (when given),
/// then clamped to [lo, hi].
struct GemmEpilogue {
  const float *rowBias = nullptr;
  const float *colBias = nullptr;
  float lo = -std::numeric_limits<float>::infinity();
  float hi = std::numeric_limits<float>::infinity();
};

/// C = A * B, or C += A * B when `accumulate`, then the epilogue; A is M x K, B is K x N, C is
/// M x N, row-major with row stride ldc.
void gemm(int64_t m, int64_t n, int64_t k, MatrixView a, MatrixView b, float *c, int64_t ldc,
          bool accumulate = false, const GemmEpilogue &epilogue = {});

} // namespace tpuc::interpreter
