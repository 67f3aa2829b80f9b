//===- CommandQueue.h - queued descriptors, ids and dependencies --*- C++ -*-===//
//
// Holds the descriptors in program order and assigns command ids and wait ids (cv183x-isa.md §4).
// Every command carries the local-memory ranges it reads and writes; a command of one engine waits
// for the most recent command of the other engine that wrote what it reads, read what it writes, or
// wrote what it writes. Global memory is touched by TDMA commands only, and one engine executes in
// order, so local-memory conflicts are the only cross-engine hazards.
//
//===----------------------------------------------------------------------===//
#pragma once

#include "tpuc/kernel/Context.h"

#include <array>
#include <cstdint>
#include <string>
#include <vector>

namespace tpuc::kernel {

/// Bytes [lo, hi) of the per-lane address space on the lanes in `lanes` (bit i = lane i).
struct Footprint {
  uint64_t lanes = 0;
  uint32_t lo = 0, hi = 0;
  bool overlaps(const Footprint &o) const {
    return (lanes & o.lanes) != 0 && lo < o.hi && o.lo < hi;
  }
};

enum class Engine : uint8_t { Tiu = 0, Tdma = 2 };

struct Command {
  Engine engine;
  uint16_t id;   ///< own id (1-based per engine)
  uint16_t wait; ///< id of the other engine's command this one waits for
  std::vector<uint32_t> words;
  std::vector<Footprint> reads, writes;
};

class CommandQueue {
public:
  /// Appends a command; fills `cmd.id` and `cmd.wait`. Returns false (with `why`) when an engine
  /// would exceed 65535 commands.
  bool push(Command cmd, SyncMode mode, std::string &why);
  /// Makes the next command of each engine wait for everything queued on the other engine.
  void fence();

  const std::vector<Command> &commands() const { return cmds; }
  CmdStats stats() const { return counts; }
  uint16_t lastId(Engine e) const { return last[index(e)]; }

private:
  static size_t index(Engine e) { return e == Engine::Tiu ? 0 : 1; }
  uint16_t conflictWait(const Command &cmd, uint16_t floor) const;

  std::vector<Command> cmds;
  std::array<std::vector<size_t>, 2> byEngine; ///< positions in `cmds` per engine
  std::array<uint16_t, 2> last{0, 0};          ///< last id issued per engine
  std::array<uint16_t, 2> lastWait{0, 0};      ///< wait of the last command per engine
  std::array<uint16_t, 2> fenceWait{0, 0};     ///< minimum wait after a fence, per engine
  CmdStats counts;
};

} // namespace tpuc::kernel
