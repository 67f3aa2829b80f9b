//===- Passes.td - tpu passes ------------------------------*- tablegen -*-===//
//
// Pass flags follow the vendor toolchain's spellings (--assign-layer-id, --tpu-quant, ...), which
// its users type from habit.
//
//===----------------------------------------------------------------------===//
#ifndef TPUC_PASSES_TD
#define TPUC_PASSES_TD

include "mlir/Pass/PassBase.td"

def AssignLayerId : Pass<"assign-layer-id", "::mlir::ModuleOp"> {
  let summary = "Number every tpu layer in program order";
  let description = [{
    Gives every op implementing TpuLayerOp a `layer_id`: 0, 1, 2, ... in the order the ops appear
    in the module (functions in order, ops in pre-order). Ids depend only on the IR, not on source
    locations, so the same model always gets the same ids.

    Before:
    ```mlir
    %1 = tpu.relu %0 {name = "r1"} : (tensor<4xf32>) -> tensor<4xf32>
    %2 = tpu.relu %1 {name = "r2"} : (tensor<4xf32>) -> tensor<4xf32>
    ```
    After:
    ```mlir
    %1 = tpu.relu %0 {layer_id = 0 : i64, name = "r1"} : (tensor<4xf32>) -> tensor<4xf32>
    %2 = tpu.relu %1 {layer_id = 1 : i64, name = "r2"} : (tensor<4xf32>) -> tensor<4xf32>
    ```
  }];
}

def PrintTpuOpInfo : Pass<"print-tpu-op-info", "::mlir::ModuleOp"> {
  let summary = "Write op_info.csv: name, layer id, quantization mode and threshold of every layer";
  let description = [{
    Writes one line per tpu layer, in program order, without header:
    `name,layer_id,quant,threshold` where quant is NONE, INT8 or BF16 and threshold is the
    calibrated threshold_max (0 when not calibrated). The file name comes from the pass option or
    from the tool flag `--tpu-op-info-filename` (the vendor spelling); `-` writes to stdout.
  }];
  let options = [
    Option<"filename", "tpu-op-info-filename", "std::string", /*default=*/"\"\"",
           "File to write op_info.csv to ('-' for stdout)">,
  ];
}

def ConvertBnToScale : Pass<"convert-bn-to-scale", "::mlir::ModuleOp"> {
  let summary = "Turn batch_norm with constant statistics into a per-channel scale";
  let description = [{
    Replaces every `tpu.batch_norm` whose mean, variance, scale and bias are `tpu.load_weight`s
    by a `tpu.scale` that computes the same result:

    ```
    scale'[c] = scale[c] / sqrt(variance[c] + epsilon)
    bias'[c]  = bias[c] - mean[c] * scale'[c]
    ```

    The scale takes the batch_norm's name, layer id and quantization state. The folded arrays are
    named `<name>_scale` and `<name>_bias` (with a numeric suffix if taken). They are written,
    together with every array of the module's weight file, to a new npz and the module's
    `tpu.weight_file` is pointed at it: the file given by `weight-output`, else
    `<stem>_bn_to_scale.npz` next to the current file (or the current file itself when an
    earlier pass of the same run wrote it). The input file is never modified. A batch_norm with a
    non-constant operand is left alone; unreadable or inconsistent weights (missing array, element
    count not matching the type, variance + epsilon <= 0, non-f32 type) are errors.

    Before:
    ```mlir
    %1 = tpu.batch_norm %0, %mean, %var, %gamma, %beta {name = "bn", epsilon = 1.0e-05 : f32}
           : (tensor<1x4x8x8xf32>, tensor<4xf32>, tensor<4xf32>, tensor<4xf32>, tensor<4xf32>)
           -> tensor<1x4x8x8xf32>
    ```
    After:
    ```mlir
    %s = tpu.load_weight {name = "bn_scale"} : tensor<4xf32>
    %b = tpu.load_weight {name = "bn_bias"} : tensor<4xf32>
    %1 = tpu.scale %0, %s, %b {name = "bn"}
           : (tensor<1x4x8x8xf32>, tensor<4xf32>, tensor<4xf32>) -> tensor<1x4x8x8xf32>
    ```
  }];
  let options = [
    Option<"weightOutput", "weight-output", "std::string", /*default=*/"\"\"",
           "npz file to write the weights to (default: <stem>_bn_to_scale.npz next to the "
           "current weight file)">,
  ];
  let dependentDialects = ["::tpuc::tpu::TpuDialect"];
}

