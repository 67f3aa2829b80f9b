//===- Neuron.h - a tensor as a runtime CPU function sees it ----*- C++ -*-===//
//
// cvi::runtime::Neuron describes one input or output tensor of a CPU routine: its name, shape,
// element format and quantisation scale, and a host pointer to its bytes (which stay valid for as
// long as the model is loaded). Header-only.
//
// Binary layout. A runtime library built with these headers also runs on the vendor's CV18xx
// runtime (libcviruntime of tpu-mlir 1.30.2), which hands setup() its own Neuron objects; the
// accessors below are inline, so the members they read must sit where the vendor's class keeps
// them. The layout is the vendor's (x86-64 / aarch64, LP64): the public members name, shape, fmt,
// type, pixel_format, scale, mean, aligned and the three VPSS alignments, then the runtime's
// private state, of which CPU code reads the host addresses (_cpu_mem, _vaddr), the state flag
// written by cpu_data(), the element count and byte size (32-bit), the overwrote flag, the
// quantisation scale and the zero point. The static_asserts at the end pin every offset. tpuc's
// runtime fills the same members, so a library built with the vendor's headers runs on tpuc too.
//
//===----------------------------------------------------------------------===//
#pragma once

#include <cstddef>
#include <cstdint>
#include <limits>
#include <map>
#include <memory>
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

namespace cvi {
namespace runtime {

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
  enum NeuronState { TPU_MEM = 0, CPU_MEM = 1 };
  enum NeuronType { WEIGHT = 0, ACTIVATION = 1 };

  /// A tensor in host memory at `data` (how tpuc's runtime makes them). Throws when the tensor
  /// has more elements or bytes than the 32-bit counters hold.
  Neuron(std::string name, std::vector<int> shape, CVI_FMT fmt, float qscale, uint8_t *data,
         int zeroPoint = 0)
      : name(std::move(name)), shape(std::move(shape)), fmt(fmt), _vaddr(data), _qscale(qscale),
        _zero_point(zeroPoint) {
    uint64_t n = 1;
    for (int d : this->shape) {
      if (d < 0)
        throw std::runtime_error("tensor '" + this->name + "' has a negative dimension");
      n *= static_cast<uint64_t>(d);
      if (n > std::numeric_limits<uint32_t>::max())
        break;
    }
    uint64_t bytes = n * formatSize(fmt);
    if (bytes > std::numeric_limits<uint32_t>::max())
      throw std::runtime_error("tensor '" + this->name + "' is larger than 4 GiB");
    _count = static_cast<uint32_t>(n);
    _size = static_cast<uint32_t>(bytes);
    _tensor_size = _size;
  }
  Neuron(const Neuron &) = delete;
  Neuron &operator=(const Neuron &) = delete;

  /// Host pointer to the tensor's elements (marks the tensor as touched by the CPU).
  template <typename T> T *cpu_data() {
    _state = CPU_MEM;
    return reinterpret_cast<T *>(sys_mem());
  }
  template <typename T> const T *cpu_data() const {
    return reinterpret_cast<const T *>(_vaddr ? _vaddr : _cpu_mem);
  }

  /// Number of elements.
  size_t count() const { return _count; }
  /// Size in bytes.
  size_t size() const { return _size; }
  /// Element index of (n, c, h, w) in the dense NCHW layout (missing trailing dimensions are 1).
  size_t offset(int n, int c = 0, int h = 0, int w = 0) const {
    size_t dims[4] = {1, 1, 1, 1};
    for (size_t i = 0; i < shape.size() && i < 4; ++i)
      dims[i] = static_cast<size_t>(shape[i]);
    return ((static_cast<size_t>(n) * dims[1] + c) * dims[2] + h) * dims[3] + w;
  }
  bool overwrote() const { return _overwrote; }
  void setState(NeuronState state) { _state = state; }
  uint8_t *sys_mem() { return _vaddr ? _vaddr : _cpu_mem; }
  uint64_t paddr() const { return _paddr; }
  /// Quantisation scale of the tensor as recorded in the model (1.0 for float tensors).
  float qscale() const { return _qscale; }
  void setQScale(float scale) { _qscale = scale; }
  int zero_point() const { return _zero_point; }

