//===- ArgMaxLowering.cpp - tpu.argmax as TPU tile maxima + CPU argmax_v3 -===//
//
// As vendor models do it: the TPU reduces the int8 data along the axis to one maximum per tile
// (a max pooling over the axis, the tensor viewed as (1, outer, length, inner)), and the CPU
// function `argmax_v3` takes the largest tile maximum and returns the first index along the
// axis holding it (tpuc's runtime and the vendor runtime both implement it). The argmax of the
// dequantized values is the argmax of the int8 codes, so an argmax reading the fp32
// dequantization of an int8 tensor reads the int8 tensor (the dequantization then goes with
// --dce).
//
//===----------------------------------------------------------------------===//
#include "passes/codegen/Backend.h"

#include "mlir/IR/Builders.h"
#include "mlir/IR/BuiltinTypes.h"

using namespace mlir;

namespace tpuc::backend {

/// The largest pooling window along H the max-pool kernel takes in one tile (rows of a slice).
static constexpr int64_t kMaxTile = 4000;

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
    int64_t tiles = (length + kMaxTile - 1) / kMaxTile;
    int64_t tile = (length + tiles - 1) / tiles;
    tiles = (length + tile - 1) / tile;

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
    Value view = tpu::ReshapeOp::create(
        b, loc, TypeRange{RankedTensorType::get({1, outer, length, inner}, i8)}, ValueRange{data},
        ArrayRef<NamedAttribute>{named("name", b.getStringAttr(name + "_data")),
                                 named("quant", quantAttr)});
    Value maxima = tpu::PoolMax2DOp::create(
        b, loc, TypeRange{RankedTensorType::get({1, outer, tiles, inner}, i8)}, ValueRange{view},
        ArrayRef<NamedAttribute>{
            named("kernel_shape", b.getDenseI64ArrayAttr({tile, 1})),
            named("strides", b.getDenseI64ArrayAttr({tile, 1})),
            named("pads", b.getDenseI64ArrayAttr({0, 0, tiles * tile - length, 0})),
            named("name", b.getStringAttr(name + "_tile_max")), named("quant", quantAttr)});
    // argmax_v3 reads the data with its cvimodel (4-D) shape: leading unit dimensions beyond
    // four are dropped.
    int64_t axis4 = axis - std::max<int64_t>(0, rank - 4);
    SmallVector<NamedAttribute> attrs{
        named("name", op.getNameAttr()),
        named("operation_name", b.getStringAttr("argmax_v3")),
        named("param", b.getDictionaryAttr({named("axis", b.getI32IntegerAttr(int32_t(axis4))),
                                            named("scale", b.getF32FloatAttr(1.0f))})),
        named("tpu", b.getBoolAttr(false)),
        named("do_quant", b.getBoolAttr(false)),
        named("quant", b.getDictionaryAttr({named("mode", b.getStringAttr("NONE"))}))};
    if (auto id = op.getLayerIdAttr())
      attrs.push_back(named("layer_id", id));
    Operation *cpu = tpu::CustomOp::create(b, loc, TypeRange{op.getResult().getType()},
                                           ValueRange{data, maxima}, attrs);
    op.getResult().replaceAllUsesWith(cpu->getResult(0));
    op.erase();
  }
  return success();
}

} // namespace tpuc::backend
