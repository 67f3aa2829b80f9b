//===- OpParamCodec.h - cvi::OpParam <-> cvi.cpu_op.Parameter ---*- C++ -*-===//
//
// A CPU routine's `function_args` is a cvi.cpu_op.Parameter FlatBuffer: a list of named int, float,
// bool, string, int-array and float-array attributes. These functions convert it to and from the
// cvi::OpParam handed to CPU functions.
//
//===----------------------------------------------------------------------===//
#pragma once

#include "cvi/OpParam.h"

#include <cstdint>
#include <span>
#include <string>
#include <vector>

namespace tpuc::runtime {

/// Throws Error (prefixed with `what`) when the buffer is malformed. An empty buffer gives an
/// empty OpParam.
cvi::OpParam decodeOpParam(std::span<const uint8_t> args, const std::string &what);

/// int8/int32 -> int, float, bool, string, int8/int32 arrays -> int array, float arrays. Throws
/// Error for bool and string arrays, which the format cannot hold.
std::vector<uint8_t> encodeOpParam(const cvi::OpParam &param);

} // namespace tpuc::runtime
