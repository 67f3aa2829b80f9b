//===- CustomOpAttributes.h - tpu.custom_op param <-> cvi::OpParam -*- C++ -*-===//
//
// The vendor mapping between the `param` dictionary of a tpu.custom_op and the cvi::OpParam a
// plugin receives: bool -> bool, integer -> int8_t (8-bit) or int32_t (other widths; values must
// fit), float -> float, string -> std::string, arrays (ArrayAttr or dense arrays) -> vectors.
// Back from OpParam: int8_t -> i8, int32_t -> i32, float -> f32, bool, string, vectors ->
// ArrayAttr of those. Compiled with the passes (no exceptions).
//
//===----------------------------------------------------------------------===//
#pragma once

#include "cvi/OpParam.h"

#include "mlir/IR/BuiltinAttributes.h"
#include "mlir/IR/MLIRContext.h"

#include <string>

namespace tpuc::sdk {

/// Fills `param` from `dict`; false with `error` naming the entry when a value has no OpParam
/// type (or an integer does not fit 32 bits).
bool toOpParam(mlir::DictionaryAttr dict, cvi::OpParam &param, std::string &error);

/// The dictionary holding `param`.
mlir::DictionaryAttr toDictionary(mlir::MLIRContext *context, const cvi::OpParam &param);

} // namespace tpuc::sdk
