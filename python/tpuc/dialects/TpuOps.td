//===- TpuOps.td - Python bindings of the tpu dialect ------*- tablegen -*-===//
#ifndef TPUC_PYTHON_TPUOPS_TD
#define TPUC_PYTHON_TPUOPS_TD

include "dialect/TpuOps.td"

#endif
