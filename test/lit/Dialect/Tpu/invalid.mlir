// RUN: tpuc-opt %s -split-input-file -verify-diagnostics

// Tests that a layer without a name is rejected.
func.func @relu_no_name(%arg0: tensor<4xf32>) -> tensor<4xf32> {
  // expected-error @+1 {{requires a non-empty 'name'}}
  %0 = tpu.relu %arg0 {name = ""} : (tensor<4xf32>) -> tensor<4xf32>
  return %0 : tensor<4xf32>
}

// -----

// Tests that a negative layer id is rejected.
func.func @negative_layer_id(%arg0: tensor<4xf32>) -> tensor<4xf32> {
  // expected-error @+1 {{layer_id must be >= 0, got -3}}
  %0 = tpu.relu %arg0 {name = "r", layer_id = -3} : (tensor<4xf32>) -> tensor<4xf32>
  return %0 : tensor<4xf32>
}

// -----

// Tests that an unknown quantization mode is rejected.
func.func @bad_quant_mode(%arg0: tensor<4xf32>) -> tensor<4xf32> {
  // expected-error @+1 {{quant.mode must be one of NONE, INT8, BF16, got "INT4"}}
  %0 = tpu.relu %arg0 {name = "r", quant = {mode = "INT4"}} : (tensor<4xf32>) -> tensor<4xf32>
  return %0 : tensor<4xf32>
}

// -----

// Tests that an unknown param_type is rejected.
func.func @bad_param_type(%arg0: tensor<4xf32>) -> tensor<4xf32> {
  // expected-error @+1 {{quant.param_type must be one of}}
  %0 = tpu.relu %arg0 {name = "r", quant = {param_type = "MAGIC"}} : (tensor<4xf32>) -> tensor<4xf32>
  return %0 : tensor<4xf32>
}

// -----

// Tests that a non-float threshold is rejected.
func.func @bad_threshold(%arg0: tensor<4xf32>) -> tensor<4xf32> {
  // expected-error @+1 {{quant.threshold_max must be a float}}
  %0 = tpu.relu %arg0 {name = "r", quant = {threshold_max = "big"}} : (tensor<4xf32>) -> tensor<4xf32>
  return %0 : tensor<4xf32>
}

// -----

// Tests that non-bool per-channel/asymmetric flags are rejected.
func.func @bad_perchannel(%arg0: tensor<4xf32>) -> tensor<4xf32> {
  // expected-error @+1 {{quant.is_perchannel must be a bool}}
  %0 = tpu.relu %arg0 {name = "r", quant = {is_perchannel = 1 : i32}} : (tensor<4xf32>) -> tensor<4xf32>
  return %0 : tensor<4xf32>
}

// -----

// Tests that a non-integer zero point is rejected.
func.func @bad_zero_point(%arg0: tensor<4xf32>) -> tensor<4xf32> {
  // expected-error @+1 {{quant.zero_point must be an integer}}
  %0 = tpu.relu %arg0 {name = "r", quant = {zero_point = 1.5 : f32}} : (tensor<4xf32>) -> tensor<4xf32>
  return %0 : tensor<4xf32>
}

// -----

// Tests that rshift must be an integer array.
func.func @bad_rshift(%arg0: tensor<4xf32>) -> tensor<4xf32> {
  // expected-error @+1 {{quant.rshift must be an array of integers}}
  %0 = tpu.relu %arg0 {name = "r", quant = {rshift = [1.0 : f32]}} : (tensor<4xf32>) -> tensor<4xf32>
  return %0 : tensor<4xf32>
}

// -----

// Tests that unknown quant fields are rejected.
func.func @unknown_quant_field(%arg0: tensor<4xf32>) -> tensor<4xf32> {
  // expected-error @+1 {{quant has unknown field 'scale_factor'}}
  %0 = tpu.relu %arg0 {name = "r", quant = {scale_factor = 1.0 : f32}} : (tensor<4xf32>) -> tensor<4xf32>
  return %0 : tensor<4xf32>
}

