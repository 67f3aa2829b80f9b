//===- TpuOpsConv.cpp - convolution, pooling and matrix product ops -------===//
//
// Result type inference (with every shape rule) of conv_2d, deconv_2d, pool_max_2d,
// pool_avg_2d, fully_connected and matmul.
//
//===----------------------------------------------------------------------===//
#include "dialect/TpuOpsSupport.h"

using namespace mlir;
using namespace tpuc::tpu;
using namespace tpuc::tpu::detail;

namespace {

/// The [h, w] window attributes of a 2-D convolution or pooling, checked.
struct Window2D {
  ArrayRef<int64_t> strides, pads, dilations;
};

LogicalResult checkWindow(const OpDiagnostics &diag, const Window2D &window) {
  if (failed(checkArraySize(diag, window.strides, 2, "strides", "[h, w]")) ||
      failed(checkPositive(diag, window.strides, "strides")) ||
      failed(checkArraySize(diag, window.dilations, 2, "dilations", "[h, w]")) ||
      failed(checkPositive(diag, window.dilations, "dilations")) ||
      failed(checkArraySize(diag, window.pads, 4, "pads", "[top, left, bottom, right]")) ||
      failed(checkPositive(diag, window.pads, "pads", /*allowZero=*/true)))
    return failure();
  return success();
}

/// Checks an optional bias of `channels` elements.
LogicalResult checkBias(const OpDiagnostics &diag, Value bias, int64_t channels) {
  if (!bias)
    return success();
  FailureOr<RankedTensorType> type = getTensorType(diag, bias, "bias");
  if (failed(type))
    return failure();
  if (type->getNumElements() != channels)
    return diag.error("bias must have ", channels, " elements (one per output channel), got ",
                      type->getNumElements());
  return success();
}

/// Output size of a convolution along one spatial dimension (floor division).
FailureOr<int64_t> convOutputSize(const OpDiagnostics &diag, int64_t size, int64_t padBefore,
                                  int64_t padAfter, int64_t kernel, int64_t stride,
                                  int64_t dilation) {
  int64_t padded = size + padBefore + padAfter;
  int64_t extent = dilation * (kernel - 1) + 1;
  if (padded < extent)
    return diag.error("kernel extent ", extent, " exceeds padded input ", padded);
  return (padded - extent) / stride + 1;
}

/// Shared by pool_max_2d and pool_avg_2d.
template <typename PoolOp>
LogicalResult inferPool(std::optional<Location> loc, typename PoolOp::Adaptor adaptor,
                        SmallVectorImpl<Type> &types) {
  OpDiagnostics diag = inferenceDiagnostics<PoolOp>(loc);
  if (failed(verifyAdaptor(adaptor, loc)))
    return failure();
  FailureOr<RankedTensorType> input = getTensorOfRank(diag, adaptor.getInput(), "input", 4, "NCHW");
  if (failed(input))
    return failure();
  ArrayRef<int64_t> kernel = adaptor.getKernelShape(), strides = adaptor.getStrides(),
                    pads = adaptor.getPads();
  if (failed(checkArraySize(diag, kernel, 2, "kernel_shape", "[h, w]")) ||
      failed(checkPositive(diag, kernel, "kernel_shape")) ||
      failed(checkArraySize(diag, strides, 2, "strides", "[h, w]")) ||
      failed(checkPositive(diag, strides, "strides")) ||
      failed(checkArraySize(diag, pads, 4, "pads", "[top, left, bottom, right]")) ||
      failed(checkPositive(diag, pads, "pads", /*allowZero=*/true)))
    return failure();
  ArrayRef<int64_t> in = input->getShape();
  SmallVector<int64_t, 4> shape = {in[0], in[1], 0, 0};
  for (int i = 0; i < 2; ++i) {
    if (pads[i] >= kernel[i] || pads[i + 2] >= kernel[i])
      return diag.error("pads [", pads, "] must be smaller than the kernel [", kernel, "]");
    int64_t padded = in[2 + i] + pads[i] + pads[i + 2];
    if (padded < kernel[i])
      return diag.error("kernel ", kernel[i], " exceeds padded input ", padded);
    int64_t span = padded - kernel[i];
    int64_t size =
        adaptor.getCeilMode() ? (span + strides[i] - 1) / strides[i] + 1 : span / strides[i] + 1;
    // A last window that starts in the bottom/right padding is dropped (ONNX, PyTorch).
    if (adaptor.getCeilMode() && (size - 1) * strides[i] >= in[2 + i] + pads[i])
      --size;
    shape[2 + i] = size;
  }
  types.push_back(tensorLike(shape, *input));
  return success();
}

} // namespace

