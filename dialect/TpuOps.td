//===- TpuOps.td - operations of the tpu dialect -----------*- tablegen -*-===//
#ifndef TPUC_DIALECT_TPUOPS_TD
#define TPUC_DIALECT_TPUOPS_TD

include "dialect/TpuDialect.td"
include "dialect/TpuInterfaces.td"
include "mlir/Interfaces/InferTypeOpInterface.td"
include "mlir/Interfaces/SideEffectInterfaces.td"

class Tpu_Op<string mnemonic, list<Trait> traits = []> : Op<Tpu_Dialect, mnemonic, traits>;

// Attributes every layer carries: its tensor name, the id given by --assign-layer-id and the
// quantization state (see Tpu_LayerOpInterface).
defvar Tpu_LayerAttrs = (ins StrAttr:$name, OptionalAttr<I64Attr>:$layer_id,
                             OptionalAttr<DictionaryAttr>:$quant);

class Tpu_LayerOp<string mnemonic, list<Trait> traits = []>
    : Tpu_Op<mnemonic, !listconcat(traits, [Pure, Tpu_LayerOpInterface])> {
  let assemblyFormat = "operands attr-dict `:` functional-type(operands, results)";
}

// The TPU works on tensors of known shape only.
def Tpu_TensorType : StaticShapeTensorOf<[F32, BF16, I8, UI8, I16, I32, SI8, SI32]>;

// Layers whose result type is given explicitly and checked by the op's verifier.
class Tpu_ShapedOp<string mnemonic, string opSummary, dag args, list<Trait> traits = []>
    : Tpu_LayerOp<mnemonic, traits> {
  let summary = opSummary;
  let arguments = !con(args, Tpu_LayerAttrs);
  let results = (outs Tpu_TensorType:$output);
  let hasVerifier = 1;
}

// Layers whose result type follows from the operands and attributes: the builders take no result
// type and the verifier checks the given one against the inferred one. `inferReturnTypes` checks
// every rule of the op (so builders report bad operands too); the checks are reported once, by
// verify(), so refineReturnTypes (called by the interface's verifier) stays silent.
class Tpu_InferredOp<string mnemonic, string opSummary, dag args, list<Trait> traits = []>
    : Tpu_ShapedOp<mnemonic, opSummary, args, !listconcat(traits, [
        DeclareOpInterfaceMethods<InferTypeOpInterface, ["refineReturnTypes"]>,
        NativeOpTrait<"InferTypeOpAdaptor", [], [{
          static ::llvm::LogicalResult inferReturnTypes(::mlir::MLIRContext *context,
              std::optional<::mlir::Location> location, Adaptor adaptor,
              ::llvm::SmallVectorImpl<::mlir::Type> &inferredReturnTypes);
        }]>])> {
  let extraClassDefinition = [{
    ::llvm::LogicalResult $cppClass::inferReturnTypes(::mlir::MLIRContext *context,
        std::optional<::mlir::Location> location, ::mlir::ValueRange operands,
        ::mlir::DictionaryAttr attributes, ::mlir::OpaqueProperties properties,
        ::mlir::RegionRange regions, ::llvm::SmallVectorImpl<::mlir::Type> &inferredReturnTypes) {
      // Callers without properties (the C API used by the Python builders) pass the inherent
      // attributes in `attributes`; attributes left out take their default values, as they do
      // when the op is created.
      Properties converted;
      if (properties) {
        converted = *properties.as<Properties *>();
      } else if (attributes) {
        ::mlir::Location loc = location.value_or(::mlir::UnknownLoc::get(context));
        if (::mlir::failed(setPropertiesFromAttr(converted, attributes,
                                                 [&] { return ::mlir::emitError(loc); })))
          return ::mlir::failure();
      }
      populateDefaultProperties(::mlir::OperationName(getOperationName(), context), converted);
      properties = ::mlir::OpaqueProperties(&converted);
      $cppClass::Adaptor adaptor(operands, attributes, properties, regions);
      return $cppClass::inferReturnTypes(context, location, adaptor, inferredReturnTypes);
    }
    ::llvm::LogicalResult $cppClass::refineReturnTypes(::mlir::MLIRContext *context,
        std::optional<::mlir::Location>, ::mlir::ValueRange operands,
        ::mlir::DictionaryAttr attributes, ::mlir::OpaqueProperties properties,
        ::mlir::RegionRange regions, ::llvm::SmallVectorImpl<::mlir::Type> &returnTypes) {
      ::llvm::SmallVector<::mlir::Type, 1> inferred;
      if (::mlir::succeeded($cppClass::inferReturnTypes(context, std::nullopt, operands,
                                                        attributes, properties, regions, inferred)))
        ::tpuc::tpu::detail::fillElidedTypes(inferred, returnTypes);
      return ::mlir::success();
    }
    ::llvm::LogicalResult $cppClass::verify() {
      ::llvm::SmallVector<::mlir::Type, 1> inferred;
      if (::mlir::failed(inferReturnTypes(getContext(), getLoc(), Adaptor(*this), inferred)))
        return ::mlir::failure();
      return ::tpuc::tpu::detail::verifyResultType(getOperation(), inferred.front());
    }
  }];
}

