//===- CpuFunctions.cpp - built-in runtime CPU functions ------------------===//

#include "tpuc/runtime/CpuFunction.h"
#include "tpuc/runtime/Error.h"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <functional>
#include <map>

namespace tpuc::runtime {
namespace {

using cvi::OpParam;
using cvi::runtime::ICpuFunction;
using cvi::runtime::Neuron;
using cvi::runtime::tensor_list_t;

const char *formatName(CVI_FMT fmt) {
  switch (fmt) {
  case CVI_FMT_FP32:
    return "FP32";
  case CVI_FMT_INT32:
    return "INT32";
  case CVI_FMT_UINT32:
    return "UINT32";
  case CVI_FMT_BF16:
    return "BF16";
  case CVI_FMT_INT16:
    return "INT16";
  case CVI_FMT_UINT16:
    return "UINT16";
  case CVI_FMT_INT8:
    return "INT8";
  case CVI_FMT_UINT8:
    return "UINT8";
  }
  return "?";
}

float bf16ToFloat(uint16_t bits) {
  uint32_t wide = uint32_t(bits) << 16;
  float value;
  std::memcpy(&value, &wide, 4);
  return value;
}

uint16_t floatBits16Truncated(float value) {
  uint32_t bits;
  std::memcpy(&bits, &value, 4);
  return uint16_t(bits >> 16);
}

/// round-half-away-from-zero, saturated to [lo, hi]; NaN gives 0.
float saturateRound(float v, float lo, float hi) {
  if (std::isnan(v))
    return 0.0f;
  return std::clamp(std::round(v), lo, hi);
}

void expectCounts(const char *function, const tensor_list_t &inputs, size_t nIn,
                  const tensor_list_t &outputs, size_t nOut) {
  if (inputs.size() != nIn || outputs.size() != nOut)
    throw Error(std::string(function) + " takes " + std::to_string(nIn) + " input(s) and " +
                std::to_string(nOut) + " output(s), the routine has " +
                std::to_string(inputs.size()) + " and " + std::to_string(outputs.size()));
}

/// quant: element-wise type conversion of one tensor.
///   FP32 -> INT8/UINT8: saturate(round_half_away(x * scale))
///   FP32 -> BF16:       upper 16 bits of x * scale * 1.001957 (the runtime's fast rounding)
///   INT8/UINT8 -> FP32: x * scale
///   BF16 -> FP32:       widened, times scale
class QuantFunction : public ICpuFunction {
public:
  void setup(tensor_list_t &inputs, tensor_list_t &outputs, OpParam &param) override {
    expectCounts("quant", inputs, 1, outputs, 1);
    in = inputs[0];
    out = outputs[0];
    from = param.get<std::string>("from");
    to = param.get<std::string>("to");
    // The vendor runtime spells fp32 "NONE" as well (the vendor compiler writes it so).
    if (from == "NONE")
      from = "FP32";
    if (to == "NONE")
      to = "FP32";
    scale = param.has("scale") ? param.get<float>("scale") : 1.0f;
    if (from != formatName(in->fmt))
      throw Error("quant: from=" + from + " but input '" + in->name + "' is " +
                  formatName(in->fmt));
    if (to != formatName(out->fmt))
      throw Error("quant: to=" + to + " but output '" + out->name + "' is " + formatName(out->fmt));
    if (in->count() != out->count())
      throw Error("quant: input '" + in->name + "' has " + std::to_string(in->count()) +
                  " elements, output '" + out->name + "' has " + std::to_string(out->count()));
    bool supported = (from == "FP32" && (to == "INT8" || to == "UINT8" || to == "BF16")) ||
                     ((from == "INT8" || from == "UINT8" || from == "BF16") && to == "FP32");
    if (!supported)
      throw Error("quant from " + from + " to " + to + " is not supported");
  }

