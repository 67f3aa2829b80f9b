//===- AssignWeightAddress.cpp - pack weights into weight.bin -------------===//
#include "passes/Passes.h"
#include "passes/codegen/Backend.h"
#include "passes/codegen/NpzAccess.h"
#include "passes/support/ModuleWeights.h"

#include "tpuc/kernel/Layers.h"

#include "mlir/IR/BuiltinAttributes.h"
#include "llvm/ADT/StringMap.h"
#include "llvm/Support/CommandLine.h"
#include "llvm/Support/FileSystem.h"
#include "llvm/Support/Format.h"
#include "llvm/Support/raw_ostream.h"

namespace tpuc {
#define GEN_PASS_DEF_ASSIGNWEIGHTADDRESS
#include "passes/Passes.h.inc"
} // namespace tpuc

using namespace mlir;
using namespace tpuc;
namespace layers = tpuc::kernel::layers;

// The vendor tools take these as top-level flags (`--tpu-weight-address-align=16 ...`); they
// are the pass's defaults when its own options are not given.
static llvm::cl::opt<unsigned>
    clWeightAlign("tpu-weight-address-align",
                  llvm::cl::desc("Alignment of weights in weight.bin (--assign-weight-address)"),
                  llvm::cl::init(16));
static llvm::cl::opt<std::string>
    clWeightMap("tpu-weight-map-filename",
                llvm::cl::desc("weight_map.csv written by --assign-weight-address"),
                llvm::cl::init(""));
static llvm::cl::opt<std::string>
    clWeightBin("tpu-weight-bin-filename",
                llvm::cl::desc("Weight binary written by --assign-weight-address"),
                llvm::cl::init("weight.bin"));

namespace {

struct Packer {
  ModuleOp module;
  const llvm::StringMap<weights::NamedArray> &arrays;
  uint64_t align;
  std::vector<uint8_t> bin;
  std::vector<std::pair<std::string, uint64_t>> map; // name -> offset
  llvm::StringMap<uint64_t> placed;                  // packed name -> offset

  /// Appends `bytes` under `name` (once) and returns its offset.
  uint64_t place(const std::string &name, const std::vector<uint8_t> &bytes) {
    auto it = placed.find(name);
    if (it != placed.end())
      return it->second;
    uint64_t offset = (bin.size() + align - 1) / align * align;
    bin.resize(offset, 0);
    bin.insert(bin.end(), bytes.begin(), bytes.end());
    placed[name] = offset;
    map.emplace_back(name, offset);
    return offset;
  }

  FailureOr<const weights::NamedArray *> array(Operation *user, StringRef name, StringRef descr,
                                               size_t count) {
    auto it = arrays.find(name);
    if (it == arrays.end()) {
      user->emitError() << "assign-weight-address: layer '" << backend::layerName(user)
                        << "': weight '" << name << "' is not in the weight file";
      return failure();
    }
    const weights::NamedArray &a = it->second;
    size_t elemBytes = descr.back() - '0';
    if (a.descr != descr || a.data.size() != count * elemBytes) {
      user->emitError() << "assign-weight-address: layer '" << backend::layerName(user)
                        << "': weight '" << name << "' is " << a.descr << " with " << a.data.size()
                        << " bytes, expected " << descr << " with " << count * elemBytes
                        << " bytes";
      return failure();
    }
    return &a;
  }

  /// Records the address of `weight` (a load_weight operand of `user`) packed as `packedName`.
  LogicalResult setAddress(Operation *user, Value weight, const std::string &packedName,
                           uint64_t offset) {
    auto load = weight.getDefiningOp<tpu::LoadWeightOp>();
    int64_t gaddr = backend::makeGaddr(backend::Weight, offset);
    if (auto old = backend::getI64(load, backend::kWeightAddrAttr); old && *old != gaddr) {
      user->emitError() << "assign-weight-address: layer '" << backend::layerName(user)
                        << "': weight '" << packedName
                        << "' is shared with a layer that needs another layout";
      return failure();
    }
    load->setAttr(backend::kWeightAddrAttr,
                  IntegerAttr::get(IntegerType::get(load->getContext(), 64), gaddr));
    load->setAttr(backend::kWeightNameAttr, StringAttr::get(load->getContext(), packedName));
    return success();
  }

  static std::string weightName(Value v) {
    auto load = v.getDefiningOp<tpu::LoadWeightOp>();
    return load ? backend::layerName(load) : std::string();
  }

  LogicalResult checkWeight(Operation *user, Value v, StringRef what) {
    if (v && v.getDefiningOp<tpu::LoadWeightOp>())
      return success();
    user->emitError() << "assign-weight-address: layer '" << backend::layerName(user)
                      << "': " << what << " is not a tpu.load_weight";
    return failure();
  }

  static bool perChannel(Operation *op) {
    auto quant = op->getAttrOfType<DictionaryAttr>("quant");
    if (!quant)
      return false;
    if (auto pc = quant.getAs<BoolAttr>("is_perchannel"))
      return pc.getValue();
    return false;
  }

