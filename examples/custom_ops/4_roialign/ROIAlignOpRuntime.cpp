// The runtime function of the ROIAlign CPU custom op: fp32 features (N, C, H, W) and rois
// (1, 1, R, 5) in, fp32 (R, C, pooled_h, pooled_w) out.
#include "ROIAlign.h"
#include "cvi/runtime/CpuFunction.h"

#include <stdexcept>

namespace {

class ROIAlignOpRuntime : public cvi::runtime::ICpuFunction {
public:
  static ICpuFunction *open() { return new ROIAlignOpRuntime(); }

  void setup(cvi::runtime::tensor_list_t &inputs, cvi::runtime::tensor_list_t &outputs,
             cvi::OpParam &param) override {
    if (inputs.size() != 2 || outputs.size() != 1)
      throw std::runtime_error("roialign takes two inputs and one output");
    for (auto &t : {inputs[0], inputs[1], outputs[0]})
      if (t->fmt != CVI_FMT_FP32 || t->shape.size() != 4)
        throw std::runtime_error("roialign runs on 4-D fp32 tensors (" + t->name + ")");
    features = inputs[0];
    rois = inputs[1];
    output = outputs[0];
    p = {param.get<int32_t>("pooled_h"), param.get<int32_t>("pooled_w"),
         param.get<int32_t>("sampling_ratio"), param.get<float>("spatial_scale")};
  }

  void run() override {
    const std::vector<int> &f = features->shape;
    std::string error =
        roialign::compute(features->cpu_data<float>(), f[0], f[1], f[2], f[3],
                          rois->cpu_data<float>(), rois->shape[2], p, output->cpu_data<float>());
    if (!error.empty())
      throw std::runtime_error("roialign: " + error);
  }

private:
  std::shared_ptr<cvi::runtime::Neuron> features, rois, output;
  roialign::Params p{};
};

} // namespace

REGISTER_OP_RUNTIME_FUNCS({"roialign", ROIAlignOpRuntime::open});