// -----

// Tests that load_weight needs a name.
func.func @weight_no_name() -> tensor<4xf32> {
  // expected-error @+1 {{requires a non-empty 'name' (the array name in the weight file)}}
  %0 = tpu.load_weight {name = ""} : tensor<4xf32>
  return %0 : tensor<4xf32>
}

// -----

// Tests that conv input must be rank 4.
func.func @conv_rank(%arg0: tensor<3x8x8xf32>, %w: tensor<4x3x3x3xf32>) -> tensor<1x4x6x6xf32> {
  // expected-error @+1 {{input must be NCHW (rank 4), got rank 3}}
  %0 = tpu.conv_2d %arg0, %w {name = "c", strides = array<i64: 1, 1>, pads = array<i64: 0, 0, 0, 0>, dilations = array<i64: 1, 1>} : (tensor<3x8x8xf32>, tensor<4x3x3x3xf32>) -> tensor<1x4x6x6xf32>
  return %0 : tensor<1x4x6x6xf32>
}

// -----

// Tests that conv filter must be rank 4.
func.func @conv_filter_rank(%arg0: tensor<1x3x8x8xf32>, %w: tensor<4x27xf32>) -> tensor<1x4x6x6xf32> {
  // expected-error @+1 {{filter must be OIHW (rank 4), got rank 2}}
  %0 = tpu.conv_2d %arg0, %w {name = "c", strides = array<i64: 1, 1>, pads = array<i64: 0, 0, 0, 0>, dilations = array<i64: 1, 1>} : (tensor<1x3x8x8xf32>, tensor<4x27xf32>) -> tensor<1x4x6x6xf32>
  return %0 : tensor<1x4x6x6xf32>
}

// -----

// Tests that conv output must be rank 4.
func.func @conv_output_rank(%arg0: tensor<1x3x8x8xf32>, %w: tensor<4x3x3x3xf32>) -> tensor<4x6x6xf32> {
  // expected-error @+1 {{output must be NCHW (rank 4), got rank 3}}
  %0 = tpu.conv_2d %arg0, %w {name = "c", strides = array<i64: 1, 1>, pads = array<i64: 0, 0, 0, 0>, dilations = array<i64: 1, 1>} : (tensor<1x3x8x8xf32>, tensor<4x3x3x3xf32>) -> tensor<4x6x6xf32>
  return %0 : tensor<4x6x6xf32>
}

// -----

// Tests that conv needs 2 strides, 2 dilations and 4 pads.
func.func @conv_attr_sizes(%arg0: tensor<1x3x8x8xf32>, %w: tensor<4x3x3x3xf32>) -> tensor<1x4x6x6xf32> {
  // expected-error @+1 {{expects 2 strides, 2 dilations and 4 pads}}
  %0 = tpu.conv_2d %arg0, %w {name = "c", strides = array<i64: 1, 1>, pads = array<i64: 0, 0>, dilations = array<i64: 1, 1>} : (tensor<1x3x8x8xf32>, tensor<4x3x3x3xf32>) -> tensor<1x4x6x6xf32>
  return %0 : tensor<1x4x6x6xf32>
}

// -----

// Tests that zero strides are rejected.
func.func @conv_zero_stride(%arg0: tensor<1x3x8x8xf32>, %w: tensor<4x3x3x3xf32>) -> tensor<1x4x6x6xf32> {
  // expected-error @+1 {{strides and dilations must be positive}}
  %0 = tpu.conv_2d %arg0, %w {name = "c", strides = array<i64: 0, 1>, pads = array<i64: 0, 0, 0, 0>, dilations = array<i64: 1, 1>} : (tensor<1x3x8x8xf32>, tensor<4x3x3x3xf32>) -> tensor<1x4x6x6xf32>
  return %0 : tensor<1x4x6x6xf32>
}

// -----

