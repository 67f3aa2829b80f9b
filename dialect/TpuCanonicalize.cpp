//===- TpuCanonicalize.cpp - canonicalization patterns and folders of tpu ops -===//
//
// Graph simplifications that --canonicalize applies:
//  - tpu.scale / tpu.batch_norm after a conv_2d with one user fold into the conv's weights, and
//    tpu.relu fuses into a producer with a `do_relu` flag (both only on layers not quantized
//    yet, quant mode NONE); relu of relu is one relu;
//  - reshape of reshape is one reshape; ops that do nothing fold to their input (reshape to the
//    same type, identity permute, whole-tensor slice and crop, zero pads, 1x1 upsample,
//    single-input concat, 1x1/stride-1 pooling, factor-1 pixel shuffle and reorg, one-group
//    channel shuffle).
// When an op takes over the result of another, it takes that op's name, layer id and quant
// state: the tensor keeps its name for dumps and calibration tables.
//
//===----------------------------------------------------------------------===//
#include "dialect/TpuOps.h"
#include "passes/support/AffineFolding.h"
#include "passes/support/LayerAttrs.h"
#include "passes/support/ModuleWeights.h"

#include "mlir/IR/BuiltinOps.h"
#include "mlir/IR/PatternMatch.h"
#include "llvm/ADT/StringSet.h"

#include <mutex>

using namespace mlir;
using namespace tpuc::tpu;

//===----------------------------------------------------------------------===//
// Folding per-channel affine layers into conv_2d
//===----------------------------------------------------------------------===//

