# RUN: %PYTHON %S/../../../docs/generate.py --check | FileCheck %s
# Tests that docs/ops.md and docs/passes.md are what mlir-tblgen makes of dialect/TpuOps.td and
# passes/Passes.td now (regenerate them with `python docs/generate.py`).

# CHECK: docs up to date: docs/ops.md, docs/passes.md