// Tests that negative pads are rejected.
func.func @conv_negative_pad(%arg0: tensor<1x3x8x8xf32>, %w: tensor<4x3x3x3xf32>) -> tensor<1x4x6x6xf32> {
  // expected-error @+1 {{pads must be non-negative}}
  %0 = tpu.conv_2d %arg0, %w {name = "c", strides = array<i64: 1, 1>, pads = array<i64: -1, 0, 0, 0>, dilations = array<i64: 1, 1>} : (tensor<1x3x8x8xf32>, tensor<4x3x3x3xf32>) -> tensor<1x4x6x6xf32>
  return %0 : tensor<1x4x6x6xf32>
}

// -----

// Tests that the group must divide the channels.
func.func @conv_group(%arg0: tensor<1x3x8x8xf32>, %w: tensor<4x1x3x3xf32>) -> tensor<1x4x6x6xf32> {
  // expected-error @+1 {{group 2 must divide input channels 3 and output channels 4}}
  %0 = tpu.conv_2d %arg0, %w {name = "c", strides = array<i64: 1, 1>, pads = array<i64: 0, 0, 0, 0>, dilations = array<i64: 1, 1>, group = 2} : (tensor<1x3x8x8xf32>, tensor<4x1x3x3xf32>) -> tensor<1x4x6x6xf32>
  return %0 : tensor<1x4x6x6xf32>
}

// -----

// Tests that filter input channels must match input channels per group.
func.func @conv_filter_channels(%arg0: tensor<1x3x8x8xf32>, %w: tensor<4x2x3x3xf32>) -> tensor<1x4x6x6xf32> {
  // expected-error @+1 {{filter expects 2 input channels per group, but input has 3 channels in 1 group(s)}}
  %0 = tpu.conv_2d %arg0, %w {name = "c", strides = array<i64: 1, 1>, pads = array<i64: 0, 0, 0, 0>, dilations = array<i64: 1, 1>} : (tensor<1x3x8x8xf32>, tensor<4x2x3x3xf32>) -> tensor<1x4x6x6xf32>
  return %0 : tensor<1x4x6x6xf32>
}

// -----

// Tests that the bias must have one element per output channel.
func.func @conv_bias(%arg0: tensor<1x3x8x8xf32>, %w: tensor<4x3x3x3xf32>, %b: tensor<3xf32>) -> tensor<1x4x6x6xf32> {
  // expected-error @+1 {{bias must have 4 elements (one per output channel), got 3}}
  %0 = tpu.conv_2d %arg0, %w, %b {name = "c", strides = array<i64: 1, 1>, pads = array<i64: 0, 0, 0, 0>, dilations = array<i64: 1, 1>} : (tensor<1x3x8x8xf32>, tensor<4x3x3x3xf32>, tensor<3xf32>) -> tensor<1x4x6x6xf32>
  return %0 : tensor<1x4x6x6xf32>
}

// -----

// Tests that a kernel larger than the padded input is rejected.
func.func @conv_kernel_too_big(%arg0: tensor<1x3x2x2xf32>, %w: tensor<4x3x3x3xf32>) -> tensor<1x4x1x1xf32> {
  // expected-error @+1 {{kernel extent 3 exceeds padded input 2}}
  %0 = tpu.conv_2d %arg0, %w {name = "c", strides = array<i64: 1, 1>, pads = array<i64: 0, 0, 0, 0>, dilations = array<i64: 1, 1>} : (tensor<1x3x2x2xf32>, tensor<4x3x3x3xf32>) -> tensor<1x4x1x1xf32>
  return %0 : tensor<1x4x1x1xf32>
}

// -----

// Tests that a wrong conv output shape is rejected with the expected shape.
func.func @conv_output_shape(%arg0: tensor<1x3x8x8xf32>, %w: tensor<4x3x3x3xf32>) -> tensor<1x4x8x8xf32> {
  // expected-error @+1 {{output shape must be [1, 4, 6, 6], got [1, 4, 8, 8]}}
  %0 = tpu.conv_2d %arg0, %w {name = "c", strides = array<i64: 1, 1>, pads = array<i64: 0, 0, 0, 0>, dilations = array<i64: 1, 1>} : (tensor<1x3x8x8xf32>, tensor<4x3x3x3xf32>) -> tensor<1x4x8x8xf32>
  return %0 : tensor<1x4x8x8xf32>
}