  /// conv_2d, and scale as the depthwise 1x1 convolution it is (filter [C] = [C][1][1][1]).
  LogicalResult conv(Operation *op, Value filterValue, Value biasValue) {
    if (failed(checkWeight(op, filterValue, "the filter")))
      return failure();
    auto ftype = cast<ShapedType>(filterValue.getType());
    uint32_t oc = 0, icg = 1, kh = 1, kw = 1;
    auto deconv = dyn_cast<tpu::DeConv2DOp>(op);
    if (deconv) {
      // [IC][OC/g][kh][kw] -> the equivalent convolution's flipped [OC][kh][kw][IC/g].
      if (ftype.getRank() != 4)
        return op->emitError("assign-weight-address: deconv_2d filter must be 4-D");
      auto group = uint32_t(deconv.getGroup());
      auto ic = uint32_t(ftype.getDimSize(0));
      oc = uint32_t(ftype.getDimSize(1)) * group;
      icg = ic / group;
      kh = uint32_t(ftype.getDimSize(2));
      kw = uint32_t(ftype.getDimSize(3));
    } else if (isa<tpu::Conv2DOp>(op)) {
      if (ftype.getRank() != 4)
        return op->emitError("assign-weight-address: conv_2d filter must be 4-D");
      oc = uint32_t(ftype.getDimSize(0));
      icg = uint32_t(ftype.getDimSize(1));
      kh = uint32_t(ftype.getDimSize(2));
      kw = uint32_t(ftype.getDimSize(3));
    } else {
      oc = uint32_t(ftype.getNumElements());
    }
    std::string fname = weightName(filterValue);
    auto filter = array(op, fname, "|i1", size_t(oc) * icg * kh * kw);
    if (failed(filter))
      return failure();
    std::vector<uint8_t> packed((*filter)->data.size());
    if (deconv)
      layers::packDeconvFilter(reinterpret_cast<const int8_t *>((*filter)->data.data()),
                               icg * uint32_t(deconv.getGroup()), oc / uint32_t(deconv.getGroup()),
                               uint32_t(deconv.getGroup()), kh, kw,
                               reinterpret_cast<int8_t *>(packed.data()));
    else
      layers::packConvFilter(reinterpret_cast<const int8_t *>((*filter)->data.data()), oc, icg, kh,
                             kw, reinterpret_cast<int8_t *>(packed.data()));
    // A 1x1 convolution filter has the same layout in both orders.
    std::string packedName = kh * kw == 1 && !deconv ? fname : fname + "_reordered";
    if (failed(setAddress(op, filterValue, packedName, place(packedName, packed))))
      return failure();

    if (perChannel(op)) {
      // `<name>_quant_chan_param`, with the same uniquing suffix as the filter's array.
      std::string chanName = backend::layerName(op) + "_quant_chan_param";
      size_t pos = fname.rfind("_quant_filter");
      if (pos != std::string::npos)
        chanName = fname.substr(0, pos) + "_quant_chan_param" + fname.substr(pos + 13);
      auto chan = array(op, chanName, "|u1", size_t(oc) * 9);
      if (failed(chan))
        return failure();
      uint64_t offset = place(chanName, (*chan)->data);
      op->setAttr(backend::kChanParamAttr,
                  IntegerAttr::get(IntegerType::get(op->getContext(), 64),
                                   backend::makeGaddr(backend::Weight, offset)));
      return success();
    }
    if (biasValue) {
      if (failed(checkWeight(op, biasValue, "the bias")))
        return failure();
      std::string bname = weightName(biasValue);
      auto b = array(op, bname, "<i2", oc);
      if (failed(b))
        return failure();
      return setAddress(op, biasValue, bname, place(bname, (*b)->data));
    }
    return success();
  }

  LogicalResult fc(tpu::FullyConnectedOp op) {
    if (failed(checkWeight(op, op.getFilter(), "the filter")))
      return failure();
    auto ftype = cast<ShapedType>(op.getFilter().getType());
    if (ftype.getRank() != 2)
      return op.emitError("assign-weight-address: fully_connected filter must be 2-D");
    auto n = uint32_t(ftype.getDimSize(0)), k = uint32_t(ftype.getDimSize(1));
    std::string fname = weightName(op.getFilter());
    auto filter = array(op, fname, "|i1", size_t(n) * k);
    if (failed(filter))
      return failure();
    if (failed(setAddress(op, op.getFilter(), fname, place(fname, (*filter)->data))))
      return failure();
    Value bias = op.getBias();
    if (!bias)
      return success();
    if (failed(checkWeight(op, bias, "the bias")))
      return failure();
    std::string bname = weightName(bias);
    bool i32 = cast<ShapedType>(bias.getType()).getElementType().isInteger(32);
    auto b = array(op, bname, i32 ? "<i4" : "<i2", n);
    if (failed(b))
      return failure();
    std::vector<uint8_t> packed((*b)->data.size());
    if (i32)
      layers::packFcBiasInt32(reinterpret_cast<const int32_t *>((*b)->data.data()), n,
                              packed.data());
    else
      layers::packFcBiasInt16(reinterpret_cast<const int16_t *>((*b)->data.data()), n,
                              packed.data());
    std::string packedName = bname + "_packed";
    return setAddress(op, bias, packedName, place(packedName, packed));
  }

