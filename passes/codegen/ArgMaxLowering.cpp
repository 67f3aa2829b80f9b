//===- ArgMaxLowering.cpp - tpu.argmax as TPU tile maxima + CPU argmax_v3 -===//
//
// As vendor models do it: the TPU reduces the int8 data along the axis to one maximum per tile
// of 256 elements (a max pooling over the axis moved to the end when it is not the last, the last
// tile padded), and the CPU function `argmax_v3` takes the largest tile maximum and returns the
// first index along the axis holding it (tpuc's runtime and the vendor
// runtime both implement it). The argmax of the dequantized values is the argmax of the int8 codes,
// so an argmax reading the fp32 dequantization of an int8 tensor reads the int8 tensor (the
// dequantization then goes with
// --dce).
//
//===----------------------------------------------------------------------===//
#include "passes/codegen/Backend.h"

#include "mlir/IR/Builders.h"
#include "mlir/IR/BuiltinTypes.h"

using namespace mlir;

namespace tpuc::backend {

/// The elements of one tile: the vendor runtime's argmax_v3 looks for the maximum in the
/// 256 elements of the tile whose maximum is the largest.
static constexpr int64_t kTile = 256;

LogicalResult lowerArgMax(ModuleOp module) {
  SmallVector<tpu::ArgMaxOp> ops;
  module.walk([&](tpu::ArgMaxOp op) { ops.push_back(op); });
  for (tpu::ArgMaxOp op : ops) {
    Value data = op.getInput();
    if (auto quant = data.getDefiningOp<tpu::QuantOp>())
      if (quant.getFrom() == "INT8")
        data = quant.getInput();
    auto type = cast<RankedTensorType>(data.getType());
    Operation *producer = data.getDefiningOp();
    auto quantAttr = producer ? producer->getAttrOfType<DictionaryAttr>("quant") : nullptr;
    if (!type.getElementType().isInteger(8) || !quantAttr)
      return op.emitError() << "tpu-lower: tpu.argmax '" << op.getName()
                            << "': the input must be an int8 tensor (or its dequantization); "
                               "an fp32 argmax has no kernel";
    int64_t rank = type.getRank();
    int64_t axis = op.getAxis() < 0 ? op.getAxis() + rank : op.getAxis();
    int64_t outer = 1, inner = 1, length = type.getDimSize(axis);
    for (int64_t i = 0; i < axis; ++i)
      outer *= type.getDimSize(i);
    for (int64_t i = axis + 1; i < rank; ++i)
      inner *= type.getDimSize(i);
    // Tiles of 256 elements along the axis (the last one padded with -128, which never exceeds
    // a real element), each reduced by one pooling window: the maxima are (outer, tiles).
    int64_t tile = std::min(length, kTile);
    int64_t tiles = (length + tile - 1) / tile;

    OpBuilder b(op);
    Location loc = op.getLoc();
    std::string name = op.getName().str();
    Type i8 = type.getElementType();
    auto named = [&](StringRef key, Attribute value) { return b.getNamedAttr(key, value); };
    // The view and the maxima keep the data's scale: its thresholds only.
    SmallVector<NamedAttribute> thresholds{named("mode", b.getStringAttr("INT8"))};
    for (StringRef key : {"threshold_max", "threshold_min"})
      if (Attribute t = quantAttr.get(key))
        thresholds.push_back(named(key, t));
    quantAttr = b.getDictionaryAttr(thresholds);
    auto reshape = [&](Value v, ArrayRef<int64_t> shape, StringRef suffix) -> Value {
      return tpu::ReshapeOp::create(
          b, loc, TypeRange{RankedTensorType::get(shape, i8)}, ValueRange{v},
          ArrayRef<NamedAttribute>{named("name", b.getStringAttr(name + suffix.str())),
                                   named("quant", quantAttr)});
    };
    // argmax_v3 reduces along the innermost dimension (the vendor runtime's reads nothing
    // else): an axis with dimensions after it is first transposed to the end, as vendor models
    // do. The function reads the data with its cvimodel (4-D) shape: leading unit dimensions
    // beyond four are dropped.
    Value cpuData = data;
    int64_t cpuAxis = axis - std::max<int64_t>(0, rank - 4);
    if (inner > 1) {
      cpuData = tpu::PermuteOp::create(
          b, loc, TypeRange{RankedTensorType::get({1, outer, inner, length}, i8)},
          ValueRange{reshape(data, {1, outer, length, inner}, "_data")},
          ArrayRef<NamedAttribute>{named("order", b.getDenseI64ArrayAttr({0, 1, 3, 2})),
                                   named("name", b.getStringAttr(name + "_trans")),
                                   named("quant", quantAttr)});
      cpuAxis = 3;
      outer *= inner;
    }
    Value tiled = cpuData;
    if (tiles * tile != length)
      tiled = tpu::PadOp::create(
          b, loc, TypeRange{RankedTensorType::get({1, outer, tiles * tile}, i8)},
          ValueRange{reshape(cpuData, {1, outer, length}, "_rows")},
          ArrayRef<NamedAttribute>{
              named("pads", b.getDenseI64ArrayAttr({0, 0, 0, 0, 0, tiles * tile - length})),
              named("const_val", b.getF32FloatAttr(-128.0f)),
              named("name", b.getStringAttr(name + "_padded")), named("quant", quantAttr)});
    Value maxima = tpu::PoolMax2DOp::create(
        b, loc, TypeRange{RankedTensorType::get({1, outer * tiles, 1, 1}, i8)},
        ValueRange{reshape(tiled, {1, outer * tiles, tile, 1}, "_tiles")},
        ArrayRef<NamedAttribute>{named("kernel_shape", b.getDenseI64ArrayAttr({tile, 1})),
                                 named("strides", b.getDenseI64ArrayAttr({1, 1})),
                                 named("pads", b.getDenseI64ArrayAttr({0, 0, 0, 0})),
                                 named("name", b.getStringAttr(name + "_tile_max")),
                                 named("quant", quantAttr)});
    SmallVector<NamedAttribute> attrs{
        named("name", op.getNameAttr()),
        named("operation_name", b.getStringAttr("argmax_v3")),
        named("param", b.getDictionaryAttr({named("axis", b.getI32IntegerAttr(int32_t(cpuAxis))),
                                            named("scale", b.getF32FloatAttr(1.0f))})),
        named("tpu", b.getBoolAttr(false)),
        named("do_quant", b.getBoolAttr(false)),
        named("quant", b.getDictionaryAttr({named("mode", b.getStringAttr("NONE"))}))};
    if (auto id = op.getLayerIdAttr())
      attrs.push_back(named("layer_id", id));
    Operation *cpu = tpu::CustomOp::create(b, loc, TypeRange{op.getResult().getType()},
                                           ValueRange{cpuData, maxima}, attrs);
    op.getResult().replaceAllUsesWith(cpu->getResult(0));
    op.erase();
  }
  return success();
}

} // namespace tpuc::backend
