//===- ProfileReport.h - profile summary and Chrome trace of a run -*- C++ -*-===//
//
// profileJson(): total cycles and milliseconds, per routine, per layer (busy cycles of each engine
// and the layer's span), per engine busy/idle cycles. chromeTraceJson(): Chrome trace event format
// (loads in Perfetto / chrome://tracing), one track per engine (TIU, TDMA, host CPU), one slice per
// descriptor named "<op> L<layer>"; timestamps in microseconds at the chip's TPU clock.
//
//===----------------------------------------------------------------------===//
#pragma once

#include "tpuc/runtime/Model.h"

#include <string>

namespace tpuc::runtime {

std::string profileJson(const RunProfile &profile);
std::string chromeTraceJson(const RunProfile &profile);

} // namespace tpuc::runtime
