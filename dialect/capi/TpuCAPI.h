//===- TpuCAPI.h - C API of the tpu dialect ---------------------*- C -*-===//
#ifndef TPUC_DIALECT_CAPI_TPUCAPI_H
#define TPUC_DIALECT_CAPI_TPUCAPI_H

#include "mlir-c/IR.h"

#ifdef __cplusplus
extern "C" {
#endif

MLIR_DECLARE_CAPI_DIALECT_REGISTRATION(Tpu, tpu);

/// Inserts the tpu dialect and the upstream dialects tpu IR is written with (func, arith, tensor)
/// into `registry`.
MLIR_CAPI_EXPORTED void tpucRegisterDialects(MlirDialectRegistry registry);

/// Registers the tpu passes (and the upstream transform passes) with the global pass registry, so
/// PassManager.parse() sees them.
MLIR_CAPI_EXPORTED void tpucRegisterPasses(void);

#ifdef __cplusplus
}
#endif

#endif // TPUC_DIALECT_CAPI_TPUCAPI_H
