// The guide's fourth example: a hand-written module holding only the ROIAlign CPU custom op.
// features: a stride-4 feature map of a 96x128 image; rois: [batch index, x1, y1, x2, y2] in
// image pixels. No weights: `mlir-opt --gen-pseudo-weight-npz` writes the (empty) roialign.npz
// and, with --pseudo-calibration-table, a threshold for every tensor.
module attributes {tpu.weight_file = "roialign.npz"} {
func.func @main(%arg0: tensor<1x16x24x32xf32>, %arg1: tensor<1x1x4x5xf32>) -> tensor<4x16x7x7xf32> {
  %0 = tpu.input %arg0 {name = "features"} : (tensor<1x16x24x32xf32>) -> tensor<1x16x24x32xf32>
  %1 = tpu.input %arg1 {name = "rois"} : (tensor<1x1x4x5xf32>) -> tensor<1x1x4x5xf32>
  %2 = tpu.custom_op %0, %1 {name = "roi_align", operation_name = "roialign",
         param = {pooled_h = 7 : i32, pooled_w = 7 : i32, sampling_ratio = 2 : i32,
                  spatial_scale = 2.500000e-01 : f32},
         tpu = false, do_quant = false, threshold_overwrite = "none", quant = {mode = "NONE"}}
         : (tensor<1x16x24x32xf32>, tensor<1x1x4x5xf32>) -> tensor<4x16x7x7xf32>
  return %2 : tensor<4x16x7x7xf32>
}
}
