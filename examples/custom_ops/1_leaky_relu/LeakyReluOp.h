// LeakyRelu as a TPU custom op (the guide's first example).
#pragma once

#include "cvi/CustomOp.h"

namespace cvi {

class LeakyReluOp : public CustomOp {
public:
  LeakyReluOp(OpParam &param) : CustomOp(param) {}

  void interpretFp32(std::vector<std::shared_ptr<std::vector<float>>> &operand_tensors,
                     std::vector<std::vector<int64_t>> &operand_shapes,
                     std::shared_ptr<std::vector<float>> &result_tensor,
                     std::vector<int64_t> &result_shape) override;
  void interpretInt8(std::vector<std::shared_ptr<std::vector<float>>> &operand_tensors,
                     std::vector<std::vector<int64_t>> &operand_shapes,
                     std::shared_ptr<std::vector<float>> &result_tensor,
                     std::vector<int64_t> &result_shape) override;
  void quantizeInt8() override;
  void codeGenInt8(void *ctx, std::vector<std::vector<int64_t>> &operand_shapes,
                   std::vector<uint64_t> &operand_gaddrs, std::vector<int64_t> &result_shape,
                   uint64_t result_gaddr, int layer_id) override;
};

} // namespace cvi
