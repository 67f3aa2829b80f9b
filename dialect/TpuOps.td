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