namespace {

/// Reports a fold that could not be done because of the weights, once per layer and message
/// (the rewrite driver retries patterns on every iteration).
void warnFoldFailure(Operation *op, llvm::Error error) {
  static std::mutex mutex;
  static llvm::StringSet<> reported;
  StringRef layer = cast<TpuLayerOp>(op).getLayerName();
  std::string message = llvm::toString(std::move(error));
  std::lock_guard<std::mutex> lock(mutex);
  if (reported.insert((layer + "\n" + message).str()).second)
    op->emitWarning("canonicalize: '") << layer << "' not folded into its convolution: " << message;
}

/// True for a layer not quantized yet (quant mode NONE): the graph folds work on fp32 layers,
/// whose quantization parameters do not have to be recomputed.
bool isFloatLayer(Operation *op) {
  auto layer = dyn_cast<TpuLayerOp>(op);
  return layer && layer.getQuantMode() == "NONE";
}

bool isF32Weight(Value value) {
  auto weight = value.getDefiningOp<LoadWeightOp>();
  return weight && cast<RankedTensorType>(weight.getType()).getElementType().isF32();
}

/// The conv_2d that per-channel affine layer `op` (scale or batch_norm) can fold into, judged
/// from the IR alone: both are not quantized, the conv has f32 load_weight filter and bias, no
/// fused relu and `op` as its only user, and `op`'s own factors are f32 load_weights.
Conv2DOp foldableConv(Operation *op) {
  if (!isFloatLayer(op))
    return {};
  Value input;
  if (auto scale = dyn_cast<ScaleOp>(op)) {
    if (!isF32Weight(scale.getScale()) || (scale.getBias() && !isF32Weight(scale.getBias())))
      return {};
    input = scale.getInput();
  } else if (auto batchNorm = dyn_cast<BatchNormOp>(op)) {
    Value statistics[] = {batchNorm.getMean(), batchNorm.getVariance(), batchNorm.getScale(),
                          batchNorm.getBias()};
    if (!llvm::all_of(statistics, isF32Weight))
      return {};
    input = batchNorm.getInput();
  } else {
    return {};
  }
  auto conv = input.getDefiningOp<Conv2DOp>();
  if (!conv || !isFloatLayer(conv) || !conv->hasOneUse() || conv.getDoRelu() ||
      !isF32Weight(conv.getFilter()) || (conv.getBias() && !isF32Weight(conv.getBias())))
    return {};
  return conv;
}

llvm::Expected<std::vector<float>> readWeight(tpuc::WeightEdit &edit, Value value) {
  return edit.readF32(value.getDefiningOp<LoadWeightOp>());
}

/// The per-channel map y = x * scale + bias of a scale or batch_norm op.
llvm::Expected<tpuc::ChannelAffine> readAffine(Operation *op, tpuc::WeightEdit &edit) {
  if (auto scaleOp = dyn_cast<ScaleOp>(op)) {
    auto scale = readWeight(edit, scaleOp.getScale());
    if (!scale)
      return scale.takeError();
    std::vector<float> bias(scale->size(), 0.0f);
    if (scaleOp.getBias()) {
      auto read = readWeight(edit, scaleOp.getBias());
      if (!read)
        return read.takeError();
      bias = std::move(*read);
    }
    if (bias.size() != scale->size())
      return llvm::createStringError("scale and bias have different sizes");
    return tpuc::ChannelAffine{std::move(*scale), std::move(bias)};
  }
  auto batchNorm = cast<BatchNormOp>(op);
  std::vector<float> values[4];
  Value statistics[] = {batchNorm.getMean(), batchNorm.getVariance(), batchNorm.getScale(),
                        batchNorm.getBias()};
  for (int i = 0; i < 4; ++i) {
    auto read = readWeight(edit, statistics[i]);
    if (!read)
      return read.takeError();
    values[i] = std::move(*read);
  }
  return tpuc::batchNormToAffine(values[0], values[1], values[2], values[3],
                                 batchNorm.getEpsilon().convertToDouble());
}

/// A fold whose weights are staged: `consumer(conv(x))` becomes a conv reading the arrays
/// `filterName` and `biasName`.
struct StagedFold {
  Operation *consumer;
  Conv2DOp conv;
  std::string filterName;
  std::string biasName;
};

RankedTensorType foldedBiasType(Conv2DOp conv) {
  if (Value bias = conv.getBias())
    return cast<RankedTensorType>(bias.getType());
  auto filterType = cast<RankedTensorType>(conv.getFilter().getType());
  return RankedTensorType::get({filterType.getDimSize(0)}, filterType.getElementType());
}

/// Computes the folded weights of `consumer` into `conv` and stages them.
llvm::Expected<StagedFold> stageFold(Operation *consumer, Conv2DOp conv, tpuc::WeightEdit &edit) {
  auto filterType = cast<RankedTensorType>(conv.getFilter().getType());
  int64_t channels = filterType.getDimSize(0);
  auto filter = readWeight(edit, conv.getFilter());
  if (!filter)
    return filter.takeError();
  std::vector<float> bias;
  if (conv.getBias()) {
    auto read = readWeight(edit, conv.getBias());
    if (!read)
      return read.takeError();
    bias = std::move(*read);
  }
  auto affine = readAffine(consumer, edit);
  if (!affine)
    return affine.takeError();
  if (static_cast<int64_t>(affine->scale.size()) != channels ||
      (!bias.empty() && static_cast<int64_t>(bias.size()) != channels))
    return llvm::createStringError("per-channel weights do not have one element per output "
                                   "channel (" +
                                   llvm::Twine(channels) + ")");
  tpuc::foldAffineIntoFilter(*filter, bias, *affine);
  StringRef layer = cast<TpuLayerOp>(consumer).getLayerName();
  StagedFold fold{consumer, conv, "", ""};
  fold.filterName = edit.stageF32(layer.str() + "_filter", filterType.getShape(), *filter);
  fold.biasName = edit.stageF32(layer.str() + "_bias", foldedBiasType(conv).getShape(), bias);
  return fold;
}

/// Replaces the consumer by a conv with the staged weights that takes its place (name, layer
/// id, quant; do_relu from a scale).
void applyFold(const StagedFold &fold, PatternRewriter &rewriter) {
  Conv2DOp conv = fold.conv;
  Operation *consumer = fold.consumer;
  rewriter.setInsertionPoint(conv);
  Location loc = rewriter.getFusedLoc({conv.getLoc(), consumer->getLoc()});
  auto filter = LoadWeightOp::create(rewriter, loc, conv.getFilter().getType(),
                                     rewriter.getStringAttr(fold.filterName));
  auto bias = LoadWeightOp::create(rewriter, loc, foldedBiasType(conv),
                                   rewriter.getStringAttr(fold.biasName));
  SmallVector<NamedAttribute> attrs(conv->getAttrs());
  auto folded = Conv2DOp::create(rewriter, loc, TypeRange{consumer->getResult(0).getType()},
                                 ValueRange{conv.getInput(), filter, bias}, attrs);
  tpuc::takeLayerIdentity(folded, consumer);
  auto scale = dyn_cast<ScaleOp>(consumer);
  folded.setDoRelu(scale && scale.getDoRelu());
  rewriter.replaceOp(consumer, folded->getResults());
  rewriter.eraseOp(conv);
}

/// Folds a tpu.scale or tpu.batch_norm into the conv_2d before it (see foldableConv).
///
/// Rewriting weights means writing a new weight file, so one application folds every candidate
/// of the enclosing isolated region (the function) at once and writes the file once; the region
/// bound keeps this safe when functions are canonicalized in parallel.
template <typename OpTy> struct FoldAffineIntoConv : OpRewritePattern<OpTy> {
  using OpRewritePattern<OpTy>::OpRewritePattern;

  LogicalResult matchAndRewrite(OpTy op, PatternRewriter &rewriter) const override {
    if (!foldableConv(op))
      return rewriter.notifyMatchFailure(op, "no single-user f32 conv_2d with f32 weights");
    auto module = op->template getParentOfType<ModuleOp>();
    Operation *scope = op->template getParentWithTrait<OpTrait::IsIsolatedFromAbove>();
    if (!module || !scope)
      return rewriter.notifyMatchFailure(op, "not inside a module");

    SmallVector<std::pair<Operation *, Conv2DOp>> candidates;
    scope->walk([&](Operation *consumer) {
      if (isa<ScaleOp, BatchNormOp>(consumer))
        if (Conv2DOp conv = foldableConv(consumer))
          candidates.push_back({consumer, conv});
    });
    std::vector<StagedFold> folds;
    {
      tpuc::WeightEdit edit(module);
      for (auto [consumer, conv] : candidates) {
        auto fold = stageFold(consumer, conv, edit);
        if (fold)
          folds.push_back(std::move(*fold));
        else
          warnFoldFailure(consumer, fold.takeError());
      }
      if (folds.empty())
        return failure();
      if (llvm::Error error = edit.commit("fold")) {
        warnFoldFailure(op, std::move(error));
        return failure();
      }
    }
    for (const StagedFold &fold : folds)
      applyFold(fold, rewriter);
    return success();
  }
};

//===----------------------------------------------------------------------===//
// ReLU
//===----------------------------------------------------------------------===//

/// relu(producer) -> producer with do_relu, for producers that have the flag.
struct FuseReluIntoProducer : OpRewritePattern<ReluOp> {
  using OpRewritePattern::OpRewritePattern;

