// Softmax as a CPU custom op (the guide's third example): fp32 only (tpu = false,
// do_quant = false), param `axis` (int). The compiler plugin interprets it; the runtime function
// of SoftmaxOpRuntime.cpp computes it on the device's CPU.
#include "cvi/CustomOp.h"

#include <algorithm>
#include <cmath>

namespace cvi {

class SoftmaxOp : public CustomOp {
public:
  SoftmaxOp(OpParam &param) : CustomOp(param) {}

  void interpretFp32(std::vector<std::shared_ptr<std::vector<float>>> &operand_tensors,
                     std::vector<std::vector<int64_t>> &operand_shapes,
                     std::shared_ptr<std::vector<float>> &result_tensor,
                     std::vector<int64_t> &result_shape) override {
    const std::vector<int64_t> &shape = operand_shapes[0];
    int axis = param.get<int32_t>("axis");
    if (axis < 0)
      axis += int(shape.size());
    if (axis < 0 || axis >= int(shape.size()))
      return reportError("axis " + std::to_string(param.get<int32_t>("axis")) +
                         " is out of range for a rank-" + std::to_string(shape.size()) + " input");
    int64_t outer = 1, dim = shape[axis], inner = 1;
    for (int i = 0; i < axis; ++i)
      outer *= shape[i];
    for (size_t i = axis + 1; i < shape.size(); ++i)
      inner *= shape[i];
    const float *x = operand_tensors[0]->data();
    float *y = result_tensor->data();
    for (int64_t o = 0; o < outer; ++o)
      for (int64_t i = 0; i < inner; ++i) {
        const int64_t base = o * dim * inner + i;
        float maxValue = x[base];
        for (int64_t d = 1; d < dim; ++d)
          maxValue = std::max(maxValue, x[base + d * inner]);
        float sum = 0;
        for (int64_t d = 0; d < dim; ++d)
          sum += y[base + d * inner] = std::exp(x[base + d * inner] - maxValue);
        for (int64_t d = 0; d < dim; ++d)
          y[base + d * inner] /= sum;
      }
  }
};

RegisterCustomOp(mysoftmax, SoftmaxOp);

} // namespace cvi
