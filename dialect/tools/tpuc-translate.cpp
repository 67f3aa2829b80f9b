//===- tpuc-translate.cpp - translations to and from the tpu dialect ------===//
#include "dialect/TpuDialect.h"

#include "mlir/InitAllTranslations.h"
#include "mlir/Tools/mlir-translate/MlirTranslateMain.h"

int main(int argc, char **argv) {
  mlir::registerAllTranslations();
  return mlir::failed(mlir::mlirTranslateMain(argc, argv, "tpuc translation driver"));
}
