//===- LayerGroupsEmit.h - layer groups in --mlir-to-cvimodel --*- C++ -*-===//
//
// The code generation emits each layer by building its kernel struct (Layers.h) and calling the
// layer kernel. For the members of a layer group (`tpu.layer_group`, set by --group-ops) the
// structs are collected instead and the run of members is emitted with emitLayerGroup. Every
// member's output is stored (runners can dump every tensor) except those marked
// `tpu.layer_group_local` and used only inside the group: they are never written to global memory
// (the tensor map marks them `overwrote`, so runners do not dump them).
//
//===----------------------------------------------------------------------===//
#pragma once

#include "passes/codegen/Backend.h"

#include "tpuc/kernel/LayerGroup.h"

#include "mlir/IR/Operation.h"
#include "llvm/ADT/STLExtras.h"
#include "llvm/ADT/SmallPtrSet.h"
#include "llvm/ADT/StringSet.h"

#include <optional>

namespace tpuc::backend {

inline constexpr llvm::StringLiteral kLayerGroupAttr = "tpu.layer_group"; ///< i64 on members
/// Unit attribute on members whose result stays in local memory (--group-ops local-intermediates).
inline constexpr llvm::StringLiteral kLayerGroupLocalAttr = "tpu.layer_group_local";

class LayerGroupEmitter {
public:
  /// Emits the layer with `emit` (a layer kernel), or collects it while a group is open.
  template <typename L, typename F>
  bool emitOrCollect(kernel::Context &ctx, const L &layer, F emit) {
    if (!open)
      return emit(ctx, layer, kernel::layers::EmitOptions{});
    group.add(layer);
    return true;
  }

  /// Whether `op` is a member of the group emitted last (to be skipped).
  bool emitted(mlir::Operation *op) const {
    auto id = getI64(op, kLayerGroupAttr);
    return id && lastGroup && *id == *lastGroup && done.contains(op);
  }

  /// Emits the group starting at `first` (a member whose group was not emitted yet): every
  /// following op of the block with the same group id, each built by `emitLayer` (which calls
  /// emitOrCollect), then emitLayerGroup. Fails when `emitLayer` fails or the group's layer
  /// count differs from its ops (a member without a group form).
  template <typename EmitLayer>
  mlir::LogicalResult emitGroup(mlir::Operation *first, kernel::Context &ctx, EmitLayer emitLayer) {
    int64_t id = *getI64(first, kLayerGroupAttr);
    std::vector<mlir::Operation *> ops;
    for (mlir::Operation *op = first; op; op = op->getNextNode()) {
      auto g = getI64(op, kLayerGroupAttr);
      if (g && *g == id)
        ops.push_back(op);
      else if (op->getName().getStringRef() != "tpu.load_weight")
        break;
    }
    group = kernel::layers::LayerGroup{};
    group.name = layerName(first);
    open = true;
    for (mlir::Operation *op : ops) {
      size_t before = group.layers.size();
      if (mlir::failed(emitLayer(op))) {
        open = false;
        return mlir::failure();
      }
      if (group.layers.size() != before + 1) {
        open = false;
        op->emitError() << "mlir-to-cvimodel: '" << layerName(op)
                        << "' is in a layer group but has no group form";
        return mlir::failure();
      }
    }
    open = false;
    llvm::SmallPtrSet<mlir::Operation *, 16> members(ops.begin(), ops.end());
    for (size_t i = 0; i < ops.size(); ++i) {
      bool keep = !ops[i]->hasAttr(kLayerGroupLocalAttr) ||
                  llvm::any_of(ops[i]->getResult(0).getUsers(),
                               [&](mlir::Operation *u) { return !members.contains(u); });
      group.keep[i] = keep;
      if (!keep)
        internal.insert(tensorName(ops[i]));
    }
    lastGroup = id;
    done = std::move(members);
    kernel::layers::emitLayerGroup(ctx, group);
    return mlir::success();
  }

  /// Names of tensors that stay in local memory (never written to global memory).
  llvm::StringSet<> internal;

private:
  bool open = false;
  kernel::layers::LayerGroup group;
  std::optional<int64_t> lastGroup;
  llvm::SmallPtrSet<mlir::Operation *, 16> done;
};

} // namespace tpuc::backend