  void run() override {
    size_t n = in->count();
    if (from == "FP32") {
      const float *src = in->cpu_data<float>();
      if (to == "INT8") {
        int8_t *dst = out->cpu_data<int8_t>();
        for (size_t i = 0; i < n; ++i)
          dst[i] = static_cast<int8_t>(saturateRound(src[i] * scale, -128.0f, 127.0f));
      } else if (to == "UINT8") {
        uint8_t *dst = out->cpu_data<uint8_t>();
        for (size_t i = 0; i < n; ++i)
          dst[i] = static_cast<uint8_t>(saturateRound(src[i] * scale, 0.0f, 255.0f));
      } else {
        uint16_t *dst = out->cpu_data<uint16_t>();
        for (size_t i = 0; i < n; ++i)
          dst[i] = floatBits16Truncated(src[i] * scale * 1.001957f);
      }
      return;
    }
    float *dst = out->cpu_data<float>();
    if (from == "INT8") {
      const int8_t *src = in->cpu_data<int8_t>();
      for (size_t i = 0; i < n; ++i)
        dst[i] = static_cast<float>(src[i]) * scale;
    } else if (from == "UINT8") {
      const uint8_t *src = in->cpu_data<uint8_t>();
      for (size_t i = 0; i < n; ++i)
        dst[i] = static_cast<float>(src[i]) * scale;
    } else {
      const uint16_t *src = in->cpu_data<uint16_t>();
      for (size_t i = 0; i < n; ++i)
        dst[i] = bf16ToFloat(src[i]) * scale;
    }
  }

private:
  std::shared_ptr<Neuron> in, out;
  std::string from, to;
  float scale = 1.0f;
};

/// Reads element i of a tensor as float (int8/uint8/bf16/fp32/int32).
float elementAsFloat(const Neuron &t, size_t i) {
  switch (t.fmt) {
  case CVI_FMT_INT8:
    return t.cpu_data<int8_t>()[i];
  case CVI_FMT_UINT8:
    return t.cpu_data<uint8_t>()[i];
  case CVI_FMT_BF16:
    return bf16ToFloat(t.cpu_data<uint16_t>()[i]);
  case CVI_FMT_FP32:
    return t.cpu_data<float>()[i];
  case CVI_FMT_INT32:
    return static_cast<float>(t.cpu_data<int32_t>()[i]);
  default:
    throw Error(std::string("argmax_v3: unsupported tensor format ") + formatName(t.fmt));
  }
}

/// argmax_v3: the TPU reduces the data along `axis` to one maximum per tile (second input); this
/// function takes the largest of those maxima and returns the first index along the axis whose
/// value equals it (the first maximum, like ArgMax with select_last_index=0).
class ArgmaxV3Function : public ICpuFunction {
public:
  void setup(tensor_list_t &inputs, tensor_list_t &outputs, OpParam &param) override {
    expectCounts("argmax_v3", inputs, 2, outputs, 1);
    data = inputs[0];
    maxima = inputs[1];
    out = outputs[0];
    int axis = param.get<int32_t>("axis");
    const std::vector<int> &shape = data->shape;
    if (axis < 0)
      axis += static_cast<int>(shape.size());
    if (axis < 0 || axis >= static_cast<int>(shape.size()))
      throw Error("argmax_v3: axis " + std::to_string(param.get<int32_t>("axis")) +
                  " is out of range for '" + data->name + "'");
    outer = inner = 1;
    for (int i = 0; i < axis; ++i)
      outer *= shape[i];
    for (size_t i = axis + 1; i < shape.size(); ++i)
      inner *= shape[i];
    length = shape[axis];
    if (length == 0 || outer * inner == 0)
      throw Error("argmax_v3: empty input '" + data->name + "'");
    if (maxima->count() % (outer * inner) != 0 || maxima->count() == 0)
      throw Error("argmax_v3: tile maxima '" + maxima->name + "' (" +
                  std::to_string(maxima->count()) + " elements) do not match '" + data->name + "'");
    tiles = maxima->count() / (outer * inner);
    if (out->count() != outer * inner)
      throw Error("argmax_v3: output '" + out->name + "' needs " + std::to_string(outer * inner) +
                  " elements, has " + std::to_string(out->count()));
    if (out->fmt != CVI_FMT_FP32 && out->fmt != CVI_FMT_INT32)
      throw Error(std::string("argmax_v3: output must be FP32 or INT32, '") + out->name + "' is " +
                  formatName(out->fmt));
    elementAsFloat(*data, 0); // rejects unsupported formats now
    elementAsFloat(*maxima, 0);
  }

