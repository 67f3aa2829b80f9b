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

// Tests that operands must be statically shaped tensors.
func.func @dynamic_shape(%arg0: tensor<?x4xf32>) -> tensor<?x4xf32> {
  // expected-error @+1 {{operand #0 must be statically shaped tensor}}
  %0 = tpu.relu %arg0 {name = "r"} : (tensor<?x4xf32>) -> tensor<?x4xf32>
  return %0 : tensor<?x4xf32>
}

// -----

// Tests that unary layers keep the input's type.
func.func @relu_type(%arg0: tensor<4xf32>) -> tensor<4xbf16> {
  // expected-error @+1 {{requires the same type for all operands and results}}
  %0 = tpu.relu %arg0 {name = "r"} : (tensor<4xf32>) -> tensor<4xbf16>
  return %0 : tensor<4xbf16>
}

// -----

// Tests that sigmoid keeps the input's element type.
func.func @sigmoid_type(%arg0: tensor<4xf32>) -> tensor<4xbf16> {
  // expected-error @+1 {{requires the same type for all operands and results}}
  %0 = tpu.sigmoid %arg0 {name = "u"} : (tensor<4xf32>) -> tensor<4xbf16>
  return %0 : tensor<4xbf16>
}

// -----

// Tests that tanh keeps the input's shape.
func.func @tanh_type(%arg0: tensor<4xf32>) -> tensor<2x2xf32> {
  // expected-error @+1 {{requires the same type for all operands and results}}
  %0 = tpu.tanh %arg0 {name = "u"} : (tensor<4xf32>) -> tensor<2x2xf32>
  return %0 : tensor<2x2xf32>
}

// -----

// Tests that sqrt keeps the input's element type.
func.func @sqrt_type(%arg0: tensor<4xf32>) -> tensor<4xi8> {
  // expected-error @+1 {{requires the same type for all operands and results}}
  %0 = tpu.sqrt %arg0 {name = "u"} : (tensor<4xf32>) -> tensor<4xi8>
  return %0 : tensor<4xi8>
}

// -----

// Tests that reciprocal keeps the input's shape.
func.func @reciprocal_type(%arg0: tensor<4xf32>) -> tensor<8xf32> {
  // expected-error @+1 {{requires the same type for all operands and results}}
  %0 = tpu.reciprocal %arg0 {name = "u"} : (tensor<4xf32>) -> tensor<8xf32>
  return %0 : tensor<8xf32>
}

// -----

// Tests that exp keeps the input's element type.
func.func @exp_type(%arg0: tensor<4xf32>) -> tensor<4xbf16> {
  // expected-error @+1 {{requires the same type for all operands and results}}
  %0 = tpu.exp %arg0 {name = "u"} : (tensor<4xf32>) -> tensor<4xbf16>
  return %0 : tensor<4xbf16>
}

// -----

// Tests that mish keeps the input's shape.
func.func @mish_type(%arg0: tensor<4xf32>) -> tensor<1x4xf32> {
  // expected-error @+1 {{requires the same type for all operands and results}}
  %0 = tpu.mish %arg0 {name = "u"} : (tensor<4xf32>) -> tensor<1x4xf32>
  return %0 : tensor<1x4xf32>
}

// -----

// Tests that silu keeps the input's element type.
func.func @silu_type(%arg0: tensor<4xf32>) -> tensor<4xbf16> {
  // expected-error @+1 {{requires the same type for all operands and results}}
  %0 = tpu.silu %arg0 {name = "u"} : (tensor<4xf32>) -> tensor<4xbf16>
  return %0 : tensor<4xbf16>
}

// -----

// Tests that hard_swish keeps the input's shape.
func.func @hard_swish_type(%arg0: tensor<4xf32>) -> tensor<3xf32> {
  // expected-error @+1 {{requires the same type for all operands and results}}
  %0 = tpu.hard_swish %arg0 {name = "u"} : (tensor<4xf32>) -> tensor<3xf32>
  return %0 : tensor<3xf32>
}

// -----

// Tests that hard_sigmoid parameters must be finite.
func.func @hard_sigmoid_inf(%arg0: tensor<4xf32>) -> tensor<4xf32> {
  // expected-error @+1 {{alpha must be finite, got inf}}
  %0 = tpu.hard_sigmoid %arg0 {name = "h", alpha = 0x7F800000 : f32, beta = 0.5 : f32} : (tensor<4xf32>) -> tensor<4xf32>
  return %0 : tensor<4xf32>
}

// -----

// Tests that the leaky_relu slope must be finite.
func.func @leaky_relu_nan(%arg0: tensor<4xf32>) -> tensor<4xf32> {
  // expected-error @+1 {{negative_slope must be finite, got nan}}
  %0 = tpu.leaky_relu %arg0 {name = "l", negative_slope = 0x7FC00000 : f32} : (tensor<4xf32>) -> tensor<4xf32>
  return %0 : tensor<4xf32>
}

// -----

// Tests that clip bounds must not be NaN.
func.func @clip_nan(%arg0: tensor<4xf32>) -> tensor<4xf32> {
  // expected-error @+1 {{min and max must not be NaN}}
  %0 = tpu.clip %arg0 {name = "c", min = 0x7FC00000 : f32, max = 6.0 : f32} : (tensor<4xf32>) -> tensor<4xf32>
  return %0 : tensor<4xf32>
}

// -----

// Tests that clip needs min <= max.
func.func @clip_order(%arg0: tensor<4xf32>) -> tensor<4xf32> {
  // expected-error @+1 {{min 6 must not exceed max 0}}
  %0 = tpu.clip %arg0 {name = "c", min = 6.0 : f32, max = 0.0 : f32} : (tensor<4xf32>) -> tensor<4xf32>
  return %0 : tensor<4xf32>
}

// -----

// Tests that power parameters must be finite.
func.func @power_inf(%arg0: tensor<4xf32>) -> tensor<4xf32> {
  // expected-error @+1 {{shift must be finite, got -inf}}
  %0 = tpu.power %arg0 {name = "p", power = 2.0 : f32, scale = 1.0 : f32, shift = 0xFF800000 : f32} : (tensor<4xf32>) -> tensor<4xf32>
  return %0 : tensor<4xf32>
}

// -----

// Tests that an unknown preprocess field is rejected with the known ones.
func.func @input_unknown_field(%arg0: tensor<1x3x4x4xf32>) -> tensor<1x3x4x4xf32> {
  // expected-error @+1 {{preprocess has unknown field 'meen' (expected mean, std, scale, channel_order, resize, crop, raw_scale, input_scale, keep_aspect_ratio, aligned, pixel_format, data_format)}}
  %0 = tpu.input %arg0 {name = "x", preprocess = {meen = [1.0]}} : (tensor<1x3x4x4xf32>) -> tensor<1x3x4x4xf32>
  return %0 : tensor<1x3x4x4xf32>
}

// -----

// Tests that preprocess mean has one entry or one per channel.
func.func @input_mean_count(%arg0: tensor<1x3x4x4xf32>) -> tensor<1x3x4x4xf32> {
  // expected-error @+1 {{preprocess.mean must have 1 or 3 (one per channel) entries, got 2}}
  %0 = tpu.input %arg0 {name = "x", preprocess = {mean = [1.0, 2.0]}} : (tensor<1x3x4x4xf32>) -> tensor<1x3x4x4xf32>
  return %0 : tensor<1x3x4x4xf32>
}

// -----

// Tests that preprocess values must be numbers.
func.func @input_mean_kind(%arg0: tensor<1x3x4x4xf32>) -> tensor<1x3x4x4xf32> {
  // expected-error @+1 {{preprocess.mean must be a number or a list of numbers, got "zero"}}
  %0 = tpu.input %arg0 {name = "x", preprocess = {mean = "zero"}} : (tensor<1x3x4x4xf32>) -> tensor<1x3x4x4xf32>
  return %0 : tensor<1x3x4x4xf32>
}

// -----

// Tests that preprocess std must not contain 0.
func.func @input_std_zero(%arg0: tensor<1x3x4x4xf32>) -> tensor<1x3x4x4xf32> {
  // expected-error @+1 {{preprocess.std must not contain 0}}
  %0 = tpu.input %arg0 {name = "x", preprocess = {std = array<f32: 1.0, 0.0, 1.0>}} : (tensor<1x3x4x4xf32>) -> tensor<1x3x4x4xf32>
  return %0 : tensor<1x3x4x4xf32>
}

// -----

// Tests that a named channel order must fit the channel count.
func.func @input_gray_channels(%arg0: tensor<1x3x4x4xf32>) -> tensor<1x3x4x4xf32> {
  // expected-error @+1 {{preprocess.channel_order 'gray' needs 1 channel(s), the input has 3}}
  %0 = tpu.input %arg0 {name = "x", preprocess = {channel_order = "gray"}} : (tensor<1x3x4x4xf32>) -> tensor<1x3x4x4xf32>
  return %0 : tensor<1x3x4x4xf32>
}

// -----

// Tests that an unknown channel order name is rejected.
func.func @input_channel_order_name(%arg0: tensor<1x3x4x4xf32>) -> tensor<1x3x4x4xf32> {
  // expected-error @+1 {{preprocess.channel_order must be rgb, bgr or gray, got 'rbg'}}
  %0 = tpu.input %arg0 {name = "x", preprocess = {channel_order = "rbg"}} : (tensor<1x3x4x4xf32>) -> tensor<1x3x4x4xf32>
  return %0 : tensor<1x3x4x4xf32>
}

// -----

// Tests that an index channel order must be a permutation.
func.func @input_channel_order_perm(%arg0: tensor<1x3x4x4xf32>) -> tensor<1x3x4x4xf32> {
  // expected-error @+1 {{preprocess.channel_order must be a permutation of 0 .. 2, got [2, 2, 0]}}
  %0 = tpu.input %arg0 {name = "x", preprocess = {channel_order = array<i64: 2, 2, 0>}} : (tensor<1x3x4x4xf32>) -> tensor<1x3x4x4xf32>
  return %0 : tensor<1x3x4x4xf32>
}

// -----

// Tests that preprocess resize takes one or two sizes.
func.func @input_resize(%arg0: tensor<1x3x4x4xf32>) -> tensor<1x3x4x4xf32> {
  // expected-error @+1 {{preprocess.resize must be [shorter side] or [h, w], got 3 entries}}
  %0 = tpu.input %arg0 {name = "x", preprocess = {resize = array<i64: 8, 8, 8>}} : (tensor<1x3x4x4xf32>) -> tensor<1x3x4x4xf32>
  return %0 : tensor<1x3x4x4xf32>
}

// -----

// Tests that preprocess crop sizes must be positive.
func.func @input_crop(%arg0: tensor<1x3x4x4xf32>) -> tensor<1x3x4x4xf32> {
  // expected-error @+1 {{preprocess.crop must be positive, got [4, 0]}}
  %0 = tpu.input %arg0 {name = "x", preprocess = {crop = array<i64: 4, 0>}} : (tensor<1x3x4x4xf32>) -> tensor<1x3x4x4xf32>
  return %0 : tensor<1x3x4x4xf32>
}

// -----

// Tests that preprocess raw_scale must be positive.
func.func @input_raw_scale(%arg0: tensor<1x3x4x4xf32>) -> tensor<1x3x4x4xf32> {
  // expected-error @+1 {{preprocess.raw_scale must be a positive number, got -1.000000e+00 : f32}}
  %0 = tpu.input %arg0 {name = "x", preprocess = {raw_scale = -1.0 : f32}} : (tensor<1x3x4x4xf32>) -> tensor<1x3x4x4xf32>
  return %0 : tensor<1x3x4x4xf32>
}

// -----

// Tests that preprocess flags must be bools.
func.func @input_flag(%arg0: tensor<1x3x4x4xf32>) -> tensor<1x3x4x4xf32> {
  // expected-error @+1 {{preprocess.keep_aspect_ratio must be a bool, got 1 : i64}}
  %0 = tpu.input %arg0 {name = "x", preprocess = {keep_aspect_ratio = 1}} : (tensor<1x3x4x4xf32>) -> tensor<1x3x4x4xf32>
  return %0 : tensor<1x3x4x4xf32>
}

