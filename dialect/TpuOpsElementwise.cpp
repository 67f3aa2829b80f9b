//===- TpuOpsElementwise.cpp - element-wise and per-channel ops -----------===//
//
// Verifiers of the unary ops with parameters, and result type inference (with every rule) of
// eltwise_*, broadcast_mul, batch_norm, scale, prelu, lrn, lrn_part, normalize, softmax and
// reduce_mean.
//
//===----------------------------------------------------------------------===//
#include "dialect/TpuOpsSupport.h"

#include "llvm/ADT/SmallBitVector.h"
#include "llvm/ADT/Twine.h"

using namespace mlir;
using namespace tpuc::tpu;
using namespace tpuc::tpu::detail;

namespace {

/// Requires a float attribute to be finite (not NaN, not infinite).
LogicalResult checkFinite(const OpDiagnostics &diag, const APFloat &value, StringRef what) {
  if (value.isFinite())
    return success();
  return diag.error(what, " must be finite, got ", formatFloat(value));
}

/// Requires a float attribute to be finite and >= 0.
LogicalResult checkNonNegative(const OpDiagnostics &diag, const APFloat &value, StringRef what) {
  if (value.isFinite() && !value.isNegative())
    return success();
  return diag.error(what, " must be finite and non-negative, got ", formatFloat(value));
}

/// The shape of an element-wise op over `inputs`: at least two inputs of one element type whose
/// shapes broadcast.
FailureOr<RankedTensorType> inferEltwise(const OpDiagnostics &diag, ValueRange inputs) {
  if (inputs.size() < 2)
    return diag.error("needs at least 2 inputs, got ", static_cast<int64_t>(inputs.size()));
  FailureOr<RankedTensorType> first = getTensorType(diag, inputs[0], "input 0");
  if (failed(first))
    return failure();
  SmallVector<int64_t> shape(first->getShape());
  for (size_t i = 1; i < inputs.size(); ++i) {
    std::string name = ("input " + Twine(i)).str();
    FailureOr<RankedTensorType> type = getTensorType(diag, inputs[i], name);
    if (failed(type) || failed(checkSameElementType(diag, *first, "input 0", *type, name)))
      return failure();
    FailureOr<SmallVector<int64_t>> broadcast =
        broadcastShapes(diag, shape, type->getShape(), "input");
    if (failed(broadcast))
      return failure();
    shape = std::move(*broadcast);
  }
  return tensorLike(shape, *first);
}

/// The local_size of lrn and lrn_part: positive and odd (a window centred on the channel).
LogicalResult checkLocalSize(const OpDiagnostics &diag, int64_t localSize) {
  if (localSize > 0 && localSize % 2 == 1)
    return success();
  return diag.error("local_size must be positive and odd, got ", localSize);
}

LogicalResult checkLrnParams(const OpDiagnostics &diag, int64_t localSize, const APFloat &alpha,
                             const APFloat &beta, const APFloat &k) {
  if (failed(checkLocalSize(diag, localSize)) || failed(checkFinite(diag, alpha, "alpha")) ||
      failed(checkFinite(diag, beta, "beta")) || failed(checkFinite(diag, k, "k")))
    return failure();
  return success();
}

/// The input of a per-channel layer: rank 2 or more, channels in dimension 1.
FailureOr<RankedTensorType> perChannelInput(const OpDiagnostics &diag, Value input) {
  return getTensorOfMinRank(diag, input, "input", 2);
}

} // namespace

//===----------------------------------------------------------------------===//
// Unary ops with parameters
//===----------------------------------------------------------------------===//

LogicalResult HardSigmoidOp::verify() {
  OpDiagnostics diag(getOperation());
  if (failed(checkFinite(diag, getAlpha(), "alpha")) ||
      failed(checkFinite(diag, getBeta(), "beta")))
    return failure();
  return success();
}

LogicalResult LeakyReluOp::verify() {
  return checkFinite(OpDiagnostics(getOperation()), getNegativeSlope(), "negative_slope");
}

LogicalResult ClipOp::verify() {
  APFloat min = getMin(), max = getMax();
  if (min.isNaN() || max.isNaN())
    return emitOpError("min and max must not be NaN");
  if (min.compare(max) == APFloat::cmpGreaterThan)
    return emitOpError("min ") << formatFloat(min) << " must not exceed max " << formatFloat(max);
  return success();
}

