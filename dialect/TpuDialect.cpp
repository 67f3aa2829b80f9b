//===- TpuDialect.cpp - the tpu dialect -----------------------------------===//
#include "dialect/TpuDialect.h"
#include "dialect/TpuOps.h"

using namespace mlir;
using namespace tpuc::tpu;

#include "dialect/TpuOpsDialect.cpp.inc"

void TpuDialect::initialize() {
  addOperations<
#define GET_OP_LIST
#include "dialect/TpuOps.cpp.inc"
      >();
}
