//===- EltwiseEarlyStride.cpp - stride before the element-wise op ---------===//
#include "passes/Passes.h"
#include "passes/support/LayerAttrs.h"

#include "mlir/IR/Builders.h"
#include "llvm/ADT/STLExtras.h"

namespace tpuc {
#define GEN_PASS_DEF_ELTWISEEARLYSTRIDE
#include "passes/Passes.h.inc"
} // namespace tpuc

using namespace mlir;
using namespace tpuc;

namespace {

/// The stride (sh, sw) != (1, 1) shared by all users of `value` when every one of them is a
/// conv_2d reading it as input with a 1x1 filter and no padding.
std::optional<std::pair<int64_t, int64_t>> commonConvStride(Value value) {
  std::optional<std::pair<int64_t, int64_t>> stride;
  for (OpOperand &use : value.getUses()) {
    auto conv = dyn_cast<tpu::Conv2DOp>(use.getOwner());
    if (!conv || use.getOperandNumber() != 0 || conv.getStrides().size() != 2)
      return std::nullopt;
    auto filter = cast<RankedTensorType>(conv.getFilter().getType());
    if (filter.getRank() != 4 || filter.getDimSize(2) != 1 || filter.getDimSize(3) != 1 ||
        llvm::any_of(conv.getPads(), [](int64_t pad) { return pad != 0; }))
      return std::nullopt;
    std::pair<int64_t, int64_t> own{conv.getStrides()[0], conv.getStrides()[1]};
    if (stride && *stride != own)
      return std::nullopt;
    stride = own;
  }
  if (!stride || *stride == std::make_pair<int64_t, int64_t>(1, 1) || stride->first < 1 ||
      stride->second < 1)
    return std::nullopt;
  return stride;
}

/// The quantization of the tensor `value` (mode, thresholds, zero point) as recorded by the
/// layer producing it: a slice only moves data, so it shares them. Null when none is recorded.
DictionaryAttr valueQuantization(Value value) {
  Operation *producer = value.getDefiningOp();
  auto quant = producer ? producer->getAttrOfType<DictionaryAttr>("quant") : DictionaryAttr();
  if (!producer || !isa<tpu::TpuLayerOp>(producer) || !quant)
    return {};
  NamedAttrList fields;
  for (StringRef key : {"mode", "threshold_max", "threshold_min", "is_asymmetric", "zero_point"})
    if (Attribute field = quant.get(key))
      fields.append(key, field);
  return fields.empty() ? DictionaryAttr() : fields.getDictionary(value.getContext());
}

int64_t stridedSize(int64_t size, int64_t step) { return (size + step - 1) / step; }

/// The strided type of `type` (rank 4): H and W of size > 1 keep every step-th element.
RankedTensorType stridedType(RankedTensorType type, int64_t sh, int64_t sw,
                             SmallVectorImpl<int64_t> &steps) {
  SmallVector<int64_t> shape(type.getShape());
  steps.assign({1, 1, shape[2] > 1 ? sh : 1, shape[3] > 1 ? sw : 1});
  shape[2] = stridedSize(shape[2], steps[2]);
  shape[3] = stridedSize(shape[3], steps[3]);
  return RankedTensorType::get(shape, type.getElementType(), type.getEncoding());
}

/// Rewrites `op` if its users allow it; returns true when it did.
bool applyEarlyStride(Operation *op) {
  Value result = op->getResult(0);
  auto resultType = dyn_cast<RankedTensorType>(result.getType());
  if (!resultType || resultType.getRank() != 4 || op->getNumOperands() == 0)
    return false;
  auto stride = commonConvStride(result);
  if (!stride)
    return false;
  auto [sh, sw] = *stride;
  for (Value input : op->getOperands()) {
    auto type = dyn_cast<RankedTensorType>(input.getType());
    // Inputs are the result's shape, or broadcast along a dimension of size 1.
    if (!type || type.getRank() != 4)
      return false;
    for (int d = 0; d < 4; ++d)
      if (type.getDimSize(d) != resultType.getDimSize(d) && type.getDimSize(d) != 1)
        return false;
  }

  OpBuilder builder(op);
  StringRef name = cast<tpu::TpuLayerOp>(op).getLayerName();
  llvm::SmallDenseMap<Value, Value> sliced;
  SmallVector<Value> newInputs;
  for (Value input : op->getOperands()) {
    auto [it, inserted] = sliced.try_emplace(input, Value());
    if (inserted) {
      auto type = cast<RankedTensorType>(input.getType());
      SmallVector<int64_t> steps;
      RankedTensorType slicedType = stridedType(type, sh, sw, steps);
      if (slicedType == type) {
        it->second = input;
      } else {
        std::string sliceName = (name + "_early_stride_" + llvm::Twine(sliced.size() - 1)).str();
        NamedAttribute attrs[] = {
            builder.getNamedAttr("name", builder.getStringAttr(sliceName)),
            builder.getNamedAttr("offsets", builder.getDenseI64ArrayAttr({0, 0, 0, 0})),
            builder.getNamedAttr("steps", builder.getDenseI64ArrayAttr(steps))};
        auto slice = tpu::SliceOp::create(builder, op->getLoc(), TypeRange{slicedType},
                                          ValueRange{input}, attrs);
        if (DictionaryAttr quant = valueQuantization(input))
          slice->setAttr("quant", quant);
        it->second = slice.getOutput();
      }
    }
    newInputs.push_back(it->second);
  }

  SmallVector<int64_t> steps;
  RankedTensorType newType = stridedType(resultType, sh, sw, steps);
  Operation *strided = builder.clone(*op);
  strided->setOperands(newInputs);
  strided->getResult(0).setType(newType);
  for (OpOperand &use : llvm::make_early_inc_range(result.getUses())) {
    auto conv = cast<tpu::Conv2DOp>(use.getOwner());
    conv.setStridesAttr(builder.getDenseI64ArrayAttr({1, 1}));
    use.set(strided->getResult(0));
  }
  op->erase();
  return true;
}

struct EltwiseEarlyStridePass : tpuc::impl::EltwiseEarlyStrideBase<EltwiseEarlyStridePass> {
  void runOnOperation() override {
    SmallVector<Operation *> candidates;
    getOperation().walk([&](Operation *op) {
      if (isa<tpu::EltwiseAddOp, tpu::EltwiseMulOp, tpu::EltwiseMaxOp, tpu::EltwiseMinOp>(op))
        candidates.push_back(op);
    });
    bool numbered = hasLayerIds(getOperation());
    bool changed = false;
    for (Operation *op : candidates)
      changed |= applyEarlyStride(op);
    // The new slices are layers too: when ids were assigned, every layer keeps one.
    if (changed && numbered)
      assignLayerIds(getOperation());
  }
};

} // namespace