LogicalResult PowerOp::verify() {
  OpDiagnostics diag(getOperation());
  if (failed(checkFinite(diag, getPower(), "power")) ||
      failed(checkFinite(diag, getScale(), "scale")) ||
      failed(checkFinite(diag, getShift(), "shift")))
    return failure();
  return success();
}

//===----------------------------------------------------------------------===//
// Element-wise ops over several inputs
//===----------------------------------------------------------------------===//

LogicalResult EltwiseAddOp::inferReturnTypes(MLIRContext *, std::optional<Location> loc,
                                             Adaptor adaptor, SmallVectorImpl<Type> &types) {
  OpDiagnostics diag = inferenceDiagnostics<EltwiseAddOp>(loc);
  if (failed(verifyAdaptor(adaptor, loc)))
    return failure();
  FailureOr<RankedTensorType> type = inferEltwise(diag, adaptor.getInputs());
  if (failed(type))
    return failure();
  if (std::optional<ArrayRef<float>> coeff = adaptor.getCoeff();
      coeff && coeff->size() != adaptor.getInputs().size())
    return diag.error("coeff must have ", static_cast<int64_t>(adaptor.getInputs().size()),
                      " entries (one per input), got ", static_cast<int64_t>(coeff->size()));
  types.push_back(*type);
  return success();
}

// Result type of the eltwise ops that have no attribute beyond their inputs: the broadcast shape.
template <typename OpT>
static LogicalResult inferPlainEltwise(std::optional<Location> loc, typename OpT::Adaptor &adaptor,
                                       SmallVectorImpl<Type> &types) {
  OpDiagnostics diag = inferenceDiagnostics<OpT>(loc);
  if (failed(verifyAdaptor(adaptor, loc)))
    return failure();
  FailureOr<RankedTensorType> type = inferEltwise(diag, adaptor.getInputs());
  if (failed(type))
    return failure();
  types.push_back(*type);
  return success();
}

LogicalResult EltwiseMulOp::inferReturnTypes(MLIRContext *, std::optional<Location> loc,
                                             Adaptor adaptor, SmallVectorImpl<Type> &types) {
  return inferPlainEltwise<EltwiseMulOp>(loc, adaptor, types);
}

LogicalResult EltwiseMaxOp::inferReturnTypes(MLIRContext *, std::optional<Location> loc,
                                             Adaptor adaptor, SmallVectorImpl<Type> &types) {
  return inferPlainEltwise<EltwiseMaxOp>(loc, adaptor, types);
}

LogicalResult EltwiseMinOp::inferReturnTypes(MLIRContext *, std::optional<Location> loc,
                                             Adaptor adaptor, SmallVectorImpl<Type> &types) {
  return inferPlainEltwise<EltwiseMinOp>(loc, adaptor, types);
}

LogicalResult BroadcastMulOp::inferReturnTypes(MLIRContext *, std::optional<Location> loc,
                                               Adaptor adaptor, SmallVectorImpl<Type> &types) {
  OpDiagnostics diag = inferenceDiagnostics<BroadcastMulOp>(loc);
  if (failed(verifyAdaptor(adaptor, loc)))
    return failure();
  FailureOr<RankedTensorType> input = getTensorType(diag, adaptor.getInput(), "input");
  if (failed(input))
    return failure();
  FailureOr<RankedTensorType> scale = getTensorType(diag, adaptor.getScale(), "scale");
  if (failed(scale) || failed(checkSameElementType(diag, *input, "input", *scale, "scale")))
    return failure();
  int64_t rank = input->getRank();
  FailureOr<int64_t> axis = normalizeAxis(diag, adaptor.getAxis(), rank);
  if (failed(axis))
    return failure();
  ArrayRef<int64_t> in = input->getShape(), sc = scale->getShape();
  FailureOr<SmallVector<int64_t>> broadcast = broadcastShapes(diag, in, sc, "input and scale");
  if (failed(broadcast))
    return failure();
  if (ArrayRef<int64_t>(*broadcast) != in)
    return diag.error("scale [", sc, "] must broadcast to the input shape [", in,
                      "] without enlarging it");
  int64_t scaleDim = *axis - (rank - scale->getRank());
  if (scaleDim < 0 || sc[scaleDim] != in[*axis])
    return diag.error("scale [", sc, "] must cover axis ", *axis, " with the input's size ",
                      in[*axis]);
  types.push_back(*input);
  return success();
}