// -----

// Tests that an unknown pixel format is rejected.
func.func @input_pixel_format(%arg0: tensor<1x3x4x4xf32>) -> tensor<1x3x4x4xf32> {
  // expected-error @+1 {{preprocess.pixel_format must be RGB_PLANAR, RGB_PACKED, BGR_PLANAR, BGR_PACKED, GRAYSCALE, YUV420_PLANAR, YUV_NV21, YUV_NV12 or RGBA_PLANAR, got 'RGB'}}
  %0 = tpu.input %arg0 {name = "x", preprocess = {pixel_format = "RGB"}} : (tensor<1x3x4x4xf32>) -> tensor<1x3x4x4xf32>
  return %0 : tensor<1x3x4x4xf32>
}

// -----

// Tests that data_format is nchw or nhwc, and nhwc takes the channels from the last dimension.
func.func @input_data_format(%arg0: tensor<1x4x4x3xf32>) -> tensor<1x4x4x3xf32> {
  %0 = tpu.input %arg0 {name = "ok", preprocess = {data_format = "nhwc", mean = [1.0, 2.0, 3.0]}} : (tensor<1x4x4x3xf32>) -> tensor<1x4x4x3xf32>
  // expected-error @+1 {{preprocess.data_format must be nchw or nhwc, got 'hwc'}}
  %1 = tpu.input %0 {name = "x", preprocess = {data_format = "hwc"}} : (tensor<1x4x4x3xf32>) -> tensor<1x4x4x3xf32>
  return %1 : tensor<1x4x4x3xf32>
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

// Tests that a conv output of the wrong rank is rejected with the expected shape.
func.func @conv_output_rank(%arg0: tensor<1x3x8x8xf32>, %w: tensor<4x3x3x3xf32>) -> tensor<4x6x6xf32> {
  // expected-error @+1 {{output shape must be [1, 4, 6, 6], got [4, 6, 6]}}
  %0 = tpu.conv_2d %arg0, %w {name = "c", strides = array<i64: 1, 1>, pads = array<i64: 0, 0, 0, 0>, dilations = array<i64: 1, 1>} : (tensor<1x3x8x8xf32>, tensor<4x3x3x3xf32>) -> tensor<4x6x6xf32>
  return %0 : tensor<4x6x6xf32>
}

// -----

// Tests that conv needs 2 strides.
func.func @conv_strides_size(%arg0: tensor<1x3x8x8xf32>, %w: tensor<4x3x3x3xf32>) -> tensor<1x4x6x6xf32> {
  // expected-error @+1 {{strides must have 2 entries ([h, w]), got 1}}
  %0 = tpu.conv_2d %arg0, %w {name = "c", strides = array<i64: 1>, pads = array<i64: 0, 0, 0, 0>, dilations = array<i64: 1, 1>} : (tensor<1x3x8x8xf32>, tensor<4x3x3x3xf32>) -> tensor<1x4x6x6xf32>
  return %0 : tensor<1x4x6x6xf32>
}

// -----

// Tests that conv needs 4 pads.
func.func @conv_pads_size(%arg0: tensor<1x3x8x8xf32>, %w: tensor<4x3x3x3xf32>) -> tensor<1x4x6x6xf32> {
  // expected-error @+1 {{pads must have 4 entries ([top, left, bottom, right]), got 2}}
  %0 = tpu.conv_2d %arg0, %w {name = "c", strides = array<i64: 1, 1>, pads = array<i64: 0, 0>, dilations = array<i64: 1, 1>} : (tensor<1x3x8x8xf32>, tensor<4x3x3x3xf32>) -> tensor<1x4x6x6xf32>
  return %0 : tensor<1x4x6x6xf32>
}

// -----

// Tests that conv needs 2 dilations.
func.func @conv_dilations_size(%arg0: tensor<1x3x8x8xf32>, %w: tensor<4x3x3x3xf32>) -> tensor<1x4x6x6xf32> {
  // expected-error @+1 {{dilations must have 2 entries ([h, w]), got 3}}
  %0 = tpu.conv_2d %arg0, %w {name = "c", strides = array<i64: 1, 1>, pads = array<i64: 0, 0, 0, 0>, dilations = array<i64: 1, 1, 1>} : (tensor<1x3x8x8xf32>, tensor<4x3x3x3xf32>) -> tensor<1x4x6x6xf32>
  return %0 : tensor<1x4x6x6xf32>
}

// -----

// Tests that zero strides are rejected.
func.func @conv_zero_stride(%arg0: tensor<1x3x8x8xf32>, %w: tensor<4x3x3x3xf32>) -> tensor<1x4x6x6xf32> {
  // expected-error @+1 {{strides must be positive, got [0, 1]}}
  %0 = tpu.conv_2d %arg0, %w {name = "c", strides = array<i64: 0, 1>, pads = array<i64: 0, 0, 0, 0>, dilations = array<i64: 1, 1>} : (tensor<1x3x8x8xf32>, tensor<4x3x3x3xf32>) -> tensor<1x4x6x6xf32>
  return %0 : tensor<1x4x6x6xf32>
}

// -----

// Tests that zero dilations are rejected.
func.func @conv_zero_dilation(%arg0: tensor<1x3x8x8xf32>, %w: tensor<4x3x3x3xf32>) -> tensor<1x4x6x6xf32> {
  // expected-error @+1 {{dilations must be positive, got [1, 0]}}
  %0 = tpu.conv_2d %arg0, %w {name = "c", strides = array<i64: 1, 1>, pads = array<i64: 0, 0, 0, 0>, dilations = array<i64: 1, 0>} : (tensor<1x3x8x8xf32>, tensor<4x3x3x3xf32>) -> tensor<1x4x6x6xf32>
  return %0 : tensor<1x4x6x6xf32>
}

// -----

// Tests that negative pads are rejected.
func.func @conv_negative_pad(%arg0: tensor<1x3x8x8xf32>, %w: tensor<4x3x3x3xf32>) -> tensor<1x4x6x6xf32> {
  // expected-error @+1 {{pads must be non-negative, got [-1, 0, 0, 0]}}
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

// Tests that the conv output keeps the input's element type.
func.func @conv_output_element_type(%arg0: tensor<1x3x8x8xf32>, %w: tensor<4x3x3x3xf32>) -> tensor<1x4x6x6xbf16> {
  // expected-error @+1 {{output element type must be 'f32' (the input's), got 'bf16'}}
  %0 = tpu.conv_2d %arg0, %w {name = "c", strides = array<i64: 1, 1>, pads = array<i64: 0, 0, 0, 0>, dilations = array<i64: 1, 1>} : (tensor<1x3x8x8xf32>, tensor<4x3x3x3xf32>) -> tensor<1x4x6x6xbf16>
  return %0 : tensor<1x4x6x6xbf16>
}

// -----

// Tests that deconv input must be rank 4.
func.func @deconv_rank(%arg0: tensor<4x5x5xf32>, %w: tensor<4x3x3x3xf32>) -> tensor<1x3x7x7xf32> {
  // expected-error @+1 {{input must be NCHW (rank 4), got rank 3}}
  %0 = tpu.deconv_2d %arg0, %w {name = "d", strides = array<i64: 1, 1>, pads = array<i64: 0, 0, 0, 0>, dilations = array<i64: 1, 1>} : (tensor<4x5x5xf32>, tensor<4x3x3x3xf32>) -> tensor<1x3x7x7xf32>
  return %0 : tensor<1x3x7x7xf32>
}

// -----

// Tests that the deconv filter's dimension 0 is the input channel count.
func.func @deconv_filter_channels(%arg0: tensor<1x4x5x5xf32>, %w: tensor<3x4x3x3xf32>) -> tensor<1x4x7x7xf32> {
  // expected-error @+1 {{filter expects 3 input channels (dimension 0), but input has 4}}
  %0 = tpu.deconv_2d %arg0, %w {name = "d", strides = array<i64: 1, 1>, pads = array<i64: 0, 0, 0, 0>, dilations = array<i64: 1, 1>} : (tensor<1x4x5x5xf32>, tensor<3x4x3x3xf32>) -> tensor<1x4x7x7xf32>
  return %0 : tensor<1x4x7x7xf32>
}

// -----

// Tests that the deconv group must divide the input channels.
func.func @deconv_group(%arg0: tensor<1x4x5x5xf32>, %w: tensor<4x1x3x3xf32>) -> tensor<1x3x7x7xf32> {
  // expected-error @+1 {{group 3 must divide input channels 4}}
  %0 = tpu.deconv_2d %arg0, %w {name = "d", strides = array<i64: 1, 1>, pads = array<i64: 0, 0, 0, 0>, dilations = array<i64: 1, 1>, group = 3} : (tensor<1x4x5x5xf32>, tensor<4x1x3x3xf32>) -> tensor<1x3x7x7xf32>
  return %0 : tensor<1x3x7x7xf32>
}

// -----

// Tests that output_padding needs 2 entries.
func.func @deconv_output_padding_size(%arg0: tensor<1x4x5x5xf32>, %w: tensor<4x3x3x3xf32>) -> tensor<1x3x7x7xf32> {
  // expected-error @+1 {{output_padding must have 2 entries ([h, w]), got 1}}
  %0 = tpu.deconv_2d %arg0, %w {name = "d", strides = array<i64: 1, 1>, pads = array<i64: 0, 0, 0, 0>, dilations = array<i64: 1, 1>, output_padding = array<i64: 0>} : (tensor<1x4x5x5xf32>, tensor<4x3x3x3xf32>) -> tensor<1x3x7x7xf32>
  return %0 : tensor<1x3x7x7xf32>
}

// -----

// Tests that output_padding must be smaller than the stride or the dilation.
func.func @deconv_output_padding_value(%arg0: tensor<1x4x5x5xf32>, %w: tensor<4x3x3x3xf32>) -> tensor<1x3x12x12xf32> {
  // expected-error @+1 {{output_padding 2 must be smaller than the stride 2 or the dilation 1}}
  %0 = tpu.deconv_2d %arg0, %w {name = "d", strides = array<i64: 2, 2>, pads = array<i64: 0, 0, 0, 0>, dilations = array<i64: 1, 1>, output_padding = array<i64: 2, 2>} : (tensor<1x4x5x5xf32>, tensor<4x3x3x3xf32>) -> tensor<1x3x12x12xf32>
  return %0 : tensor<1x3x12x12xf32>
}

// -----

// Tests that the deconv bias has one element per output channel (filter dim 1 times group).
func.func @deconv_bias(%arg0: tensor<1x4x5x5xf32>, %w: tensor<4x3x3x3xf32>, %b: tensor<3xf32>) -> tensor<1x6x7x7xf32> {
  // expected-error @+1 {{bias must have 6 elements (one per output channel), got 3}}
  %0 = tpu.deconv_2d %arg0, %w, %b {name = "d", strides = array<i64: 1, 1>, pads = array<i64: 0, 0, 0, 0>, dilations = array<i64: 1, 1>, group = 2} : (tensor<1x4x5x5xf32>, tensor<4x3x3x3xf32>, tensor<3xf32>) -> tensor<1x6x7x7xf32>
  return %0 : tensor<1x6x7x7xf32>
}

// -----

// Tests that pads that leave no deconv output are rejected.
func.func @deconv_no_output(%arg0: tensor<1x4x1x1xf32>, %w: tensor<4x3x1x1xf32>) -> tensor<1x3x1x1xf32> {
  // expected-error @+1 {{pads [1, 0, 0, 0] leave no output (size 0 in spatial dimension 0)}}
  %0 = tpu.deconv_2d %arg0, %w {name = "d", strides = array<i64: 1, 1>, pads = array<i64: 1, 0, 0, 0>, dilations = array<i64: 1, 1>} : (tensor<1x4x1x1xf32>, tensor<4x3x1x1xf32>) -> tensor<1x3x1x1xf32>
  return %0 : tensor<1x3x1x1xf32>
}

// -----

// Tests that a wrong deconv output shape is rejected with the expected shape.
func.func @deconv_output_shape(%arg0: tensor<1x4x5x5xf32>, %w: tensor<4x3x3x3xf32>) -> tensor<1x3x10x10xf32> {
  // expected-error @+1 {{output shape must be [1, 3, 11, 11], got [1, 3, 10, 10]}}
  %0 = tpu.deconv_2d %arg0, %w {name = "d", strides = array<i64: 2, 2>, pads = array<i64: 0, 0, 0, 0>, dilations = array<i64: 1, 1>} : (tensor<1x4x5x5xf32>, tensor<4x3x3x3xf32>) -> tensor<1x3x10x10xf32>
  return %0 : tensor<1x3x10x10xf32>
}

// -----

// Tests that fully_connected input must have rank 2 or more.
func.func @fc_rank(%arg0: tensor<16xf32>, %w: tensor<10x16xf32>) -> tensor<10xf32> {
  // expected-error @+1 {{input must have rank 2 or more, got rank 1}}
  %0 = tpu.fully_connected %arg0, %w {name = "fc"} : (tensor<16xf32>, tensor<10x16xf32>) -> tensor<10xf32>
  return %0 : tensor<10xf32>
}

// -----

// Tests that the fully_connected filter must be [N, K].
func.func @fc_filter_rank(%arg0: tensor<2x16xf32>, %w: tensor<10x4x4xf32>) -> tensor<2x10xf32> {
  // expected-error @+1 {{filter must be [N, K] (rank 2), got rank 3}}
  %0 = tpu.fully_connected %arg0, %w {name = "fc"} : (tensor<2x16xf32>, tensor<10x4x4xf32>) -> tensor<2x10xf32>
  return %0 : tensor<2x10xf32>
}

// -----

// Tests that the fully_connected filter's K must match the input's.
func.func @fc_k(%arg0: tensor<2x16xf32>, %w: tensor<10x8xf32>) -> tensor<2x10xf32> {
  // expected-error @+1 {{filter [10, 8] must be [N, 16] for an input with K = 16}}
  %0 = tpu.fully_connected %arg0, %w {name = "fc"} : (tensor<2x16xf32>, tensor<10x8xf32>) -> tensor<2x10xf32>
  return %0 : tensor<2x10xf32>
}

// -----

// Tests that the fully_connected bias has N elements.
func.func @fc_bias(%arg0: tensor<2x16xf32>, %w: tensor<10x16xf32>, %b: tensor<16xf32>) -> tensor<2x10xf32> {
  // expected-error @+1 {{bias must have 10 elements (one per output channel), got 16}}
  %0 = tpu.fully_connected %arg0, %w, %b {name = "fc"} : (tensor<2x16xf32>, tensor<10x16xf32>, tensor<16xf32>) -> tensor<2x10xf32>
  return %0 : tensor<2x10xf32>
}

// -----

// Tests that a wrong fully_connected output shape is rejected.
func.func @fc_output(%arg0: tensor<2x16xf32>, %w: tensor<10x16xf32>) -> tensor<2x16xf32> {
  // expected-error @+1 {{output shape must be [2, 10], got [2, 16]}}
  %0 = tpu.fully_connected %arg0, %w {name = "fc"} : (tensor<2x16xf32>, tensor<10x16xf32>) -> tensor<2x16xf32>
  return %0 : tensor<2x16xf32>
}

// -----

// Tests that matmul operands must have rank 2 or more.
func.func @matmul_rank(%a: tensor<8xf32>, %b: tensor<8x5xf32>) -> tensor<5xf32> {
  // expected-error @+1 {{lhs must have rank 2 or more, got rank 1}}
  %0 = tpu.matmul %a, %b {name = "mm"} : (tensor<8xf32>, tensor<8x5xf32>) -> tensor<5xf32>
  return %0 : tensor<5xf32>
}

// -----

// Tests that matmul operands must agree on K.
func.func @matmul_k(%a: tensor<4x8xf32>, %b: tensor<7x5xf32>) -> tensor<4x5xf32> {
  // expected-error @+1 {{lhs [4, 8] has K = 8 but rhs [7, 5] has K = 7}}
  %0 = tpu.matmul %a, %b {name = "mm"} : (tensor<4x8xf32>, tensor<7x5xf32>) -> tensor<4x5xf32>
  return %0 : tensor<4x5xf32>
}

// -----

// Tests that matmul batch dimensions must broadcast.
func.func @matmul_batch(%a: tensor<2x4x8xf32>, %b: tensor<3x8x5xf32>) -> tensor<2x4x5xf32> {
  // expected-error @+1 {{batch shapes [2] and [3] do not broadcast (dimension 0: 2 vs 3)}}
  %0 = tpu.matmul %a, %b {name = "mm"} : (tensor<2x4x8xf32>, tensor<3x8x5xf32>) -> tensor<2x4x5xf32>
  return %0 : tensor<2x4x5xf32>
}

// -----

// Tests that matmul operands share an element type.
func.func @matmul_types(%a: tensor<4x8xf32>, %b: tensor<8x5xbf16>) -> tensor<4x5xf32> {
  // expected-error @+1 {{lhs and rhs must have the same element type, got 'f32' and 'bf16'}}
  %0 = tpu.matmul %a, %b {name = "mm"} : (tensor<4x8xf32>, tensor<8x5xbf16>) -> tensor<4x5xf32>
  return %0 : tensor<4x5xf32>
}

// -----

// Tests that a wrong matmul output shape is rejected with the broadcast batch.
func.func @matmul_output(%a: tensor<2x1x4x8xf32>, %b: tensor<3x8x5xf32>) -> tensor<2x4x5xf32> {
  // expected-error @+1 {{output shape must be [2, 3, 4, 5], got [2, 4, 5]}}
  %0 = tpu.matmul %a, %b {name = "mm"} : (tensor<2x1x4x8xf32>, tensor<3x8x5xf32>) -> tensor<2x4x5xf32>
  return %0 : tensor<2x4x5xf32>
}

// -----

// Tests that pooling input must be rank 4.
func.func @pool_rank(%arg0: tensor<4x8x8xf32>) -> tensor<4x4x4xf32> {
  // expected-error @+1 {{input must be NCHW (rank 4), got rank 3}}
  %0 = tpu.pool_max_2d %arg0 {name = "p", kernel_shape = array<i64: 2, 2>, strides = array<i64: 2, 2>, pads = array<i64: 0, 0, 0, 0>} : (tensor<4x8x8xf32>) -> tensor<4x4x4xf32>
  return %0 : tensor<4x4x4xf32>
}

// -----

// Tests that pooling needs a 2-entry kernel_shape.
func.func @pool_kernel_size(%arg0: tensor<1x4x8x8xf32>) -> tensor<1x4x4x4xf32> {
  // expected-error @+1 {{kernel_shape must have 2 entries ([h, w]), got 1}}
  %0 = tpu.pool_max_2d %arg0 {name = "p", kernel_shape = array<i64: 2>, strides = array<i64: 2, 2>, pads = array<i64: 0, 0, 0, 0>} : (tensor<1x4x8x8xf32>) -> tensor<1x4x4x4xf32>
  return %0 : tensor<1x4x4x4xf32>
}

// -----

// Tests that pooling kernels must be positive.
func.func @pool_kernel_zero(%arg0: tensor<1x4x8x8xf32>) -> tensor<1x4x4x4xf32> {
  // expected-error @+1 {{kernel_shape must be positive, got [0, 2]}}
  %0 = tpu.pool_avg_2d %arg0 {name = "p", kernel_shape = array<i64: 0, 2>, strides = array<i64: 2, 2>, pads = array<i64: 0, 0, 0, 0>} : (tensor<1x4x8x8xf32>) -> tensor<1x4x4x4xf32>
  return %0 : tensor<1x4x4x4xf32>
}

// -----

// Tests that pooling strides must be positive.
func.func @pool_stride_zero(%arg0: tensor<1x4x8x8xf32>) -> tensor<1x4x4x4xf32> {
  // expected-error @+1 {{strides must be positive, got [2, -2]}}
  %0 = tpu.pool_avg_2d %arg0 {name = "p", kernel_shape = array<i64: 2, 2>, strides = array<i64: 2, -2>, pads = array<i64: 0, 0, 0, 0>} : (tensor<1x4x8x8xf32>) -> tensor<1x4x4x4xf32>
  return %0 : tensor<1x4x4x4xf32>
}

// -----

// Tests that pooling needs 4 pads.
func.func @pool_pads_size(%arg0: tensor<1x4x8x8xf32>) -> tensor<1x4x4x4xf32> {
  // expected-error @+1 {{pads must have 4 entries ([top, left, bottom, right]), got 2}}
  %0 = tpu.pool_max_2d %arg0 {name = "p", kernel_shape = array<i64: 2, 2>, strides = array<i64: 2, 2>, pads = array<i64: 0, 0>} : (tensor<1x4x8x8xf32>) -> tensor<1x4x4x4xf32>
  return %0 : tensor<1x4x4x4xf32>
}

// -----

// Tests that pooling pads must be smaller than the kernel.
func.func @pool_pad_too_big(%arg0: tensor<1x4x8x8xf32>) -> tensor<1x4x5x5xf32> {
  // expected-error @+1 {{pads [2, 2, 2, 2] must be smaller than the kernel [2, 2]}}
  %0 = tpu.pool_max_2d %arg0 {name = "p", kernel_shape = array<i64: 2, 2>, strides = array<i64: 2, 2>, pads = array<i64: 2, 2, 2, 2>} : (tensor<1x4x8x8xf32>) -> tensor<1x4x5x5xf32>
  return %0 : tensor<1x4x5x5xf32>
}

// -----

// Tests that a pooling kernel larger than the padded input is rejected.
func.func @pool_kernel_too_big(%arg0: tensor<1x4x2x2xf32>) -> tensor<1x4x1x1xf32> {
  // expected-error @+1 {{kernel 3 exceeds padded input 2}}
  %0 = tpu.pool_max_2d %arg0 {name = "p", kernel_shape = array<i64: 3, 3>, strides = array<i64: 1, 1>, pads = array<i64: 0, 0, 0, 0>} : (tensor<1x4x2x2xf32>) -> tensor<1x4x1x1xf32>
  return %0 : tensor<1x4x1x1xf32>
}

// -----

// Tests that the pooling output shape rounds down without ceil_mode.
func.func @pool_floor(%arg0: tensor<1x4x7x7xf32>) -> tensor<1x4x4x4xf32> {
  // expected-error @+1 {{output shape must be [1, 4, 3, 3], got [1, 4, 4, 4]}}
  %0 = tpu.pool_max_2d %arg0 {name = "p", kernel_shape = array<i64: 2, 2>, strides = array<i64: 2, 2>, pads = array<i64: 0, 0, 0, 0>} : (tensor<1x4x7x7xf32>) -> tensor<1x4x4x4xf32>
  return %0 : tensor<1x4x4x4xf32>
}

// -----

// Tests that with ceil_mode a last window starting in the padding is dropped.
func.func @pool_ceil_drop(%arg0: tensor<1x4x5x5xf32>) -> tensor<1x4x4x4xf32> {
  // expected-error @+1 {{output shape must be [1, 4, 3, 3], got [1, 4, 4, 4]}}
  %0 = tpu.pool_avg_2d %arg0 {name = "p", kernel_shape = array<i64: 2, 2>, strides = array<i64: 2, 2>, pads = array<i64: 1, 1, 1, 1>, ceil_mode = true} : (tensor<1x4x5x5xf32>) -> tensor<1x4x4x4xf32>
  return %0 : tensor<1x4x4x4xf32>
}

// -----

// Tests that eltwise ops need at least two inputs.
func.func @eltwise_one_input(%a: tensor<4xf32>) -> tensor<4xf32> {
  // expected-error @+1 {{needs at least 2 inputs, got 1}}
  %0 = tpu.eltwise_max %a {name = "e"} : (tensor<4xf32>) -> tensor<4xf32>
  return %0 : tensor<4xf32>
}

// -----

// Tests that eltwise inputs must broadcast.
func.func @eltwise_broadcast(%a: tensor<2x4xf32>, %b: tensor<3xf32>) -> tensor<2x4xf32> {
  // expected-error @+1 {{input shapes [2, 4] and [3] do not broadcast (dimension 1: 4 vs 3)}}
  %0 = tpu.eltwise_mul %a, %b {name = "e"} : (tensor<2x4xf32>, tensor<3xf32>) -> tensor<2x4xf32>
  return %0 : tensor<2x4xf32>
}

// -----

// Tests that eltwise inputs share an element type.
func.func @eltwise_types(%a: tensor<4xf32>, %b: tensor<4xbf16>) -> tensor<4xf32> {
  // expected-error @+1 {{input 0 and input 1 must have the same element type, got 'f32' and 'bf16'}}
  %0 = tpu.eltwise_add %a, %b {name = "e"} : (tensor<4xf32>, tensor<4xbf16>) -> tensor<4xf32>
  return %0 : tensor<4xf32>
}

// -----

// Tests that eltwise_add coeff has one entry per input.
func.func @eltwise_coeff(%a: tensor<4xf32>, %b: tensor<4xf32>) -> tensor<4xf32> {
  // expected-error @+1 {{coeff must have 2 entries (one per input), got 3}}
  %0 = tpu.eltwise_add %a, %b {name = "e", coeff = array<f32: 1.0, 1.0, 1.0>} : (tensor<4xf32>, tensor<4xf32>) -> tensor<4xf32>
  return %0 : tensor<4xf32>
}

// -----

// Tests that the eltwise output has the broadcast shape.
func.func @eltwise_output(%a: tensor<2x1xf32>, %b: tensor<1x3xf32>) -> tensor<2x1xf32> {
  // expected-error @+1 {{output shape must be [2, 3], got [2, 1]}}
  %0 = tpu.eltwise_min %a, %b {name = "e"} : (tensor<2x1xf32>, tensor<1x3xf32>) -> tensor<2x1xf32>
  return %0 : tensor<2x1xf32>
}

// -----

// Tests that the broadcast_mul axis must be in range.
func.func @broadcast_mul_axis(%x: tensor<1x4x2x2xf32>, %s: tensor<1x4x1x1xf32>) -> tensor<1x4x2x2xf32> {
  // expected-error @+1 {{axis 4 is out of range [-4, 4) for rank 4}}
  %0 = tpu.broadcast_mul %x, %s {name = "b", axis = 4} : (tensor<1x4x2x2xf32>, tensor<1x4x1x1xf32>) -> tensor<1x4x2x2xf32>
  return %0 : tensor<1x4x2x2xf32>
}

// -----

// Tests that the broadcast_mul scale must not enlarge the input.
func.func @broadcast_mul_enlarge(%x: tensor<1x4x1x1xf32>, %s: tensor<1x4x2x2xf32>) -> tensor<1x4x1x1xf32> {
  // expected-error @+1 {{scale [1, 4, 2, 2] must broadcast to the input shape [1, 4, 1, 1] without enlarging it}}
  %0 = tpu.broadcast_mul %x, %s {name = "b"} : (tensor<1x4x1x1xf32>, tensor<1x4x2x2xf32>) -> tensor<1x4x1x1xf32>
  return %0 : tensor<1x4x1x1xf32>
}

// -----

// Tests that the broadcast_mul scale must broadcast at all.
func.func @broadcast_mul_incompatible(%x: tensor<1x4x2x2xf32>, %s: tensor<1x3x1x1xf32>) -> tensor<1x4x2x2xf32> {
  // expected-error @+1 {{input and scale shapes [1, 4, 2, 2] and [1, 3, 1, 1] do not broadcast (dimension 1: 4 vs 3)}}
  %0 = tpu.broadcast_mul %x, %s {name = "b"} : (tensor<1x4x2x2xf32>, tensor<1x3x1x1xf32>) -> tensor<1x4x2x2xf32>
  return %0 : tensor<1x4x2x2xf32>
}

// -----

// Tests that the broadcast_mul scale must span the axis.
func.func @broadcast_mul_not_per_axis(%x: tensor<1x4x2x2xf32>, %s: tensor<1x1x2x2xf32>) -> tensor<1x4x2x2xf32> {
  // expected-error @+1 {{scale [1, 1, 2, 2] must cover axis 1 with the input's size 4}}
  %0 = tpu.broadcast_mul %x, %s {name = "b", axis = 1} : (tensor<1x4x2x2xf32>, tensor<1x1x2x2xf32>) -> tensor<1x4x2x2xf32>
  return %0 : tensor<1x4x2x2xf32>
}

// -----

// Tests that broadcast_mul operands share an element type.
func.func @broadcast_mul_types(%x: tensor<1x4x2x2xf32>, %s: tensor<1x4x1x1xi8>) -> tensor<1x4x2x2xf32> {
  // expected-error @+1 {{input and scale must have the same element type, got 'f32' and 'i8'}}
  %0 = tpu.broadcast_mul %x, %s {name = "b"} : (tensor<1x4x2x2xf32>, tensor<1x4x1x1xi8>) -> tensor<1x4x2x2xf32>
  return %0 : tensor<1x4x2x2xf32>
}

// -----

// Tests that batch_norm input must have a channel dimension.
func.func @batch_norm_rank(%x: tensor<4xf32>, %c: tensor<4xf32>) -> tensor<4xf32> {
  // expected-error @+1 {{input must have rank 2 or more, got rank 1}}
  %0 = tpu.batch_norm %x, %c, %c, %c, %c {name = "bn", epsilon = 1.0e-5 : f32} : (tensor<4xf32>, tensor<4xf32>, tensor<4xf32>, tensor<4xf32>, tensor<4xf32>) -> tensor<4xf32>
  return %0 : tensor<4xf32>
}

// -----

// Tests that the batch_norm mean has one element per channel.
func.func @batch_norm_mean(%x: tensor<1x4x2x2xf32>, %c: tensor<4xf32>, %m: tensor<3xf32>) -> tensor<1x4x2x2xf32> {
  // expected-error @+1 {{mean must have 4 elements (one per channel), got 3}}
  %0 = tpu.batch_norm %x, %m, %c, %c, %c {name = "bn", epsilon = 1.0e-5 : f32} : (tensor<1x4x2x2xf32>, tensor<3xf32>, tensor<4xf32>, tensor<4xf32>, tensor<4xf32>) -> tensor<1x4x2x2xf32>
  return %0 : tensor<1x4x2x2xf32>
}

// -----

// Tests that the batch_norm variance has one element per channel.
func.func @batch_norm_variance(%x: tensor<1x4x2x2xf32>, %c: tensor<4xf32>, %v: tensor<8xf32>) -> tensor<1x4x2x2xf32> {
  // expected-error @+1 {{variance must have 4 elements (one per channel), got 8}}
  %0 = tpu.batch_norm %x, %c, %v, %c, %c {name = "bn", epsilon = 1.0e-5 : f32} : (tensor<1x4x2x2xf32>, tensor<4xf32>, tensor<8xf32>, tensor<4xf32>, tensor<4xf32>) -> tensor<1x4x2x2xf32>
  return %0 : tensor<1x4x2x2xf32>
}

// -----

// Tests that the batch_norm scale and bias have one element per channel.
func.func @batch_norm_bias(%x: tensor<1x4x2x2xf32>, %c: tensor<4xf32>, %b: tensor<1xf32>) -> tensor<1x4x2x2xf32> {
  // expected-error @+1 {{bias must have 4 elements (one per channel), got 1}}
  %0 = tpu.batch_norm %x, %c, %c, %c, %b {name = "bn", epsilon = 1.0e-5 : f32} : (tensor<1x4x2x2xf32>, tensor<4xf32>, tensor<4xf32>, tensor<4xf32>, tensor<1xf32>) -> tensor<1x4x2x2xf32>
  return %0 : tensor<1x4x2x2xf32>
}

// -----

// Tests that the batch_norm epsilon must not be negative.
func.func @batch_norm_epsilon(%x: tensor<1x4x2x2xf32>, %c: tensor<4xf32>) -> tensor<1x4x2x2xf32> {
  // expected-error @+1 {{epsilon must be finite and non-negative, got -1}}
  %0 = tpu.batch_norm %x, %c, %c, %c, %c {name = "bn", epsilon = -1.0 : f32} : (tensor<1x4x2x2xf32>, tensor<4xf32>, tensor<4xf32>, tensor<4xf32>, tensor<4xf32>) -> tensor<1x4x2x2xf32>
  return %0 : tensor<1x4x2x2xf32>
}

// -----

// Tests that the scale op's scale has one element per channel.
func.func @scale_count(%x: tensor<1x4x2x2xf32>, %s: tensor<2xf32>) -> tensor<1x4x2x2xf32> {
  // expected-error @+1 {{scale must have 4 elements (one per channel), got 2}}
  %0 = tpu.scale %x, %s {name = "s"} : (tensor<1x4x2x2xf32>, tensor<2xf32>) -> tensor<1x4x2x2xf32>
  return %0 : tensor<1x4x2x2xf32>
}

// -----

// Tests that the scale op's bias has one element per channel.
func.func @scale_bias(%x: tensor<1x4x2x2xf32>, %s: tensor<4xf32>, %b: tensor<5xf32>) -> tensor<1x4x2x2xf32> {
  // expected-error @+1 {{bias must have 4 elements (one per channel), got 5}}
  %0 = tpu.scale %x, %s, %b {name = "s"} : (tensor<1x4x2x2xf32>, tensor<4xf32>, tensor<5xf32>) -> tensor<1x4x2x2xf32>
  return %0 : tensor<1x4x2x2xf32>
}

// -----

// Tests that a per-channel op keeps the input's shape.
func.func @scale_output(%x: tensor<1x4x2x2xf32>, %s: tensor<4xf32>) -> tensor<1x4x4xf32> {
  // expected-error @+1 {{output shape must be [1, 4, 2, 2], got [1, 4, 4]}}
  %0 = tpu.scale %x, %s {name = "s"} : (tensor<1x4x2x2xf32>, tensor<4xf32>) -> tensor<1x4x4xf32>
  return %0 : tensor<1x4x4xf32>
}

// -----

// Tests that the prelu slope has one element per channel.
func.func @prelu_slope(%x: tensor<1x4x2x2xf32>, %s: tensor<1xf32>) -> tensor<1x4x2x2xf32> {
  // expected-error @+1 {{slope must have 4 elements (one per channel), got 1}}
  %0 = tpu.prelu %x, %s {name = "p"} : (tensor<1x4x2x2xf32>, tensor<1xf32>) -> tensor<1x4x2x2xf32>
  return %0 : tensor<1x4x2x2xf32>
}

// -----

// Tests that lrn input must be NCHW.
func.func @lrn_rank(%x: tensor<4x2x2xf32>) -> tensor<4x2x2xf32> {
  // expected-error @+1 {{input must be NCHW (rank 4), got rank 3}}
  %0 = tpu.lrn %x {name = "l", local_size = 3, alpha = 1.0e-4 : f32, beta = 0.75 : f32} : (tensor<4x2x2xf32>) -> tensor<4x2x2xf32>
  return %0 : tensor<4x2x2xf32>
}

// -----

// Tests that the lrn local_size must be odd.
func.func @lrn_even_size(%x: tensor<1x4x2x2xf32>) -> tensor<1x4x2x2xf32> {
  // expected-error @+1 {{local_size must be positive and odd, got 4}}
  %0 = tpu.lrn %x {name = "l", local_size = 4, alpha = 1.0e-4 : f32, beta = 0.75 : f32} : (tensor<1x4x2x2xf32>) -> tensor<1x4x2x2xf32>
  return %0 : tensor<1x4x2x2xf32>
}

// -----

// Tests that lrn parameters must be finite.
func.func @lrn_beta(%x: tensor<1x4x2x2xf32>) -> tensor<1x4x2x2xf32> {
  // expected-error @+1 {{beta must be finite, got inf}}
  %0 = tpu.lrn %x {name = "l", local_size = 3, alpha = 1.0e-4 : f32, beta = 0x7F800000 : f32} : (tensor<1x4x2x2xf32>) -> tensor<1x4x2x2xf32>
  return %0 : tensor<1x4x2x2xf32>
}

// -----

// Tests that lrn_part part is 1, 2 or 3.
func.func @lrn_part_part(%x: tensor<1x4x2x2xf32>) -> tensor<1x4x2x2xf32> {
  // expected-error @+1 {{part must be 1 (x^2 table), 2 (channel sum) or 3 (power table), got 4}}
  %0 = tpu.lrn_part %x {name = "l", part = 4, local_size = 3, alpha = 1.0e-4 : f32, beta = 0.75 : f32} : (tensor<1x4x2x2xf32>) -> tensor<1x4x2x2xf32>
  return %0 : tensor<1x4x2x2xf32>
}

// -----

// Tests that the lrn_part local_size must be positive.
func.func @lrn_part_size(%x: tensor<1x4x2x2xf32>) -> tensor<1x4x2x2xf32> {
  // expected-error @+1 {{local_size must be positive and odd, got -1}}
  %0 = tpu.lrn_part %x {name = "l", part = 1, local_size = -1, alpha = 1.0e-4 : f32, beta = 0.75 : f32} : (tensor<1x4x2x2xf32>) -> tensor<1x4x2x2xf32>
  return %0 : tensor<1x4x2x2xf32>
}

// -----

// Tests that the normalize scale has one element per channel.
func.func @normalize_scale(%x: tensor<1x4x2x2xf32>, %s: tensor<1xf32>) -> tensor<1x4x2x2xf32> {
  // expected-error @+1 {{scale must have 4 element(s) (one per channel), got 1}}
  %0 = tpu.normalize %x, %s {name = "n"} : (tensor<1x4x2x2xf32>, tensor<1xf32>) -> tensor<1x4x2x2xf32>
  return %0 : tensor<1x4x2x2xf32>
}

// -----

// Tests that a channel-shared normalize scale has one element.
func.func @normalize_shared(%x: tensor<1x4x2x2xf32>, %s: tensor<4xf32>) -> tensor<1x4x2x2xf32> {
  // expected-error @+1 {{scale must have 1 element(s) (channel_shared), got 4}}
  %0 = tpu.normalize %x, %s {name = "n", channel_shared = true} : (tensor<1x4x2x2xf32>, tensor<4xf32>) -> tensor<1x4x2x2xf32>
  return %0 : tensor<1x4x2x2xf32>
}

// -----

// Tests that the normalize eps must not be negative.
func.func @normalize_eps(%x: tensor<1x4x2x2xf32>, %s: tensor<4xf32>) -> tensor<1x4x2x2xf32> {
  // expected-error @+1 {{eps must be finite and non-negative, got -1e-05}}
  %0 = tpu.normalize %x, %s {name = "n", eps = -1.0e-5 : f32} : (tensor<1x4x2x2xf32>, tensor<4xf32>) -> tensor<1x4x2x2xf32>
  return %0 : tensor<1x4x2x2xf32>
}

// -----

// Tests that the normalize input must be NCHW.
func.func @normalize_rank(%x: tensor<4x2xf32>, %s: tensor<4xf32>) -> tensor<4x2xf32> {
  // expected-error @+1 {{input must be NCHW (rank 4), got rank 2}}
  %0 = tpu.normalize %x, %s {name = "n"} : (tensor<4x2xf32>, tensor<4xf32>) -> tensor<4x2xf32>
  return %0 : tensor<4x2xf32>
}

// -----

// Tests that the softmax axis must be in range.
func.func @softmax_axis(%x: tensor<2x3xf32>) -> tensor<2x3xf32> {
  // expected-error @+1 {{axis -3 is out of range [-2, 2) for rank 2}}
  %0 = tpu.softmax %x {name = "s", axis = -3} : (tensor<2x3xf32>) -> tensor<2x3xf32>
  return %0 : tensor<2x3xf32>
}

// -----

// Tests that reduce_mean needs axes.
func.func @reduce_mean_no_axes(%x: tensor<2x3xf32>) -> tensor<2x3xf32> {
  // expected-error @+1 {{axes must not be empty}}
  %0 = tpu.reduce_mean %x {name = "r", axes = array<i64>} : (tensor<2x3xf32>) -> tensor<2x3xf32>
  return %0 : tensor<2x3xf32>
}

// -----

// Tests that reduce_mean axes must be in range.
func.func @reduce_mean_axis(%x: tensor<2x3xf32>) -> tensor<2x1xf32> {
  // expected-error @+1 {{axis 2 is out of range [-2, 2) for rank 2}}
  %0 = tpu.reduce_mean %x {name = "r", axes = array<i64: 2>} : (tensor<2x3xf32>) -> tensor<2x1xf32>
  return %0 : tensor<2x1xf32>
}

// -----

// Tests that reduce_mean names each axis once.
func.func @reduce_mean_twice(%x: tensor<2x3xf32>) -> tensor<2x1xf32> {
  // expected-error @+1 {{axes [1, -1] name axis 1 twice}}
  %0 = tpu.reduce_mean %x {name = "r", axes = array<i64: 1, -1>} : (tensor<2x3xf32>) -> tensor<2x1xf32>
  return %0 : tensor<2x1xf32>
}

// -----

// Tests that reduce_mean without keepdims removes the reduced dimensions.
func.func @reduce_mean_keepdims(%x: tensor<2x3xf32>) -> tensor<2x1xf32> {
  // expected-error @+1 {{output shape must be [2], got [2, 1]}}
  %0 = tpu.reduce_mean %x {name = "r", axes = array<i64: 1>, keepdims = false} : (tensor<2x3xf32>) -> tensor<2x1xf32>
  return %0 : tensor<2x1xf32>
}

// -----

// Tests that concat needs an input.
func.func @concat_none() -> tensor<2xf32> {
  // expected-error @+1 {{needs at least 1 input}}
  %0 = tpu.concat {name = "c", axis = 0} : () -> tensor<2xf32>
  return %0 : tensor<2xf32>
}

// -----

// Tests that the concat axis must be in range.
func.func @concat_axis(%a: tensor<2x3xf32>, %b: tensor<2x3xf32>) -> tensor<4x3xf32> {
  // expected-error @+1 {{axis 2 is out of range [-2, 2) for rank 2}}
  %0 = tpu.concat %a, %b {name = "c", axis = 2} : (tensor<2x3xf32>, tensor<2x3xf32>) -> tensor<4x3xf32>
  return %0 : tensor<4x3xf32>
}

// -----

// Tests that concat inputs share the rank.
func.func @concat_rank(%a: tensor<2x3xf32>, %b: tensor<3xf32>) -> tensor<5x3xf32> {
  // expected-error @+1 {{input 1 has rank 1 but input 0 has rank 2}}
  %0 = tpu.concat %a, %b {name = "c", axis = 0} : (tensor<2x3xf32>, tensor<3xf32>) -> tensor<5x3xf32>
  return %0 : tensor<5x3xf32>
}

// -----

// Tests that concat inputs agree outside the axis.
func.func @concat_dims(%a: tensor<2x3xf32>, %b: tensor<2x4xf32>) -> tensor<4x3xf32> {
  // expected-error @+1 {{input 1 shape [2, 4] differs from input 0 shape [2, 3] in dimension 1, which is not the axis 0}}
  %0 = tpu.concat %a, %b {name = "c", axis = 0} : (tensor<2x3xf32>, tensor<2x4xf32>) -> tensor<4x3xf32>
  return %0 : tensor<4x3xf32>
}

// -----

// Tests that concat inputs share an element type.
func.func @concat_types(%a: tensor<2x3xf32>, %b: tensor<2x3xi8>) -> tensor<4x3xf32> {
  // expected-error @+1 {{input 0 and input 1 must have the same element type, got 'f32' and 'i8'}}
  %0 = tpu.concat %a, %b {name = "c", axis = 0} : (tensor<2x3xf32>, tensor<2x3xi8>) -> tensor<4x3xf32>
  return %0 : tensor<4x3xf32>
}

// -----

// Tests that the concat output sums the axis.
func.func @concat_output(%a: tensor<2x3xf32>, %b: tensor<2x5xf32>) -> tensor<2x7xf32> {
  // expected-error @+1 {{output shape must be [2, 8], got [2, 7]}}
  %0 = tpu.concat %a, %b {name = "c", axis = -1} : (tensor<2x3xf32>, tensor<2x5xf32>) -> tensor<2x7xf32>
  return %0 : tensor<2x7xf32>
}

// -----

// Tests that reshape keeps the element count.
func.func @reshape_count(%a: tensor<2x3xf32>) -> tensor<7xf32> {
  // expected-error @+1 {{output [7] has 7 elements but the input [2, 3] has 6}}
  %0 = tpu.reshape %a {name = "r"} : (tensor<2x3xf32>) -> tensor<7xf32>
  return %0 : tensor<7xf32>
}

// -----

// Tests that reshape keeps the element type.
func.func @reshape_type(%a: tensor<2x3xf32>) -> tensor<6xi8> {
  // expected-error @+1 {{input and output must have the same element type, got 'f32' and 'i8'}}
  %0 = tpu.reshape %a {name = "r"} : (tensor<2x3xf32>) -> tensor<6xi8>
  return %0 : tensor<6xi8>
}

// -----

// Tests that permute order has one entry per dimension.
func.func @permute_size(%a: tensor<2x3x4xf32>) -> tensor<3x2x4xf32> {
  // expected-error @+1 {{order must have 3 entries (one per dimension), got 2}}
  %0 = tpu.permute %a {name = "p", order = array<i64: 1, 0>} : (tensor<2x3x4xf32>) -> tensor<3x2x4xf32>
  return %0 : tensor<3x2x4xf32>
}

// -----

// Tests that permute order must be a permutation.
func.func @permute_invalid(%a: tensor<2x3x4xf32>) -> tensor<3x3x4xf32> {
  // expected-error @+1 {{order must be a permutation of 0 .. 2, got [1, 1, 2]}}
  %0 = tpu.permute %a {name = "p", order = array<i64: 1, 1, 2>} : (tensor<2x3x4xf32>) -> tensor<3x3x4xf32>
  return %0 : tensor<3x3x4xf32>
}

// -----

// Tests that the permute output follows the order.
func.func @permute_output(%a: tensor<2x3x4xf32>) -> tensor<3x2x4xf32> {
  // expected-error @+1 {{output shape must be [4, 2, 3], got [3, 2, 4]}}
  %0 = tpu.permute %a {name = "p", order = array<i64: 2, 0, 1>} : (tensor<2x3x4xf32>) -> tensor<3x2x4xf32>
  return %0 : tensor<3x2x4xf32>
}

// -----

// Tests that slice offsets have one entry per dimension.
func.func @slice_offsets(%a: tensor<4x6xf32>) -> tensor<2x3xf32> {
  // expected-error @+1 {{offsets must have 2 entries (one per dimension), got 1}}
  %0 = tpu.slice %a {name = "s", offsets = array<i64: 0>, steps = array<i64: 1, 1>} : (tensor<4x6xf32>) -> tensor<2x3xf32>
  return %0 : tensor<2x3xf32>
}

// -----

// Tests that slice steps have one entry per dimension.
func.func @slice_steps_size(%a: tensor<4x6xf32>) -> tensor<2x3xf32> {
  // expected-error @+1 {{steps must have 2 entries (one per dimension), got 3}}
  %0 = tpu.slice %a {name = "s", offsets = array<i64: 0, 0>, steps = array<i64: 1, 1, 1>} : (tensor<4x6xf32>) -> tensor<2x3xf32>
  return %0 : tensor<2x3xf32>
}

// -----

// Tests that slice steps must be positive.
func.func @slice_steps(%a: tensor<4x6xf32>) -> tensor<2x3xf32> {
  // expected-error @+1 {{steps must be positive, got [1, 0]}}
  %0 = tpu.slice %a {name = "s", offsets = array<i64: 0, 0>, steps = array<i64: 1, 0>} : (tensor<4x6xf32>) -> tensor<2x3xf32>
  return %0 : tensor<2x3xf32>
}

// -----

// Tests that slice offsets must not be negative.
func.func @slice_negative(%a: tensor<4x6xf32>) -> tensor<2x3xf32> {
  // expected-error @+1 {{offsets must be non-negative, got [-1, 0]}}
  %0 = tpu.slice %a {name = "s", offsets = array<i64: -1, 0>, steps = array<i64: 1, 1>} : (tensor<4x6xf32>) -> tensor<2x3xf32>
  return %0 : tensor<2x3xf32>
}

// -----

// Tests that a slice must stay within the input.
func.func @slice_bounds(%a: tensor<4x6xf32>) -> tensor<2x3xf32> {
  // expected-error @+1 {{slice of dimension 1 reads index 6 (offset 2, step 2, size 3), beyond the input size 6}}
  %0 = tpu.slice %a {name = "s", offsets = array<i64: 0, 2>, steps = array<i64: 1, 2>} : (tensor<4x6xf32>) -> tensor<2x3xf32>
  return %0 : tensor<2x3xf32>
}

// -----

// Tests that a slice keeps the rank.
func.func @slice_rank(%a: tensor<4x6xf32>) -> tensor<6xf32> {
  // expected-error @+1 {{output rank 1 must equal the input rank 2}}
  %0 = tpu.slice %a {name = "s", offsets = array<i64: 0, 0>, steps = array<i64: 1, 1>} : (tensor<4x6xf32>) -> tensor<6xf32>
  return %0 : tensor<6xf32>
}

// -----

// Tests that crop offsets have one entry per dimension.
func.func @crop_offsets(%a: tensor<4x6xf32>) -> tensor<2x3xf32> {
  // expected-error @+1 {{offsets must have 2 entries (one per dimension), got 3}}
  %0 = tpu.crop %a {name = "c", offsets = array<i64: 0, 0, 0>} : (tensor<4x6xf32>) -> tensor<2x3xf32>
  return %0 : tensor<2x3xf32>
}

// -----

// Tests that crop offsets must not be negative.
func.func @crop_negative(%a: tensor<4x6xf32>) -> tensor<2x3xf32> {
  // expected-error @+1 {{offsets must be non-negative, got [0, -2]}}
  %0 = tpu.crop %a {name = "c", offsets = array<i64: 0, -2>} : (tensor<4x6xf32>) -> tensor<2x3xf32>
  return %0 : tensor<2x3xf32>
}

// -----

// Tests that a crop must stay within the input.
func.func @crop_bounds(%a: tensor<4x6xf32>) -> tensor<2x3xf32> {
  // expected-error @+1 {{crop of dimension 0 ends at 5 (offset 3 + size 2), beyond the input size 4}}
  %0 = tpu.crop %a {name = "c", offsets = array<i64: 3, 0>} : (tensor<4x6xf32>) -> tensor<2x3xf32>
  return %0 : tensor<2x3xf32>
}

// -----

// Tests that a crop keeps the rank.
func.func @crop_rank(%a: tensor<4x6xf32>) -> tensor<1x2x3xf32> {
  // expected-error @+1 {{output rank 3 must equal the input rank 2}}
  %0 = tpu.crop %a {name = "c", offsets = array<i64: 0, 0>} : (tensor<4x6xf32>) -> tensor<1x2x3xf32>
  return %0 : tensor<1x2x3xf32>
}

// -----

// Tests that pad has two entries per dimension.
func.func @pad_size(%a: tensor<4x6xf32>) -> tensor<6x6xf32> {
  // expected-error @+1 {{pads must have 4 entries (before and after each dimension), got 2}}
  %0 = tpu.pad %a {name = "p", pads = array<i64: 1, 1>} : (tensor<4x6xf32>) -> tensor<6x6xf32>
  return %0 : tensor<6x6xf32>
}

// -----

// Tests that pad sizes must not be negative.
func.func @pad_negative(%a: tensor<4x6xf32>) -> tensor<3x6xf32> {
  // expected-error @+1 {{pads must be non-negative, got [-1, 0, 0, 0]}}
  %0 = tpu.pad %a {name = "p", pads = array<i64: -1, 0, 0, 0>} : (tensor<4x6xf32>) -> tensor<3x6xf32>
  return %0 : tensor<3x6xf32>
}

// -----

// Tests that pad mode is constant, reflect or edge.
func.func @pad_mode(%a: tensor<4x6xf32>) -> tensor<6x6xf32> {
  // expected-error @+1 {{mode must be constant, reflect or edge, got 'wrap'}}
  %0 = tpu.pad %a {name = "p", pads = array<i64: 1, 0, 1, 0>, mode = "wrap"} : (tensor<4x6xf32>) -> tensor<6x6xf32>
  return %0 : tensor<6x6xf32>
}

// -----

// Tests that reflect pads must be smaller than the dimension.
func.func @pad_reflect(%a: tensor<4x6xf32>) -> tensor<12x6xf32> {
  // expected-error @+1 {{reflect pads 4 and 4 of dimension 0 must be smaller than its size 4}}
  %0 = tpu.pad %a {name = "p", pads = array<i64: 4, 0, 4, 0>, mode = "reflect"} : (tensor<4x6xf32>) -> tensor<12x6xf32>
  return %0 : tensor<12x6xf32>
}

// -----

// Tests that the pad value must not be NaN.
func.func @pad_nan(%a: tensor<4x6xf32>) -> tensor<6x6xf32> {
  // expected-error @+1 {{const_val must not be NaN}}
  %0 = tpu.pad %a {name = "p", pads = array<i64: 1, 0, 1, 0>, const_val = 0x7FC00000 : f32} : (tensor<4x6xf32>) -> tensor<6x6xf32>
  return %0 : tensor<6x6xf32>
}

// -----

// Tests that the pad output adds the pads.
func.func @pad_output(%a: tensor<4x6xf32>) -> tensor<6x6xf32> {
  // expected-error @+1 {{output shape must be [6, 8], got [6, 6]}}
  %0 = tpu.pad %a {name = "p", pads = array<i64: 1, 1, 1, 1>} : (tensor<4x6xf32>) -> tensor<6x6xf32>
  return %0 : tensor<6x6xf32>
}

// -----

// Tests that upsample factors must be positive.
func.func @upsample_zero(%x: tensor<1x2x3x3xf32>) -> tensor<1x2x3x3xf32> {
  // expected-error @+1 {{scale_h and scale_w must be positive, got 0 and 1}}
  %0 = tpu.upsample %x {name = "u", scale_h = 0, scale_w = 1} : (tensor<1x2x3x3xf32>) -> tensor<1x2x3x3xf32>
  return %0 : tensor<1x2x3x3xf32>
}

// -----

// Tests that upsample input must be NCHW.
func.func @upsample_rank(%x: tensor<2x3x3xf32>) -> tensor<2x6x6xf32> {
  // expected-error @+1 {{input must be NCHW (rank 4), got rank 3}}
  %0 = tpu.upsample %x {name = "u", scale_h = 2, scale_w = 2} : (tensor<2x3x3xf32>) -> tensor<2x6x6xf32>
  return %0 : tensor<2x6x6xf32>
}

// -----

// Tests that the upsample output multiplies H and W.
func.func @upsample_output(%x: tensor<1x2x3x3xf32>) -> tensor<1x2x6x6xf32> {
  // expected-error @+1 {{output shape must be [1, 2, 6, 9], got [1, 2, 6, 6]}}
  %0 = tpu.upsample %x {name = "u", scale_h = 2, scale_w = 3} : (tensor<1x2x3x3xf32>) -> tensor<1x2x6x6xf32>
  return %0 : tensor<1x2x6x6xf32>
}

// -----

// Tests that interp mode is nearest or bilinear.
func.func @interp_mode(%x: tensor<1x2x3x3xf32>) -> tensor<1x2x6x6xf32> {
  // expected-error @+1 {{mode must be nearest or bilinear, got 'cubic'}}
  %0 = tpu.interp %x {name = "i", mode = "cubic"} : (tensor<1x2x3x3xf32>) -> tensor<1x2x6x6xf32>
  return %0 : tensor<1x2x6x6xf32>
}

// -----

// Tests that interp coordinate modes are the supported ONNX ones.
func.func @interp_coordinates(%x: tensor<1x2x3x3xf32>) -> tensor<1x2x6x6xf32> {
  // expected-error @+1 {{coordinate_transformation_mode must be half_pixel, pytorch_half_pixel, align_corners or asymmetric, got 'tf_crop_and_resize'}}
  %0 = tpu.interp %x {name = "i", coordinate_transformation_mode = "tf_crop_and_resize"} : (tensor<1x2x3x3xf32>) -> tensor<1x2x6x6xf32>
  return %0 : tensor<1x2x6x6xf32>
}

// -----

// Tests that interp keeps N and C.
func.func @interp_channels(%x: tensor<1x2x3x3xf32>) -> tensor<1x4x6x6xf32> {
  // expected-error @+1 {{output [1, 4, 6, 6] must keep N and C of the input [1, 2, 3, 3]}}
  %0 = tpu.interp %x {name = "i"} : (tensor<1x2x3x3xf32>) -> tensor<1x4x6x6xf32>
  return %0 : tensor<1x4x6x6xf32>
}

// -----

// Tests that the interp output must be NCHW.
func.func @interp_rank(%x: tensor<1x2x3x3xf32>) -> tensor<2x6x6xf32> {
  // expected-error @+1 {{output must be NCHW (rank 4), got rank 3}}
  %0 = tpu.interp %x {name = "i"} : (tensor<1x2x3x3xf32>) -> tensor<2x6x6xf32>
  return %0 : tensor<2x6x6xf32>
}

// -----

// Tests that pixel_shuffle channels must be divisible by the factor squared.
func.func @pixel_shuffle_channels(%x: tensor<1x6x2x2xf32>) -> tensor<1x1x4x4xf32> {
  // expected-error @+1 {{input channels 6 must be divisible by upscale_factor^2 = 4}}
  %0 = tpu.pixel_shuffle %x {name = "p", upscale_factor = 2} : (tensor<1x6x2x2xf32>) -> tensor<1x1x4x4xf32>
  return %0 : tensor<1x1x4x4xf32>
}

// -----

// Tests that the pixel_shuffle factor must be positive.
func.func @pixel_shuffle_factor(%x: tensor<1x4x2x2xf32>) -> tensor<1x4x2x2xf32> {
  // expected-error @+1 {{upscale_factor must be positive, got 0}}
  %0 = tpu.pixel_shuffle %x {name = "p", upscale_factor = 0} : (tensor<1x4x2x2xf32>) -> tensor<1x4x2x2xf32>
  return %0 : tensor<1x4x2x2xf32>
}

// -----

// Tests that pixel_shuffle mode is DCR or CRD.
func.func @pixel_shuffle_mode(%x: tensor<1x4x2x2xf32>) -> tensor<1x1x4x4xf32> {
  // expected-error @+1 {{mode must be DCR or CRD, got 'RCD'}}
  %0 = tpu.pixel_shuffle %x {name = "p", upscale_factor = 2, mode = "RCD"} : (tensor<1x4x2x2xf32>) -> tensor<1x1x4x4xf32>
  return %0 : tensor<1x1x4x4xf32>
}

// -----

// Tests that the pixel_shuffle output moves depth to space.
func.func @pixel_shuffle_output(%x: tensor<1x8x2x2xf32>) -> tensor<1x8x4x4xf32> {
  // expected-error @+1 {{output shape must be [1, 2, 4, 4], got [1, 8, 4, 4]}}
  %0 = tpu.pixel_shuffle %x {name = "p", upscale_factor = 2} : (tensor<1x8x2x2xf32>) -> tensor<1x8x4x4xf32>
  return %0 : tensor<1x8x4x4xf32>
}

// -----

// Tests that reorg needs H and W divisible by the stride.
func.func @reorg_divisible(%x: tensor<1x2x5x4xf32>) -> tensor<1x8x2x2xf32> {
  // expected-error @+1 {{input height 5 and width 4 must be divisible by the stride 2}}
  %0 = tpu.reorg %x {name = "r", stride = 2} : (tensor<1x2x5x4xf32>) -> tensor<1x8x2x2xf32>
  return %0 : tensor<1x8x2x2xf32>
}

// -----

// Tests that the reorg stride must be positive.
func.func @reorg_stride(%x: tensor<1x2x4x4xf32>) -> tensor<1x2x4x4xf32> {
  // expected-error @+1 {{stride must be positive, got -2}}
  %0 = tpu.reorg %x {name = "r", stride = -2} : (tensor<1x2x4x4xf32>) -> tensor<1x2x4x4xf32>
  return %0 : tensor<1x2x4x4xf32>
}

// -----

// Tests that the reorg output moves space to depth.
func.func @reorg_output(%x: tensor<1x2x4x4xf32>) -> tensor<1x2x2x2xf32> {
  // expected-error @+1 {{output shape must be [1, 8, 2, 2], got [1, 2, 2, 2]}}
  %0 = tpu.reorg %x {name = "r", stride = 2} : (tensor<1x2x4x4xf32>) -> tensor<1x2x2x2xf32>
  return %0 : tensor<1x2x2x2xf32>
}

// -----

// Tests that the shuffle_channel group must divide the channels.
func.func @shuffle_channel_group(%x: tensor<1x6x2x2xf32>) -> tensor<1x6x2x2xf32> {
  // expected-error @+1 {{group 4 must be positive and divide the channels 6}}
  %0 = tpu.shuffle_channel %x {name = "s", group = 4} : (tensor<1x6x2x2xf32>) -> tensor<1x6x2x2xf32>
  return %0 : tensor<1x6x2x2xf32>
}

// -----

// Tests that preprocess input must be NCHW.
func.func @preprocess_rank(%x: tensor<3x4x4xui8>) -> tensor<3x4x4xi8> {
  // expected-error @+1 {{input must be NCHW (rank 4), got rank 3}}
  %0 = tpu.preprocess %x {name = "p", channel_order = array<i64: 0, 1, 2>, mean = array<f32: 0.0, 0.0, 0.0>, scale = array<f32: 1.0, 1.0, 1.0>} : (tensor<3x4x4xui8>) -> tensor<3x4x4xi8>
  return %0 : tensor<3x4x4xi8>
}

// -----

// Tests that preprocess keeps the shape.
func.func @preprocess_shape(%x: tensor<1x3x4x4xui8>) -> tensor<1x3x2x2xi8> {
  // expected-error @+1 {{output shape [1, 3, 2, 2] must equal the input shape [1, 3, 4, 4]}}
  %0 = tpu.preprocess %x {name = "p", channel_order = array<i64: 0, 1, 2>, mean = array<f32: 0.0, 0.0, 0.0>, scale = array<f32: 1.0, 1.0, 1.0>} : (tensor<1x3x4x4xui8>) -> tensor<1x3x2x2xi8>
  return %0 : tensor<1x3x2x2xi8>
}

// -----

// Tests that the preprocess channel order has one entry per channel.
func.func @preprocess_order_size(%x: tensor<1x3x4x4xui8>) -> tensor<1x3x4x4xi8> {
  // expected-error @+1 {{channel_order must have 3 entries (one per channel), got 2}}
  %0 = tpu.preprocess %x {name = "p", channel_order = array<i64: 1, 0>, mean = array<f32: 0.0, 0.0, 0.0>, scale = array<f32: 1.0, 1.0, 1.0>} : (tensor<1x3x4x4xui8>) -> tensor<1x3x4x4xi8>
  return %0 : tensor<1x3x4x4xi8>
}

// -----

// Tests that the preprocess channel order must be a permutation.
func.func @preprocess_order_perm(%x: tensor<1x3x4x4xui8>) -> tensor<1x3x4x4xi8> {
  // expected-error @+1 {{channel_order must be a permutation of 0 .. 2, got [0, 1, 3]}}
  %0 = tpu.preprocess %x {name = "p", channel_order = array<i64: 0, 1, 3>, mean = array<f32: 0.0, 0.0, 0.0>, scale = array<f32: 1.0, 1.0, 1.0>} : (tensor<1x3x4x4xui8>) -> tensor<1x3x4x4xi8>
  return %0 : tensor<1x3x4x4xi8>
}

// -----

// Tests that the preprocess mean has one entry per channel.
func.func @preprocess_mean(%x: tensor<1x3x4x4xui8>) -> tensor<1x3x4x4xi8> {
  // expected-error @+1 {{mean must have 3 entries (one per channel), got 1}}
  %0 = tpu.preprocess %x {name = "p", channel_order = array<i64: 0, 1, 2>, mean = array<f32: 0.0>, scale = array<f32: 1.0, 1.0, 1.0>} : (tensor<1x3x4x4xui8>) -> tensor<1x3x4x4xi8>
  return %0 : tensor<1x3x4x4xi8>
}

// -----

// Tests that the preprocess scale has one entry per channel.
func.func @preprocess_scale(%x: tensor<1x3x4x4xui8>) -> tensor<1x3x4x4xi8> {
  // expected-error @+1 {{scale must have 3 entries (one per channel), got 4}}
  %0 = tpu.preprocess %x {name = "p", channel_order = array<i64: 0, 1, 2>, mean = array<f32: 0.0, 0.0, 0.0>, scale = array<f32: 1.0, 1.0, 1.0, 1.0>} : (tensor<1x3x4x4xui8>) -> tensor<1x3x4x4xi8>
  return %0 : tensor<1x3x4x4xi8>
}

// -----

// Tests that detection_output takes loc, conf and prior.
func.func @detection_inputs(%loc: tensor<1x32xf32>, %conf: tensor<1x24xf32>) -> tensor<1x1x10x7xf32> {
  // expected-error @+1 {{needs 3 inputs (loc, conf, prior), got 2}}
  %0 = tpu.detection_output %loc, %conf {name = "d", num_classes = 3, nms_threshold = 0.45 : f32, top_k = 20, keep_top_k = 10, confidence_threshold = 0.01 : f32} : (tensor<1x32xf32>, tensor<1x24xf32>) -> tensor<1x1x10x7xf32>
  return %0 : tensor<1x1x10x7xf32>
}

// -----

// Tests that detection_output needs a positive class count.
func.func @detection_classes(%loc: tensor<1x32xf32>, %conf: tensor<1x24xf32>, %prior: tensor<1x2x32xf32>) -> tensor<1x1x10x7xf32> {
  // expected-error @+1 {{num_classes must be positive, got 0}}
  %0 = tpu.detection_output %loc, %conf, %prior {name = "d", num_classes = 0, nms_threshold = 0.45 : f32, top_k = 20, keep_top_k = 10, confidence_threshold = 0.01 : f32} : (tensor<1x32xf32>, tensor<1x24xf32>, tensor<1x2x32xf32>) -> tensor<1x1x10x7xf32>
  return %0 : tensor<1x1x10x7xf32>
}

// -----

// Tests that detection_output top_k and keep_top_k must be positive.
func.func @detection_top_k(%loc: tensor<1x32xf32>, %conf: tensor<1x24xf32>, %prior: tensor<1x2x32xf32>) -> tensor<1x1x10x7xf32> {
  // expected-error @+1 {{top_k and keep_top_k must be positive, got -1 and 10}}
  %0 = tpu.detection_output %loc, %conf, %prior {name = "d", num_classes = 3, nms_threshold = 0.45 : f32, top_k = -1, keep_top_k = 10, confidence_threshold = 0.01 : f32} : (tensor<1x32xf32>, tensor<1x24xf32>, tensor<1x2x32xf32>) -> tensor<1x1x10x7xf32>
  return %0 : tensor<1x1x10x7xf32>
}

// -----

// Tests that the background label is -1 or a class.
func.func @detection_background(%loc: tensor<1x32xf32>, %conf: tensor<1x24xf32>, %prior: tensor<1x2x32xf32>) -> tensor<1x1x10x7xf32> {
  // expected-error @+1 {{background_label_id must be -1 (none) or a class in [0, 3), got 3}}
  %0 = tpu.detection_output %loc, %conf, %prior {name = "d", num_classes = 3, background_label_id = 3, nms_threshold = 0.45 : f32, top_k = 20, keep_top_k = 10, confidence_threshold = 0.01 : f32} : (tensor<1x32xf32>, tensor<1x24xf32>, tensor<1x2x32xf32>) -> tensor<1x1x10x7xf32>
  return %0 : tensor<1x1x10x7xf32>
}

// -----

// Tests that the NMS threshold is in (0, 1].
func.func @detection_nms(%loc: tensor<1x32xf32>, %conf: tensor<1x24xf32>, %prior: tensor<1x2x32xf32>) -> tensor<1x1x10x7xf32> {
  // expected-error @+1 {{nms_threshold must be in (0, 1], got 1.5}}
  %0 = tpu.detection_output %loc, %conf, %prior {name = "d", num_classes = 3, nms_threshold = 1.5 : f32, top_k = 20, keep_top_k = 10, confidence_threshold = 0.01 : f32} : (tensor<1x32xf32>, tensor<1x24xf32>, tensor<1x2x32xf32>) -> tensor<1x1x10x7xf32>
  return %0 : tensor<1x1x10x7xf32>
}

// -----

// Tests that the confidence threshold is at most 1.
func.func @detection_confidence(%loc: tensor<1x32xf32>, %conf: tensor<1x24xf32>, %prior: tensor<1x2x32xf32>) -> tensor<1x1x10x7xf32> {
  // expected-error @+1 {{confidence_threshold must be at most 1, got 2}}
  %0 = tpu.detection_output %loc, %conf, %prior {name = "d", num_classes = 3, nms_threshold = 0.45 : f32, top_k = 20, keep_top_k = 10, confidence_threshold = 2.0 : f32} : (tensor<1x32xf32>, tensor<1x24xf32>, tensor<1x2x32xf32>) -> tensor<1x1x10x7xf32>
  return %0 : tensor<1x1x10x7xf32>
}

// -----

// Tests that the box code type is a known one.
func.func @detection_code_type(%loc: tensor<1x32xf32>, %conf: tensor<1x24xf32>, %prior: tensor<1x2x32xf32>) -> tensor<1x1x10x7xf32> {
  // expected-error @+1 {{code_type must be CORNER, CENTER_SIZE or CORNER_SIZE, got 'CENTER'}}
  %0 = tpu.detection_output %loc, %conf, %prior {name = "d", num_classes = 3, nms_threshold = 0.45 : f32, top_k = 20, keep_top_k = 10, confidence_threshold = 0.01 : f32, code_type = "CENTER"} : (tensor<1x32xf32>, tensor<1x24xf32>, tensor<1x2x32xf32>) -> tensor<1x1x10x7xf32>
  return %0 : tensor<1x1x10x7xf32>
}

// -----

// Tests that the prior holds boxes and variances.
func.func @detection_prior(%loc: tensor<1x32xf32>, %conf: tensor<1x24xf32>, %prior: tensor<1x2x30xf32>) -> tensor<1x1x10x7xf32> {
  // expected-error @+1 {{prior must hold 2 * P * 4 values (boxes and variances), got 60}}
  %0 = tpu.detection_output %loc, %conf, %prior {name = "d", num_classes = 3, nms_threshold = 0.45 : f32, top_k = 20, keep_top_k = 10, confidence_threshold = 0.01 : f32} : (tensor<1x32xf32>, tensor<1x24xf32>, tensor<1x2x30xf32>) -> tensor<1x1x10x7xf32>
  return %0 : tensor<1x1x10x7xf32>
}

// -----

// Tests that loc holds four offsets per prior (per class without share_location).
func.func @detection_loc(%loc: tensor<1x32xf32>, %conf: tensor<1x24xf32>, %prior: tensor<1x2x32xf32>) -> tensor<1x1x10x7xf32> {
  // expected-error @+1 {{loc must hold 96 values per image (8 priors), got 32 for a batch of 1}}
  %0 = tpu.detection_output %loc, %conf, %prior {name = "d", num_classes = 3, share_location = false, nms_threshold = 0.45 : f32, top_k = 20, keep_top_k = 10, confidence_threshold = 0.01 : f32} : (tensor<1x32xf32>, tensor<1x24xf32>, tensor<1x2x32xf32>) -> tensor<1x1x10x7xf32>
  return %0 : tensor<1x1x10x7xf32>
}

// -----

// Tests that conf holds a score per prior and class.
func.func @detection_conf(%loc: tensor<1x32xf32>, %conf: tensor<1x16xf32>, %prior: tensor<1x2x32xf32>) -> tensor<1x1x10x7xf32> {
  // expected-error @+1 {{conf must hold 24 values per image (8 priors x 3 classes), got 16 for a batch of 1}}
  %0 = tpu.detection_output %loc, %conf, %prior {name = "d", num_classes = 3, nms_threshold = 0.45 : f32, top_k = 20, keep_top_k = 10, confidence_threshold = 0.01 : f32} : (tensor<1x32xf32>, tensor<1x16xf32>, tensor<1x2x32xf32>) -> tensor<1x1x10x7xf32>
  return %0 : tensor<1x1x10x7xf32>
}

// -----

// Tests that the detections are [1, 1, K, 7].
func.func @detection_output_shape(%loc: tensor<1x32xf32>, %conf: tensor<1x24xf32>, %prior: tensor<1x2x32xf32>) -> tensor<1x10x6xf32> {
  // expected-error @+1 {{output must be [1, 1, K, 7] with K >= 1, got [1, 10, 6]}}
  %0 = tpu.detection_output %loc, %conf, %prior {name = "d", num_classes = 3, nms_threshold = 0.45 : f32, top_k = 20, keep_top_k = 10, confidence_threshold = 0.01 : f32} : (tensor<1x32xf32>, tensor<1x24xf32>, tensor<1x2x32xf32>) -> tensor<1x10x6xf32>
  return %0 : tensor<1x10x6xf32>
}

// -----

// Tests that quant from is a known type name.
func.func @quant_from(%x: tensor<4xf32>) -> tensor<4xi8> {
  // expected-error @+1 {{from must be NONE, FP32, INT8, UINT8 or BF16, got 'F32'}}
  %0 = tpu.quant %x {name = "q", from = "F32", to = "INT8", scale = 1.0 : f32} : (tensor<4xf32>) -> tensor<4xi8>
  return %0 : tensor<4xi8>
}

// -----

// Tests that quant to is a known type name.
func.func @quant_to(%x: tensor<4xf32>) -> tensor<4xi8> {
  // expected-error @+1 {{to must be NONE, FP32, INT8, UINT8 or BF16, got 'INT4'}}
  %0 = tpu.quant %x {name = "q", from = "NONE", to = "INT4", scale = 1.0 : f32} : (tensor<4xf32>) -> tensor<4xi8>
  return %0 : tensor<4xi8>
}

// -----

// Tests that quant converts between different types.
func.func @quant_same(%x: tensor<4xf32>) -> tensor<4xf32> {
  // expected-error @+1 {{from 'NONE' and to 'FP32' must name different types (both are f32)}}
  %0 = tpu.quant %x {name = "q", from = "NONE", to = "FP32", scale = 1.0 : f32} : (tensor<4xf32>) -> tensor<4xf32>
  return %0 : tensor<4xf32>
}

// -----

// Tests that the quant input element type follows from.
func.func @quant_input_type(%x: tensor<4xbf16>) -> tensor<4xi8> {
  // expected-error @+1 {{input element type must be f32 for from = NONE, got 'bf16'}}
  %0 = tpu.quant %x {name = "q", from = "NONE", to = "INT8", scale = 1.0 : f32} : (tensor<4xbf16>) -> tensor<4xi8>
  return %0 : tensor<4xi8>
}

// -----

// Tests that a quant to INT8 makes int8.
func.func @quant_output_type(%x: tensor<4xf32>) -> tensor<4xui8> {
  // expected-error @+1 {{output element type must be i8 or si8 for to = INT8, got 'ui8'}}
  %0 = tpu.quant %x {name = "q", from = "NONE", to = "INT8", scale = 1.0 : f32} : (tensor<4xf32>) -> tensor<4xui8>
  return %0 : tensor<4xui8>
}

// -----

// Tests that quant keeps the shape.
func.func @quant_shape(%x: tensor<4xf32>) -> tensor<2x2xi8> {
  // expected-error @+1 {{output shape [2, 2] must equal the input shape [4]}}
  %0 = tpu.quant %x {name = "q", from = "NONE", to = "INT8", scale = 1.0 : f32} : (tensor<4xf32>) -> tensor<2x2xi8>
  return %0 : tensor<2x2xi8>
}

// -----

// Tests that the quant scale must be positive.
func.func @quant_scale(%x: tensor<4xf32>) -> tensor<4xi8> {
  // expected-error @+1 {{scale must be positive and finite, got 0}}
  %0 = tpu.quant %x {name = "q", from = "NONE", to = "INT8", scale = 0.0 : f32} : (tensor<4xf32>) -> tensor<4xi8>
  return %0 : tensor<4xi8>
}

// -----

// Tests that the zero point fits the integer type.
func.func @quant_zero_point_range(%x: tensor<4xf32>) -> tensor<4xi8> {
  // expected-error @+1 {{zero_point 200 is out of range [-128, 127] of i8 or si8}}
  %0 = tpu.quant %x {name = "q", from = "NONE", to = "INT8", scale = 1.0 : f32, zero_point = 200} : (tensor<4xf32>) -> tensor<4xi8>
  return %0 : tensor<4xi8>
}

// -----

// Tests that a zero point needs an integer side.
func.func @quant_zero_point_float(%x: tensor<4xf32>) -> tensor<4xbf16> {
  // expected-error @+1 {{zero_point must be 0 without an integer side, got 3}}
  %0 = tpu.quant %x {name = "q", from = "NONE", to = "BF16", scale = 1.0 : f32, zero_point = 3} : (tensor<4xf32>) -> tensor<4xbf16>
  return %0 : tensor<4xbf16>
}

// -----

// Tests that a lut table has 256 entries.
func.func @lut_table_size(%x: tensor<4xi8>, %t: tensor<128xi8>) -> tensor<4xi8> {
  // expected-error @+1 {{table must have 256 entries, got 128}}
  %0 = tpu.lut %x, %t {name = "l"} : (tensor<4xi8>, tensor<128xi8>) -> tensor<4xi8>
  return %0 : tensor<4xi8>
}

// -----

// Tests that a lut input is int8, uint8 or bf16.
func.func @lut_input_type(%x: tensor<4xf32>, %t: tensor<256xf32>) -> tensor<4xf32> {
  // expected-error @+1 {{input element type must be i8, si8, ui8 or bf16, got 'f32'}}
  %0 = tpu.lut %x, %t {name = "l"} : (tensor<4xf32>, tensor<256xf32>) -> tensor<4xf32>
  return %0 : tensor<4xf32>
}

// -----

// Tests that an integer lut needs an 8-bit integer table.
func.func @lut_table_type(%x: tensor<4xi8>, %t: tensor<256xbf16>) -> tensor<4xbf16> {
  // expected-error @+1 {{an 8-bit integer input needs an 8-bit integer table, got 'bf16'}}
  %0 = tpu.lut %x, %t {name = "l"} : (tensor<4xi8>, tensor<256xbf16>) -> tensor<4xbf16>
  return %0 : tensor<4xbf16>
}

// -----

// Tests that a bf16 lut needs a bf16 table.
func.func @lut_bf16_table(%x: tensor<4xbf16>, %t: tensor<256xi8>, %m: tensor<256xi8>) -> tensor<4xi8> {
  // expected-error @+1 {{a bf16 input needs a bf16 table, got 'i8'}}
  %0 = tpu.lut %x, %t, %m {name = "l"} : (tensor<4xbf16>, tensor<256xi8>, tensor<256xi8>) -> tensor<4xi8>
  return %0 : tensor<4xi8>
}

// -----

// Tests that a bf16 lut needs the mantissa table.
func.func @lut_bf16_mantissa(%x: tensor<4xbf16>, %t: tensor<256xbf16>) -> tensor<4xbf16> {
  // expected-error @+1 {{a bf16 input needs the mantissa table}}
  %0 = tpu.lut %x, %t {name = "l"} : (tensor<4xbf16>, tensor<256xbf16>) -> tensor<4xbf16>
  return %0 : tensor<4xbf16>
}

// -----

// Tests that an integer lut takes no mantissa table.
func.func @lut_int_mantissa(%x: tensor<4xi8>, %t: tensor<256xi8>) -> tensor<4xi8> {
  // expected-error @+1 {{an integer input takes no mantissa table}}
  %0 = tpu.lut %x, %t, %t {name = "l"} : (tensor<4xi8>, tensor<256xi8>, tensor<256xi8>) -> tensor<4xi8>
  return %0 : tensor<4xi8>
}

// -----

// Tests that the mantissa table has 256 entries.
func.func @lut_mantissa_size(%x: tensor<4xbf16>, %t: tensor<256xbf16>, %m: tensor<255xbf16>) -> tensor<4xbf16> {
  // expected-error @+1 {{mantissa must have 256 entries, got 255}}
  %0 = tpu.lut %x, %t, %m {name = "l"} : (tensor<4xbf16>, tensor<256xbf16>, tensor<255xbf16>) -> tensor<4xbf16>
  return %0 : tensor<4xbf16>
}

// -----

// Tests that the mantissa table has the table's element type.
func.func @lut_mantissa_type(%x: tensor<4xbf16>, %t: tensor<256xbf16>, %m: tensor<256xf32>) -> tensor<4xbf16> {
  // expected-error @+1 {{mantissa element type must be the table's 'bf16', got 'f32'}}
  %0 = tpu.lut %x, %t, %m {name = "l"} : (tensor<4xbf16>, tensor<256xbf16>, tensor<256xf32>) -> tensor<4xbf16>
  return %0 : tensor<4xbf16>
}

// -----

// Tests that a lut keeps the shape.
func.func @lut_shape(%x: tensor<4xi8>, %t: tensor<256xi8>) -> tensor<2x2xi8> {
  // expected-error @+1 {{output shape [2, 2] must equal the input shape [4]}}
  %0 = tpu.lut %x, %t {name = "l"} : (tensor<4xi8>, tensor<256xi8>) -> tensor<2x2xi8>
  return %0 : tensor<2x2xi8>
}

// -----

// Tests that the lut output has the table's element type.
func.func @lut_output_type(%x: tensor<4xui8>, %t: tensor<256xi8>) -> tensor<4xui8> {
  // expected-error @+1 {{output element type must be the table's 'i8', got 'ui8'}}
  %0 = tpu.lut %x, %t {name = "l"} : (tensor<4xui8>, tensor<256xi8>) -> tensor<4xui8>
  return %0 : tensor<4xui8>
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
  // expected-error @+1 {{quant.mode must be one of NONE, INT8, BF16, got "FP8"}}
  %0 = tpu.custom_op %arg0 {name = "c", operation_name = "x", param = {}, tpu = true, do_quant = false, quant = {mode = "FP8"}} : (tensor<4xf32>) -> tensor<4xf32>
  return %0 : tensor<4xf32>
}

// -----

// Tests that the argmax axis must be in range.
func.func @argmax_axis(%x: tensor<2x3xf32>) -> tensor<2x1xf32> {
  // expected-error @+1 {{axis 2 is out of range [-2, 2) for rank 2}}
  %0 = tpu.argmax %x {name = "a", axis = 2} : (tensor<2x3xf32>) -> tensor<2x1xf32>
  return %0 : tensor<2x1xf32>
}

// -----

// Tests that argmax indices are f32, also for int8 input.
func.func @argmax_type(%x: tensor<2x3xi8>) -> tensor<2x1xi8> {
  // expected-error @+1 {{output element type must be 'f32'}}
  %0 = tpu.argmax %x {name = "a", axis = 1} : (tensor<2x3xi8>) -> tensor<2x1xi8>
  return %0 : tensor<2x1xi8>
}

// -----

// Tests that without keepdims the reduced dimension is removed.
func.func @argmax_shape(%x: tensor<2x3xf32>) -> tensor<2x1xf32> {
  // expected-error @+1 {{output shape must be [2], got [2, 1]}}
  %0 = tpu.argmax %x {name = "a", axis = 1, keepdims = false} : (tensor<2x3xf32>) -> tensor<2x1xf32>
  return %0 : tensor<2x1xf32>
}