def EltwiseEarlyStride : Pass<"eltwise-early-stride", "::mlir::ModuleOp"> {
  let summary = "Apply the stride of 1x1 convolutions before the element-wise op feeding them";
  let description = [{
    When every user of an element-wise op (`tpu.eltwise_add`, `eltwise_mul`, `eltwise_max`,
    `eltwise_min`) is a `tpu.conv_2d` that reads it as input with a 1x1 filter, no padding and
    the same stride (sh, sw) != (1, 1), those convolutions only ever read the rows and columns
    0, sh, 2 sh, ... and 0, sw, 2 sw, ... of its result. The pass computes only those: each
    input of the element-wise op goes through a `tpu.slice` with steps [1, 1, sh, sw] (named
    `<eltwise name>_early_stride_<i>`, one per distinct input; a dimension of size 1 that is
    broadcast keeps step 1), the element-wise op produces the strided [N, C, ceil(H / sh),
    ceil(W / sw)] result, and the convolutions get stride 1. A slice shares the quantization
    state (mode, thresholds, zero point) of the layer producing its input, so the pass also
    works on quantized IR. When the module's layers have layer ids (--assign-layer-id ran
    before), all layers are numbered again in program order so the slices get ids too. The
    element-wise op keeps its name, attributes (including `do_relu`) and quantization state.
    This is the early stride of the vendor toolchain: the strided slices are loads with a
    stride, and the element-wise op does a quarter of the work for stride 2.

    Ops with any other user (another op, a function return, a convolution with a different
    stride, kernel, padding, or reading the op as its filter) are left unchanged; without a
    candidate the IR is unchanged.

    Before:
    ```mlir
    %2 = tpu.eltwise_add %0, %1 {name = "add", do_relu = true}
           : (tensor<1x8x8x8xf32>, tensor<1x8x8x8xf32>) -> tensor<1x8x8x8xf32>
    %3 = tpu.conv_2d %2, %w {name = "c", strides = array<i64: 2, 2>, ...}
           : (tensor<1x8x8x8xf32>, tensor<16x8x1x1xf32>) -> tensor<1x16x4x4xf32>
    ```
    After:
    ```mlir
    %s0 = tpu.slice %0 {name = "add_early_stride_0", offsets = array<i64: 0, 0, 0, 0>,
            steps = array<i64: 1, 1, 2, 2>} : (tensor<1x8x8x8xf32>) -> tensor<1x8x4x4xf32>
    %s1 = tpu.slice %1 {name = "add_early_stride_1", ...} : ... -> tensor<1x8x4x4xf32>
    %2 = tpu.eltwise_add %s0, %s1 {name = "add", do_relu = true}
           : (tensor<1x8x4x4xf32>, tensor<1x8x4x4xf32>) -> tensor<1x8x4x4xf32>
    %3 = tpu.conv_2d %2, %w {name = "c", strides = array<i64: 1, 1>, ...}
           : (tensor<1x8x4x4xf32>, tensor<16x8x1x1xf32>) -> tensor<1x16x4x4xf32>
    ```
  }];
  let dependentDialects = ["::tpuc::tpu::TpuDialect"];
}

