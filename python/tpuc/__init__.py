"""tpuc: a compiler toolchain and simulator for the Cvitek CV183x TPU.

The MLIR Python bindings built for the tpu dialect live in this package: `tpuc.ir`,
`tpuc.passmanager`, `tpuc.dialects.tpu`; `tpuc.pipeline` runs pass pipelines, `tpuc.frontend`
converts ONNX and PyTorch models, `tpuc.runtime` runs cvimodels on the simulator,
`tpuc.compile(...)` is the whole flow (the `tpuc compile` command).
"""

from __future__ import annotations

from typing import Any


def __getattr__(name: str) -> Any:
    # tpuc.from_torch without importing onnx/torch on `import tpuc`.
    if name == "from_torch":
        from .frontend import from_torch

        return from_torch
    if name == "compile":  # tpuc.compile(model, calibration_images, ...): see tpuc.cli.compiler
        from .cli import compile

        return compile
    raise AttributeError(f"module 'tpuc' has no attribute '{name}'")
