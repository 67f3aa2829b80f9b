//===- TpuOpsInputOutput.cpp - network input and detection output ops -----===//
//
// Verifiers of input (its `preprocess` description), preprocess and detection_output.
//
//===----------------------------------------------------------------------===//
#include "dialect/TpuOpsSupport.h"

#include "llvm/ADT/STLExtras.h"
#include "llvm/ADT/StringExtras.h"

#include <optional>

using namespace mlir;
using namespace tpuc::tpu;
using namespace tpuc::tpu::detail;

namespace {

/// The numbers of an attribute that holds one number or a list of them (integers or floats, as
/// an array attribute or a dense array), or nothing when it holds something else.
std::optional<SmallVector<double>> getNumbers(Attribute attr) {
  SmallVector<double> values;
  auto number = [](Attribute a) -> std::optional<double> {
    if (isa<BoolAttr>(a))
      return std::nullopt;
    if (auto i = dyn_cast<IntegerAttr>(a))
      return static_cast<double>(i.getInt());
    if (auto f = dyn_cast<FloatAttr>(a))
      return f.getValueAsDouble();
    return std::nullopt;
  };
  if (std::optional<double> single = number(attr)) {
    values.push_back(*single);
  } else if (auto array = dyn_cast<DenseI64ArrayAttr>(attr)) {
    llvm::append_range(values, array.asArrayRef());
  } else if (auto array = dyn_cast<DenseI32ArrayAttr>(attr)) {
    llvm::append_range(values, array.asArrayRef());
  } else if (auto array = dyn_cast<DenseF32ArrayAttr>(attr)) {
    llvm::append_range(values, array.asArrayRef());
  } else if (auto array = dyn_cast<DenseF64ArrayAttr>(attr)) {
    llvm::append_range(values, array.asArrayRef());
  } else if (auto array = dyn_cast<ArrayAttr>(attr)) {
    for (Attribute element : array) {
      std::optional<double> value = number(element);
      if (!value)
        return std::nullopt;
      values.push_back(*value);
    }
  } else {
    return std::nullopt;
  }
  return values;
}

/// Integer values of a list of integers (integral numbers).
std::optional<SmallVector<int64_t>> getIntegers(Attribute attr) {
  std::optional<SmallVector<double>> numbers = getNumbers(attr);
  if (!numbers)
    return std::nullopt;
  SmallVector<int64_t> values;
  for (double number : *numbers) {
    if (number != static_cast<double>(static_cast<int64_t>(number)))
      return std::nullopt;
    values.push_back(static_cast<int64_t>(number));
  }
  return values;
}

constexpr StringRef kPreprocessFields[] = {"mean",          "std",          "scale",
                                           "channel_order", "resize",       "crop",
                                           "raw_scale",     "input_scale",  "keep_aspect_ratio",
                                           "aligned",       "pixel_format", "data_format"};

constexpr StringRef kPixelFormats[] = {"RGB_PLANAR", "RGB_PACKED", "BGR_PLANAR",
                                       "BGR_PACKED", "GRAYSCALE",  "YUV420_PLANAR",
                                       "YUV_NV21",   "YUV_NV12",   "RGBA_PLANAR"};

/// Checks one field of an input's `preprocess` dictionary; `channels` is the input's channel
/// count (dimension 1, or the last one for data_format = "nhwc").
LogicalResult verifyPreprocessField(const OpDiagnostics &diag, NamedAttribute field,
                                    int64_t channels) {
  StringRef key = field.getName().getValue();
  Attribute value = field.getValue();
  std::string what = ("preprocess." + key).str();
  if (key == "mean" || key == "std" || key == "scale") {
    std::optional<SmallVector<double>> numbers = getNumbers(value);
    if (!numbers)
      return diag.error(what, " must be a number or a list of numbers, got ", value);
    if (numbers->size() != 1 && static_cast<int64_t>(numbers->size()) != channels)
      return diag.error(what, " must have 1 or ", channels, " (one per channel) entries, got ",
                        static_cast<int64_t>(numbers->size()));
    if (key != "mean" && llvm::is_contained(*numbers, 0.0))
      return diag.error(what, " must not contain 0");
    return success();
  }
  if (key == "raw_scale" || key == "input_scale") {
    std::optional<SmallVector<double>> numbers = getNumbers(value);
    if (!numbers || numbers->size() != 1 || !(numbers->front() > 0))
      return diag.error(what, " must be a positive number, got ", value);
    return success();
  }
  if (key == "channel_order") {
    if (auto order = dyn_cast<StringAttr>(value)) {
      if (failed(checkOneOf(diag, order.getValue(), {"rgb", "bgr", "gray"}, what)))
        return failure();
      int64_t needed = order.getValue() == "gray" ? 1 : 3;
      if (channels != needed)
        return diag.error(what, " '", order.getValue(), "' needs ", needed,
                          " channel(s), the input has ", channels);
      return success();
    }
    std::optional<SmallVector<int64_t>> order = getIntegers(value);
    if (!order)
      return diag.error(
          what, " must be \"rgb\", \"bgr\", \"gray\" or a list of channel indices, got ", value);
    if (failed(checkArraySize(diag, *order, channels, what, "one per channel")))
      return failure();
    return checkPermutation(diag, *order, what);
  }
  if (key == "resize" || key == "crop") {
    std::optional<SmallVector<int64_t>> dims = getIntegers(value);
    if (!dims)
      return diag.error(what, " must be a list of integers, got ", value);
    if (key == "crop" && failed(checkArraySize(diag, *dims, 2, what, "[h, w]")))
      return failure();
    if (key == "resize" && dims->size() != 1 && dims->size() != 2)
      return diag.error(what, " must be [shorter side] or [h, w], got ",
                        static_cast<int64_t>(dims->size()), " entries");
    return checkPositive(diag, *dims, what);
  }
  if (key == "keep_aspect_ratio" || key == "aligned") {
    if (!isa<BoolAttr>(value))
      return diag.error(what, " must be a bool, got ", value);
    return success();
  }
  if (key == "pixel_format" || key == "data_format") {
    auto str = dyn_cast<StringAttr>(value);
    if (!str)
      return diag.error(what, " must be a string, got ", value);
    if (key == "data_format")
      return checkOneOf(diag, str.getValue(), {"nchw", "nhwc"}, what);
    return checkOneOf(diag, str.getValue(), kPixelFormats, what);
  }
  return diag.error("preprocess has unknown field '", key, "' (expected ",
                    llvm::join(ArrayRef<StringRef>(kPreprocessFields), ", "), ")");
}

} // namespace