def ImportCalibrationTable : Pass<"import-calibration-table", "::mlir::ModuleOp"> {
  let summary = "Set the threshold of every layer from a calibration table";
  let description = [{
    Reads a calibration table (the format run_calibration.py writes: a `###` comment block, a
    `# op_name threshold min max` line, then `name threshold min max` or `name threshold` rows;
    lines starting with `#` and blank lines are ignored) and stores in the `quant` dictionary of
    every tpu layer, by layer name:
    - `threshold_max` = threshold and `threshold_min` = -threshold (symmetric);
    - for a layer with `quant.is_asymmetric = true`: `threshold_max` = max and
      `threshold_min` = min of its row, which must then have four fields.

    `tpu.custom_op`s apply their `threshold_overwrite` afterwards, on the symmetric threshold of
    the op producing their first operand: first every `backward` op, last in program order
    first, gives its threshold to that producer; then every `forward` op, in program order,
    takes the producer's threshold. Both follow the layers that keep their input's threshold in
    --tpu-quant (max pool, relu, reshape, ...): `backward` also sets the layers before them up
    to the first other one, `forward` takes that first other layer's threshold. A layer whose
    threshold is overwritten needs no row of its own. A producer given two different
    thresholds by `backward` ops is an error.

    Errors: a layer without a row, a malformed line, a non-number, a threshold <= 0 or min > max
    (reported as `file:line`), a duplicate row, a `threshold_overwrite` op whose first operand is
    not produced by a layer. The table file comes from the pass option or from the tool flag
    `--calibration-table` (the vendor spelling).
  }];
  let options = [
    Option<"tableFile", "calibration-table", "std::string", /*default=*/"\"\"",
           "Calibration table to read">,
  ];
}

def AssignChipName : Pass<"assign-chip-name", "::mlir::ModuleOp"> {
  let summary = "Record the target chip in the module and on every custom op";
  let description = [{
    Sets the module attribute `tpu.chip` to the chip name and the `chipname` attribute of every
    `tpu.custom_op` (plugins read it to generate code). Valid names: cv183x, cv182x, cv181x,
    cv180x; anything else is an error listing them. The name comes from the pass option or from
    the tool flag `--chipname` (the vendor spelling).

    ```mlir
    module attributes {tpu.chip = "cv183x"} { ... }
    ```
  }];
  let options = [
    Option<"chipName", "chipname", "std::string", /*default=*/"\"\"",
           "Target chip: cv183x, cv182x, cv181x or cv180x">,
  ];
}

def GenPseudoWeightNpz : Pass<"gen-pseudo-weight-npz", "::mlir::ModuleOp"> {
  let summary = "Write random weights for every load_weight and a pseudo calibration table";
  let description = [{
    For hand-written models without trained weights (such as a module holding a single custom
    op): writes an npz holding, for every `tpu.load_weight` of the module, an array of its name,
    shape and element type filled with reproducible pseudo-random values:
    - floating point (f32; bf16 stored as its 16-bit pattern, '<u2'): uniform in [-1, 1);
    - signed or signless integers (i8, i16, i32): uniform over [-128, 127]; ui8: over [0, 255].
    The values come from a 64-bit Mersenne Twister (std::mt19937_64) seeded with `seed` and
    consumed in program order, so the same module and seed always give the same file.

    The npz is written to `weight-output` if given, else to the module's `tpu.weight_file` when
    that file does not exist yet (the usual case: the hand-written module names the file it
    expects), else to `<stem>_pseudo.npz` next to it so an existing file is never overwritten;
    `tpu.weight_file` is set to the file written. Two load_weights with the same name and
    different types are an error.

    With `--pseudo-calibration-table=<file>` (tool flag, vendor spelling, or the pass option of
    that name) it also writes a calibration table with a row `name threshold -threshold
    threshold` for every tpu layer, threshold = `threshold` (default 1.0, the range of the
    pseudo weights): a table for models whose values are never quantized.
  }];
  let options = [
    Option<"tableFile", "pseudo-calibration-table", "std::string", /*default=*/"\"\"",
           "Pseudo calibration table to write (none when empty)">,
    Option<"weightOutput", "weight-output", "std::string", /*default=*/"\"\"",
           "npz file to write (default: the module's tpu.weight_file, see the description)">,
    Option<"seed", "seed", "uint64_t", /*default=*/"0", "Seed of the random generator">,
    Option<"threshold", "threshold", "double", /*default=*/"1.0",
           "Threshold of every row of the pseudo calibration table (> 0)">,
  ];
}