//===----------------------------------------------------------------------===//
// Graph boundary and weights
//===----------------------------------------------------------------------===//

def Tpu_InputOp : Tpu_LayerOp<"input", [SameOperandsAndResultType]> {
  let summary = "Network input";
  let description = [{
    Marks a function argument as a network input. `preprocess` records how raw data becomes the
    tensor so calibration and runtime hints agree. Its fields (all optional):

    | field | value |
    |-------|-------|
    | `mean`, `std`, `scale` | numbers, one or one per channel (dimension 1); `std` and `scale` non-zero |
    | `channel_order` | `"rgb"`, `"bgr"` (3 channels), `"gray"` (1 channel) or a permutation of the channels |
    | `resize` | positive integers: [shorter side] or [h, w] |
    | `crop` | two positive integers [h, w] |
    | `raw_scale`, `input_scale` | a positive number |
    | `keep_aspect_ratio`, `aligned` | bool |
    | `pixel_format` | RGB_PLANAR, RGB_PACKED, BGR_PLANAR, BGR_PACKED, GRAYSCALE, YUV420_PLANAR, YUV_NV21, YUV_NV12, RGBA_PLANAR |
    | `data_format` | `"nchw"` or `"nhwc"` |

    ```mlir
    %0 = tpu.input %arg0 {name = "data", preprocess = {mean = [123.675, 116.28, 103.53],
           channel_order = "rgb"}} : (tensor<1x3x224x224xf32>) -> tensor<1x3x224x224xf32>
    ```
  }];
  let arguments = !con((ins Tpu_TensorType:$input, OptionalAttr<DictionaryAttr>:$preprocess),
                       Tpu_LayerAttrs);
  let results = (outs Tpu_TensorType:$output);
  let hasVerifier = 1;
}

def Tpu_LoadWeightOp : Tpu_Op<"load_weight", [Pure]> {
  let summary = "A weight tensor read from the module's weight file";
  let description = [{
    Loads the array `name` of the npz file named by the enclosing module's `tpu.weight_file`
    attribute. The result type gives the expected shape and element type.

    ```mlir
    %w = tpu.load_weight {name = "conv1_w"} : tensor<16x3x3x3xf32>
    ```
  }];
  let arguments = (ins StrAttr:$name);
  let results = (outs Tpu_TensorType:$output);
  let assemblyFormat = "attr-dict `:` type($output)";
  let hasVerifier = 1;
}

//===----------------------------------------------------------------------===//
// Convolution, pooling and matrix products
//===----------------------------------------------------------------------===//

def Tpu_Conv2DOp : Tpu_InferredOp<"conv_2d",
    "2-D convolution (grouped, depthwise, dilated), optional fused ReLU",
    (ins Tpu_TensorType:$input, Tpu_TensorType:$filter, Optional<Tpu_TensorType>:$bias,
         DenseI64ArrayAttr:$strides, DenseI64ArrayAttr:$pads, DenseI64ArrayAttr:$dilations,
         DefaultValuedAttr<I64Attr, "1">:$group, DefaultValuedAttr<BoolAttr, "false">:$do_relu)> {
  let description = [{
    NCHW input, OIHW filter (I = C / group), optional bias of O elements. `strides` and
    `dilations` are [h, w] and positive, `pads` is [top, left, bottom, right] and non-negative.
    The output is [N, O, oh, ow] with
    `oh = (H + top + bottom - (dilation_h * (kh - 1) + 1)) / stride_h + 1` (rounded down), and
    `ow` likewise. With `do_relu` the result is max(conv, 0).

    ```mlir
    %1 = tpu.conv_2d %0, %w, %b {name = "conv1", strides = array<i64: 2, 2>,
           pads = array<i64: 1, 1, 1, 1>, dilations = array<i64: 1, 1>}
           : (tensor<1x3x8x8xf32>, tensor<4x3x3x3xf32>, tensor<4xf32>) -> tensor<1x4x4x4xf32>
    ```
  }];
}

