//===- LayerGroupsPass.cpp - --group-ops: partition TPU layers into layer groups ===//
//
// Greedy, in program order: an INT8 layer the group emitter handles (conv_2d plain or depthwise,
// pool_max_2d / pool_avg_2d, eltwise_add / max / min, relu, leaky_relu, lut; 4-D int8 tensors)
// joins the current group when it reads a result of a member (or an activation a member reads),
// the group has fewer than max-group-layers members, and the group with it still fits the local
// memory of the chip (tpuc::kernel::layers::layerGroupFits: some slicing along H with every
// intermediate in local memory, the weights loaded once, per slice or in output-channel tiles).
// A group that cannot grow is cut back to its last block boundary (a prefix whose only result
// used later is its last member's) and the layers after it start over. Groups of two or more
// layers get `tpu.layer_group = <k> : i64` on each member; with local-intermediates, members
// whose result is used only inside the group also get `tpu.layer_group_local` (never stored).
// --mlir-to-cvimodel emits each group through emitLayerGroup.
//
//===----------------------------------------------------------------------===//
#include "passes/Passes.h"
#include "passes/codegen/Backend.h"

#include "dialect/TpuOps.h"
#include "tpuc/kernel/LayerGroup.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/IR/BuiltinAttributes.h"
#include "llvm/ADT/DenseMap.h"
#include "llvm/ADT/SmallPtrSet.h"

#include <algorithm>
#include <optional>

namespace tpuc {
#define GEN_PASS_DEF_GROUPOPS
#include "passes/Passes.h.inc"
} // namespace tpuc

using namespace mlir;
namespace kl = tpuc::kernel::layers;
namespace tpu = tpuc::tpu;
using tpuc::kernel::DType;
using tpuc::kernel::GlobalAddr;
using tpuc::kernel::GlobalTensor;
using tpuc::kernel::Shape;