//===----------------------------------------------------------------------===//
// Per-channel ops
//===----------------------------------------------------------------------===//

LogicalResult BatchNormOp::inferReturnTypes(MLIRContext *, std::optional<Location> loc,
                                            Adaptor adaptor, SmallVectorImpl<Type> &types) {
  OpDiagnostics diag = inferenceDiagnostics<BatchNormOp>(loc);
  if (failed(verifyAdaptor(adaptor, loc)))
    return failure();
  FailureOr<RankedTensorType> input = perChannelInput(diag, adaptor.getInput());
  if (failed(input))
    return failure();
  int64_t channels = input->getDimSize(1);
  if (failed(checkPerChannel(diag, adaptor.getMean(), "mean", channels)) ||
      failed(checkPerChannel(diag, adaptor.getVariance(), "variance", channels)) ||
      failed(checkPerChannel(diag, adaptor.getScale(), "scale", channels)) ||
      failed(checkPerChannel(diag, adaptor.getBias(), "bias", channels)) ||
      failed(checkNonNegative(diag, adaptor.getEpsilon(), "epsilon")))
    return failure();
  types.push_back(*input);
  return success();
}

LogicalResult ScaleOp::inferReturnTypes(MLIRContext *, std::optional<Location> loc, Adaptor adaptor,
                                        SmallVectorImpl<Type> &types) {
  OpDiagnostics diag = inferenceDiagnostics<ScaleOp>(loc);
  if (failed(verifyAdaptor(adaptor, loc)))
    return failure();
  FailureOr<RankedTensorType> input = perChannelInput(diag, adaptor.getInput());
  if (failed(input))
    return failure();
  int64_t channels = input->getDimSize(1);
  if (failed(checkPerChannel(diag, adaptor.getScale(), "scale", channels)))
    return failure();
  if (Value bias = adaptor.getBias(); bias && failed(checkPerChannel(diag, bias, "bias", channels)))
    return failure();
  types.push_back(*input);
  return success();
}

LogicalResult PReluOp::inferReturnTypes(MLIRContext *, std::optional<Location> loc, Adaptor adaptor,
                                        SmallVectorImpl<Type> &types) {
  OpDiagnostics diag = inferenceDiagnostics<PReluOp>(loc);
  if (failed(verifyAdaptor(adaptor, loc)))
    return failure();
  FailureOr<RankedTensorType> input = perChannelInput(diag, adaptor.getInput());
  if (failed(input) ||
      failed(checkPerChannel(diag, adaptor.getSlope(), "slope", input->getDimSize(1))))
    return failure();
  types.push_back(*input);
  return success();
}

LogicalResult LrnOp::inferReturnTypes(MLIRContext *, std::optional<Location> loc, Adaptor adaptor,
                                      SmallVectorImpl<Type> &types) {
  OpDiagnostics diag = inferenceDiagnostics<LrnOp>(loc);
  if (failed(verifyAdaptor(adaptor, loc)))
    return failure();
  FailureOr<RankedTensorType> input = getTensorOfRank(diag, adaptor.getInput(), "input", 4, "NCHW");
  if (failed(input) || failed(checkLrnParams(diag, adaptor.getLocalSize(), adaptor.getAlpha(),
                                             adaptor.getBeta(), adaptor.getK())))
    return failure();
  types.push_back(*input);
  return success();
}

LogicalResult LrnPartOp::inferReturnTypes(MLIRContext *, std::optional<Location> loc,
                                          Adaptor adaptor, SmallVectorImpl<Type> &types) {
  OpDiagnostics diag = inferenceDiagnostics<LrnPartOp>(loc);
  if (failed(verifyAdaptor(adaptor, loc)))
    return failure();
  FailureOr<RankedTensorType> input = getTensorOfRank(diag, adaptor.getInput(), "input", 4, "NCHW");
  if (failed(input))
    return failure();
  int64_t part = adaptor.getPart();
  if (part < 1 || part > 3)
    return diag.error("part must be 1 (x^2 table), 2 (channel sum) or 3 (power table), got ", part);
  if (failed(checkLrnParams(diag, adaptor.getLocalSize(), adaptor.getAlpha(), adaptor.getBeta(),
                            adaptor.getK())))
    return failure();
  types.push_back(*input);
  return success();
}