def Tpu_DeConv2DOp : Tpu_InferredOp<"deconv_2d",
    "2-D transposed convolution; filter is [C_in, C_out / group, kh, kw] as in ONNX ConvTranspose",
    (ins Tpu_TensorType:$input, Tpu_TensorType:$filter, Optional<Tpu_TensorType>:$bias,
         DenseI64ArrayAttr:$strides, DenseI64ArrayAttr:$pads, DenseI64ArrayAttr:$dilations,
         DefaultValuedAttr<DenseI64ArrayAttr, "{0, 0}">:$output_padding,
         DefaultValuedAttr<I64Attr, "1">:$group, DefaultValuedAttr<BoolAttr, "false">:$do_relu)> {
  let description = [{
    NCHW input of C channels, filter [C, O / group, kh, kw], optional bias of O elements.
    `strides`, `dilations` and `output_padding` are [h, w]; `pads` is [top, left, bottom, right].
    Each `output_padding` entry is smaller than its stride or its dilation. The output is
    [N, O, oh, ow] with
    `oh = (H - 1) * stride_h - top - bottom + dilation_h * (kh - 1) + output_padding_h + 1`.
  }];
}

def Tpu_FullyConnectedOp : Tpu_InferredOp<"fully_connected",
    "output[m, n] = sum_k input[m, k] * filter[n, k] + bias[n]; filter is [N, K]",
    (ins Tpu_TensorType:$input, Tpu_TensorType:$filter, Optional<Tpu_TensorType>:$bias,
         DefaultValuedAttr<BoolAttr, "false">:$do_relu)> {
  let description = [{
    The input is [..., K] (rank 2 or more; every leading dimension is a row), the filter [N, K],
    the optional bias has N elements. The output is [..., N].
  }];
}

def Tpu_MatMulOp : Tpu_InferredOp<"matmul",
    "Batched matrix product of two activations, batch dimensions broadcast (numpy matmul)",
    (ins Tpu_TensorType:$lhs, Tpu_TensorType:$rhs, DefaultValuedAttr<BoolAttr, "false">:$do_relu)> {
  let description = [{
    `lhs` is [..., M, K] and `rhs` [..., K, N] (both of rank 2 or more). The batch dimensions
    (all but the last two) broadcast as in numpy; the output is [batch..., M, N].
  }];
}

class Tpu_PoolOp<string mnemonic, string opSummary, dag extraArgs = (ins)>
    : Tpu_InferredOp<mnemonic, opSummary,
        !con((ins Tpu_TensorType:$input, DenseI64ArrayAttr:$kernel_shape,
                  DenseI64ArrayAttr:$strides, DenseI64ArrayAttr:$pads,
                  DefaultValuedAttr<BoolAttr, "false">:$ceil_mode,
                  DefaultValuedAttr<BoolAttr, "false">:$do_relu), extraArgs)> {
  let description = [{
    NCHW input; `kernel_shape` and `strides` are [h, w] and positive, `pads` is
    [top, left, bottom, right], non-negative and smaller than the kernel. The output is
    [N, C, oh, ow] with `oh = (H + top + bottom - kh) / stride_h + 1`, rounded down, or rounded
    up with `ceil_mode` (then a last window that would start in the bottom padding is dropped,
    as in ONNX and PyTorch); `ow` likewise.
  }];
}
def Tpu_PoolMax2DOp : Tpu_PoolOp<"pool_max_2d",
    "2-D max pooling; pads [top, left, bottom, right]"> {
  // Canonicalization: dialect/TpuCanonicalize.cpp.
  let hasFolder = 1;
}
def Tpu_PoolAvg2DOp : Tpu_PoolOp<"pool_avg_2d",
    "2-D average pooling; pads [top, left, bottom, right]; global pooling is a kernel of H x W",
    (ins DefaultValuedAttr<BoolAttr, "false">:$count_include_pad)> {
  // Canonicalization: dialect/TpuCanonicalize.cpp.
  let hasFolder = 1;
}

//===----------------------------------------------------------------------===//
// Element-wise and per-channel layers
//===----------------------------------------------------------------------===//

