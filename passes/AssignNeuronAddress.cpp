//===- AssignNeuronAddress.cpp - global addresses of activations ----------===//
#include "passes/Passes.h"
#include "passes/codegen/Backend.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "llvm/ADT/DenseMap.h"
#include "llvm/Support/CommandLine.h"
#include "llvm/Support/FileSystem.h"
#include "llvm/Support/Format.h"
#include "llvm/Support/raw_ostream.h"

#include <algorithm>
#include <map>
#include <optional>

namespace tpuc {
#define GEN_PASS_DEF_ASSIGNNEURONADDRESS
#include "passes/Passes.h.inc"
} // namespace tpuc

using namespace mlir;
using namespace tpuc;

// Top-level spellings of the vendor tools; defaults of the pass options.
static llvm::cl::opt<bool>
    clNeuronReuse("tpu-neuron-memory-reuse",
                  llvm::cl::desc("--assign-neuron-address: share memory between tensors whose "
                                 "live ranges do not overlap"),
                  llvm::cl::init(false));
static llvm::cl::opt<unsigned>
    clNeuronAlign("tpu-neuron-address-align",
                  llvm::cl::desc("Alignment of activations (--assign-neuron-address)"),
                  llvm::cl::init(64));
static llvm::cl::opt<std::string>
    clNeuronMap("tpu-neuron-map-filename",
                llvm::cl::desc("neuron_map.csv written by --assign-neuron-address"),
                llvm::cl::init(""));

namespace {

enum class Kind { Shared = 0, Private = 1, Io = 2 };

struct Buffer {
  std::vector<Operation *> ops; ///< ops whose result lives in this buffer (reshape aliases)
  uint64_t bytes = 0;
  size_t start = 0, end = 0; ///< live range, op indices (inclusive)
  Kind kind = Kind::Shared;
  int ioOrder = -1; ///< order among io tensors (inputs first, then outputs)
  int64_t gaddr = 0;
};

struct AssignNeuronAddressPass : tpuc::impl::AssignNeuronAddressBase<AssignNeuronAddressPass> {
  using Base::Base;