// -----

// Tests that custom_op needs operation_name.
func.func @custom_no_operation_name(%arg0: tensor<4xf32>) -> tensor<4xf32> {
  // expected-error @+1 {{requires a non-empty string 'operation_name'}}
  %0 = tpu.custom_op %arg0 {name = "c", param = {}, tpu = true, do_quant = false, quant = {}} : (tensor<4xf32>) -> tensor<4xf32>
  return %0 : tensor<4xf32>
}

// -----

// Tests that custom_op needs a name.
func.func @custom_no_name(%arg0: tensor<4xf32>) -> tensor<4xf32> {
  // expected-error @+1 {{requires a non-empty 'name'}}
  %0 = tpu.custom_op %arg0 {name = "", operation_name = "x", param = {}, tpu = true, do_quant = false, quant = {}} : (tensor<4xf32>) -> tensor<4xf32>
  return %0 : tensor<4xf32>
}

// -----

// Tests that threshold_overwrite only takes none, forward or backward.
func.func @custom_bad_overwrite(%arg0: tensor<4xf32>) -> tensor<4xf32> {
  // expected-error @+1 {{threshold_overwrite must be none, forward or backward, got 'sideways'}}
  %0 = tpu.custom_op %arg0 {name = "c", operation_name = "x", param = {}, tpu = true, do_quant = false, threshold_overwrite = "sideways", quant = {}} : (tensor<4xf32>) -> tensor<4xf32>
  return %0 : tensor<4xf32>
}

// -----

// Tests that params must be scalars or lists of scalars.
func.func @custom_bad_param(%arg0: tensor<4xf32>) -> tensor<4xf32> {
  // expected-error @+1 {{param 'nested' must be an int, float, bool, str or a list of them}}
  %0 = tpu.custom_op %arg0 {name = "c", operation_name = "x", param = {nested = {a = 1}}, tpu = true, do_quant = false, quant = {}} : (tensor<4xf32>) -> tensor<4xf32>
  return %0 : tensor<4xf32>
}

// -----

// Tests that list params must hold one kind of value.
func.func @custom_mixed_list(%arg0: tensor<4xf32>) -> tensor<4xf32> {
  // expected-error @+1 {{param 'mix' must be a list of values of one kind}}
  %0 = tpu.custom_op %arg0 {name = "c", operation_name = "x", param = {mix = [1, "a"]}, tpu = true, do_quant = false, quant = {}} : (tensor<4xf32>) -> tensor<4xf32>
  return %0 : tensor<4xf32>
}

// -----

// Tests that an unknown chip name is rejected.
func.func @custom_bad_chip(%arg0: tensor<4xf32>) -> tensor<4xf32> {
  // expected-error @+1 {{chipname must be cv183x, cv182x, cv181x or cv180x, got 'bm1684'}}
  %0 = tpu.custom_op %arg0 {name = "c", operation_name = "x", param = {}, tpu = true, do_quant = false, quant = {}, chipname = "bm1684"} : (tensor<4xf32>) -> tensor<4xf32>
  return %0 : tensor<4xf32>
}

// -----

// Tests that custom_op quant dictionaries are checked like every layer's.
func.func @custom_bad_quant(%arg0: tensor<4xf32>) -> tensor<4xf32> {
  // expected-error @+1 {{quant.mode must be one of NONE, INT8, BF16}}
  %0 = tpu.custom_op %arg0 {name = "c", operation_name = "x", param = {}, tpu = true, do_quant = false, quant = {mode = "FP8"}} : (tensor<4xf32>) -> tensor<4xf32>
  return %0 : tensor<4xf32>
}