def Tpu_ReluOp : Tpu_LayerOp<"relu", [SameOperandsAndResultType]> {
  // Canonicalization: dialect/TpuCanonicalize.cpp.
  let hasCanonicalizer = 1;
  let summary = "max(x, 0)";
  let arguments = !con((ins Tpu_TensorType:$input), Tpu_LayerAttrs);
  let results = (outs Tpu_TensorType:$output);
}

// Unary element-wise layers: the result has the input's type.
class Tpu_UnaryOp<string mnemonic, string opSummary, dag extraArgs = (ins)>
    : Tpu_LayerOp<mnemonic, [SameOperandsAndResultType]> {
  let summary = opSummary;
  let arguments = !con((ins Tpu_TensorType:$input), extraArgs, Tpu_LayerAttrs);
  let results = (outs Tpu_TensorType:$output);
}

// Unary layers with float parameters, checked by the verifier (finite values, ranges).
class Tpu_UnaryParamOp<string mnemonic, string opSummary, dag extraArgs>
    : Tpu_UnaryOp<mnemonic, opSummary, extraArgs> {
  let hasVerifier = 1;
}

def Tpu_SigmoidOp : Tpu_UnaryOp<"sigmoid", "1 / (1 + exp(-x)); a lookup table in INT8">;
def Tpu_TanHOp : Tpu_UnaryOp<"tanh", "tanh(x); a lookup table in INT8">;
def Tpu_SqrtOp : Tpu_UnaryOp<"sqrt", "sqrt(x); a lookup table in INT8">;
def Tpu_ReciprocalOp : Tpu_UnaryOp<"reciprocal", "1 / x; a lookup table in INT8">;
def Tpu_ExpOp : Tpu_UnaryOp<"exp", "exp(x); a lookup table in INT8">;
def Tpu_MishOp : Tpu_UnaryOp<"mish", "x * tanh(softplus(x)); a lookup table in INT8">;
def Tpu_SiLUOp : Tpu_UnaryOp<"silu", "x * sigmoid(x) (swish); a lookup table in INT8">;
def Tpu_HardSwishOp : Tpu_UnaryOp<"hard_swish", "x * relu6(x + 3) / 6; a lookup table in INT8">;
def Tpu_HardSigmoidOp : Tpu_UnaryParamOp<"hard_sigmoid", "max(0, min(1, alpha * x + beta))",
    (ins F32Attr:$alpha, F32Attr:$beta)> {
  let description = [{ `alpha` and `beta` are finite. }];
}
def Tpu_LeakyReluOp : Tpu_UnaryParamOp<"leaky_relu", "x if x >= 0 else negative_slope * x",
    (ins F32Attr:$negative_slope)> {
  let description = [{ `negative_slope` is finite. }];
}
def Tpu_ClipOp : Tpu_UnaryParamOp<"clip", "min(max(x, min), max)",
    (ins F32Attr:$min, F32Attr:$max)> {
  let description = [{ `min` and `max` are not NaN (they may be infinite) and `min <= max`. }];
}
def Tpu_PowerOp : Tpu_UnaryParamOp<"power", "(shift + scale * x) ^ power",
    (ins F32Attr:$power, F32Attr:$scale, F32Attr:$shift)> {
  let description = [{ `power`, `scale` and `shift` are finite. }];
}

// Element-wise layers over two or more inputs, numpy-broadcast to the result shape.
class Tpu_EltwiseOp<string mnemonic, string opSummary, dag extraArgs = (ins)>
    : Tpu_InferredOp<mnemonic, opSummary,
        !con((ins Variadic<Tpu_TensorType>:$inputs,
                  DefaultValuedAttr<BoolAttr, "false">:$do_relu), extraArgs)> {
  let description = [{
    Two or more inputs of one element type. Their shapes broadcast as in numpy (aligned at the
    last dimension; each dimension equal or 1); the output has the broadcast shape.
  }];
}
def Tpu_EltwiseAddOp : Tpu_EltwiseOp<"eltwise_add",
    "sum_i coeff[i] * inputs[i] (coeff defaults to all ones; [1, -1] is a subtraction)",
    (ins OptionalAttr<DenseF32ArrayAttr>:$coeff)> {
  let description = [{
    Two or more inputs of one element type. Their shapes broadcast as in numpy (aligned at the
    last dimension; each dimension equal or 1); the output has the broadcast shape. `coeff`, when
    given, has one entry per input.
  }];
}
def Tpu_EltwiseMulOp : Tpu_EltwiseOp<"eltwise_mul", "Product of the inputs">;
def Tpu_EltwiseMaxOp : Tpu_EltwiseOp<"eltwise_max", "Element-wise maximum of the inputs">;
def Tpu_EltwiseMinOp : Tpu_EltwiseOp<"eltwise_min", "Element-wise minimum of the inputs">;

