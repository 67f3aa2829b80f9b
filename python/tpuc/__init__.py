"""tpuc: a compiler toolchain and simulator for the Cvitek CV183x TPU.

The MLIR Python bindings built for the tpu dialect live in this package: `tpuc.ir`,
`tpuc.passmanager`, `tpuc.dialects.tpu`; `tpuc.pipeline` runs pass pipelines.
"""