namespace {

std::vector<int64_t> quantInts(Operation *op, StringRef key) {
  std::vector<int64_t> out;
  auto q = op->getAttrOfType<DictionaryAttr>("quant");
  if (!q)
    return out;
  if (auto a = q.getAs<DenseI64ArrayAttr>(key))
    out.assign(a.asArrayRef().begin(), a.asArrayRef().end());
  else if (auto i = q.getAs<IntegerAttr>(key))
    out.push_back(i.getInt());
  return out;
}

std::optional<Shape> int8Shape4(Value v) {
  auto t = dyn_cast<RankedTensorType>(v.getType());
  if (!t || t.getRank() != 4 || !t.hasStaticShape() || !t.getElementType().isInteger(8))
    return std::nullopt;
  auto s = t.getShape();
  return Shape{uint32_t(s[0]), uint32_t(s[1]), uint32_t(s[2]), uint32_t(s[3])};
}

uint32_t u32(int64_t v) { return static_cast<uint32_t>(v); }

/// The layer of `op` for the group planner (addresses from `addrOf`), or nullopt when the op is
/// not a group member.
std::optional<kl::GroupLayer> layerOf(Operation *op,
                                      const std::function<GlobalTensor(Value)> &addrOf) {
  if (op->getNumResults() != 1 || !int8Shape4(op->getResult(0)))
    return std::nullopt;
  for (Value v : op->getOperands())
    if (!v.getDefiningOp<tpu::LoadWeightOp>() && !int8Shape4(v))
      return std::nullopt;
  GlobalTensor out = addrOf(op->getResult(0));
  auto relu = [&]() {
    auto a = op->getAttrOfType<BoolAttr>("do_relu");
    return a && a.getValue();
  };
  std::optional<kl::GroupLayer> result;
  if (auto conv = dyn_cast<tpu::Conv2DOp>(op)) {
    kl::Conv2dLayer l;
    auto ftype = cast<ShapedType>(conv.getFilter().getType());
    l.input = addrOf(conv.getInput());
    l.output = out;
    l.filter = GlobalAddr{1, 0};
    l.group = u32(conv.getGroup());
    l.kh = u32(ftype.getDimSize(2));
    l.kw = u32(ftype.getDimSize(3));
    l.strideH = u32(conv.getStrides()[0]), l.strideW = u32(conv.getStrides()[1]);
    l.dilationH = u32(conv.getDilations()[0]), l.dilationW = u32(conv.getDilations()[1]);
    l.padTop = u32(conv.getPads()[0]), l.padLeft = u32(conv.getPads()[1]);
    l.padBottom = u32(conv.getPads()[2]), l.padRight = u32(conv.getPads()[3]);
    l.doRelu = relu();
    auto q = op->getAttrOfType<DictionaryAttr>("quant");
    auto pt = q ? q.getAs<StringAttr>("param_type") : StringAttr();
    l.perChannel = !(pt && pt.getValue() == "RSHIFT_ONLY");
    l.hasBias = !l.perChannel && conv.getBias();
    result = l;
  } else if (isa<tpu::PoolMax2DOp, tpu::PoolAvg2DOp>(op)) {
    kl::Pool2dLayer l;
    auto ks = op->getAttrOfType<DenseI64ArrayAttr>("kernel_shape");
    auto st = op->getAttrOfType<DenseI64ArrayAttr>("strides");
    auto pd = op->getAttrOfType<DenseI64ArrayAttr>("pads");
    if (!ks || !st || !pd || ks.size() != 2 || st.size() != 2 || pd.size() != 4)
      return std::nullopt;
    l.kind = isa<tpu::PoolMax2DOp>(op) ? kl::PoolKind::Max : kl::PoolKind::Avg;
    l.input = addrOf(op->getOperand(0));
    l.output = out;
    l.kh = u32(ks[0]), l.kw = u32(ks[1]), l.strideH = u32(st[0]), l.strideW = u32(st[1]);
    l.padTop = u32(pd[0]), l.padLeft = u32(pd[1]), l.padBottom = u32(pd[2]),
    l.padRight = u32(pd[3]);
    // ceil_mode: windows past the edge are extra bottom padding (as the code generation does).
    uint32_t needH = (out.shape.h - 1) * l.strideH + l.kh;
    if (needH > l.input.shape.h + l.padTop + l.padBottom)
      l.padBottom = needH - l.input.shape.h - l.padTop;
    l.doRelu = relu();
    result = l;
  } else if (isa<tpu::EltwiseAddOp, tpu::EltwiseMaxOp, tpu::EltwiseMinOp>(op)) {
    kl::EltwiseLayer l;
    l.kind = isa<tpu::EltwiseAddOp>(op)   ? kl::EltwiseKind::Add
             : isa<tpu::EltwiseMaxOp>(op) ? kl::EltwiseKind::Max
                                          : kl::EltwiseKind::Min;
    for (Value v : op->getOperands())
      l.inputs.push_back(addrOf(v));
    l.output = out;
    for (int64_t m : quantInts(op, "multiplier"))
      l.multipliers.push_back(int32_t(m));
    if (l.multipliers.empty())
      l.multipliers.assign(l.inputs.size(), 1);
    auto r = quantInts(op, "rshift");
    l.rshift = r.empty() ? 0 : u32(r[0]);
    l.doRelu = relu();
    result = l;
  } else if (isa<tpu::ReluOp, tpu::LeakyReluOp>(op)) {
    kl::LeakyReluLayer l;
    l.input = addrOf(op->getOperand(0));
    l.output = out;
    result = l;
  } else if (auto lut = dyn_cast<tpu::LutOp>(op)) {
    kl::LutLayer l;
    l.input = addrOf(lut.getInput());
    l.output = out;
    l.table = GlobalAddr{1, 0};
    result = l;
  }
  if (result && !kl::groupUnsupported(*result).empty())
    return std::nullopt;
  return result;
}

struct GroupOpsPass : tpuc::impl::GroupOpsBase<GroupOpsPass> {
  using GroupOpsBase::GroupOpsBase;

