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

def Tpu_TensorType : AnyTypeOf<[TensorOf<[F32, BF16, I8, UI8, I16, I32, SI8, SI32]>]>;

//===----------------------------------------------------------------------===//
// Graph boundary and weights
//===----------------------------------------------------------------------===//

def Tpu_InputOp : Tpu_LayerOp<"input", [SameOperandsAndResultType]> {
  let summary = "Network input";
  let description = [{
    Marks a function argument as a network input. `preprocess` records how raw data becomes the
    tensor (mean, scale, channel order, resize) so calibration and runtime hints agree.
  }];
  let arguments = !con((ins Tpu_TensorType:$input, OptionalAttr<DictionaryAttr>:$preprocess),
                       Tpu_LayerAttrs);
  let results = (outs Tpu_TensorType:$output);
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
// Compute layers
//===----------------------------------------------------------------------===//

def Tpu_Conv2DOp : Tpu_LayerOp<"conv_2d"> {
  let summary = "2-D convolution (grouped, depthwise, dilated), optional fused ReLU";
  let description = [{
    NCHW input, OIHW filter (I = C / group), optional bias of O elements. `pads` is
    [top, left, bottom, right]. With `do_relu` the result is max(conv, 0).
  }];
  let arguments = !con((ins Tpu_TensorType:$input, Tpu_TensorType:$filter,
                            Optional<Tpu_TensorType>:$bias,
                            DenseI64ArrayAttr:$strides, DenseI64ArrayAttr:$pads,
                            DenseI64ArrayAttr:$dilations, DefaultValuedAttr<I64Attr, "1">:$group,
                            DefaultValuedAttr<BoolAttr, "false">:$do_relu),
                       Tpu_LayerAttrs);
  let results = (outs Tpu_TensorType:$output);
  let hasVerifier = 1;
}

def Tpu_ReluOp : Tpu_LayerOp<"relu", [SameOperandsAndResultType]> {
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

def Tpu_SigmoidOp : Tpu_UnaryOp<"sigmoid", "1 / (1 + exp(-x)); a lookup table in INT8">;
def Tpu_TanHOp : Tpu_UnaryOp<"tanh", "tanh(x); a lookup table in INT8">;
def Tpu_SqrtOp : Tpu_UnaryOp<"sqrt", "sqrt(x); a lookup table in INT8">;
def Tpu_ReciprocalOp : Tpu_UnaryOp<"reciprocal", "1 / x; a lookup table in INT8">;
def Tpu_ExpOp : Tpu_UnaryOp<"exp", "exp(x); a lookup table in INT8">;
def Tpu_MishOp : Tpu_UnaryOp<"mish", "x * tanh(softplus(x)); a lookup table in INT8">;
def Tpu_SiLUOp : Tpu_UnaryOp<"silu", "x * sigmoid(x) (swish); a lookup table in INT8">;
def Tpu_HardSwishOp : Tpu_UnaryOp<"hard_swish", "x * relu6(x + 3) / 6; a lookup table in INT8">;
def Tpu_HardSigmoidOp : Tpu_UnaryOp<"hard_sigmoid", "max(0, min(1, alpha * x + beta))",
    (ins F32Attr:$alpha, F32Attr:$beta)>;
def Tpu_LeakyReluOp : Tpu_UnaryOp<"leaky_relu", "x if x >= 0 else negative_slope * x",
    (ins F32Attr:$negative_slope)>;
def Tpu_ClipOp : Tpu_UnaryOp<"clip", "min(max(x, min), max)", (ins F32Attr:$min, F32Attr:$max)>;
def Tpu_PowerOp : Tpu_UnaryOp<"power", "(shift + scale * x) ^ power",
    (ins F32Attr:$power, F32Attr:$scale, F32Attr:$shift)>;

// Layers whose result shape is given by the result type and checked by the verifier.
class Tpu_ShapedOp<string mnemonic, string opSummary, dag args, list<Trait> traits = []>
    : Tpu_LayerOp<mnemonic, traits> {
  let summary = opSummary;
  let arguments = !con(args, Tpu_LayerAttrs);
  let results = (outs Tpu_TensorType:$output);
}

def Tpu_DeConv2DOp : Tpu_ShapedOp<"deconv_2d",
    "2-D transposed convolution; filter is [C_in, C_out / group, kh, kw] as in ONNX ConvTranspose",
    (ins Tpu_TensorType:$input, Tpu_TensorType:$filter, Optional<Tpu_TensorType>:$bias,
         DenseI64ArrayAttr:$strides, DenseI64ArrayAttr:$pads, DenseI64ArrayAttr:$dilations,
         DefaultValuedAttr<DenseI64ArrayAttr, "{0, 0}">:$output_padding,
         DefaultValuedAttr<I64Attr, "1">:$group, DefaultValuedAttr<BoolAttr, "false">:$do_relu)>;

def Tpu_FullyConnectedOp : Tpu_ShapedOp<"fully_connected",
    "output[m, n] = sum_k input[m, k] * filter[n, k] + bias[n]; filter is [N, K]",
    (ins Tpu_TensorType:$input, Tpu_TensorType:$filter, Optional<Tpu_TensorType>:$bias,
         DefaultValuedAttr<BoolAttr, "false">:$do_relu)>;

def Tpu_MatMulOp : Tpu_ShapedOp<"matmul",
    "Batched matrix product of two activations, batch dimensions broadcast (numpy matmul)",
    (ins Tpu_TensorType:$lhs, Tpu_TensorType:$rhs, DefaultValuedAttr<BoolAttr, "false">:$do_relu)>;

class Tpu_PoolOp<string mnemonic, string opSummary, dag extraArgs = (ins)>
    : Tpu_ShapedOp<mnemonic, opSummary,
        !con((ins Tpu_TensorType:$input, DenseI64ArrayAttr:$kernel_shape,
                  DenseI64ArrayAttr:$strides, DenseI64ArrayAttr:$pads,
                  DefaultValuedAttr<BoolAttr, "false">:$ceil_mode,
                  DefaultValuedAttr<BoolAttr, "false">:$do_relu), extraArgs)>;
def Tpu_PoolMax2DOp : Tpu_PoolOp<"pool_max_2d", "2-D max pooling; pads [top, left, bottom, right]">;
def Tpu_PoolAvg2DOp : Tpu_PoolOp<"pool_avg_2d",
    "2-D average pooling; pads [top, left, bottom, right]; global pooling is a kernel of H x W",
    (ins DefaultValuedAttr<BoolAttr, "false">:$count_include_pad)>;

// Element-wise layers over two or more inputs, numpy-broadcast to the result shape.
class Tpu_EltwiseOp<string mnemonic, string opSummary, dag extraArgs = (ins)>
    : Tpu_ShapedOp<mnemonic, opSummary,
        !con((ins Variadic<Tpu_TensorType>:$inputs,
                  DefaultValuedAttr<BoolAttr, "false">:$do_relu), extraArgs)>;
def Tpu_EltwiseAddOp : Tpu_EltwiseOp<"eltwise_add",
    "sum_i coeff[i] * inputs[i] (coeff defaults to all ones; [1, -1] is a subtraction)",
    (ins OptionalAttr<DenseF32ArrayAttr>:$coeff)>;
def Tpu_EltwiseMulOp : Tpu_EltwiseOp<"eltwise_mul", "Product of the inputs">;
def Tpu_EltwiseMaxOp : Tpu_EltwiseOp<"eltwise_max", "Element-wise maximum of the inputs">;
def Tpu_EltwiseMinOp : Tpu_EltwiseOp<"eltwise_min", "Element-wise minimum of the inputs">;

def Tpu_BroadcastMulOp : Tpu_ShapedOp<"broadcast_mul",
    "input * scale where scale broadcasts along `axis` (per-channel multiply by an activation)",
    (ins Tpu_TensorType:$input, Tpu_TensorType:$scale, DefaultValuedAttr<I64Attr, "1">:$axis,
         DefaultValuedAttr<BoolAttr, "false">:$do_relu)>;

def Tpu_BatchNormOp : Tpu_ShapedOp<"batch_norm",
    "(x - mean) / sqrt(variance + epsilon) * scale + bias, per channel (axis 1)",
    (ins Tpu_TensorType:$input, Tpu_TensorType:$mean, Tpu_TensorType:$variance,
         Tpu_TensorType:$scale, Tpu_TensorType:$bias, F32Attr:$epsilon)>;

def Tpu_ScaleOp : Tpu_ShapedOp<"scale", "x * scale[c] + bias[c], per channel (axis 1)",
    (ins Tpu_TensorType:$input, Tpu_TensorType:$scale, Optional<Tpu_TensorType>:$bias,
         DefaultValuedAttr<BoolAttr, "false">:$do_relu)>;

def Tpu_PReluOp : Tpu_ShapedOp<"prelu", "x if x >= 0 else slope[c] * x, per channel (axis 1)",
    (ins Tpu_TensorType:$input, Tpu_TensorType:$slope)>;

def Tpu_ConcatOp : Tpu_ShapedOp<"concat", "Concatenation of the inputs along `axis`",
    (ins Variadic<Tpu_TensorType>:$inputs, I64Attr:$axis)>;

def Tpu_ReshapeOp : Tpu_ShapedOp<"reshape", "Same elements, shape of the result type",
    (ins Tpu_TensorType:$input)>;

def Tpu_PermuteOp : Tpu_ShapedOp<"permute", "Transpose: output dim i is input dim order[i]",
    (ins Tpu_TensorType:$input, DenseI64ArrayAttr:$order)>;

def Tpu_SliceOp : Tpu_ShapedOp<"slice",
    "output[i] = input[offsets + i * steps] per dimension; sizes come from the result type",
    (ins Tpu_TensorType:$input, DenseI64ArrayAttr:$offsets, DenseI64ArrayAttr:$steps)>;

def Tpu_CropOp : Tpu_ShapedOp<"crop", "A window of the input at `offsets`, of the result's shape",
    (ins Tpu_TensorType:$input, DenseI64ArrayAttr:$offsets)>;

def Tpu_PadOp : Tpu_ShapedOp<"pad",
    "Pads each dimension by pads[i] before and pads[rank + i] after (ONNX order)",
    (ins Tpu_TensorType:$input, DenseI64ArrayAttr:$pads,
         DefaultValuedAttr<F32Attr, "0.0f">:$const_val,
         DefaultValuedStrAttr<StrAttr, "constant">:$mode)>;

def Tpu_UpsampleOp : Tpu_ShapedOp<"upsample", "Nearest-neighbour upsampling by integer factors",
    (ins Tpu_TensorType:$input, I64Attr:$scale_h, I64Attr:$scale_w)>;

def Tpu_InterpOp : Tpu_ShapedOp<"interp",
    "Resize of H and W to the result's size: mode nearest or bilinear, ONNX coordinate modes",
    (ins Tpu_TensorType:$input, DefaultValuedStrAttr<StrAttr, "bilinear">:$mode,
         DefaultValuedStrAttr<StrAttr, "half_pixel">:$coordinate_transformation_mode)>;

def Tpu_PixelShuffleOp : Tpu_ShapedOp<"pixel_shuffle",
    "Depth to space by `upscale_factor`; mode DCR or CRD (ONNX DepthToSpace)",
    (ins Tpu_TensorType:$input, I64Attr:$upscale_factor,
         DefaultValuedStrAttr<StrAttr, "CRD">:$mode)>;

def Tpu_ReorgOp : Tpu_ShapedOp<"reorg", "Space to depth by `stride` (YOLO reorg)",
    (ins Tpu_TensorType:$input, I64Attr:$stride)>;

def Tpu_ShuffleChannelOp : Tpu_ShapedOp<"shuffle_channel",
    "Channel shuffle: [N, G, C/G, H, W] -> [N, C/G, G, H, W]",
    (ins Tpu_TensorType:$input, I64Attr:$group)>;

def Tpu_LrnOp : Tpu_ShapedOp<"lrn",
    "Local response normalization across channels: x / (k + alpha / size * sum x^2) ^ beta",
    (ins Tpu_TensorType:$input, I64Attr:$local_size, F32Attr:$alpha, F32Attr:$beta,
         DefaultValuedAttr<F32Attr, "1.0f">:$k)>;

def Tpu_LrnPartOp : Tpu_ShapedOp<"lrn_part",
    "One stage of a quantized Lrn: 1 = x^2 table, 2 = windowed channel sum, 3 = power table",
    (ins Tpu_TensorType:$input, I64Attr:$part, I64Attr:$local_size, F32Attr:$alpha,
         F32Attr:$beta, DefaultValuedAttr<F32Attr, "1.0f">:$k)>;

def Tpu_NormalizeOp : Tpu_ShapedOp<"normalize",
    "L2 normalization over channels (or over C, H, W with across_spatial), times scale",
    (ins Tpu_TensorType:$input, Tpu_TensorType:$scale,
         DefaultValuedAttr<BoolAttr, "false">:$across_spatial,
         DefaultValuedAttr<BoolAttr, "false">:$channel_shared,
         DefaultValuedAttr<F32Attr, "1e-10f">:$eps)>;

def Tpu_SoftmaxOp : Tpu_ShapedOp<"softmax", "exp(x) / sum exp(x) along `axis`",
    (ins Tpu_TensorType:$input, I64Attr:$axis)>;

def Tpu_ReduceMeanOp : Tpu_ShapedOp<"reduce_mean", "Mean over `axes`",
    (ins Tpu_TensorType:$input, DenseI64ArrayAttr:$axes,
         DefaultValuedAttr<BoolAttr, "true">:$keepdims)>;

def Tpu_PreprocessOp : Tpu_ShapedOp<"preprocess",
    "Input preprocessing on the TPU: channel reorder, then (x - mean[c]) * scale[c]",
    (ins Tpu_TensorType:$input, DenseI64ArrayAttr:$channel_order, DenseF32ArrayAttr:$mean,
         DenseF32ArrayAttr:$scale)>;

def Tpu_DetectionOutputOp : Tpu_ShapedOp<"detection_output",
    "SSD detection output: decode boxes, per-class NMS, keep_top_k detections",
    (ins Variadic<Tpu_TensorType>:$inputs, I64Attr:$num_classes,
         DefaultValuedAttr<BoolAttr, "true">:$share_location,
         DefaultValuedAttr<I64Attr, "0">:$background_label_id, F32Attr:$nms_threshold,
         I64Attr:$top_k, DefaultValuedStrAttr<StrAttr, "CENTER_SIZE">:$code_type,
         I64Attr:$keep_top_k, F32Attr:$confidence_threshold)>;

//===----------------------------------------------------------------------===//
// Quantization support
//===----------------------------------------------------------------------===//

def Tpu_QuantOp : Tpu_ShapedOp<"quant",
    "Conversion between fp32, int8 and bf16: int8 = saturate(round(x * scale)), x = int8 / scale",
    (ins Tpu_TensorType:$input, StrAttr:$from, StrAttr:$to, F32Attr:$scale,
         DefaultValuedAttr<I64Attr, "0">:$zero_point)>;

def Tpu_LutOp : Tpu_ShapedOp<"lut",
    "Table lookup: INT8 indexes a 256-entry table by the input byte; BF16 uses a table and a mantissa table",
    (ins Tpu_TensorType:$input, Tpu_TensorType:$table, Optional<Tpu_TensorType>:$mantissa)>;

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