  LogicalResult matchAndRewrite(ReluOp op, PatternRewriter &rewriter) const override {
    Operation *producer = op.getInput().getDefiningOp();
    if (!producer ||
        !isa<Conv2DOp, DeConv2DOp, FullyConnectedOp, MatMulOp, EltwiseAddOp, EltwiseMulOp,
             EltwiseMaxOp, EltwiseMinOp, ScaleOp, BroadcastMulOp, PoolMax2DOp, PoolAvg2DOp>(
            producer))
      return rewriter.notifyMatchFailure(op, "producer has no do_relu flag");
    if (!isFloatLayer(op) || !isFloatLayer(producer))
      return rewriter.notifyMatchFailure(op, "quantized layers keep their relu");
    auto doRelu = producer->getAttrOfType<BoolAttr>("do_relu");
    bool alreadyRelu = doRelu && doRelu.getValue();
    // The producer's result stays visible to its other users: only an already rectified
    // result may be shared.
    if (!producer->hasOneUse() && !alreadyRelu)
      return rewriter.notifyMatchFailure(op, "producer has other users");
    if (producer->hasOneUse())
      rewriter.modifyOpInPlace(producer, [&] {
        producer->setAttr("do_relu", rewriter.getBoolAttr(true));
        tpuc::takeLayerIdentity(producer, op);
      });
    rewriter.replaceOp(op, producer->getResults());
    return success();
  }
};

/// relu(relu(x)) -> relu(x): the outer relu reads x directly (and keeps its name).
struct ReluOfRelu : OpRewritePattern<ReluOp> {
  using OpRewritePattern::OpRewritePattern;

  LogicalResult matchAndRewrite(ReluOp op, PatternRewriter &rewriter) const override {
    auto inner = op.getInput().getDefiningOp<ReluOp>();
    if (!inner)
      return rewriter.notifyMatchFailure(op, "input is not a relu");
    rewriter.modifyOpInPlace(op, [&] { op.getInputMutable().assign(inner.getInput()); });
    return success();
  }
};

//===----------------------------------------------------------------------===//
// Reshape
//===----------------------------------------------------------------------===//

/// reshape(reshape(x)) -> reshape(x).
struct ReshapeOfReshape : OpRewritePattern<ReshapeOp> {
  using OpRewritePattern::OpRewritePattern;