def TpuQuant : Pass<"tpu-quant", "::mlir::ModuleOp"> {
  let summary = "Quantize a calibrated fp32 module to INT8 (symmetric, per-channel conv/fc)";
  let description = [{
    Every tpu layer needs `quant.threshold_max` > 0 (from --import-calibration-table); a layer
    without it, or with `is_asymmetric = true`, is an error naming the layer. Thresholds are
    symmetric: an int8 value q of a tensor with threshold T stands for q * T / 127. Below,
    Ti/To are the input/output thresholds. docs/quantization.md gives every formula in full.

    Activations become `i8` tensors. After each `tpu.input` (which stays f32, mode NONE) with
    INT8 users comes `tpu.quant` `<input>_quant` FP32 -> INT8 with scale = 127 / T, for those
    users: q = sat8(round_half_away(x * scale)); fp32 users read the input directly. Every i8
    value returned by a function goes through `tpu.quant` `<name>_dequant` INT8 -> FP32 (the
    TPU's bf16 cast x = bf16(q * bf16(T / 127)), as every INT8 -> FP32 conversion). New
    weights are added to a new npz (`weight-output`, else `<stem>_int8.npz`), and `tpu.weight_file`
    points at it. Quantized layers get quant
    `mode = "INT8"`, `param_type`, and `multiplier` / `rshift` (i64 arrays), `is_perchannel`:

    - conv_2d, deconv_2d, fully_connected, scale (per channel, default): filter ->
      `<name>_quant_filter` (i8, same shape, w_q ~= w * 127 / max|w_c|), bias ->
      `<name>_quant_bias` (i32 [C], ~= b * 127 / max|w_c| * 127 / Ti), both computed from the
      channel's (multiplier, rshift) in float32 as the vendor toolchain does, packed record
      `<name>_quant_chan_param` (ui8 [C, 9]: bias i32, multiplier u32, rshift u8, little-endian,
      the hardware's per-channel parameter). param_type RSHIFT_AND_M_I32, is_perchannel = true,
      y = arith::requantQdm(sum x*w + bias, multiplier[c], rshift[c], do_relu, true), with
      multiplier / 2^(31 + rshift) = float32(Ti * max|w_c|) / float32(127 * To).
      With per-channel=false: RSHIFT_ONLY, i16 bias, rshift = [r],
      y = arith::requantPerTensor(sum x*w + bias, r, do_relu, true).
      fully_connected (per-channel=true) shares one weight scale 127 / max|w| and one
      (multiplier, rshift) over the filter (the matrix unit has one quan_m): param_type
      RSHIFT_AND_M_I32, is_perchannel = false, bias i32 per output, no chan_param.
    - matmul, eltwise_mul (2 inputs): RSHIFT_AND_M_I32, one multiplier/rshift:
      y = requantQdm(a * b (summed for matmul), m, r, do_relu, true).
    - eltwise_add / max / min: RSHIFT_AND_M_I8, multiplier[i] int8 per input (truncated
      coeff_i * Ti_i / To * 2^r), rshift [r]:
      add: y = sat8(roundingRightShift(sum_i q_i * m_i, r)), then relu;
      max/min: y = max/min_i sat8(roundingRightShift(q_i * m_i, r)), then relu.
    - pool_avg_2d: RSHIFT_AND_M_I8 [m], [r]: y = sat8(roundingRightShift(m * sum window, r)).
    - pool_max_2d, relu, reshape, permute, slice, crop, pad, upsample, pixel_shuffle, reorg,
      shuffle_channel, interp nearest: param_type NONE, thresholds set to the input's; pad's
      const_val becomes the int8 padding value.
    - leaky_relu: RSHIFT_AND_M_I8, multiplier [m_pos, m_neg], rshift [r_pos, r_neg]:
      y = sat8(roundingRightShift(q * m, r)) with the pair chosen by the sign of q.
    - prelu: slope -> `<name>_quant_slope` (i8 per-channel m_neg), multiplier [m_pos],
      rshift [r_pos, r_neg].
    - sigmoid, tanh, exp, sqrt, reciprocal, silu, mish, hard_swish, hard_sigmoid, clip, power
      become `tpu.lut` (param_type LUT_INT8) with table `<name>_quant_lut` (i8 [256]):
      table[u8(q)] = sat8(round(f(q * Ti / 127) * 127 / To)).
    - concat: RSHIFT_AND_M_I8, per input (multiplier[i], rshift[i]), identity (1, 0) when the
      thresholds agree: y = sat8(roundingRightShift(q * m_i, r_i)).
    - every other layer (softmax, lrn, normalize, detection_output, interp bilinear,
      reduce_mean, custom ops with do_quant = false, ...) stays fp32 with mode NONE: its int8
      operands go through `<name>_in<k>_dequant` INT8 -> FP32 and its result, for int8 users,
      through `<name>_quant` FP32 -> INT8.
    - custom_op with do_quant = true: quantized by its plugin (`custom-op-plugin`, or the tool
      flag `--custom-op-plugin`): `quantizeInt8()` of the `cvi::CustomOp` registered under its
      `operation_name` sees getPrevOpThreshold(i) = Ti of operand i and getOpThreshold() = To
      (after `threshold_overwrite`, applied by --import-calibration-table; a forward/backward op
      whose To differs from Ti of operand 0 is an error); the op's `param` becomes the plugin's
      param (entries it added included), quant gets mode INT8, `param_type` (setOpQuantParamType,
      NONE when not called) and `is_perchannel`; the result is i8. A missing plugin, op or hook,
      or an error reported by the plugin, is an error naming the plugin, the layer and the hook.
  }];
  let options = [
    Option<"quantMode", "quant-mode", "std::string", /*default=*/"\"int8\"",
           "Quantization mode (only int8, symmetric)">,
    Option<"perChannel", "per-channel", "bool", /*default=*/"true",
           "Per-channel QDM for conv/deconv/fc/scale (false: per-tensor rshift only)">,
    Option<"weightOutput", "weight-output", "std::string", /*default=*/"\"\"",
           "npz file to write the weights to (default: <stem>_int8.npz)">,
    ListOption<"customOpPlugin", "custom-op-plugin", "std::string",
               "Custom-op plugin libraries quantizing do_quant custom ops (default: the tool "
               "flag --custom-op-plugin)">,
  ];
  let dependentDialects = ["::tpuc::tpu::TpuDialect"];
}

//===----------------------------------------------------------------------===//
// Backend: INT8 module -> addresses and routines for --mlir-to-cvimodel (docs/backend.md)
//===----------------------------------------------------------------------===//

def TpuLower : Pass<"tpu-lower", "::mlir::ModuleOp"> {
  let summary = "Check that every op has a TPU kernel or a CPU function";
  let description = [{
    Checks that every op of the INT8 module can be executed: on the TPU by an INT8 layer kernel
    (runtime/include/tpuc/kernel/Layers.h) or, for a TPU custom op, its plugin's codeGenInt8;
    or on the CPU by a runtime function (the `quant` input conversion, fp32 layers such as
    softmax, CPU custom ops). An op with neither, or with shapes its kernel cannot handle
    (rank > 4, eltwise broadcasts, non-constant pad, broadcast matmul batches), is an error naming the op and the layer. Layers need no separate
    "lowered" form in tpuc: the code generation reads the quantized tpu ops directly. The one
    rewrite: each `tpu.argmax` of an int8 tensor (or of its dequantization) becomes, as in
    vendor models, a max pooling over the axis giving per-tile maxima on the TPU and the CPU
    function `argmax_v3` (a `tpu.custom_op` with `tpu = false`) reading the data and the maxima.
  }];
}

def ReorderOp : Pass<"reorder-op", "::mlir::ModuleOp"> {
  let summary = "Op reordering (not implemented: emits a remark, changes nothing)";
  let description = [{
    The vendor pass moves ops closer to their users to shorten live ranges. tpuc keeps program
    order; the pass emits a remark saying that nothing was reordered.
  }];
}

def TgFuseLeakyRelu : Pass<"tg-fuse-leakyrelu", "::mlir::ModuleOp"> {
  let summary = "Fuse conv_2d + leaky_relu where the conv kernel supports it";
  let description = [{
    Would fold an INT8 `leaky_relu` into the `conv_2d` producing its only input. The INT8
    convolution kernel (Conv2dLayer) has no leaky-relu epilogue, so every candidate pair is
    reported in a remark ("not fused: ...") and left as two layers; the leaky_relu runs as its
    own kernel. Nothing is changed.
  }];
}

def ConvIcAlignment : Pass<"conv-ic-alignment", "::mlir::ModuleOp"> {
  let summary = "Input-channel alignment of convolutions (not needed: emits a remark)";
  let description = [{
    The conv kernel handles any input-channel count (it splits input channels with 32-bit partial
    sums when needed), so no filter is padded. The pass emits a remark saying so.
  }];
}

def GroupOps : Pass<"group-ops", "::mlir::ModuleOp"> {
  let summary = "Partition TPU layers into layer groups kept in local memory";
  let description = [{
    Greedy, in program order: an INT8 layer the group emitter handles (conv_2d plain or
    depthwise, pool_max_2d / pool_avg_2d, eltwise_add / max / min, relu, leaky_relu, lut) joins
    the current group when it reads a result of a member (or an activation a member reads), the
    group has fewer than max-group-layers members and still fits the chip's local memory when
    sliced along H (intermediates in local memory, weights loaded once, per slice or in
    output-channel tiles). A group that cannot grow is cut back to its last block boundary.
    Members of groups of two or more layers get `tpu.layer_group = <k> : i64`;
    --mlir-to-cvimodel emits each group through the layer-group emitter: only the group's inputs
    are loaded from global memory, and every member's output is stored unless
    local-intermediates is set, which keeps the tensors used only inside their group in local
    memory (`tpu.layer_group_local`; runners then cannot dump them). Emits one remark with the
    count.
  }];
  let options = [
    Option<"localIntermediates", "local-intermediates", "bool", /*default=*/"false",
           "Never store tensors used only inside their group (they are then not dumpable)">,
    Option<"maxGroupLayers", "max-group-layers", "int64_t", /*default=*/"10",
           "At most this many layers per group (a group's first layers wait for its input and "
           "weights; 10 gave the fewest cycles on r18_half_112)">
  ];
}

def DeepFusionGroupSlice : Pass<"deep-fusion-group-slice", "::mlir::ModuleOp"> {
  let summary = "Deep-fusion group slicing (done by the layer-group emitter: emits a remark)";
}

def DeepFusionOpt : Pass<"deep-fusion-opt", "::mlir::ModuleOp"> {
  let summary = "Deep-fusion optimization (done by the layer-group emitter: emits a remark)";
}

def TgOpTile : Pass<"tg-op-tile", "::mlir::ModuleOp"> {
  let summary = "Op tiling (done inside the layer kernels: emits a remark)";
  let description = [{
    Every layer kernel tiles its own work to fit local memory when the command buffer is
    generated, so there is nothing to tile in the IR; the pass emits a remark saying so.
  }];
}

def Dce : Pass<"dce", "::mlir::ModuleOp"> {
  let summary = "Remove ops whose results are unused";
  let description = [{
    Erases, repeatedly, every op without side effects whose results have no users (dead layers,
    unused `tpu.load_weight`s). Function arguments and returns are kept.
  }];
}

def CompressWeight : Pass<"compress-weight", "::mlir::ModuleOp"> {
  let summary = "Weight compression (not implemented: emits a warning, compresses nothing)";
  let description = [{
    CV183x TDMA can decompress weights on load; tpuc's kernels load uncompressed weights, so no
    weight is compressed. The pass emits a warning saying that nothing was compressed and why.
  }];
}

def CompressActivation : Pass<"compress-activation", "::mlir::ModuleOp"> {
  let summary = "Activation compression (not implemented: emits a warning, compresses nothing)";
  let description = [{
    Activations stay uncompressed in global memory (the layer kernels read and write plain
    tensors); the pass emits a warning saying that nothing was compressed and why.
  }];
}

def AssignWeightAddress : Pass<"assign-weight-address", "::mlir::ModuleOp"> {
  let summary = "Pack the weights of INT8 layers into weight.bin and record their addresses";
  let description = [{
    Reads every weight an INT8 TPU layer uses from the module's `tpu.weight_file` npz and writes
    it, in the layout the layer kernel loads, into the weight binary:
    conv_2d filters reordered to [OC][kh][kw][IC/g] (`<array>_reordered`), per-channel parameter
    records `<name>_quant_chan_param` (uint8 [OC][9]), per-tensor conv biases (int16),
    fully_connected filters ([N][K]) and biases as byte planes (`<array>_packed`), lut tables and
    prelu slopes as they are. Each weight starts at a multiple of `tpu-weight-address-align`.
    Attributes: `tpu.weight_gaddr` (region 1 address) and `tpu.weight_map_name` on each
    load_weight, `tpu.chan_param_gaddr` on per-channel conv_2d and scale (a depthwise 1x1
    convolution), `tpu.weight_bin` / `tpu.weight_size` on the module. Writes
    weight_map.csv lines `name,0x<offset>`. Options are also taken from the top-level flags of
    the same names (the vendor spelling `--tpu-weight-bin-filename=weight.bin`).
  }];
  let options = [
    Option<"align", "tpu-weight-address-align", "unsigned", /*default=*/"0",
           "Alignment of each weight in bytes (default 16)">,
    Option<"mapFilename", "tpu-weight-map-filename", "std::string", /*default=*/"\"\"",
           "weight_map.csv to write (none when empty)">,
    Option<"binFilename", "tpu-weight-bin-filename", "std::string", /*default=*/"\"\"",
           "Weight binary to write (default weight.bin)">,
  ];
}

def AssignNeuronAddress : Pass<"assign-neuron-address", "::mlir::ModuleOp"> {
  let summary = "Give every activation a global address (shared, private or io region)";
  let description = [{
    Places each tensor an op produces: model inputs and outputs each in their own io region (3, 4,
    ... up to 7, as vendor models do; further io tensors go to private memory), tensors read or
    written by a CPU routine in private memory (they must survive across routines), the rest in
    shared memory, where with `tpu-neuron-memory-reuse` tensors whose live ranges (definition to
    last use, in program order) do not overlap share bytes (first fit). A reshape shares its
    input's buffer. Offsets are multiples of `tpu-neuron-address-align`. Attributes: `gaddr` (i64,
    region in bits 42:40) on each op, `tpu.tensor_name` on tpu.quant (an output dequantization is
    the tensor `<producer>_f32`), `tpu.shared_gmem` / `tpu.private_gmem` on the module. A module
    already divided into routines is an error.
    Writes neuron_map.csv lines `name,0x<gaddr>,<dtype>,n,c,h,w`. Options are also taken from
    the top-level flags of the same names.
  }];
  let options = [
    Option<"reuse", "tpu-neuron-memory-reuse", "bool", /*default=*/"false",
           "Share memory between tensors whose live ranges do not overlap">,
    Option<"align", "tpu-neuron-address-align", "unsigned", /*default=*/"0",
           "Alignment of each tensor in bytes (default 64)">,
    Option<"mapFilename", "tpu-neuron-map-filename", "std::string", /*default=*/"\"\"",
           "neuron_map.csv to write (none when empty)">,
  ];
}

def DivideOpsToFunc : Pass<"divide-ops-to-func", "::mlir::ModuleOp"> {
  let summary = "Split main into TPU and CPU routines (one function each) called in order";
  let description = [{
    Cuts the body of `main` into routines in program order: each CPU op (the fp32 -> int8 input
    `quant`, fp32 layers such as softmax, CPU custom ops) is a routine of its own, and each
    maximal run of TPU ops is one TPU routine. Every routine becomes a private function
    `@subfunc_<k>` with `tpu.routine = "tpu"` or `"cpu"` (and `tpu.cpu_function`), taking the
    tensors it reads from earlier routines and returning those later routines or the return use;
    the weights it reads are cloned into it. `main` keeps its `tpu.input`s and becomes the
    sequence of `func.call`s. Run after the address passes (the `gaddr` attributes move with the
    ops).
  }];
  let dependentDialects = ["::mlir::func::FuncDialect"];
}

#endif // TPUC_PASSES_TD