LogicalResult Conv2DOp::inferReturnTypes(MLIRContext *, std::optional<Location> loc,
                                         Adaptor adaptor, SmallVectorImpl<Type> &types) {
  OpDiagnostics diag = inferenceDiagnostics<Conv2DOp>(loc);
  if (failed(verifyAdaptor(adaptor, loc)))
    return failure();
  FailureOr<RankedTensorType> input = getTensorOfRank(diag, adaptor.getInput(), "input", 4, "NCHW");
  if (failed(input))
    return failure();
  FailureOr<RankedTensorType> filter =
      getTensorOfRank(diag, adaptor.getFilter(), "filter", 4, "OIHW");
  if (failed(filter))
    return failure();
  Window2D window{adaptor.getStrides(), adaptor.getPads(), adaptor.getDilations()};
  if (failed(checkWindow(diag, window)))
    return failure();
  int64_t group = adaptor.getGroup();
  ArrayRef<int64_t> in = input->getShape(), w = filter->getShape();
  if (group <= 0 || in[1] % group != 0 || w[0] % group != 0)
    return diag.error("group ", group, " must divide input channels ", in[1],
                      " and output channels ", w[0]);
  if (w[1] != in[1] / group)
    return diag.error("filter expects ", w[1], " input channels per group, but input has ", in[1],
                      " channels in ", group, " group(s)");
  if (failed(checkBias(diag, adaptor.getBias(), w[0])))
    return failure();
  SmallVector<int64_t, 4> shape = {in[0], w[0], 0, 0};
  for (int i = 0; i < 2; ++i) {
    FailureOr<int64_t> size = convOutputSize(diag, in[2 + i], window.pads[i], window.pads[i + 2],
                                             w[2 + i], window.strides[i], window.dilations[i]);
    if (failed(size))
      return failure();
    shape[2 + i] = *size;
  }
  types.push_back(tensorLike(shape, *input));
  return success();
}

LogicalResult DeConv2DOp::inferReturnTypes(MLIRContext *, std::optional<Location> loc,
                                           Adaptor adaptor, SmallVectorImpl<Type> &types) {
  OpDiagnostics diag = inferenceDiagnostics<DeConv2DOp>(loc);
  if (failed(verifyAdaptor(adaptor, loc)))
    return failure();
  FailureOr<RankedTensorType> input = getTensorOfRank(diag, adaptor.getInput(), "input", 4, "NCHW");
  if (failed(input))
    return failure();
  FailureOr<RankedTensorType> filter =
      getTensorOfRank(diag, adaptor.getFilter(), "filter", 4, "[C_in, C_out / group, kh, kw]");
  if (failed(filter))
    return failure();
  Window2D window{adaptor.getStrides(), adaptor.getPads(), adaptor.getDilations()};
  if (failed(checkWindow(diag, window)))
    return failure();
  ArrayRef<int64_t> outputPadding = adaptor.getOutputPadding();
  if (failed(checkArraySize(diag, outputPadding, 2, "output_padding", "[h, w]")) ||
      failed(checkPositive(diag, outputPadding, "output_padding", /*allowZero=*/true)))
    return failure();
  int64_t group = adaptor.getGroup();
  ArrayRef<int64_t> in = input->getShape(), w = filter->getShape();
  if (group <= 0 || in[1] % group != 0)
    return diag.error("group ", group, " must divide input channels ", in[1]);
  if (w[0] != in[1])
    return diag.error("filter expects ", w[0], " input channels (dimension 0), but input has ",
                      in[1]);
  int64_t outChannels = w[1] * group;
  if (failed(checkBias(diag, adaptor.getBias(), outChannels)))
    return failure();
  SmallVector<int64_t, 4> shape = {in[0], outChannels, 0, 0};
  for (int i = 0; i < 2; ++i) {
    int64_t stride = window.strides[i], dilation = window.dilations[i];
    if (outputPadding[i] >= stride && outputPadding[i] >= dilation)
      return diag.error("output_padding ", outputPadding[i], " must be smaller than the stride ",
                        stride, " or the dilation ", dilation);
    int64_t size = (in[2 + i] - 1) * stride - window.pads[i] - window.pads[i + 2] +
                   dilation * (w[2 + i] - 1) + outputPadding[i] + 1;
    if (size <= 0)
      return diag.error("pads [", window.pads, "] leave no output (size ", size,
                        " in spatial dimension ", i, ")");
    shape[2 + i] = size;
  }
  types.push_back(tensorLike(shape, *input));
  return success();
}