def Tpu_BroadcastMulOp : Tpu_InferredOp<"broadcast_mul",
    "input * scale where scale broadcasts along `axis` (per-channel multiply by an activation)",
    (ins Tpu_TensorType:$input, Tpu_TensorType:$scale, DefaultValuedAttr<I64Attr, "1">:$axis,
         DefaultValuedAttr<BoolAttr, "false">:$do_relu)> {
  let description = [{
    `scale` (an activation, e.g. [N, C, 1, 1] of a squeeze-and-excitation block) broadcasts to
    the input's shape as in numpy without enlarging it, and covers dimension `axis`
    (in [-rank, rank)) with the input's size there. The output has the input's type.
  }];
}

def Tpu_BatchNormOp : Tpu_InferredOp<"batch_norm",
    "(x - mean) / sqrt(variance + epsilon) * scale + bias, per channel (axis 1)",
    (ins Tpu_TensorType:$input, Tpu_TensorType:$mean, Tpu_TensorType:$variance,
         Tpu_TensorType:$scale, Tpu_TensorType:$bias, F32Attr:$epsilon)> {
  // Canonicalization: dialect/TpuCanonicalize.cpp.
  let hasCanonicalizer = 1;
  let description = [{
    Input of rank 2 or more; `mean`, `variance`, `scale` and `bias` have one element per
    channel (dimension 1); `epsilon` is non-negative. The output has the input's type.
  }];
}

def Tpu_ScaleOp : Tpu_InferredOp<"scale", "x * scale[c] + bias[c], per channel (axis 1)",
    (ins Tpu_TensorType:$input, Tpu_TensorType:$scale, Optional<Tpu_TensorType>:$bias,
         DefaultValuedAttr<BoolAttr, "false">:$do_relu)> {
  // Canonicalization: dialect/TpuCanonicalize.cpp.
  let hasCanonicalizer = 1;
  let description = [{
    Input of rank 2 or more; `scale` and the optional `bias` have one element per channel
    (dimension 1). The output has the input's type.
  }];
}

def Tpu_PReluOp : Tpu_InferredOp<"prelu", "x if x >= 0 else slope[c] * x, per channel (axis 1)",
    (ins Tpu_TensorType:$input, Tpu_TensorType:$slope)> {
  let description = [{
    Input of rank 2 or more; `slope` has one element per channel (dimension 1). The output has
    the input's type.
  }];
}

def Tpu_LrnOp : Tpu_InferredOp<"lrn",
    "Local response normalization across channels: x / (k + alpha / size * sum x^2) ^ beta",
    (ins Tpu_TensorType:$input, I64Attr:$local_size, F32Attr:$alpha, F32Attr:$beta,
         DefaultValuedAttr<F32Attr, "1.0f">:$k)> {
  let description = [{
    NCHW input; the window of `local_size` channels (positive and odd) is centred on each
    channel. The output has the input's type.
  }];
}

def Tpu_LrnPartOp : Tpu_InferredOp<"lrn_part",
    "One stage of a quantized Lrn: 1 = x^2 table, 2 = windowed channel sum, 3 = power table",
    (ins Tpu_TensorType:$input, I64Attr:$part, I64Attr:$local_size, F32Attr:$alpha,
         F32Attr:$beta, DefaultValuedAttr<F32Attr, "1.0f">:$k)> {
  let description = [{
    NCHW input; `part` is 1, 2 or 3 and `local_size` positive and odd. The output has the
    input's type.
  }];
}

def Tpu_NormalizeOp : Tpu_InferredOp<"normalize",
    "L2 normalization over channels (or over C, H, W with across_spatial), times scale",
    (ins Tpu_TensorType:$input, Tpu_TensorType:$scale,
         DefaultValuedAttr<BoolAttr, "false">:$across_spatial,
         DefaultValuedAttr<BoolAttr, "false">:$channel_shared,
         DefaultValuedAttr<F32Attr, "1e-10f">:$eps)> {
  let description = [{
    NCHW input; `scale` has one element with `channel_shared`, else one per channel; `eps` is
    non-negative. The output has the input's type.
  }];
}

