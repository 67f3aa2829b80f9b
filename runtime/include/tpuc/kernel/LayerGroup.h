//===- LayerGroup.h - INT8 layers kept in local memory between layers --*- C++ -*-===//
//
// A layer group is a chain or DAG of INT8 layers (Layers.h) emitted together: the group's output
// rows are cut into slices along H (one image at a time), each slice computes every layer on the
// rows it needs (the halo of each convolution / pooling window propagated backwards through the
// group), intermediate tensors stay in local memory, and only the group's inputs are loaded and
// only the tensors needed outside the group are stored. The weights of the group are loaded once
// when they fit next to the slice buffers, else once per slice. With two buffer sets, the loads of
// slice k + 1 are queued before the computation of slice k (the Context's dependency ids let them
// overlap).
//
// The arithmetic is that of the layer kernels: every layer issues the same TIU operations on the
// same values (a convolution of a row range with the padding of the rows at the image border is
// the layer kernel's row tile), so a group's outputs are bit for bit the layer-by-layer results.
//
// Tensors are identified by their global (DDR) address: an input of a layer equal to the output
// of an earlier layer of the group (the latest one writing that address) is that layer's result,
// any other input is loaded from DDR. Every layer's output must be a valid DDR tensor even when
// it is not kept: when the group cannot be sliced within local memory (or a layer's parameters
// are outside what the group emitter handles), the group is split and, at worst, emitted layer by
// layer with the layer kernels, which store every output. Emission never fails for lack of local
// memory as long as the single layers fit.
//
// This header does not require exceptions or RTTI.
//
//===----------------------------------------------------------------------===//
#pragma once

#include "tpuc/kernel/Layers.h"

#include <cstdint>
#include <string>
#include <variant>
#include <vector>

namespace tpuc::kernel::layers {

/// One layer of a group. Conv2dLayer: plain or depthwise (group 1 or group == IC == OC), no zero
/// insertion. EltwiseLayer: any kind, its inputs from the group or from DDR. LeakyReluLayer also
/// expresses relu (mPos 1, rPos 0, mNeg 0, rNeg 0).
using GroupLayer = std::variant<Conv2dLayer, Pool2dLayer, EltwiseLayer, LeakyReluLayer, LutLayer>;

struct LayerGroup {
  std::string name = "group";     ///< used in error messages
  std::vector<GroupLayer> layers; ///< in program order
  /// keep[i]: the output of layers[i] is stored to DDR (it is used outside the group). The last
  /// layer's output is always stored.
  std::vector<bool> keep;

  void add(GroupLayer layer, bool keepOutput = false) {
    layers.push_back(std::move(layer));
    keep.push_back(keepOutput);
  }
};

/// How a group was emitted.
struct GroupReport {
  uint32_t parts = 0;          ///< sliced sub-groups emitted (1 = the whole group at once)
  uint32_t singleLayers = 0;   ///< layers emitted alone with the layer kernels
  uint32_t slices = 0;         ///< slices over all sliced sub-groups
  bool weightsResident = true; ///< every sliced sub-group loaded its weights once
};

/// Why `layer` cannot be a member of a sliced group ("" when it can); such layers are emitted
/// alone.
std::string groupUnsupported(const GroupLayer &layer);

/// Emits the group (see the file comment). Returns ctx.ok(); errors name the failing layer like
/// the layer kernels do.
bool emitLayerGroup(Context &ctx, const LayerGroup &group, const EmitOptions &opts = {},
                    GroupReport *report = nullptr);

/// Whether the whole group can be emitted as one sliced group (no split, no layer alone) within
/// the local memory of a CV183x (opts.lmemBudget bytes per lane when nonzero); for planners that
/// partition a network into groups.
bool layerGroupFits(const LayerGroup &group, const EmitOptions &opts = {});

} // namespace tpuc::kernel::layers
