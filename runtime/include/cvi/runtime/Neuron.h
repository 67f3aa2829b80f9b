//===- Neuron.h - a tensor as a runtime CPU function sees it ----*- C++ -*-===//
//
// cvi::runtime::Neuron describes one input or output tensor of a CPU routine: its name, NCHW shape,
// element format and quantisation scale, and a host pointer to its bytes (which live in the
// simulated device memory for as long as the model is loaded). Header-only.
//
//===----------------------------------------------------------------------===//
#pragma once

#include <cstddef>
#include <cstdint>
#include <stdexcept>
#include <string>
#include <vector>

/// Element formats, numbered as in the cvimodel DType and the runtime C API.
enum CVI_FMT {
  CVI_FMT_FP32 = 0,
  CVI_FMT_INT32 = 1,
  CVI_FMT_UINT32 = 2,
  CVI_FMT_BF16 = 3,
  CVI_FMT_INT16 = 4,
  CVI_FMT_UINT16 = 5,
  CVI_FMT_INT8 = 6,
  CVI_FMT_UINT8 = 7
};

namespace cvi::runtime {

inline size_t formatSize(CVI_FMT fmt) {
  switch (fmt) {
  case CVI_FMT_FP32:
  case CVI_FMT_INT32:
  case CVI_FMT_UINT32:
    return 4;
  case CVI_FMT_BF16:
  case CVI_FMT_INT16:
  case CVI_FMT_UINT16:
    return 2;
  case CVI_FMT_INT8:
  case CVI_FMT_UINT8:
    return 1;
  }
  throw std::runtime_error("unknown tensor format " + std::to_string(static_cast<int>(fmt)));
}

class Neuron {
public:
  Neuron(std::string name, std::vector<int> shape, CVI_FMT fmt, float qscale, uint8_t *data)
      : name(std::move(name)), shape(std::move(shape)), fmt(fmt), scale(qscale), data(data) {}

  std::string name;
  std::vector<int> shape; ///< NCHW (2-D/3-D tensors are padded to 4-D with trailing 1s)
  CVI_FMT fmt;

  template <typename T> T *cpu_data() { return reinterpret_cast<T *>(data); }
  template <typename T> const T *cpu_data() const { return reinterpret_cast<const T *>(data); }

  /// Number of elements.
  size_t count() const {
    size_t n = 1;
    for (int d : shape)
      n *= static_cast<size_t>(d);
    return n;
  }
  /// Size in bytes.
  size_t size() const { return count() * formatSize(fmt); }
  /// Element index of (n, c, h, w) in the dense NCHW layout.
  size_t offset(int n, int c = 0, int h = 0, int w = 0) const {
    int dims[4] = {1, 1, 1, 1};
    for (size_t i = 0; i < shape.size() && i < 4; ++i)
      dims[i] = shape[i];
    return ((static_cast<size_t>(n) * dims[1] + c) * dims[2] + h) * dims[3] + w;
  }
  /// Quantisation scale of the tensor as recorded in the model (1.0 for float tensors).
  float qscale() const { return scale; }

private:
  float scale;
  uint8_t *data;
};

} // namespace cvi::runtime