def Tpu_SoftmaxOp : Tpu_InferredOp<"softmax", "exp(x) / sum exp(x) along `axis`",
    (ins Tpu_TensorType:$input, I64Attr:$axis)> {
  let description = [{ `axis` is in [-rank, rank). The output has the input's type. }];
}

def Tpu_ReduceMeanOp : Tpu_InferredOp<"reduce_mean", "Mean over `axes`",
    (ins Tpu_TensorType:$input, DenseI64ArrayAttr:$axes,
         DefaultValuedAttr<BoolAttr, "true">:$keepdims)> {
  let description = [{
    `axes` is non-empty, each axis in [-rank, rank) and named once. With `keepdims` the reduced
    dimensions become 1, otherwise they are removed.
  }];
}

def Tpu_ArgMaxOp : Tpu_InferredOp<"argmax", "Index of the first maximum along `axis`",
    (ins Tpu_TensorType:$input, I64Attr:$axis,
         DefaultValuedAttr<BoolAttr, "true">:$keepdims)> {
  let description = [{
    `axis` is in [-rank, rank). The result holds the index (as f32, as vendor models store it)
    of the first largest element along `axis`; that dimension becomes 1 with `keepdims`, else
    it is removed. The input may be f32 or int8 (the maximum of the codes is the maximum of the
    values, the threshold being positive).
  }];
}

//===----------------------------------------------------------------------===//
// Data movement
//===----------------------------------------------------------------------===//

def Tpu_ConcatOp : Tpu_InferredOp<"concat", "Concatenation of the inputs along `axis`",
    (ins Variadic<Tpu_TensorType>:$inputs, I64Attr:$axis)> {
  // Canonicalization: dialect/TpuCanonicalize.cpp.
  let hasFolder = 1;
  let description = [{
    One or more inputs of one rank and element type, `axis` in [-rank, rank); all dimensions but
    `axis` agree. The output's `axis` dimension is the sum of the inputs'.
  }];
}

def Tpu_ReshapeOp : Tpu_ShapedOp<"reshape", "Same elements, shape of the result type",
    (ins Tpu_TensorType:$input)> {
  // Canonicalization: dialect/TpuCanonicalize.cpp.
  let hasCanonicalizer = 1;
  let hasFolder = 1;
  let description = [{
    The result has as many elements as the input and the same element type.
  }];
}

def Tpu_PermuteOp : Tpu_InferredOp<"permute", "Transpose: output dim i is input dim order[i]",
    (ins Tpu_TensorType:$input, DenseI64ArrayAttr:$order)> {
  // Canonicalization: dialect/TpuCanonicalize.cpp.
  let hasFolder = 1;
  let description = [{ `order` is a permutation of 0 .. rank - 1. }];
}

def Tpu_SliceOp : Tpu_ShapedOp<"slice",
    "output[i] = input[offsets + i * steps] per dimension; sizes come from the result type",
    (ins Tpu_TensorType:$input, DenseI64ArrayAttr:$offsets, DenseI64ArrayAttr:$steps)> {
  // Canonicalization: dialect/TpuCanonicalize.cpp.
  let hasFolder = 1;
  let description = [{
    `offsets` (non-negative) and `steps` (positive) have one entry per dimension; the result has
    the input's rank and element type, and every index it reads lies inside the input.
  }];
}

def Tpu_CropOp : Tpu_ShapedOp<"crop", "A window of the input at `offsets`, of the result's shape",
    (ins Tpu_TensorType:$input, DenseI64ArrayAttr:$offsets)> {
  // Canonicalization: dialect/TpuCanonicalize.cpp.
  let hasFolder = 1;
  let description = [{
    `offsets` (non-negative) has one entry per dimension; the result has the input's rank and
    element type, and `offsets + result shape` stays within the input.
  }];
}

def Tpu_PadOp : Tpu_InferredOp<"pad",
    "Pads each dimension by pads[i] before and pads[rank + i] after (ONNX order)",
    (ins Tpu_TensorType:$input, DenseI64ArrayAttr:$pads,
         DefaultValuedAttr<F32Attr, "0.0f">:$const_val,
         DefaultValuedStrAttr<StrAttr, "constant">:$mode)> {
  // Canonicalization: dialect/TpuCanonicalize.cpp.
  let hasFolder = 1;
  let description = [{
    `pads` has 2 * rank non-negative entries; `mode` is `constant` (fill with `const_val`),
    `reflect` (mirror without repeating the edge; each pad smaller than its dimension) or `edge`
    (repeat the edge).
  }];
}

def Tpu_UpsampleOp : Tpu_InferredOp<"upsample", "Nearest-neighbour upsampling by integer factors",
    (ins Tpu_TensorType:$input, I64Attr:$scale_h, I64Attr:$scale_w)> {
  // Canonicalization: dialect/TpuCanonicalize.cpp.
  let hasFolder = 1;
  let description = [{
    NCHW input, positive factors; the output is [N, C, H * scale_h, W * scale_w].
  }];
}

def Tpu_InterpOp : Tpu_ShapedOp<"interp",
    "Resize of H and W to the result's size: mode nearest or bilinear, ONNX coordinate modes",
    (ins Tpu_TensorType:$input, DefaultValuedStrAttr<StrAttr, "bilinear">:$mode,
         DefaultValuedStrAttr<StrAttr, "half_pixel">:$coordinate_transformation_mode)> {
  let description = [{
    NCHW input and result with the same N, C and element type. `mode` is `nearest` or
    `bilinear`; `coordinate_transformation_mode` is `half_pixel`, `pytorch_half_pixel`,
    `align_corners` or `asymmetric`.
  }];
}

def Tpu_PixelShuffleOp : Tpu_InferredOp<"pixel_shuffle",
    "Depth to space by `upscale_factor`; mode DCR or CRD (ONNX DepthToSpace)",
    (ins Tpu_TensorType:$input, I64Attr:$upscale_factor,
         DefaultValuedStrAttr<StrAttr, "CRD">:$mode)> {
  // Canonicalization: dialect/TpuCanonicalize.cpp.
  let hasFolder = 1;
  let description = [{
    NCHW input; with factor r (positive) C is divisible by r * r and the output is
    [N, C / (r * r), H * r, W * r].
  }];
}

def Tpu_ReorgOp : Tpu_InferredOp<"reorg", "Space to depth by `stride` (YOLO reorg)",
    (ins Tpu_TensorType:$input, I64Attr:$stride)> {
  // Canonicalization: dialect/TpuCanonicalize.cpp.
  let hasFolder = 1;
  let description = [{
    NCHW input; with stride s (positive) H and W are divisible by s and the output is
    [N, C * s * s, H / s, W / s].
  }];
}

def Tpu_ShuffleChannelOp : Tpu_InferredOp<"shuffle_channel",
    "Channel shuffle: [N, G, C/G, H, W] -> [N, C/G, G, H, W]",
    (ins Tpu_TensorType:$input, I64Attr:$group)> {
  // Canonicalization: dialect/TpuCanonicalize.cpp.
  let hasFolder = 1;
  let description = [{
    Input of rank 2 or more; `group` is positive and divides the channels (dimension 1). The
    output has the input's type.
  }];
}

//===----------------------------------------------------------------------===//
// Input preprocessing and detection
//===----------------------------------------------------------------------===//

def Tpu_PreprocessOp : Tpu_ShapedOp<"preprocess",
    "Input preprocessing on the TPU: channel reorder, then (x - mean[c]) * scale[c]",
    (ins Tpu_TensorType:$input, DenseI64ArrayAttr:$channel_order, DenseF32ArrayAttr:$mean,
         DenseF32ArrayAttr:$scale)> {
  let description = [{
    NCHW input; `channel_order` is a permutation of the C channels (output channel c is input
    channel channel_order[c]); `mean` and `scale` have C entries. The result has the input's
    shape; its element type is given (e.g. uint8 pixels in, int8 or bf16 out).
  }];
}

def Tpu_DetectionOutputOp : Tpu_ShapedOp<"detection_output",
    "SSD detection output: decode boxes, per-class NMS, keep_top_k detections",
    (ins Variadic<Tpu_TensorType>:$inputs, I64Attr:$num_classes,
         DefaultValuedAttr<BoolAttr, "true">:$share_location,
         DefaultValuedAttr<I64Attr, "0">:$background_label_id, F32Attr:$nms_threshold,
         I64Attr:$top_k, DefaultValuedStrAttr<StrAttr, "CENTER_SIZE">:$code_type,
         I64Attr:$keep_top_k, F32Attr:$confidence_threshold)> {
  let description = [{
    Inputs are `loc` [N, ...] with P * 4 box offsets per image (times num_classes without
    `share_location`), `conf` with P * num_classes scores per image and `prior` with 2 * P * 4
    values (boxes then variances). `num_classes`, `top_k` and `keep_top_k` are positive,
    `background_label_id` is -1 (none) or a class, `nms_threshold` is in (0, 1],
    `confidence_threshold` at most 1, `code_type` is CORNER, CENTER_SIZE or CORNER_SIZE. The
    result is [1, 1, K, 7]: rows of (image, label, score, xmin, ymin, xmax, ymax).
  }];
}

//===----------------------------------------------------------------------===//
// Quantization support
//===----------------------------------------------------------------------===//

def Tpu_QuantOp : Tpu_ShapedOp<"quant",
    "Conversion between fp32, int8 and bf16: int8 = saturate(round(x * scale)), x = int8 / scale",
    (ins Tpu_TensorType:$input, StrAttr:$from, StrAttr:$to, F32Attr:$scale,
         DefaultValuedAttr<I64Attr, "0">:$zero_point)> {
  let description = [{
    `from` and `to` differ and name the element types of input and result: `NONE` or `FP32`
    (f32), `INT8` (i8 or si8), `UINT8` (ui8), `BF16` (bf16). Shapes are equal; `scale` is
    positive and finite; `zero_point` fits the integer side (-128..127 for INT8, 0..255 for
    UINT8) and is 0 when no side is an integer type.
  }];
}

def Tpu_LutOp : Tpu_ShapedOp<"lut",
    "Table lookup: INT8 indexes a 256-entry table by the input byte; BF16 uses a table and a mantissa table",
    (ins Tpu_TensorType:$input, Tpu_TensorType:$table, Optional<Tpu_TensorType>:$mantissa)> {
  let description = [{
    `table` has 256 entries (the compiler replicates it over the lanes); a bf16 input needs the
    256-entry `mantissa` table too, an integer input takes none. The result has the input's
    shape and the table's element type.
  }];
}

//===----------------------------------------------------------------------===//
// Custom ops
//===----------------------------------------------------------------------===//

def Tpu_CustomOp : Tpu_Op<"custom_op", [Tpu_LayerOpInterface]> {
  let summary = "An op implemented by a custom-op plugin";
  let description = [{
    The vendor's custom-op template. `operation_name` selects the plugin op (`cvi::CustomOp`
    registered with RegisterCustomOp) that implements it; `param` holds its parameters (integer,
    float, bool and string values and arrays of them). `tpu` tells whether it runs on the TPU
    (plugin codegen) or on the CPU (runtime function); `do_quant` whether the plugin's
    quantizeInt8 is called; `threshold_overwrite` is `none`, `forward` (take the previous op's
    threshold) or `backward` (give this op's threshold to the previous op).

    ```mlir
    %1 = tpu.custom_op %0 {name = "lrelu", operation_name = "leaky_relu",
           param = {negative_slope = 0.1 : f32}, tpu = true, do_quant = true,
           threshold_overwrite = "backward", quant = {mode = "NONE"}}
           : (tensor<1x16x8x8xf32>) -> tensor<1x16x8x8xf32>
    ```
  }];
  // `operation_name` is required too, but is not declared here: its generated accessor would
  // collide with Op::getOperationName(). The verifier checks it; getPluginOpName() reads it.
  let arguments = (ins Variadic<Tpu_TensorType>:$inputs, StrAttr:$name, DictionaryAttr:$param, BoolAttr:$tpu, BoolAttr:$do_quant,
                       DefaultValuedStrAttr<StrAttr, "none">:$threshold_overwrite,
                       DictionaryAttr:$quant, OptionalAttr<I64Attr>:$layer_id,
                       OptionalAttr<I64Attr>:$gaddr, OptionalAttr<StrAttr>:$chipname);
  let results = (outs Tpu_TensorType:$output);
  let assemblyFormat = "operands attr-dict `:` functional-type(operands, results)";
  let hasVerifier = 1;
  let extraClassDeclaration = [{
    /// The plugin op that implements this op (attribute `operation_name`).
    ::llvm::StringRef getPluginOpName() {
      if (auto name = (*this)->getAttrOfType<::mlir::StringAttr>("operation_name"))
        return name.getValue();
      return {};
    }
  }];
}

#endif // TPUC_DIALECT_TPUOPS_TD
