// The runtime function of the Softmax CPU custom op: fp32 NCHW input and output, param `axis`.
#include "cvi/runtime/CpuFunction.h"

#include <algorithm>
#include <cmath>
#include <stdexcept>

namespace {

class SoftmaxOpRuntime : public cvi::runtime::ICpuFunction {
public:
  static ICpuFunction *open() { return new SoftmaxOpRuntime(); }

  void setup(cvi::runtime::tensor_list_t &inputs, cvi::runtime::tensor_list_t &outputs,
             cvi::OpParam &param) override {
    if (inputs.size() != 1 || outputs.size() != 1)
      throw std::runtime_error("mysoftmax takes one input and one output");
    input = inputs[0];
    output = outputs[0];
    if (input->fmt != CVI_FMT_FP32 || output->fmt != CVI_FMT_FP32)
      throw std::runtime_error("mysoftmax runs on fp32 tensors");
    axis = param.get<int32_t>("axis");
    int rank = int(input->shape.size());
    if (axis < 0)
      axis += rank;
    if (axis < 0 || axis >= rank)
      throw std::runtime_error("mysoftmax: axis out of range");
  }

  void run() override {
    const std::vector<int> &shape = input->shape;
    size_t outer = 1, dim = size_t(shape[axis]), inner = 1;
    for (int i = 0; i < axis; ++i)
      outer *= size_t(shape[i]);
    for (size_t i = axis + 1; i < shape.size(); ++i)
      inner *= size_t(shape[i]);
    const float *x = input->cpu_data<float>();
    float *y = output->cpu_data<float>();
    for (size_t o = 0; o < outer; ++o)
      for (size_t i = 0; i < inner; ++i) {
        const size_t base = o * dim * inner + i;
        float maxValue = x[base];
        for (size_t d = 1; d < dim; ++d)
          maxValue = std::max(maxValue, x[base + d * inner]);
        float sum = 0;
        for (size_t d = 0; d < dim; ++d)
          sum += y[base + d * inner] = std::exp(x[base + d * inner] - maxValue);
        for (size_t d = 0; d < dim; ++d)
          y[base + d * inner] /= sum;
      }
  }

private:
  std::shared_ptr<cvi::runtime::Neuron> input, output;
  int axis = 1;
};

} // namespace

REGISTER_OP_RUNTIME_FUNCS({"mysoftmax", SoftmaxOpRuntime::open});
