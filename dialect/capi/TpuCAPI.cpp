//===- TpuCAPI.cpp - C API of the tpu dialect -----------------------------===//
#include "dialect/capi/TpuCAPI.h"
#include "dialect/TpuDialect.h"
#include "mlir/CAPI/IR.h"
#include "mlir/CAPI/Registration.h"
#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Dialect/Tensor/IR/Tensor.h"
#include "mlir/Transforms/Passes.h"
#include "passes/Passes.h"

MLIR_DEFINE_CAPI_DIALECT_REGISTRATION(Tpu, tpu, tpuc::tpu::TpuDialect)

void tpucRegisterDialects(MlirDialectRegistry registry) {
  unwrap(registry)
      ->insert<tpuc::tpu::TpuDialect, mlir::func::FuncDialect, mlir::arith::ArithDialect,
               mlir::tensor::TensorDialect>();
}

void tpucRegisterPasses(void) {
  mlir::registerTransformsPasses();
  tpuc::registerTpuPasses();
}
