//===- CommandQueue.cpp - queued descriptors, ids and dependencies --------===//
#include "CommandQueue.h"

#include "tpuc/runtime/Descriptors.h"

#include <algorithm>

namespace tpuc::kernel {

namespace {

bool anyOverlap(const std::vector<Footprint> &a, const std::vector<Footprint> &b) {
  for (const Footprint &x : a)
    for (const Footprint &y : b)
      if (x.overlaps(y))
        return true;
  return false;
}

/// True when `later` must not start before `earlier` completes (RAW, WAR or WAW).
bool conflicts(const Command &later, const Command &earlier) {
  return anyOverlap(later.reads, earlier.writes) || anyOverlap(later.writes, earlier.reads) ||
         anyOverlap(later.writes, earlier.writes);
}

/// Stores the id fields into the descriptor words (cv183x-isa.md §4).
void writeIds(Command &cmd) {
  using namespace runtime;
  if (cmd.engine == Engine::Tiu) {
    TiuDesc d;
    std::copy(cmd.words.begin(), cmd.words.end(), d.words.begin());
    d.set(TiuField::cmd_id_en, 1);
    d.set(TiuField::cmd_id_tpu, cmd.id);
    d.set(TiuField::cmd_id_gdma, cmd.wait);
    std::copy(d.words.begin(), d.words.end(), cmd.words.begin());
  } else {
    TdmaDesc d;
    std::copy(cmd.words.begin(), cmd.words.end(), d.words.begin());
    d.set(TdmaField::cmd_id, cmd.id);
    d.set(TdmaField::wait_id_tpu, cmd.wait);
    std::copy(d.words.begin(), d.words.end(), cmd.words.begin());
  }
}

} // namespace

uint16_t CommandQueue::conflictWait(const Command &cmd, uint16_t floor) const {
  const std::vector<size_t> &others = byEngine[cmd.engine == Engine::Tiu ? 1 : 0];
  // Newest first; commands at or below `floor` are already covered by in-order execution.
  for (auto it = others.rbegin(); it != others.rend(); ++it) {
    const Command &o = cmds[*it];
    if (o.id <= floor)
      break;
    if (conflicts(cmd, o))
      return o.id;
  }
  return floor;
}

bool CommandQueue::push(Command cmd, SyncMode mode, std::string &why) {
  size_t self = index(cmd.engine), other = 1 - self;
  if (last[self] == 0xFFFF) {
    why = std::string("more than 65535 ") + (cmd.engine == Engine::Tiu ? "TIU" : "TDMA") +
          " commands in one command buffer; split the program";
    return false;
  }
  cmd.id = static_cast<uint16_t>(last[self] + 1);
  uint16_t floor = std::max(lastWait[self], fenceWait[self]);
  cmd.wait = mode == SyncMode::Serial ? last[other] : conflictWait(cmd, floor);
  cmd.wait = std::max(cmd.wait, floor);
  if (cmd.wait > lastWait[self])
    ++counts.syncPoints;
  if (cmd.engine == Engine::Tiu) {
    ++counts.tiuCommands;
    counts.tiuWaits += cmd.wait != 0;
  } else {
    ++counts.tdmaCommands;
    counts.tdmaWaits += cmd.wait != 0;
  }
  writeIds(cmd);
  last[self] = cmd.id;
  lastWait[self] = cmd.wait;
  byEngine[self].push_back(cmds.size());
  cmds.push_back(std::move(cmd));
  return true;
}

void CommandQueue::fence() {
  fenceWait[0] = last[1];
  fenceWait[1] = last[0];
}

} // namespace tpuc::kernel