LogicalResult NormalizeOp::inferReturnTypes(MLIRContext *, std::optional<Location> loc,
                                            Adaptor adaptor, SmallVectorImpl<Type> &types) {
  OpDiagnostics diag = inferenceDiagnostics<NormalizeOp>(loc);
  if (failed(verifyAdaptor(adaptor, loc)))
    return failure();
  FailureOr<RankedTensorType> input = getTensorOfRank(diag, adaptor.getInput(), "input", 4, "NCHW");
  if (failed(input))
    return failure();
  FailureOr<RankedTensorType> scale = getTensorType(diag, adaptor.getScale(), "scale");
  if (failed(scale))
    return failure();
  int64_t expected = adaptor.getChannelShared() ? 1 : input->getDimSize(1);
  if (scale->getNumElements() != expected)
    return diag.error("scale must have ", expected, " element(s) (",
                      adaptor.getChannelShared() ? "channel_shared" : "one per channel", "), got ",
                      scale->getNumElements());
  if (failed(checkNonNegative(diag, adaptor.getEps(), "eps")))
    return failure();
  types.push_back(*input);
  return success();
}

//===----------------------------------------------------------------------===//
// Ops along axes
//===----------------------------------------------------------------------===//

LogicalResult SoftmaxOp::inferReturnTypes(MLIRContext *, std::optional<Location> loc,
                                          Adaptor adaptor, SmallVectorImpl<Type> &types) {
  OpDiagnostics diag = inferenceDiagnostics<SoftmaxOp>(loc);
  if (failed(verifyAdaptor(adaptor, loc)))
    return failure();
  FailureOr<RankedTensorType> input = getTensorType(diag, adaptor.getInput(), "input");
  if (failed(input) ||
      failed(normalizeAxis(diag, static_cast<int64_t>(adaptor.getAxis()), input->getRank())))
    return failure();
  types.push_back(*input);
  return success();
}

LogicalResult ReduceMeanOp::inferReturnTypes(MLIRContext *, std::optional<Location> loc,
                                             Adaptor adaptor, SmallVectorImpl<Type> &types) {
  OpDiagnostics diag = inferenceDiagnostics<ReduceMeanOp>(loc);
  if (failed(verifyAdaptor(adaptor, loc)))
    return failure();
  FailureOr<RankedTensorType> input = getTensorType(diag, adaptor.getInput(), "input");
  if (failed(input))
    return failure();
  ArrayRef<int64_t> axes = adaptor.getAxes();
  if (axes.empty())
    return diag.error("axes must not be empty");
  int64_t rank = input->getRank();
  llvm::SmallBitVector reduced(rank);
  for (int64_t axis : axes) {
    FailureOr<int64_t> normalized = normalizeAxis(diag, axis, rank);
    if (failed(normalized))
      return failure();
    if (reduced.test(*normalized))
      return diag.error("axes [", axes, "] name axis ", *normalized, " twice");
    reduced.set(*normalized);
  }
  SmallVector<int64_t> shape;
  for (int64_t i = 0; i < rank; ++i) {
    if (!reduced.test(i))
      shape.push_back(input->getDimSize(i));
    else if (adaptor.getKeepdims())
      shape.push_back(1);
  }
  types.push_back(tensorLike(shape, *input));
  return success();
}

LogicalResult ArgMaxOp::inferReturnTypes(MLIRContext *context, std::optional<Location> loc,
                                         Adaptor adaptor, SmallVectorImpl<Type> &types) {
  OpDiagnostics diag = inferenceDiagnostics<ArgMaxOp>(loc);
  if (failed(verifyAdaptor(adaptor, loc)))
    return failure();
  FailureOr<RankedTensorType> input = getTensorType(diag, adaptor.getInput(), "input");
  if (failed(input))
    return failure();
  FailureOr<int64_t> axis =
      normalizeAxis(diag, static_cast<int64_t>(adaptor.getAxis()), input->getRank());
  if (failed(axis))
    return failure();
  if (input->getDimSize(*axis) == 0)
    return diag.error("axis ", *axis, " is empty");
  SmallVector<int64_t> shape;
  for (int64_t i = 0; i < input->getRank(); ++i) {
    if (i != *axis)
      shape.push_back(input->getDimSize(i));
    else if (adaptor.getKeepdims())
      shape.push_back(1);
  }
  types.push_back(RankedTensorType::get(shape, Float32Type::get(context)));
  return success();
}
