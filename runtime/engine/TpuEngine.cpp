//===- TpuEngine.cpp - executes CV183x command buffers --------------------===//
//
// Records run in stream order (the generator emits a race-free interleaving, cv183x-isa.md §4);
// the cycle model separately replays the TIU/TDMA id dependencies to time the two engines.
//
//===----------------------------------------------------------------------===//
#include "tpuc/runtime/TpuEngine.h"

#include "CmdStream.h"
#include "CycleModel.h"
#include "LocalMemory.h"
#include "Tdma.h"
#include "Tiu.h"

#include "tpuc/runtime/Descriptors.h"
#include "tpuc/runtime/Error.h"

#include <optional>

namespace tpuc::runtime {

struct TpuEngine::Impl {
  const ChipInfo &chip;
  LocalMemory lmem;

  explicit Impl(const ChipInfo &c) : chip(c), lmem(c.lanes, c.lmemPerLane) {}
};

TpuEngine::TpuEngine(const ChipInfo &chip) {
  if (chip.lanes == 0 || chip.lmemPerLane == 0 || chip.eusPerLane == 0)
    throw Error("chip " + std::string(chip.name) + " cannot be simulated: its geometry is unknown");
  impl = std::make_unique<Impl>(chip);
}

TpuEngine::~TpuEngine() = default;

void TpuEngine::run(std::span<const uint8_t> cmdbuf, DeviceMemory &mem, CmdbufProfile *profile) {
  std::vector<CmdRecord> records = parseCmdStream(cmdbuf, impl->chip);
  std::optional<CycleModel> timing;
  if (profile)
    timing.emplace(impl->chip);
  ExecContext ctx{impl->chip, impl->lmem, mem};
  for (size_t i = 0; i < records.size(); ++i) {
    const CmdRecord &r = records[i];
    ctx.index = static_cast<uint32_t>(i);
    switch (r.engine) {
    case EngineId::TIU: {
      ctx.kind = "TIU";
      TiuFieldValues f = TiuDesc::fromBytes(r.body).decode();
      executeTiu(f, ctx);
      if (timing)
        timing->addTiu(f, ctx.index);
      break;
    }
    case EngineId::TDMA: {
      ctx.kind = "TDMA";
      TdmaFieldValues f = TdmaDesc::fromBytes(r.body).decode();
      executeTdma(f, ctx);
      if (timing)
        timing->addTdma(f, ctx.index);
      break;
    }
    case EngineId::CPU:
      // A sync-segment break: both engines drain, command ids restart.
      if (timing)
        timing->addBarrier();
      break;
    }
  }
  if (timing)
    *profile = timing->finish();
}

} // namespace tpuc::runtime
