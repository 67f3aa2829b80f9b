//===- Tdma.h - TDMA descriptor execution -----------------------*- C++ -*-===//
#pragma once

#include "ExecContext.h"

#include "tpuc/runtime/Descriptors.h"

namespace tpuc::runtime {

/// Executes one TDMA descriptor (cv183x-isa.md §3). Throws Error for unsupported modes and for any
/// access outside global or local memory.
void executeTdma(const TdmaFieldValues &fields, ExecContext &ctx);

} // namespace tpuc::runtime
