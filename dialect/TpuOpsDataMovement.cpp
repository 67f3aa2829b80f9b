//===- TpuOpsDataMovement.cpp - ops that move or resize data --------------===//
//
// Result type inference (with every rule) of concat, permute, pad, upsample, pixel_shuffle,
// reorg and shuffle_channel; verifiers of reshape, slice, crop and interp, whose result shape is
// given.
//
//===----------------------------------------------------------------------===//
#include "dialect/TpuOpsSupport.h"

#include "llvm/ADT/Twine.h"

using namespace mlir;
using namespace tpuc::tpu;
using namespace tpuc::tpu::detail;

namespace {

/// The types of an op's input and given result, both statically shaped tensors.
struct InputAndOutput {
  RankedTensorType input, output;
};

FailureOr<InputAndOutput> getInputAndOutput(Operation *op, const OpDiagnostics &diag) {
  FailureOr<RankedTensorType> input = getTensorType(diag, op->getOperand(0), "input");
  if (failed(input))
    return failure();
  FailureOr<RankedTensorType> output = getTensorType(diag, op->getResult(0), "output");
  if (failed(output) || failed(checkSameElementType(diag, *input, "input", *output, "output")))
    return failure();
  return InputAndOutput{*input, *output};
}

/// For slice and crop: offsets (and steps) with one entry per dimension, and a result of the
/// input's rank.
LogicalResult checkWindowRank(const OpDiagnostics &diag, const InputAndOutput &types,
                              ArrayRef<int64_t> offsets) {
  int64_t rank = types.input.getRank();
  if (types.output.getRank() != rank)
    return diag.error("output rank ", types.output.getRank(), " must equal the input rank ", rank);
  if (failed(checkArraySize(diag, offsets, rank, "offsets", "one per dimension")) ||
      failed(checkPositive(diag, offsets, "offsets", /*allowZero=*/true)))
    return failure();
  return success();
}

} // namespace

LogicalResult ConcatOp::inferReturnTypes(MLIRContext *, std::optional<Location> loc,
                                         Adaptor adaptor, SmallVectorImpl<Type> &types) {
  OpDiagnostics diag = inferenceDiagnostics<ConcatOp>(loc);
  if (failed(verifyAdaptor(adaptor, loc)))
    return failure();
  ValueRange inputs = adaptor.getInputs();
  if (inputs.empty())
    return diag.error("needs at least 1 input");
  FailureOr<RankedTensorType> first = getTensorType(diag, inputs[0], "input 0");
  if (failed(first))
    return failure();
  int64_t rank = first->getRank();
  FailureOr<int64_t> axis = normalizeAxis(diag, static_cast<int64_t>(adaptor.getAxis()), rank);
  if (failed(axis))
    return failure();
  SmallVector<int64_t> shape(first->getShape());
  for (size_t i = 1; i < inputs.size(); ++i) {
    std::string name = ("input " + Twine(i)).str();
    FailureOr<RankedTensorType> type = getTensorType(diag, inputs[i], name);
    if (failed(type) || failed(checkSameElementType(diag, *first, "input 0", *type, name)))
      return failure();
    if (type->getRank() != rank)
      return diag.error(name, " has rank ", type->getRank(), " but input 0 has rank ", rank);
    for (int64_t d = 0; d < rank; ++d)
      if (d != *axis && type->getDimSize(d) != shape[d])
        return diag.error(name, " shape [", type->getShape(), "] differs from input 0 shape [",
                          first->getShape(), "] in dimension ", d, ", which is not the axis ",
                          *axis);
    shape[*axis] += type->getDimSize(*axis);
  }
  types.push_back(tensorLike(shape, *first));
  return success();
}

LogicalResult ReshapeOp::verify() {
  OpDiagnostics diag(getOperation());
  FailureOr<InputAndOutput> types = getInputAndOutput(getOperation(), diag);
  if (failed(types))
    return failure();
  if (types->input.getNumElements() != types->output.getNumElements())
    return emitOpError("output [")
           << types->output.getShape() << "] has " << types->output.getNumElements()
           << " elements but the input [" << types->input.getShape() << "] has "
           << types->input.getNumElements();
  return success();
}

