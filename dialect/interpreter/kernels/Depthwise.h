//===- Depthwise.h - depthwise convolution ----------------------*- C++ -*-===//
#pragma once

#include <cstdint>

namespace tpuc::interpreter {

struct DepthwiseGeometry {
  int64_t h, w;      ///< input plane
  int64_t oh, ow;    ///< output plane
  int64_t kh, kw;    ///< kernel
  int64_t sy, sx;    ///< strides
  int64_t dy, dx;    ///< dilations
  int64_t top, left; ///< leading pads
};

/// Channels convolved together by depthwiseBlock().
constexpr int kDepthwiseLanes = 16;

/// Depthwise convolution of `lanes` (<= kDepthwiseLanes) planes at once: for each lane,
/// dst[lane] (oh x ow) = bias[lane] + sum over the kernel of weights[lane][ky, kx] * src[lane]
/// (h x w, zero padded), clamped to [lo, hi]. `bias` may be null.
void depthwiseBlock(const float *const *src, const float *const *weights, const float *bias,
                    float lo, float hi, float *const *dst, int lanes, const DepthwiseGeometry &g);

} // namespace tpuc::interpreter