  void runOnOperation() override {
    ModuleOp module = getOperation();
    bool memReuse = reuse || clNeuronReuse;
    uint64_t alignment = align ? unsigned(align) : unsigned(clNeuronAlign);
    std::string mapPath = mapFilename.empty() ? std::string(clNeuronMap) : mapFilename.getValue();
    if (alignment == 0 || (alignment & (alignment - 1))) {
      emitError(module.getLoc(), "assign-neuron-address: alignment ")
          << alignment << " is not a power of two";
      return signalPassFailure();
    }
    auto alignUp = [&](uint64_t v) { return (v + alignment - 1) / alignment * alignment; };

    if (llvm::any_of(module.getOps<func::FuncOp>(),
                     [](func::FuncOp f) { return f->hasAttr(backend::kRoutineAttr); })) {
      emitError(module.getLoc(), "assign-neuron-address: the module is already divided into "
                                 "routines; run this pass before --divide-ops-to-func");
      return signalPassFailure();
    }
    uint64_t sharedSize = 0, privateSize = 0;
    std::string csv;
    llvm::raw_string_ostream csvOs(csv);
    for (auto func : module.getOps<func::FuncOp>()) {
      if (func.isExternal())
        continue;
      if (!func.getBody().hasOneBlock()) {
        func.emitError("assign-neuron-address: functions with more than one block are not "
                       "supported");
        return signalPassFailure();
      }
      Block &block = func.getBody().front();
      llvm::DenseMap<Operation *, size_t> index;
      size_t i = 0;
      for (Operation &op : block)
        index[&op] = i++;

      std::vector<Buffer> buffers;
      llvm::DenseMap<Operation *, size_t> bufferOf;
      for (Operation &op : block) {
        if (op.getNumResults() == 0 || isa<tpu::LoadWeightOp>(op))
          continue;
        if (op.getNumResults() != 1) {
          op.emitError() << "assign-neuron-address: '" << backend::layerName(&op)
                         << "': ops with several results are not supported";
          return signalPassFailure();
        }
        auto type = dyn_cast<ShapedType>(op.getResult(0).getType());
        unsigned es = type ? backend::elementBytes(type.getElementType()) : 0;
        if (!type || !type.hasStaticShape() || es == 0) {
          op.emitError() << "assign-neuron-address: '" << backend::layerName(&op)
                         << "': result is not a static tensor of a supported element type";
          return signalPassFailure();
        }
        // A reshape shares its input's buffer (same bytes, another shape).
        if (auto reshape = dyn_cast<tpu::ReshapeOp>(op)) {
          Operation *src = reshape.getInput().getDefiningOp();
          if (src && bufferOf.count(src)) {
            size_t b = bufferOf[src];
            buffers[b].ops.push_back(&op);
            bufferOf[&op] = b;
            continue;
          }
        }
        Buffer buf;
        buf.ops.push_back(&op);
        buf.bytes = uint64_t(type.getNumElements()) * es;
        bufferOf[&op] = buffers.size();
        buffers.push_back(std::move(buf));
      }

      // Live ranges and kinds.
      Operation *terminator = block.getTerminator();
      int ioCount = 0;
      for (Operation &op : block)
        if (isa<tpu::InputOp>(op) && bufferOf.count(&op)) {
          Buffer &b = buffers[bufferOf[&op]];
          b.kind = Kind::Io;
          b.ioOrder = ioCount++;
        }
      for (Value v : terminator->getOperands())
        if (Operation *def = v.getDefiningOp(); def && bufferOf.count(def)) {
          Buffer &b = buffers[bufferOf[def]];
          if (b.kind != Kind::Io) {
            b.kind = Kind::Io;
            b.ioOrder = ioCount++;
          }
        }
      // A layer group (--group-ops) runs slice by slice: each member writes its result and reads
      // its operands from the group's first op to its last, so a tensor a member writes or reads
      // is live over the whole group.
      std::map<int64_t, std::pair<size_t, size_t>> groupSpan;
      auto groupOf = [](Operation *op) -> std::optional<int64_t> {
        if (auto attr = op->getAttrOfType<IntegerAttr>("tpu.layer_group"))
          return attr.getInt();
        return std::nullopt;
      };
      for (Operation &op : block)
        if (auto g = groupOf(&op)) {
          auto it = groupSpan.try_emplace(*g, index[&op], index[&op]).first;
          it->second.first = std::min(it->second.first, index[&op]);
          it->second.second = std::max(it->second.second, index[&op]);
        }
      auto coverGroup = [&](Buffer &b, Operation *member) {
        if (auto g = groupOf(member)) {
          auto [first, last] = groupSpan[*g];
          b.start = std::min(b.start, first);
          b.end = std::max(b.end, last);
        }
      };
      for (Buffer &b : buffers) {
        b.start = index[b.ops.front()];
        b.end = b.start;
        for (Operation *op : b.ops) {
          auto place = backend::placementOf(op);
          bool cpu = place && *place == backend::Placement::Cpu;
          coverGroup(b, op);
          for (Operation *user : op->getUsers()) {
            b.end = std::max(b.end, index[user]);
            coverGroup(b, user);
            auto up = backend::placementOf(user);
            cpu |= up && *up == backend::Placement::Cpu;
          }
          if (cpu && b.kind == Kind::Shared)
            b.kind = Kind::Private;
        }
      }

      // io regions 3..7 in order; further io tensors go to private memory.
      for (Buffer &b : buffers)
        if (b.kind == Kind::Io) {
          if (b.ioOrder <= int(backend::IoLast - backend::Io0))
            b.gaddr = backend::makeGaddr(backend::Io0 + b.ioOrder, 0);
          else
            b.kind = Kind::Private;
        }
      // Private: every tensor its own bytes (they cross routines).
      for (Buffer &b : buffers)
        if (b.kind == Kind::Private) {
          b.gaddr = backend::makeGaddr(backend::Private, privateSize);
          privateSize = alignUp(privateSize + b.bytes);
        }
      // Shared: first fit among the buffers whose live ranges overlap (all of them without
      // reuse), in program order.
      std::vector<Buffer *> placed;
      for (Buffer &b : buffers) {
        if (b.kind != Kind::Shared)
          continue;
        std::vector<std::pair<uint64_t, uint64_t>> busy;
        for (Buffer *o : placed)
          if (!memReuse || !(o->end < b.start || b.end < o->start))
            busy.emplace_back(backend::gaddrOffset(o->gaddr),
                              backend::gaddrOffset(o->gaddr) + o->bytes);
        std::sort(busy.begin(), busy.end());
        uint64_t offset = 0;
        for (auto &[lo, hi] : busy) {
          if (offset + b.bytes <= lo)
            break;
          offset = std::max(offset, alignUp(hi));
        }
        b.gaddr = backend::makeGaddr(backend::Shared, offset);
        sharedSize = std::max(sharedSize, alignUp(offset + b.bytes));
        placed.push_back(&b);
      }

      Builder builder(module.getContext());
      for (Buffer &b : buffers)
        for (Operation *op : b.ops) {
          op->setAttr(backend::kGaddrAttr, builder.getI64IntegerAttr(b.gaddr));
          if (isa<tpu::QuantOp>(op))
            op->setAttr(backend::kTensorNameAttr, builder.getStringAttr(backend::tensorName(op)));
          auto type = cast<ShapedType>(op->getResult(0).getType());
          auto s = backend::shape4(type);
          csvOs << backend::tensorName(op) << ",0x" << llvm::format_hex_no_prefix(b.gaddr, 1) << ','
                << backend::dtypeName(type.getElementType());
          for (int64_t d : s ? *s : std::array<int64_t, 4>{0, 0, 0, 0})
            csvOs << ',' << d;
          csvOs << '\n';
        }
    }
    Builder builder(module.getContext());
    module->setAttr(backend::kSharedGmemAttr, builder.getI64IntegerAttr(int64_t(sharedSize)));
    module->setAttr(backend::kPrivateGmemAttr, builder.getI64IntegerAttr(int64_t(privateSize)));

    if (!mapPath.empty()) {
      std::error_code ec;
      llvm::raw_fd_ostream os(mapPath, ec, llvm::sys::fs::OF_Text);
      if (!ec) {
        os << csv;
        os.close();
        ec = os.error();
      }
      if (ec) {
        emitError(module.getLoc(), "assign-neuron-address: cannot write '")
            << mapPath << "': " << ec.message();
        return signalPassFailure();
      }
    }
  }
};

} // namespace