  std::string name;
  std::vector<int> shape; ///< the model's dimensions (tpuc pads 2-D/3-D tensors to 4-D with 1s)
  CVI_FMT fmt;
  NeuronType type = ACTIVATION;
  int32_t pixel_format = 0; ///< CVI_NN_PIXEL_FORMAT_E of model inputs (0 elsewhere)
  std::vector<float> scale; ///< input preprocessing scale (empty elsewhere)
  std::vector<float> mean;  ///< input preprocessing mean (empty elsewhere)
  bool aligned = false;
  int32_t vpss_w_align = 0, vpss_y_align = 0, vpss_channel_align = 0;

private:
  // The vendor runtime's device state; tpuc leaves it null.
  void *_ctx = nullptr;
  void *_cvk = nullptr;
  void *_streamCopyCmdbuf = nullptr;
  void *_channelPreloadCmdbuf = nullptr;
  void *_framePreloadCmdbuf = nullptr;
  void *_base_mem = nullptr;
  void *_gmem = nullptr;
  uint8_t *_cpu_mem = nullptr;
  uint8_t *_vaddr = nullptr;
  uint64_t _paddr = 0;
  NeuronState _state = TPU_MEM;
  uint32_t _id = 0;
  uint32_t _count = 0;
  uint32_t _size = 0;
  uint32_t _tensor_size = 0;
  bool _overwrote = false;
  float _qscale = 1.0f;
  int _zero_point = 0;
  uint64_t *_baseAddrArray = nullptr;
  void **_baseMemArray = nullptr;
  int32_t _baseAddrIndex = 1;
  std::string _model_name;
  std::string _module_name;

  template <typename> friend struct NeuronLayout;
};

#if defined(__GNUC__)
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Winvalid-offsetof"
#endif
/// Offsets of the vendor's class (checked where they are fixed: LP64 with the C++11-ABI string).
template <typename N> struct NeuronLayout {
  static constexpr bool matches() {
    return offsetof(N, name) == 0x00 && offsetof(N, shape) == 0x20 && offsetof(N, fmt) == 0x38 &&
           offsetof(N, type) == 0x3c && offsetof(N, pixel_format) == 0x40 &&
           offsetof(N, scale) == 0x48 && offsetof(N, mean) == 0x60 &&
           offsetof(N, aligned) == 0x78 && offsetof(N, vpss_w_align) == 0x7c &&
           offsetof(N, vpss_channel_align) == 0x84 && offsetof(N, _ctx) == 0x88 &&
           offsetof(N, _cpu_mem) == 0xc0 && offsetof(N, _vaddr) == 0xc8 &&
           offsetof(N, _paddr) == 0xd0 && offsetof(N, _state) == 0xd8 &&
           offsetof(N, _count) == 0xe0 && offsetof(N, _size) == 0xe4 &&
           offsetof(N, _overwrote) == 0xec && offsetof(N, _qscale) == 0xf0 &&
           offsetof(N, _zero_point) == 0xf4 && offsetof(N, _baseAddrIndex) == 0x108 &&
           offsetof(N, _model_name) == 0x110 && sizeof(N) == 0x150;
  }
};
#if defined(__LP64__) && defined(__GLIBCXX__) && _GLIBCXX_USE_CXX11_ABI
static_assert(NeuronLayout<Neuron>::matches(),
              "cvi::runtime::Neuron must keep the vendor runtime's member layout");
#endif
#if defined(__GNUC__)
#pragma GCC diagnostic pop
#endif

typedef std::map<std::string, std::shared_ptr<Neuron>> tensor_map_t;
typedef std::vector<std::shared_ptr<Neuron>> tensor_list_t;

} // namespace runtime
} // namespace cvi
