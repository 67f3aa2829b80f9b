//===- CycleModel.h - timing of TIU and TDMA descriptors --------*- C++ -*-===//
//
// Per-descriptor costs follow tpu-mlir's published CV18xx estimator (cv183x-isa.md §8), in TPU
// clock cycles. Unlike that estimator (which sums all costs), the two engines run concurrently:
// a descriptor starts when its engine is free and the other-engine command it waits for
// (cmd_id_gdma of a TIU descriptor, wait_id_tpu of a TDMA descriptor, §4) has completed; the total
// is the resulting critical path. TDMA DRAM bytes are accumulated over all chunks of a transfer
// (the published code keeps only the last chunk, which is not reproduced).
//
//===----------------------------------------------------------------------===//
#pragma once

#include "tpuc/runtime/Chip.h"
#include "tpuc/runtime/Descriptors.h"
#include "tpuc/runtime/TpuEngine.h"

#include <cstdint>
#include <unordered_map>

namespace tpuc::runtime {

/// Cycles of one TIU descriptor (§8.2).
uint64_t tiuCycles(const TiuFieldValues &f, const ChipInfo &chip);

/// DRAM bytes and local-memory units moved by one TDMA descriptor (§8.3).
struct TdmaCost {
  uint64_t dramBytes = 0;
  uint64_t sramUnits = 0;
};
TdmaCost tdmaCost(const TdmaFieldValues &f);

/// Cycles of one TDMA descriptor at the TPU clock: the larger of the DRAM and local-memory times.
uint64_t tdmaCycles(const TdmaFieldValues &f, const ChipInfo &chip);

/// Short operation name of a TDMA descriptor ("g2l", "l2g_matrix", "fill_l", ...).
const char *tdmaOpName(const TdmaFieldValues &f);

class CycleModel {
public:
  explicit CycleModel(const ChipInfo &chip) : chip_(chip) {}
  void addTiu(const TiuFieldValues &f, uint32_t index);
  void addTdma(const TdmaFieldValues &f, uint32_t index);
  /// A CPU record: both engines drain and command ids restart.
  void addBarrier();
  CmdbufProfile finish();

private:
  const ChipInfo &chip_;
  CmdbufProfile profile_;
  uint64_t tiuFree_ = 0, tdmaFree_ = 0, epoch_ = 0;
  std::unordered_map<uint32_t, uint64_t> tiuEnd_, tdmaEnd_; ///< command id -> completion cycle
};

} // namespace tpuc::runtime
