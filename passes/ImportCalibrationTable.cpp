//===- ImportCalibrationTable.cpp - thresholds from a calibration table ---===//
#include "passes/Passes.h"
#include "passes/TpuQuantParams.h"
#include "passes/support/CalibrationTable.h"

#include "mlir/IR/Builders.h"
#include "llvm/ADT/DenseMap.h"
#include "llvm/Support/CommandLine.h"
#include "llvm/Support/Format.h"

namespace tpuc {
#define GEN_PASS_DEF_IMPORTCALIBRATIONTABLE
#include "passes/Passes.h.inc"
} // namespace tpuc

using namespace mlir;
using tpuc::tpu::TpuLayerOp;

// The vendor tools take the table as a separate top-level flag:
//   --import-calibration-table --calibration-table resnet18_calibration_table
// It is the pass's default when the pass option itself is not given.
static llvm::cl::opt<std::string>
    clCalibrationTable("calibration-table",
                       llvm::cl::desc("Table read by --import-calibration-table"),
                       llvm::cl::init(""));

namespace {

/// How a layer got its (symmetric) threshold.
struct LayerThreshold {
  double value = 0.0;
  Operation *overwrittenBy = nullptr; ///< the custom op that set it, if any
};

/// The layer producing the first operand of `op`, or null.
Operation *producerLayer(tpuc::tpu::CustomOp op) {
  if (op.getInputs().empty())
    return nullptr;
  Operation *producer = op.getInputs().front().getDefiningOp();
  return producer && isa<TpuLayerOp>(producer) ? producer : nullptr;
}

/// The layers whose threshold the int8 form of `producer`'s result takes: `producer`, then, while
/// the layer keeps its input's threshold in --tpu-quant (max pool, relu, reshape, ...;
/// tpuc::quant::keepsInputThreshold), the producer of its input. The last one is the layer whose
/// threshold --tpu-quant propagates to `producer`.
SmallVector<Operation *> thresholdChain(Operation *producer) {
  SmallVector<Operation *> chain{producer};
  Operation *op = producer;
  while (tpuc::quant::keepsInputThreshold(op) && op->getNumOperands() > 0) {
    Operation *up = op->getOperand(0).getDefiningOp();
    if (!up || !isa<TpuLayerOp>(up) || llvm::is_contained(chain, up))
      break;
    chain.push_back(up);
    op = up;
  }
  return chain;
}

std::string formatNumber(double value) {
  std::string text;
  llvm::raw_string_ostream(text) << llvm::format("%g", value);
  return text;
}

bool isAsymmetric(Operation *op) {
  if (auto quant = op->getAttrOfType<DictionaryAttr>("quant"))
    if (auto flag = quant.getAs<BoolAttr>("is_asymmetric"))
      return flag.getValue();
  return false;
}

struct ImportCalibrationTablePass
    : tpuc::impl::ImportCalibrationTableBase<ImportCalibrationTablePass> {
  using Base::Base;

  void runOnOperation() override {
    ModuleOp module = getOperation();
    std::string path = tableFile.empty() ? std::string(clCalibrationTable) : tableFile.getValue();
    if (path.empty()) {
      emitError(module.getLoc(),
                "import-calibration-table: no table; pass --calibration-table <file>");
      return signalPassFailure();
    }
    auto table = tpuc::readCalibrationTable(path);
    if (!table) {
      emitError(module.getLoc(), "import-calibration-table: ") << llvm::toString(table.takeError());
      return signalPassFailure();
    }
    if (failed(importTable(module, *table)))
      return signalPassFailure();
  }

  LogicalResult importTable(ModuleOp module, const tpuc::CalibrationTable &table) {
    SmallVector<Operation *> layers;
    module.walk<WalkOrder::PreOrder>([&](TpuLayerOp layer) { layers.push_back(layer); });

    llvm::DenseMap<Operation *, LayerThreshold> thresholds;
    for (Operation *op : layers) {
      auto row = table.rows.find(cast<TpuLayerOp>(op).getLayerName());
      if (row != table.rows.end())
        thresholds[op] = {row->second.threshold, nullptr};
    }
    if (failed(applyOverwrites(layers, thresholds, table)))
      return failure();

    // Every layer needs a threshold now.
    int missing = 0;
    for (Operation *op : layers) {
      if (thresholds.count(op))
        continue;
      if (++missing <= 10)
        op->emitError("import-calibration-table: layer '")
            << cast<TpuLayerOp>(op).getLayerName() << "' has no row in calibration table '"
            << table.path << "'";
    }
    if (missing > 10)
      emitError(module.getLoc(), "import-calibration-table: ")
          << missing - 10 << " more layers have no row in '" << table.path << "'";
    if (missing)
      return failure();

    Builder builder(module.getContext());
    for (Operation *op : layers) {
      auto layer = cast<TpuLayerOp>(op);
      const LayerThreshold &threshold = thresholds[op];
      double max = threshold.value, min = -threshold.value;
      if (isAsymmetric(op) && !threshold.overwrittenBy) {
        const tpuc::CalibrationRow &row = table.rows.find(layer.getLayerName())->second;
        if (!row.min) {
          op->emitError("import-calibration-table: asymmetric layer '")
              << layer.getLayerName() << "' needs a 'name threshold min max' row, but "
              << table.path << ":" << row.line << " has no min and max";
          return failure();
        }
        min = *row.min;
        max = *row.max;
      }
      layer.setQuantField("threshold_max", builder.getF64FloatAttr(max));
      layer.setQuantField("threshold_min", builder.getF64FloatAttr(min));
    }
    return success();
  }

  /// Applies `threshold_overwrite` of the custom ops: backward ones (last first), then forward
  /// ones (first first).
  LogicalResult applyOverwrites(ArrayRef<Operation *> layers,
                                llvm::DenseMap<Operation *, LayerThreshold> &thresholds,
                                const tpuc::CalibrationTable &table) {
    SmallVector<tpuc::tpu::CustomOp> backward, forward;
    for (Operation *op : layers)
      if (auto custom = dyn_cast<tpuc::tpu::CustomOp>(op)) {
        if (custom.getThresholdOverwrite() == "backward")
          backward.push_back(custom);
        else if (custom.getThresholdOverwrite() == "forward")
          forward.push_back(custom);
      }

    auto producerOf = [&](tpuc::tpu::CustomOp op) -> Operation * {
      Operation *producer = producerLayer(op);
      if (!producer)
        op.emitError("import-calibration-table: custom op '")
            << op.getName() << "' has threshold_overwrite = " << op.getThresholdOverwrite()
            << " but its first operand is not produced by a tpu layer";
      return producer;
    };

    for (tpuc::tpu::CustomOp op : llvm::reverse(backward)) {
      Operation *producer = producerOf(op);
      if (!producer)
        return failure();
      auto own = thresholds.find(op);
      if (own == thresholds.end()) {
        op.emitError("import-calibration-table: custom op '")
            << op.getName() << "' (threshold_overwrite = backward) has no row in calibration "
            << "table '" << table.path << "'";
        return failure();
      }
      double value = own->second.value;
      // Through the layers that keep their input's threshold (a max pool between a convolution
      // and the custom op): --tpu-quant gives them the threshold of the layer before them, so
      // that layer gets the custom op's threshold too.
      for (Operation *layer : thresholdChain(producer)) {
        auto previous = thresholds.find(layer);
        if (previous != thresholds.end() && previous->second.overwrittenBy &&
            previous->second.value != value) {
          auto other = cast<tpuc::tpu::CustomOp>(previous->second.overwrittenBy);
          op.emitError("import-calibration-table: layer '")
              << cast<TpuLayerOp>(layer).getLayerName()
              << "' gets conflicting thresholds from backward overwrites: " << formatNumber(value)
              << " from '" << op.getName() << "' and " << formatNumber(previous->second.value)
              << " from '" << other.getName() << "'";
          return failure();
        }
        thresholds[layer] = {value, op};
      }
    }

    for (tpuc::tpu::CustomOp op : forward) {
      Operation *producer = producerOf(op);
      if (!producer)
        return failure();
      // The threshold the producer's int8 result has after --tpu-quant: that of the first layer
      // before it that does not keep its input's threshold.
      Operation *origin = thresholdChain(producer).back();
      auto source = thresholds.find(origin);
      if (source == thresholds.end()) {
        op.emitError("import-calibration-table: custom op '")
            << op.getName() << "' (threshold_overwrite = forward) takes the threshold of '"
            << cast<TpuLayerOp>(origin).getLayerName() << "', which has no row in '" << table.path
            << "'";
        return failure();
      }
      double value = source->second.value;
      thresholds[op] = {value, op};
    }
    return success();
  }
};

} // namespace
