//===- GenPseudoWeightNpz.cpp - random weights and a pseudo calibration table -===//
#include "passes/Passes.h"
#include "passes/support/CalibrationTable.h"
#include "passes/support/ModuleWeights.h"

#include "mlir/Support/FileUtilities.h"
#include "llvm/ADT/StringMap.h"
#include "llvm/Support/CommandLine.h"
#include "llvm/Support/FileSystem.h"
#include "llvm/Support/ToolOutputFile.h"

#include <cstring>
#include <random>

namespace tpuc {
#define GEN_PASS_DEF_GENPSEUDOWEIGHTNPZ
#include "passes/Passes.h.inc"
} // namespace tpuc

using namespace mlir;

// The vendor tools spell the table as a top-level flag:
//   --gen-pseudo-weight-npz --pseudo-calibration-table=roialign_calibration_table
// It is the pass's default when the pass option itself is not given.
static llvm::cl::opt<std::string>
    clPseudoCalibrationTable("pseudo-calibration-table",
                             llvm::cl::desc("Calibration table written by --gen-pseudo-weight-npz"),
                             llvm::cl::init(""));

namespace {

/// Pseudo-random values of one array, drawn from `rng` in element order.
class PseudoValues {
public:
  explicit PseudoValues(uint64_t seed) : rng(seed) {}

  /// Uniform in [-1, 1).
  float nextFloat() {
    double unit = static_cast<double>(rng() >> 11) * 0x1.0p-53;
    return static_cast<float>(2.0 * unit - 1.0);
  }

  /// Uniform over [low, high].
  int64_t nextInt(int64_t low, int64_t high) {
    return low + static_cast<int64_t>(rng() % static_cast<uint64_t>(high - low + 1));
  }

private:
  std::mt19937_64 rng;
};

template <typename T> void append(std::vector<uint8_t> &bytes, T value) {
  uint8_t raw[sizeof(T)];
  std::memcpy(raw, &value, sizeof(T));
  bytes.insert(bytes.end(), raw, raw + sizeof(T));
}

uint16_t toBf16Bits(float value) {
  uint32_t bits;
  std::memcpy(&bits, &value, sizeof(bits));
  return static_cast<uint16_t>((bits + 0x7FFF + ((bits >> 16) & 1)) >> 16);
}

/// A random array for a load_weight of `type`, or an error naming the unsupported element type.
FailureOr<tpuc::weights::NamedArray> makePseudoArray(tpuc::tpu::LoadWeightOp op,
                                                     PseudoValues &values) {
  auto type = cast<RankedTensorType>(op.getType());
  Type element = type.getElementType();
  tpuc::weights::NamedArray array{op.getName().str(), "", type.getShape().vec(), {}};
  int64_t count = type.getNumElements();
  auto integer = dyn_cast<IntegerType>(element);
  if (element.isF32()) {
    array.descr = "<f4";
    for (int64_t i = 0; i < count; ++i)
      append(array.data, values.nextFloat());
  } else if (element.isBF16()) {
    array.descr = "<u2";
    for (int64_t i = 0; i < count; ++i)
      append(array.data, toBf16Bits(values.nextFloat()));
  } else if (integer && integer.isUnsigned() && integer.getWidth() == 8) {
    array.descr = "|u1";
    for (int64_t i = 0; i < count; ++i)
      append(array.data, static_cast<uint8_t>(values.nextInt(0, 255)));
  } else if (integer && !integer.isUnsigned() && integer.getWidth() == 8) {
    array.descr = "|i1";
    for (int64_t i = 0; i < count; ++i)
      append(array.data, static_cast<int8_t>(values.nextInt(-128, 127)));
  } else if (integer && !integer.isUnsigned() && integer.getWidth() == 16) {
    array.descr = "<i2";
    for (int64_t i = 0; i < count; ++i)
      append(array.data, static_cast<int16_t>(values.nextInt(-128, 127)));
  } else if (integer && !integer.isUnsigned() && integer.getWidth() == 32) {
    array.descr = "<i4";
    for (int64_t i = 0; i < count; ++i)
      append(array.data, static_cast<int32_t>(values.nextInt(-128, 127)));
  } else {
    return op.emitError("gen-pseudo-weight-npz: no pseudo weights for element type ")
           << element << " (supported: f32, bf16, i8, ui8, i16, i32)";
  }
  return array;
}

struct GenPseudoWeightNpzPass : tpuc::impl::GenPseudoWeightNpzBase<GenPseudoWeightNpzPass> {
  using Base::Base;