  LogicalResult raw(Operation *op, Value weight, StringRef what, StringRef descr) {
    if (failed(checkWeight(op, weight, what)))
      return failure();
    std::string name = weightName(weight);
    auto count = size_t(cast<ShapedType>(weight.getType()).getNumElements());
    auto a = array(op, name, descr, count);
    if (failed(a))
      return failure();
    return setAddress(op, weight, name, place(name, (*a)->data));
  }
};

struct AssignWeightAddressPass : tpuc::impl::AssignWeightAddressBase<AssignWeightAddressPass> {
  using Base::Base;

  void runOnOperation() override {
    ModuleOp module = getOperation();
    unsigned alignment = align ? unsigned(align) : unsigned(clWeightAlign);
    std::string mapPath = mapFilename.empty() ? std::string(clWeightMap) : mapFilename.getValue();
    std::string binPath = binFilename.empty() ? std::string(clWeightBin) : binFilename.getValue();
    if (alignment == 0 || (alignment & (alignment - 1))) {
      emitError(module.getLoc(), "assign-weight-address: alignment ")
          << alignment << " is not a power of two";
      return signalPassFailure();
    }

    llvm::StringMap<weights::NamedArray> arrays;
    bool needsWeights = false;
    module.walk([&](tpu::LoadWeightOp) { needsWeights = true; });
    if (needsWeights) {
      auto file = getWeightFile(module);
      if (!file) {
        emitError(module.getLoc(), "assign-weight-address: ") << llvm::toString(file.takeError());
        return signalPassFailure();
      }
      auto read = backend::readNpzArrays(*file);
      if (!read) {
        emitError(module.getLoc(), "assign-weight-address: ") << llvm::toString(read.takeError());
        return signalPassFailure();
      }
      arrays = std::move(*read);
    }

    Packer packer{module, arrays, alignment, {}, {}, {}};
    WalkResult result = module.walk([&](Operation *op) {
      auto placement = backend::placementOf(op);
      if (!placement || *placement != backend::Placement::Tpu)
        return WalkResult::advance();
      LogicalResult r = success();
      if (auto conv = dyn_cast<tpu::Conv2DOp>(op))
        r = packer.conv(op, conv.getFilter(), conv.getBias());
      else if (auto scale = dyn_cast<tpu::ScaleOp>(op))
        r = packer.conv(op, scale.getScale(), scale.getBias());
      else if (auto deconv = dyn_cast<tpu::DeConv2DOp>(op))
        r = packer.conv(op, deconv.getFilter(), deconv.getBias());
      else if (auto fc = dyn_cast<tpu::FullyConnectedOp>(op))
        r = packer.fc(fc);
      else if (auto lut = dyn_cast<tpu::LutOp>(op))
        r = packer.raw(op, lut.getTable(), "the table", "|i1");
      else if (auto prelu = dyn_cast<tpu::PReluOp>(op))
        r = packer.raw(op, prelu.getSlope(), "the slope", "|i1");
      return failed(r) ? WalkResult::interrupt() : WalkResult::advance();
    });
    if (result.wasInterrupted())
      return signalPassFailure();

    // Pad the binary to the alignment so the weight section ends aligned too.
    packer.bin.resize((packer.bin.size() + alignment - 1) / alignment * alignment, 0);
    std::error_code ec;
    {
      llvm::raw_fd_ostream os(binPath, ec, llvm::sys::fs::OF_None);
      if (!ec) {
        os.write(reinterpret_cast<const char *>(packer.bin.data()), packer.bin.size());
        os.close();
        ec = os.error();
      }
    }
    if (ec) {
      emitError(module.getLoc(), "assign-weight-address: cannot write '")
          << binPath << "': " << ec.message();
      return signalPassFailure();
    }
    if (!mapPath.empty()) {
      llvm::raw_fd_ostream os(mapPath, ec, llvm::sys::fs::OF_Text);
      if (!ec) {
        for (auto &[name, offset] : packer.map)
          os << name << ",0x" << llvm::format_hex_no_prefix(offset, 8) << '\n';
        os.close();
        ec = os.error();
      }
      if (ec) {
        emitError(module.getLoc(), "assign-weight-address: cannot write '")
            << mapPath << "': " << ec.message();
        return signalPassFailure();
      }
    }
    Builder b(module.getContext());
    module->setAttr(backend::kWeightBinAttr, b.getStringAttr(binPath));
    module->setAttr(backend::kWeightSizeAttr, b.getI64IntegerAttr(int64_t(packer.bin.size())));
  }
};

} // namespace
