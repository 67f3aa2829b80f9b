// ROIAlign as a CPU custom op (the guide's fourth example), the compiler's side: interpretFp32
// for the fp32 interpreter. tpu = false, do_quant = false; param pooled_h, pooled_w,
// sampling_ratio (int32), spatial_scale (float).
#include "ROIAlign.h"
#include "cvi/CustomOp.h"

namespace cvi {

class ROIAlignOp : public CustomOp {
public:
  ROIAlignOp(OpParam &param) : CustomOp(param) {}

  void interpretFp32(std::vector<std::shared_ptr<std::vector<float>>> &operand_tensors,
                     std::vector<std::vector<int64_t>> &operand_shapes,
                     std::shared_ptr<std::vector<float>> &result_tensor,
                     std::vector<int64_t> &result_shape) override {
    if (operand_shapes.size() != 2 || operand_shapes[0].size() != 4 ||
        operand_shapes[1].size() != 4 || operand_shapes[1][3] != 5)
      return reportError("roialign takes features (N, C, H, W) and rois (1, 1, R, 5)");
    const std::vector<int64_t> &f = operand_shapes[0];
    int numRois = int(operand_shapes[1][2]);
    roialign::Params p{param.get<int32_t>("pooled_h"), param.get<int32_t>("pooled_w"),
                       param.get<int32_t>("sampling_ratio"), param.get<float>("spatial_scale")};
    if (result_shape != std::vector<int64_t>{numRois, f[1], p.pooledH, p.pooledW})
      return reportError("the result must be (R, C, pooled_h, pooled_w)");
    std::string error =
        roialign::compute(operand_tensors[0]->data(), int(f[0]), int(f[1]), int(f[2]), int(f[3]),
                          operand_tensors[1]->data(), numRois, p, result_tensor->data());
    if (!error.empty())
      reportError(error);
  }
};

RegisterCustomOp(roialign, ROIAlignOp);

} // namespace cvi