  void run() override {
    for (size_t o = 0; o < outer; ++o) {
      for (size_t in = 0; in < inner; ++in) {
        float best = elementAsFloat(*maxima, (o * tiles) * inner + in);
        for (size_t t = 1; t < tiles; ++t)
          best = std::max(best, elementAsFloat(*maxima, (o * tiles + t) * inner + in));
        size_t index = length;
        for (size_t k = 0; k < length; ++k) {
          if (elementAsFloat(*data, (o * length + k) * inner + in) == best) {
            index = k;
            break;
          }
        }
        if (index == length)
          throw Error("argmax_v3: maximum " + std::to_string(best) + " from '" + maxima->name +
                      "' does not occur in '" + data->name + "'");
        if (out->fmt == CVI_FMT_FP32)
          out->cpu_data<float>()[o * inner + in] = static_cast<float>(index);
        else
          out->cpu_data<int32_t>()[o * inner + in] = static_cast<int32_t>(index);
      }
    }
  }

private:
  std::shared_ptr<Neuron> data, maxima, out;
  size_t outer = 1, inner = 1, length = 0, tiles = 1;
};

/// softmax: fp32 softmax along `axis` (0 <= axis < rank), computed exactly as the vendor
/// runtime's built-in softmax, so that results agree bit for bit:
///   for each outer index: m = the first `inner` elements of the WHOLE input (the vendor starts
///   every outer slice from these, not from the slice's own first row), raised elementwise to the
///   slice's maxima along the axis; y = expf(x - m); s = sum of y in axis order (fp32); y /= s.
/// The shift m only matters for rounding, except where it underflows every term of a column
/// (s == 0, the vendor's result there is 0/0 = NaN): tpuc then redoes that column with the
/// column's own maximum, giving the softmax instead of NaN.
class SoftmaxFunction : public ICpuFunction {
public:
  void setup(tensor_list_t &inputs, tensor_list_t &outputs, OpParam &param) override {
    expectCounts("softmax", inputs, 1, outputs, 1);
    in = inputs[0];
    out = outputs[0];
    if (in->fmt != CVI_FMT_FP32 || out->fmt != CVI_FMT_FP32)
      throw Error(std::string("softmax runs on FP32 tensors; input '") + in->name + "' is " +
                  formatName(in->fmt) + ", output '" + out->name + "' is " + formatName(out->fmt));
    if (in->count() != out->count())
      throw Error("softmax: input '" + in->name + "' has " + std::to_string(in->count()) +
                  " elements, output '" + out->name + "' has " + std::to_string(out->count()));
    int32_t axis = param.get<int32_t>("axis");
    const std::vector<int> &shape = in->shape;
    if (axis < 0 || axis >= static_cast<int32_t>(shape.size()))
      throw Error("softmax: axis " + std::to_string(axis) + " is out of range for the " +
                  std::to_string(shape.size()) + "-D input '" + in->name +
                  "' (the runtime takes 0 <= axis < rank)");
    outer = inner = 1;
    for (int32_t i = 0; i < axis; ++i)
      outer *= static_cast<size_t>(shape[i]);
    for (size_t i = static_cast<size_t>(axis) + 1; i < shape.size(); ++i)
      inner *= static_cast<size_t>(shape[i]);
    length = static_cast<size_t>(shape[axis]);
    maxima.assign(inner, 0.0f);
    sums.assign(inner, 0.0f);
  }

  void run() override {
    if (outer * length * inner == 0)
      return;
    const float *x = in->cpu_data<float>();
    float *y = out->cpu_data<float>();
    const size_t dim = length * inner;
    for (size_t o = 0; o < outer; ++o) {
      const float *xs = x + o * dim;
      float *ys = y + o * dim;
      std::copy(x, x + inner, maxima.begin());
      std::fill(sums.begin(), sums.end(), 0.0f);
      for (size_t j = 0; j < length; ++j)
        for (size_t k = 0; k < inner; ++k)
          if (xs[j * inner + k] > maxima[k])
            maxima[k] = xs[j * inner + k];
      for (size_t j = 0; j < length; ++j)
        for (size_t k = 0; k < inner; ++k) {
          float e = std::exp(xs[j * inner + k] - maxima[k]);
          ys[j * inner + k] = e;
          sums[k] += e;
        }
      for (size_t k = 0; k < inner; ++k)
        if (sums[k] == 0.0f)
          redoColumn(xs, ys, k);
      for (size_t j = 0; j < length; ++j)
        for (size_t k = 0; k < inner; ++k)
          ys[j * inner + k] /= sums[k];
    }
  }

private:
  /// Column k with its own maximum as the shift (only when the vendor's shift underflowed).
  void redoColumn(const float *xs, float *ys, size_t k) {
    float m = xs[k];
    for (size_t j = 1; j < length; ++j)
      m = std::max(m, xs[j * inner + k]);
    float s = 0.0f;
    for (size_t j = 0; j < length; ++j) {
      float e = std::exp(xs[j * inner + k] - m);
      ys[j * inner + k] = e;
      s += e;
    }
    sums[k] = s;
  }

  std::shared_ptr<Neuron> in, out;
  size_t outer = 1, inner = 1, length = 0;
  std::vector<float> maxima, sums;
};

using Factory = std::function<std::unique_ptr<ICpuFunction>()>;

const std::map<std::string, Factory> &builtins() {
  static const std::map<std::string, Factory> table = {
      {"quant", [] { return std::make_unique<QuantFunction>(); }},
      {"argmax_v3", [] { return std::make_unique<ArgmaxV3Function>(); }},
      {"softmax", [] { return std::make_unique<SoftmaxFunction>(); }},
  };
  return table;
}

} // namespace

std::unique_ptr<ICpuFunction> createBuiltinCpuFunction(const std::string &name) {
  auto it = builtins().find(name);
  return it == builtins().end() ? nullptr : it->second();
}

std::vector<std::string> builtinCpuFunctionNames() {
  std::vector<std::string> names;
  for (const auto &[name, factory] : builtins())
    names.push_back(name);
  return names;
}

} // namespace tpuc::runtime