LogicalResult PoolMax2DOp::inferReturnTypes(MLIRContext *, std::optional<Location> loc,
                                            Adaptor adaptor, SmallVectorImpl<Type> &types) {
  return inferPool<PoolMax2DOp>(loc, adaptor, types);
}

LogicalResult PoolAvg2DOp::inferReturnTypes(MLIRContext *, std::optional<Location> loc,
                                            Adaptor adaptor, SmallVectorImpl<Type> &types) {
  return inferPool<PoolAvg2DOp>(loc, adaptor, types);
}

LogicalResult FullyConnectedOp::inferReturnTypes(MLIRContext *, std::optional<Location> loc,
                                                 Adaptor adaptor, SmallVectorImpl<Type> &types) {
  OpDiagnostics diag = inferenceDiagnostics<FullyConnectedOp>(loc);
  if (failed(verifyAdaptor(adaptor, loc)))
    return failure();
  FailureOr<RankedTensorType> input = getTensorOfMinRank(diag, adaptor.getInput(), "input", 2);
  if (failed(input))
    return failure();
  FailureOr<RankedTensorType> filter =
      getTensorOfRank(diag, adaptor.getFilter(), "filter", 2, "[N, K]");
  if (failed(filter))
    return failure();
  int64_t k = input->getShape().back(), n = filter->getDimSize(0);
  if (filter->getDimSize(1) != k)
    return diag.error("filter [", filter->getShape(), "] must be [N, ", k,
                      "] for an input with K = ", k);
  if (failed(checkBias(diag, adaptor.getBias(), n)))
    return failure();
  SmallVector<int64_t> shape(input->getShape());
  shape.back() = n;
  types.push_back(tensorLike(shape, *input));
  return success();
}

LogicalResult MatMulOp::inferReturnTypes(MLIRContext *, std::optional<Location> loc,
                                         Adaptor adaptor, SmallVectorImpl<Type> &types) {
  OpDiagnostics diag = inferenceDiagnostics<MatMulOp>(loc);
  if (failed(verifyAdaptor(adaptor, loc)))
    return failure();
  FailureOr<RankedTensorType> lhs = getTensorOfMinRank(diag, adaptor.getLhs(), "lhs", 2);
  if (failed(lhs))
    return failure();
  FailureOr<RankedTensorType> rhs = getTensorOfMinRank(diag, adaptor.getRhs(), "rhs", 2);
  if (failed(rhs) || failed(checkSameElementType(diag, *lhs, "lhs", *rhs, "rhs")))
    return failure();
  ArrayRef<int64_t> l = lhs->getShape(), r = rhs->getShape();
  int64_t m = l[l.size() - 2], k = l.back(), n = r.back();
  if (r[r.size() - 2] != k)
    return diag.error("lhs [", l, "] has K = ", k, " but rhs [", r, "] has K = ", r[r.size() - 2]);
  FailureOr<SmallVector<int64_t>> batch =
      broadcastShapes(diag, l.drop_back(2), r.drop_back(2), "batch");
  if (failed(batch))
    return failure();
  SmallVector<int64_t> shape = *batch;
  shape.append({m, n});
  types.push_back(tensorLike(shape, *lhs));
  return success();
}
