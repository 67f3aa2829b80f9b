//===- ConvertBnToScale.cpp - batch_norm with constant statistics to scale -===//
#include "passes/Passes.h"
#include "passes/support/AffineFolding.h"
#include "passes/support/LayerAttrs.h"
#include "passes/support/ModuleWeights.h"

#include "mlir/IR/Builders.h"
#include "llvm/ADT/SetVector.h"

namespace tpuc {
#define GEN_PASS_DEF_CONVERTBNTOSCALE
#include "passes/Passes.h.inc"
} // namespace tpuc

using namespace mlir;
using namespace tpuc;

namespace {

/// A batch_norm whose folded scale and bias have been staged in the weight edit.
struct StagedBatchNorm {
  tpu::BatchNormOp op;
  std::string scaleName;
  std::string biasName;
};

tpu::LoadWeightOp weightOperand(Value value) { return value.getDefiningOp<tpu::LoadWeightOp>(); }

bool hasConstantStatistics(tpu::BatchNormOp op) {
  return weightOperand(op.getMean()) && weightOperand(op.getVariance()) &&
         weightOperand(op.getScale()) && weightOperand(op.getBias());
}

/// Reads the statistics of `op` and stages its folded scale and bias.
FailureOr<StagedBatchNorm> stageFoldedWeights(tpu::BatchNormOp op, WeightEdit &edit) {
  auto fail = [&](llvm::Error error) -> FailureOr<StagedBatchNorm> {
    op.emitError("convert-bn-to-scale: cannot fold batch_norm '")
        << op.getName() << "': " << llvm::toString(std::move(error));
    return failure();
  };
  auto inputType = cast<RankedTensorType>(op.getInput().getType());
  if (inputType.getRank() < 2)
    return fail(llvm::createStringError("input must have a channel dimension (axis 1)"));
  int64_t channels = inputType.getDimSize(1);

  std::vector<float> values[4];
  Value operands[4] = {op.getMean(), op.getVariance(), op.getScale(), op.getBias()};
  for (int i = 0; i < 4; ++i) {
    auto read = edit.readF32(weightOperand(operands[i]));
    if (!read)
      return fail(read.takeError());
    if (static_cast<int64_t>(read->size()) != channels)
      return fail(llvm::createStringError(
          "weight '" + weightOperand(operands[i]).getName() + "' has " + llvm::Twine(read->size()) +
          " elements, expected one per channel (" + llvm::Twine(channels) + ")"));
    values[i] = std::move(*read);
  }
  auto affine = batchNormToAffine(values[0], values[1], values[2], values[3],
                                  op.getEpsilon().convertToDouble());
  if (!affine)
    return fail(affine.takeError());

  auto shapeOf = [](Value v) { return cast<RankedTensorType>(v.getType()).getShape(); };
  StagedBatchNorm staged{op, "", ""};
  staged.scaleName =
      edit.stageF32(op.getName().str() + "_scale", shapeOf(op.getScale()), affine->scale);
  staged.biasName =
      edit.stageF32(op.getName().str() + "_bias", shapeOf(op.getBias()), affine->bias);
  return staged;
}

void replaceByScale(const StagedBatchNorm &staged) {
  tpu::BatchNormOp op = staged.op;
  OpBuilder builder(op);
  Location loc = op.getLoc();
  auto scale = tpu::LoadWeightOp::create(builder, loc, op.getScale().getType(),
                                         builder.getStringAttr(staged.scaleName));
  auto bias = tpu::LoadWeightOp::create(builder, loc, op.getBias().getType(),
                                        builder.getStringAttr(staged.biasName));
  SmallVector<NamedAttribute> attrs(op->getDiscardableAttrs());
  auto replacement = tpu::ScaleOp::create(builder, loc, TypeRange{op.getType()},
                                          ValueRange{op.getInput(), scale, bias}, attrs);
  takeLayerIdentity(replacement, op);

  llvm::SetVector<Operation *> statistics;
  for (Value operand : {op.getMean(), op.getVariance(), op.getScale(), op.getBias()})
    statistics.insert(operand.getDefiningOp());
  op.replaceAllUsesWith(replacement.getOutput());
  op.erase();
  for (Operation *weight : statistics)
    if (weight->use_empty())
      weight->erase();
}

struct ConvertBnToScalePass : tpuc::impl::ConvertBnToScaleBase<ConvertBnToScalePass> {
  using Base::Base;

  void runOnOperation() override {
    ModuleOp module = getOperation();
    SmallVector<tpu::BatchNormOp> candidates;
    module.walk([&](tpu::BatchNormOp op) {
      if (hasConstantStatistics(op))
        candidates.push_back(op);
    });
    if (candidates.empty())
      return;

    WeightEdit edit(module);
    std::vector<StagedBatchNorm> staged;
    bool failed = false;
    for (tpu::BatchNormOp op : candidates) {
      FailureOr<StagedBatchNorm> one = stageFoldedWeights(op, edit);
      if (mlir::failed(one))
        failed = true;
      else
        staged.push_back(*one);
    }
    if (failed)
      return signalPassFailure();
    if (llvm::Error error = edit.commit("bn_to_scale", weightOutput)) {
      emitError(module.getLoc(), "convert-bn-to-scale: ") << llvm::toString(std::move(error));
      return signalPassFailure();
    }
    for (const StagedBatchNorm &one : staged)
      replaceByScale(one);
  }
};

} // namespace
