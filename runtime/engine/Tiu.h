//===- Tiu.h - TIU descriptor execution -------------------------*- C++ -*-===//
#pragma once

#include "ExecContext.h"

#include "tpuc/runtime/Descriptors.h"

namespace tpuc::runtime {

/// Executes one TIU descriptor (cv183x-isa.md §2, §5). Throws Error for unsupported task types or
/// modes and for any access outside local memory.
void executeTiu(const TiuFieldValues &fields, ExecContext &ctx);

/// Short operation name of a TIU descriptor ("conv", "depthwise", "max_pool", "mul", ...).
const char *tiuOpName(const TiuFieldValues &fields);

} // namespace tpuc::runtime
