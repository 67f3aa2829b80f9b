//===- OpTranslation.h - tpu op -> kernel -----------------------*- C++ -*-===//
//
// MLIR-facing (compiled without exceptions): reads an op's attributes into the parameters of its
// kernel.
//
//===----------------------------------------------------------------------===//
#pragma once

#include "dialect/interpreter/Kernel.h"

#include "mlir/IR/Operation.h"
#include "llvm/Support/Error.h"

#include <functional>
#include <memory>
#include <vector>

namespace tpuc::interpreter {

class CustomOpRegistry;

/// Exact values of the integer arrays of the module's weight file, for INT8 kernels (an int32
/// bias does not always fit a float). Returns null when the file has no integer array `name`, an
/// error when the file cannot be read.
using IntegerArrayLookup =
    std::function<llvm::Expected<const std::vector<int64_t> *>(llvm::StringRef name)>;

/// The kernel computing `op` (a tpu layer op other than tpu.load_weight), or an error saying why
/// the op cannot be interpreted. Layers quantized by --tpu-quant (i8 results) get the INT8
/// kernels of Int8Kernels.h; `integerArrays` gives them their integer parameters.
llvm::Expected<std::unique_ptr<Kernel>>
translateOp(mlir::Operation *op, const std::shared_ptr<CustomOpRegistry> &customOps,
            const IntegerArrayLookup &integerArrays);

/// The value step of the int8 codes `op` produces (threshold / 127, the real value of code 1),
/// or 0 when its result is not int8 or has no known threshold.
double int8Step(mlir::Operation *op);

} // namespace tpuc::interpreter
