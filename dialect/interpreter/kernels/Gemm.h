//===- Gemm.h - fp32 matrix product -----------------------------*- C++ -*-===//
//
// The matrix product behind convolution, deconvolution, fully_connected and matmul: a packed,
// cache-blocked GEMM with register-blocked micro-kernels for AVX-512, AVX2+FMA and plain SSE,
// chosen at run time, split over the worker threads.
//
//===----------------------------------------------------------------------===//
#pragma once

#include <cstdint>

namespace tpuc::interpreter {

/// A read-only matrix: element (i, j) is data[i * rowStride + j * colStride].
struct MatrixView {
  const float *data;
  int64_t rowStride;
  int64_t colStride = 1;
};

/// C = A * B, or C += A * B when `accumulate`; A is M x K, B is K x N, C is M x N, row-major with
/// row stride ldc.
void gemm(int64_t m, int64_t n, int64_t k, MatrixView a, MatrixView b, float *c, int64_t ldc,
          bool accumulate = false);

} // namespace tpuc::interpreter
