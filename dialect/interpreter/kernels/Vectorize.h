//===- Vectorize.h - instruction-set clones of hot loops --------*- C++ -*-===//
//
// The project builds for the baseline instruction set; functions marked TPUC_VECTORIZED are also
// compiled for AVX2 and AVX-512 and the best clone is picked when the program loads (GCC
// function multiversioning), so their loops auto-vectorize at the machine's width.
//
//===----------------------------------------------------------------------===//
#pragma once

#if defined(__x86_64__) && defined(__GNUC__) && !defined(__clang__)
#define TPUC_VECTORIZED __attribute__((target_clones("avx512f", "avx2", "default")))
#else
#define TPUC_VECTORIZED
#endif

#define TPUC_ALWAYS_INLINE inline __attribute__((always_inline))
