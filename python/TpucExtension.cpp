//===- TpucExtension.cpp - native part of the tpuc Python package ---------===//
//
// Registers the tpu dialect (plus the upstream dialects tpu IR uses) with every Context the
// package creates, and the tpu passes with the pass registry, so PassManager.parse() sees them.
//
//===----------------------------------------------------------------------===//
#include "dialect/capi/TpuCAPI.h"

#include "mlir/Bindings/Python/Nanobind.h"
#include "mlir/Bindings/Python/NanobindAdaptors.h"

NB_MODULE(_tpuc, m) {
  m.doc() = "tpuc native registration hooks";
  m.def(
      "register_dialects", [](MlirDialectRegistry registry) { tpucRegisterDialects(registry); },
      nanobind::arg("registry"),
      "Inserts the tpu dialect and the upstream dialects tpu IR uses into a DialectRegistry.");
  m.def("register_passes", &tpucRegisterPasses,
        "Registers the tpu passes and upstream transform passes with the pass registry.");
}