  void runOnOperation() override {
    int64_t nextGroup = 0, grouped = 0;
    getOperation().walk([&](func::FuncOp func) {
      if (func.isExternal())
        return;
      // Distinct fake addresses: the planner identifies tensors by address.
      llvm::DenseMap<Value, GlobalTensor> addrs;
      auto addrOf = [&](Value v) {
        auto it = addrs.find(v);
        if (it != addrs.end())
          return it->second;
        Shape s = int8Shape4(v).value_or(Shape{});
        GlobalTensor t =
            GlobalTensor::dense(GlobalAddr{0, uint64_t(addrs.size() + 1) << 26}, s, DType::Int8);
        addrs[v] = t;
        return t;
      };
      std::vector<Operation *> cur;
      auto build = [&](const std::vector<Operation *> &ops, kl::LayerGroup &g) {
        llvm::SmallPtrSet<Operation *, 16> in(ops.begin(), ops.end());
        for (Operation *op : ops) {
          bool keep =
              llvm::any_of(op->getResult(0).getUsers(), [&](Operation *u) { return !in.count(u); });
          g.add(*layerOf(op, addrOf), keep);
        }
      };
      auto feedsLater = [](const std::vector<Operation *> &ops) {
        for (size_t i = 0; i + 1 < ops.size(); ++i) {
          bool used = false;
          for (size_t j = i + 1; j < ops.size() && !used; ++j)
            used = llvm::is_contained(ops[j]->getOperands(), ops[i]->getResult(0));
          if (!used)
            return false;
        }
        return true;
      };
      auto close = [&]() {
        while (cur.size() > 1 && !feedsLater(cur))
          cur.pop_back();
        if (cur.size() > 1) {
          auto attr = IntegerAttr::get(IntegerType::get(&getContext(), 64), nextGroup++);
          llvm::SmallPtrSet<Operation *, 16> in(cur.begin(), cur.end());
          for (Operation *op : cur) {
            op->setAttr("tpu.layer_group", attr);
            bool inside = llvm::all_of(op->getResult(0).getUsers(),
                                       [&](Operation *u) { return in.count(u) != 0; });
            if (localIntermediates && inside && op != cur.back())
              op->setAttr("tpu.layer_group_local", UnitAttr::get(&getContext()));
          }
          grouped += int64_t(cur.size());
        }
        cur.clear();
      };
      std::vector<Operation *> block;
      for (Operation &op : func.getBody().front())
        block.push_back(&op);
      // cleanSize: the largest prefix of `cur` whose only result used after it is its last
      // member's (a block boundary); a group that cannot grow is cut back to it, and the ops
      // after it start over, so that groups end at block boundaries.
      size_t cleanSize = 0;
      auto isClean = [&](const std::vector<Operation *> &ops) {
        llvm::SmallPtrSet<Operation *, 16> in(ops.begin(), ops.end());
        for (size_t i = 0; i + 1 < ops.size(); ++i)
          for (Operation *u : ops[i]->getResult(0).getUsers())
            if (!in.count(u))
              return false;
        return feedsLater(ops);
      };
      for (size_t idx = 0; idx < block.size(); ++idx) {
        Operation &op = *block[idx];
        if (!layerOf(&op, addrOf)) {
          if (!isa<tpu::LoadWeightOp>(op)) {
            close();
            cleanSize = 0;
          }
          continue;
        }
        // It reads a member's result, or an activation a member reads (a residual block's
        // projection reading the block input).
        bool reads = llvm::any_of(cur, [&](Operation *m) {
          return llvm::is_contained(op.getOperands(), m->getResult(0)) ||
                 llvm::any_of(m->getOperands(), [&](Value v) {
                   return !v.getDefiningOp<tpu::LoadWeightOp>() &&
                          llvm::is_contained(op.getOperands(), v);
                 });
        });
        if (reads && cur.size() < static_cast<size_t>(maxGroupLayers)) {
          std::vector<Operation *> next = cur;
          next.push_back(&op);
          kl::LayerGroup g;
          build(next, g);
          // Members whose result no later member reads yet (a residual block's second branch
          // before its add) are fed to a stand-in add of all such results and the last one,
          // so that the planner can derive their rows; the stand-in's buffer only makes the
          // fit check stricter.
          std::vector<GlobalTensor> open;
          for (size_t i = 0; i + 1 < next.size(); ++i)
            if (!llvm::any_of(llvm::drop_begin(next, i + 1), [&](Operation *m) {
                  return llvm::is_contained(m->getOperands(), next[i]->getResult(0));
                }))
              open.push_back(addrOf(next[i]->getResult(0)));
          bool shapesMatch = true;
          if (!open.empty()) {
            open.push_back(addrOf(next.back()->getResult(0)));
            kl::EltwiseLayer join;
            join.name = "join";
            join.inputs = open;
            join.multipliers.assign(open.size(), 1);
            join.output = GlobalTensor::dense(GlobalAddr{0, 0}, open[0].shape, DType::Int8);
            for (const GlobalTensor &t : open)
              shapesMatch = shapesMatch && t.shape == open[0].shape;
            g.add(join);
          }
          if (shapesMatch && kl::layerGroupFits(g)) {
            cur = std::move(next);
            if (isClean(cur))
              cleanSize = cur.size();
            continue;
          }
          if (cleanSize >= 2 && cleanSize < cur.size()) {
            // Cut back to the block boundary; the rest of the block starts over.
            Operation *restart = cur[cleanSize];
            cur.resize(cleanSize);
            close();
            cleanSize = 0;
            idx = static_cast<size_t>(std::find(block.begin(), block.end(), restart) -
                                      block.begin()) -
                  1;
            continue;
          }
        }
        close();
        cur.push_back(&op);
        cleanSize = isClean(cur) ? cur.size() : 0;
      }
      close();
    });
    emitRemark(getOperation().getLoc(), "group-ops: " + std::to_string(nextGroup) +
                                            " layer groups of " + std::to_string(grouped) +
                                            " layers in total");
  }
};

} // namespace
