// ROIAlign (Mask R-CNN's, as torchvision.ops.roi_align with aligned = false): shared by the
// compiler plugin (ROIAlignOp.cpp) and the runtime function (ROIAlignOpRuntime.cpp), so the
// interpreter and the device compute the same floats.
//   features (N, C, H, W), rois (1, 1, R, 5) = [batch index, x1, y1, x2, y2] in input pixels
//   -> output (R, C, pooled_h, pooled_w); each bin averages sampling_ratio^2 bilinear samples
//   (sampling_ratio <= 0: ceil(roi size / pooled size) per axis).
#pragma once

#include <algorithm>
#include <cmath>
#include <string>

namespace roialign {

struct Params {
  int pooledH, pooledW, samplingRatio;
  float spatialScale;
};

inline float bilinear(const float *plane, int h, int w, float y, float x) {
  if (y < -1.0f || y > float(h) || x < -1.0f || x > float(w))
    return 0.0f;
  y = std::max(y, 0.0f);
  x = std::max(x, 0.0f);
  int y0 = int(y), x0 = int(x), y1, x1;
  if (y0 >= h - 1) {
    y0 = y1 = h - 1;
    y = float(y0);
  } else {
    y1 = y0 + 1;
  }
  if (x0 >= w - 1) {
    x0 = x1 = w - 1;
    x = float(x0);
  } else {
    x1 = x0 + 1;
  }
  float ly = y - float(y0), lx = x - float(x0), hy = 1.0f - ly, hx = 1.0f - lx;
  return hy * hx * plane[y0 * w + x0] + hy * lx * plane[y0 * w + x1] +
         ly * hx * plane[y1 * w + x0] + ly * lx * plane[y1 * w + x1];
}

// Returns an error message, empty on success.
inline std::string compute(const float *x, int n, int c, int h, int w, const float *rois,
                           int numRois, const Params &p, float *out) {
  if (p.pooledH <= 0 || p.pooledW <= 0)
    return "pooled_h and pooled_w must be positive";
  for (int r = 0; r < numRois; ++r) {
    const float *roi = rois + 5 * r;
    int b = int(roi[0]);
    if (b < 0 || b >= n)
      return "roi " + std::to_string(r) + " has batch index " + std::to_string(b) +
             " outside [0, " + std::to_string(n) + ")";
    float x1 = roi[1] * p.spatialScale, y1 = roi[2] * p.spatialScale;
    float roiW = std::max(roi[3] * p.spatialScale - x1, 1.0f);
    float roiH = std::max(roi[4] * p.spatialScale - y1, 1.0f);
    float binH = roiH / float(p.pooledH), binW = roiW / float(p.pooledW);
    int gridH = p.samplingRatio > 0 ? p.samplingRatio : int(std::ceil(roiH / float(p.pooledH)));
    int gridW = p.samplingRatio > 0 ? p.samplingRatio : int(std::ceil(roiW / float(p.pooledW)));
    float count = float(std::max(gridH * gridW, 1));
    for (int ch = 0; ch < c; ++ch) {
      const float *plane = x + (size_t(b) * c + ch) * size_t(h) * w;
      float *o = out + (size_t(r) * c + ch) * size_t(p.pooledH) * p.pooledW;
      for (int ph = 0; ph < p.pooledH; ++ph)
        for (int pw = 0; pw < p.pooledW; ++pw) {
          float sum = 0.0f;
          for (int iy = 0; iy < gridH; ++iy) {
            float yy = y1 + ph * binH + (iy + 0.5f) * binH / float(gridH);
            for (int ix = 0; ix < gridW; ++ix) {
              float xx = x1 + pw * binW + (ix + 0.5f) * binW / float(gridW);
              sum += bilinear(plane, h, w, yy, xx);
            }
          }
          o[ph * p.pooledW + pw] = sum / count;
        }
    }
  }
  return {};
}

} // namespace roialign