LogicalResult PermuteOp::inferReturnTypes(MLIRContext *, std::optional<Location> loc,
                                          Adaptor adaptor, SmallVectorImpl<Type> &types) {
  OpDiagnostics diag = inferenceDiagnostics<PermuteOp>(loc);
  if (failed(verifyAdaptor(adaptor, loc)))
    return failure();
  FailureOr<RankedTensorType> input = getTensorType(diag, adaptor.getInput(), "input");
  if (failed(input))
    return failure();
  ArrayRef<int64_t> order = adaptor.getOrder();
  if (failed(checkArraySize(diag, order, input->getRank(), "order", "one per dimension")) ||
      failed(checkPermutation(diag, order, "order")))
    return failure();
  SmallVector<int64_t> shape;
  for (int64_t dim : order)
    shape.push_back(input->getDimSize(dim));
  types.push_back(tensorLike(shape, *input));
  return success();
}

LogicalResult SliceOp::verify() {
  OpDiagnostics diag(getOperation());
  FailureOr<InputAndOutput> types = getInputAndOutput(getOperation(), diag);
  if (failed(types) || failed(checkWindowRank(diag, *types, getOffsets())))
    return failure();
  ArrayRef<int64_t> steps = getSteps();
  if (failed(checkArraySize(diag, steps, types->input.getRank(), "steps", "one per dimension")) ||
      failed(checkPositive(diag, steps, "steps")))
    return failure();
  for (int64_t d = 0; d < types->input.getRank(); ++d) {
    int64_t size = types->output.getDimSize(d), inputSize = types->input.getDimSize(d);
    int64_t last = getOffsets()[d] + (size - 1) * steps[d];
    if (size > 0 && last >= inputSize)
      return emitOpError("slice of dimension ")
             << d << " reads index " << last << " (offset " << getOffsets()[d] << ", step "
             << steps[d] << ", size " << size << "), beyond the input size " << inputSize;
  }
  return success();
}

LogicalResult CropOp::verify() {
  OpDiagnostics diag(getOperation());
  FailureOr<InputAndOutput> types = getInputAndOutput(getOperation(), diag);
  if (failed(types) || failed(checkWindowRank(diag, *types, getOffsets())))
    return failure();
  for (int64_t d = 0; d < types->input.getRank(); ++d) {
    int64_t end = getOffsets()[d] + types->output.getDimSize(d);
    if (end > types->input.getDimSize(d))
      return emitOpError("crop of dimension ")
             << d << " ends at " << end << " (offset " << getOffsets()[d] << " + size "
             << types->output.getDimSize(d) << "), beyond the input size "
             << types->input.getDimSize(d);
  }
  return success();
}

LogicalResult PadOp::inferReturnTypes(MLIRContext *, std::optional<Location> loc, Adaptor adaptor,
                                      SmallVectorImpl<Type> &types) {
  OpDiagnostics diag = inferenceDiagnostics<PadOp>(loc);
  if (failed(verifyAdaptor(adaptor, loc)))
    return failure();
  FailureOr<RankedTensorType> input = getTensorType(diag, adaptor.getInput(), "input");
  if (failed(input))
    return failure();
  int64_t rank = input->getRank();
  ArrayRef<int64_t> pads = adaptor.getPads();
  StringRef mode = adaptor.getMode();
  if (failed(checkArraySize(diag, pads, 2 * rank, "pads", "before and after each dimension")) ||
      failed(checkPositive(diag, pads, "pads", /*allowZero=*/true)) ||
      failed(checkOneOf(diag, mode, {"constant", "reflect", "edge"}, "mode")))
    return failure();
  if (adaptor.getConstVal().isNaN())
    return diag.error("const_val must not be NaN");
  SmallVector<int64_t> shape;
  for (int64_t d = 0; d < rank; ++d) {
    int64_t size = input->getDimSize(d);
    if (mode == "reflect" && (pads[d] >= size || pads[rank + d] >= size))
      return diag.error("reflect pads ", pads[d], " and ", pads[rank + d], " of dimension ", d,
                        " must be smaller than its size ", size);
    if (mode == "edge" && size == 0 && pads[d] + pads[rank + d] > 0)
      return diag.error("edge padding needs a non-empty dimension ", d);
    shape.push_back(size + pads[d] + pads[rank + d]);
  }
  types.push_back(tensorLike(shape, *input));
  return success();
}

LogicalResult UpsampleOp::inferReturnTypes(MLIRContext *, std::optional<Location> loc,
                                           Adaptor adaptor, SmallVectorImpl<Type> &types) {
  OpDiagnostics diag = inferenceDiagnostics<UpsampleOp>(loc);
  if (failed(verifyAdaptor(adaptor, loc)))
    return failure();
  FailureOr<RankedTensorType> input = getTensorOfRank(diag, adaptor.getInput(), "input", 4, "NCHW");
  if (failed(input))
    return failure();
  int64_t scaleH = adaptor.getScaleH(), scaleW = adaptor.getScaleW();
  if (scaleH <= 0 || scaleW <= 0)
    return diag.error("scale_h and scale_w must be positive, got ", scaleH, " and ", scaleW);
  ArrayRef<int64_t> in = input->getShape();
  types.push_back(tensorLike({in[0], in[1], in[2] * scaleH, in[3] * scaleW}, *input));
  return success();
}