LogicalResult InputOp::verify() {
  std::optional<DictionaryAttr> preprocess = getPreprocess();
  if (!preprocess)
    return success();
  OpDiagnostics diag(getOperation());
  auto type = cast<RankedTensorType>(getInput().getType());
  bool nhwc = false;
  if (auto format = preprocess->getAs<StringAttr>("data_format"))
    nhwc = format.getValue() == "nhwc";
  int64_t channels = 1;
  if (type.getRank() >= 2)
    channels = nhwc ? type.getShape().back() : type.getDimSize(1);
  for (NamedAttribute field : *preprocess)
    if (failed(verifyPreprocessField(diag, field, channels)))
      return failure();
  return success();
}

LogicalResult PreprocessOp::verify() {
  OpDiagnostics diag(getOperation());
  FailureOr<RankedTensorType> input = getTensorOfRank(diag, getInput(), "input", 4, "NCHW");
  if (failed(input))
    return failure();
  auto outputType = cast<RankedTensorType>(getOutput().getType());
  if (outputType.getShape() != input->getShape())
    return emitOpError("output shape [")
           << outputType.getShape() << "] must equal the input shape [" << input->getShape() << "]";
  int64_t channels = input->getDimSize(1);
  if (failed(
          checkArraySize(diag, getChannelOrder(), channels, "channel_order", "one per channel")) ||
      failed(checkPermutation(diag, getChannelOrder(), "channel_order")))
    return failure();
  if (static_cast<int64_t>(getMean().size()) != channels)
    return emitOpError("mean must have ")
           << channels << " entries (one per channel), got " << getMean().size();
  if (static_cast<int64_t>(getScale().size()) != channels)
    return emitOpError("scale must have ")
           << channels << " entries (one per channel), got " << getScale().size();
  return success();
}

LogicalResult DetectionOutputOp::verify() {
  OpDiagnostics diag(getOperation());
  if (getInputs().size() != 3)
    return emitOpError("needs 3 inputs (loc, conf, prior), got ") << getInputs().size();
  int64_t numClasses = getNumClasses(), topK = getTopK(), keepTopK = getKeepTopK();
  int64_t background = getBackgroundLabelId();
  if (numClasses <= 0)
    return emitOpError("num_classes must be positive, got ") << numClasses;
  if (topK <= 0 || keepTopK <= 0)
    return emitOpError("top_k and keep_top_k must be positive, got ")
           << topK << " and " << keepTopK;
  if (background < -1 || background >= numClasses)
    return emitOpError("background_label_id must be -1 (none) or a class in [0, ")
           << numClasses << "), got " << background;
  double nms = getNmsThreshold().convertToDouble();
  if (!(nms > 0 && nms <= 1))
    return emitOpError("nms_threshold must be in (0, 1], got ") << formatFloat(nms);
  double confidence = getConfidenceThreshold().convertToDouble();
  if (!(confidence <= 1))
    return emitOpError("confidence_threshold must be at most 1, got ") << formatFloat(confidence);
  if (failed(
          checkOneOf(diag, getCodeType(), {"CORNER", "CENTER_SIZE", "CORNER_SIZE"}, "code_type")))
    return failure();
  auto loc = cast<RankedTensorType>(getInputs()[0].getType());
  auto conf = cast<RankedTensorType>(getInputs()[1].getType());
  auto prior = cast<RankedTensorType>(getInputs()[2].getType());
  if (prior.getNumElements() == 0 || prior.getNumElements() % 8 != 0)
    return emitOpError("prior must hold 2 * P * 4 values (boxes and variances), got ")
           << prior.getNumElements();
  int64_t priors = prior.getNumElements() / 8;
  if (loc.getRank() < 1)
    return emitOpError("loc must have a batch dimension");
  int64_t batch = loc.getDimSize(0);
  int64_t locPerImage = priors * 4 * (getShareLocation() ? 1 : numClasses);
  if (loc.getNumElements() != batch * locPerImage)
    return emitOpError("loc must hold ")
           << locPerImage << " values per image (" << priors << " priors), got "
           << loc.getNumElements() << " for a batch of " << batch;
  if (conf.getNumElements() != batch * priors * numClasses)
    return emitOpError("conf must hold ")
           << priors * numClasses << " values per image (" << priors << " priors x " << numClasses
           << " classes), got " << conf.getNumElements() << " for a batch of " << batch;
  auto output = cast<RankedTensorType>(getOutput().getType());
  if (output.getRank() != 4 || output.getDimSize(0) != 1 || output.getDimSize(1) != 1 ||
      output.getDimSize(3) != 7 || output.getDimSize(2) < 1)
    return emitOpError("output must be [1, 1, K, 7] with K >= 1, got [")
           << output.getShape() << "]";
  return success();
}
