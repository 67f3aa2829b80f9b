//===- DivideOpsToFunc.cpp - split main into TPU and CPU routines ---------===//
#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "passes/Passes.h"
#include "passes/codegen/Backend.h"

#include "mlir/IR/Builders.h"
#include "mlir/IR/IRMapping.h"
#include "llvm/ADT/SetVector.h"

namespace tpuc {
#define GEN_PASS_DEF_DIVIDEOPSTOFUNC
#include "passes/Passes.h.inc"
} // namespace tpuc

using namespace mlir;
using namespace tpuc;

namespace {

struct Routine {
  backend::Placement placement;
  std::vector<Operation *> ops;
};

struct DivideOpsToFuncPass : tpuc::impl::DivideOpsToFuncBase<DivideOpsToFuncPass> {
  using Base::Base;

  void runOnOperation() override {
    ModuleOp module = getOperation();
    auto main = module.lookupSymbol<func::FuncOp>("main");
    if (!main) {
      std::vector<func::FuncOp> funcs;
      for (auto f : module.getOps<func::FuncOp>())
        if (!f.isExternal())
          funcs.push_back(f);
      if (funcs.size() == 1)
        main = funcs.front();
    }
    if (!main || main.isExternal()) {
      emitError(module.getLoc(), "divide-ops-to-func: no function 'main' to divide");
      return signalPassFailure();
    }
    if (main->hasAttr(backend::kRoutineAttr) ||
        llvm::any_of(module.getOps<func::FuncOp>(),
                     [](func::FuncOp f) { return f->hasAttr(backend::kRoutineAttr); })) {
      emitError(module.getLoc(), "divide-ops-to-func: the module is already divided");
      return signalPassFailure();
    }
    Block &block = main.getBody().front();

    // Cut the body into routines in program order.
    std::vector<Routine> routines;
    for (Operation &op : block) {
      std::string why;
      auto placement = backend::placementOf(&op, &why);
      if (!placement) {
        op.emitError() << "divide-ops-to-func: " << op.getName() << " '" << backend::layerName(&op)
                       << "': " << why;
        return signalPassFailure();
      }
      if (*placement == backend::Placement::None)
        continue;
      if (*placement == backend::Placement::Tpu && !routines.empty() &&
          routines.back().placement == backend::Placement::Tpu)
        routines.back().ops.push_back(&op);
      else
        routines.push_back({*placement, {&op}});
    }

    OpBuilder builder(module.getContext());
    unsigned index = 0;
    for (Routine &routine : routines) {
      llvm::SmallPtrSet<Operation *, 16> members(routine.ops.begin(), routine.ops.end());
      llvm::SetVector<Value> args, results;
      llvm::SetVector<Operation *> weights;
      for (Operation *op : routine.ops) {
        for (Value operand : op->getOperands()) {
          Operation *def = operand.getDefiningOp();
          if (def && isa<tpu::LoadWeightOp>(def))
            weights.insert(def);
          else if (!def || !members.contains(def))
            args.insert(operand);
        }
        for (Value result : op->getResults())
          for (Operation *user : result.getUsers())
            if (!members.contains(user)) {
              results.insert(result);
              break;
            }
      }

      // The routine function.
      std::string name = "subfunc_" + std::to_string(index++);
      SmallVector<Type> argTypes, resultTypes;
      for (Value v : args)
        argTypes.push_back(v.getType());
      for (Value v : results)
        resultTypes.push_back(v.getType());
      builder.setInsertionPoint(main);
      auto func = func::FuncOp::create(builder, main.getLoc(), name,
                                       builder.getFunctionType(argTypes, resultTypes));
      func.setPrivate();
      bool cpu = routine.placement == backend::Placement::Cpu;
      func->setAttr(backend::kRoutineAttr, builder.getStringAttr(cpu ? "cpu" : "tpu"));
      if (cpu)
        func->setAttr(backend::kCpuFunctionAttr,
                      builder.getStringAttr(backend::cpuFunctionName(routine.ops.front())));
      Block *body = func.addEntryBlock();
      IRMapping mapping;
      for (auto [arg, value] : llvm::zip(body->getArguments(), args))
        mapping.map(value, arg);
      OpBuilder inner = OpBuilder::atBlockEnd(body);
      for (Operation *w : weights)
        inner.clone(*w, mapping);
      for (Operation *op : routine.ops)
        inner.clone(*op, mapping);
      SmallVector<Value> returned;
      for (Value v : results)
        returned.push_back(mapping.lookup(v));
      func::ReturnOp::create(inner, main.getLoc(), returned);

      // The call replaces the ops in main.
      builder.setInsertionPoint(routine.ops.front());
      auto call =
          func::CallOp::create(builder, routine.ops.front()->getLoc(), func, args.getArrayRef());
      for (auto [v, r] : llvm::zip(results, call.getResults())) {
        Value value = v;
        value.replaceAllUsesWith(r);
      }
      for (Operation *op : llvm::reverse(routine.ops)) {
        op->dropAllUses();
        op->erase();
      }
    }
    // Weights now live in the routines.
    for (Operation &op : llvm::make_early_inc_range(block))
      if (isa<tpu::LoadWeightOp>(op) && op.use_empty())
        op.erase();
  }
};

} // namespace