LogicalResult InterpOp::verify() {
  OpDiagnostics diag(getOperation());
  FailureOr<RankedTensorType> input = getTensorOfRank(diag, getInput(), "input", 4, "NCHW");
  if (failed(input))
    return failure();
  FailureOr<RankedTensorType> output = getTensorOfRank(diag, getOutput(), "output", 4, "NCHW");
  if (failed(output) || failed(checkSameElementType(diag, *input, "input", *output, "output")))
    return failure();
  if (input->getDimSize(0) != output->getDimSize(0) ||
      input->getDimSize(1) != output->getDimSize(1))
    return emitOpError("output [") << output->getShape() << "] must keep N and C of the input ["
                                   << input->getShape() << "]";
  if (failed(checkOneOf(diag, getMode(), {"nearest", "bilinear"}, "mode")) ||
      failed(checkOneOf(diag, getCoordinateTransformationMode(),
                        {"half_pixel", "pytorch_half_pixel", "align_corners", "asymmetric"},
                        "coordinate_transformation_mode")))
    return failure();
  return success();
}

LogicalResult PixelShuffleOp::inferReturnTypes(MLIRContext *, std::optional<Location> loc,
                                               Adaptor adaptor, SmallVectorImpl<Type> &types) {
  OpDiagnostics diag = inferenceDiagnostics<PixelShuffleOp>(loc);
  if (failed(verifyAdaptor(adaptor, loc)))
    return failure();
  FailureOr<RankedTensorType> input = getTensorOfRank(diag, adaptor.getInput(), "input", 4, "NCHW");
  if (failed(input) || failed(checkOneOf(diag, adaptor.getMode(), {"DCR", "CRD"}, "mode")))
    return failure();
  int64_t factor = adaptor.getUpscaleFactor();
  if (factor <= 0)
    return diag.error("upscale_factor must be positive, got ", factor);
  ArrayRef<int64_t> in = input->getShape();
  if (in[1] % (factor * factor) != 0)
    return diag.error("input channels ", in[1],
                      " must be divisible by upscale_factor^2 = ", factor * factor);
  types.push_back(
      tensorLike({in[0], in[1] / (factor * factor), in[2] * factor, in[3] * factor}, *input));
  return success();
}

LogicalResult ReorgOp::inferReturnTypes(MLIRContext *, std::optional<Location> loc, Adaptor adaptor,
                                        SmallVectorImpl<Type> &types) {
  OpDiagnostics diag = inferenceDiagnostics<ReorgOp>(loc);
  if (failed(verifyAdaptor(adaptor, loc)))
    return failure();
  FailureOr<RankedTensorType> input = getTensorOfRank(diag, adaptor.getInput(), "input", 4, "NCHW");
  if (failed(input))
    return failure();
  int64_t stride = adaptor.getStride();
  if (stride <= 0)
    return diag.error("stride must be positive, got ", stride);
  ArrayRef<int64_t> in = input->getShape();
  if (in[2] % stride != 0 || in[3] % stride != 0)
    return diag.error("input height ", in[2], " and width ", in[3],
                      " must be divisible by the stride ", stride);
  types.push_back(
      tensorLike({in[0], in[1] * stride * stride, in[2] / stride, in[3] / stride}, *input));
  return success();
}

LogicalResult ShuffleChannelOp::inferReturnTypes(MLIRContext *, std::optional<Location> loc,
                                                 Adaptor adaptor, SmallVectorImpl<Type> &types) {
  OpDiagnostics diag = inferenceDiagnostics<ShuffleChannelOp>(loc);
  if (failed(verifyAdaptor(adaptor, loc)))
    return failure();
  FailureOr<RankedTensorType> input = getTensorOfMinRank(diag, adaptor.getInput(), "input", 2);
  if (failed(input))
    return failure();
  int64_t group = adaptor.getGroup(), channels = input->getDimSize(1);
  if (group <= 0 || channels % group != 0)
    return diag.error("group ", group, " must be positive and divide the channels ", channels);
  types.push_back(*input);
  return success();
}