  void runOnOperation() override {
    ModuleOp module = getOperation();
    if (!(threshold > 0.0)) {
      emitError(module.getLoc(), "gen-pseudo-weight-npz: threshold must be > 0, got ") << threshold;
      return signalPassFailure();
    }
    if (failed(writeWeights(module)) || failed(writeTable(module)))
      return signalPassFailure();
  }

  LogicalResult writeWeights(ModuleOp module) {
    std::vector<tpuc::weights::NamedArray> arrays;
    llvm::StringMap<tpuc::tpu::LoadWeightOp> first;
    PseudoValues values(seed);
    WalkResult walk = module.walk([&](tpuc::tpu::LoadWeightOp op) {
      auto [it, inserted] = first.try_emplace(op.getName(), op);
      if (!inserted) {
        if (it->second.getType() == op.getType())
          return WalkResult::advance();
        op.emitError("gen-pseudo-weight-npz: weight '")
            << op.getName() << "' is loaded as " << op.getType() << " here and as "
            << it->second.getType() << " elsewhere";
        return WalkResult::interrupt();
      }
      FailureOr<tpuc::weights::NamedArray> array = makePseudoArray(op, values);
      if (failed(array))
        return WalkResult::interrupt();
      arrays.push_back(std::move(*array));
      return WalkResult::advance();
    });
    if (walk.wasInterrupted())
      return failure();

    std::string target = weightOutput;
    if (target.empty()) {
      auto attr = module->getAttrOfType<StringAttr>(tpuc::kWeightFileAttrName);
      if (!attr || attr.getValue().empty()) {
        if (arrays.empty())
          return success(); // nothing to write and nowhere the module expects a file
        return emitError(module.getLoc(), "gen-pseudo-weight-npz: the module has no '")
               << tpuc::kWeightFileAttrName << "' attribute; pass weight-output=<file>";
      }
      target = attr.getValue().str();
      if (llvm::sys::fs::exists(target))
        target = tpuc::deriveWeightFileName(target, "pseudo");
    }
    if (llvm::Error error = tpuc::weights::writeWithAddedArrays("", target, std::move(arrays)))
      return emitError(module.getLoc(), "gen-pseudo-weight-npz: ")
             << llvm::toString(std::move(error));
    module->setAttr(tpuc::kWeightFileAttrName, StringAttr::get(module.getContext(), target));
    return success();
  }

  LogicalResult writeTable(ModuleOp module) {
    std::string path =
        tableFile.empty() ? std::string(clPseudoCalibrationTable) : tableFile.getValue();
    if (path.empty())
      return success();
    std::vector<tpuc::CalibrationTableWriterRow> rows;
    llvm::StringMap<Operation *> seen;
    WalkResult walk = module.walk<WalkOrder::PreOrder>([&](tpuc::tpu::TpuLayerOp layer) {
      StringRef name = layer.getLayerName();
      auto [it, inserted] = seen.try_emplace(name, layer.getOperation());
      if (!inserted) {
        layer->emitError("gen-pseudo-weight-npz: layer name '")
            << name << "' is used twice; a calibration table needs unique names";
        return WalkResult::interrupt();
      }
      rows.push_back({name.str(), threshold, -threshold, threshold});
      return WalkResult::advance();
    });
    if (walk.wasInterrupted())
      return failure();

    std::string message;
    std::unique_ptr<llvm::ToolOutputFile> out = openOutputFile(path, &message);
    if (!out)
      return emitError(module.getLoc(), "gen-pseudo-weight-npz: cannot write '")
             << path << "': " << message;
    std::string source = "pseudo";
    if (auto loc = dyn_cast<FileLineColLoc>(module.getLoc()))
      source = loc.getFilename().str();
    tpuc::writeCalibrationTable(out->os(), source, rows,
                                /*histogramNumber=*/0, /*sampleNumber=*/0);
    out->keep();
    return success();
  }
};

} // namespace