  LogicalResult matchAndRewrite(ReshapeOp op, PatternRewriter &rewriter) const override {
    auto inner = op.getInput().getDefiningOp<ReshapeOp>();
    if (!inner)
      return rewriter.notifyMatchFailure(op, "input is not a reshape");
    rewriter.modifyOpInPlace(op, [&] { op.getInputMutable().assign(inner.getInput()); });
    return success();
  }
};

//===----------------------------------------------------------------------===//
// Folders of ops that do nothing
//===----------------------------------------------------------------------===//

bool allEqual(ArrayRef<int64_t> values, int64_t expected) {
  return llvm::all_of(values, [&](int64_t v) { return v == expected; });
}

/// `input` when the op's result has the input's type and `isIdentity` holds.
OpFoldResult foldIdentity(Operation *op, Value input, bool isIdentity) {
  if (isIdentity && input.getType() == op->getResult(0).getType())
    return input;
  return {};
}

bool isIdentityPool(ArrayRef<int64_t> kernel, ArrayRef<int64_t> strides, ArrayRef<int64_t> pads,
                    bool doRelu) {
  return allEqual(kernel, 1) && allEqual(strides, 1) && allEqual(pads, 0) && !doRelu;
}

} // namespace

void ScaleOp::getCanonicalizationPatterns(RewritePatternSet &patterns, MLIRContext *context) {
  patterns.add<FoldAffineIntoConv<ScaleOp>>(context);
}

void BatchNormOp::getCanonicalizationPatterns(RewritePatternSet &patterns, MLIRContext *context) {
  patterns.add<FoldAffineIntoConv<BatchNormOp>>(context);
}

void ReluOp::getCanonicalizationPatterns(RewritePatternSet &patterns, MLIRContext *context) {
  patterns.add<FuseReluIntoProducer, ReluOfRelu>(context);
}

void ReshapeOp::getCanonicalizationPatterns(RewritePatternSet &patterns, MLIRContext *context) {
  patterns.add<ReshapeOfReshape>(context);
}

OpFoldResult ReshapeOp::fold(FoldAdaptor) { return foldIdentity(*this, getInput(), true); }

OpFoldResult PermuteOp::fold(FoldAdaptor) {
  ArrayRef<int64_t> order = getOrder();
  bool identity = true;
  for (auto [i, dim] : llvm::enumerate(order))
    identity &= dim == static_cast<int64_t>(i);
  return foldIdentity(*this, getInput(), identity);
}

OpFoldResult SliceOp::fold(FoldAdaptor) {
  return foldIdentity(*this, getInput(), allEqual(getOffsets(), 0) && allEqual(getSteps(), 1));
}

OpFoldResult CropOp::fold(FoldAdaptor) {
  return foldIdentity(*this, getInput(), allEqual(getOffsets(), 0));
}

OpFoldResult PadOp::fold(FoldAdaptor) {
  return foldIdentity(*this, getInput(), allEqual(getPads(), 0));
}

OpFoldResult UpsampleOp::fold(FoldAdaptor) {
  return foldIdentity(*this, getInput(), getScaleH() == 1 && getScaleW() == 1);
}

OpFoldResult ConcatOp::fold(FoldAdaptor) {
  if (getInputs().size() != 1)
    return {};
  return foldIdentity(*this, getInputs().front(), true);
}

OpFoldResult PoolMax2DOp::fold(FoldAdaptor) {
  return foldIdentity(*this, getInput(),
                      isIdentityPool(getKernelShape(), getStrides(), getPads(), getDoRelu()));
}

OpFoldResult PoolAvg2DOp::fold(FoldAdaptor) {
  return foldIdentity(*this, getInput(),
                      isIdentityPool(getKernelShape(), getStrides(), getPads(), getDoRelu()));
}

OpFoldResult PixelShuffleOp::fold(FoldAdaptor) {
  return foldIdentity(*this, getInput(), getUpscaleFactor() == 1);
}

OpFoldResult ReorgOp::fold(FoldAdaptor) {
  return foldIdentity(*this, getInput(), getStride() == 1);
}

OpFoldResult ShuffleChannelOp::fold(FoldAdaptor) {
  auto type = cast<RankedTensorType>(getInput().getType());
  int64_t group = getGroup();
  bool identity = group == 1 || (type.getRank() >= 2 && group == type.getDimSize(1));
  return foldIdentity(*this, getInput(), identity);
}
