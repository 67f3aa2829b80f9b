"""Running pass pipelines over tpu IR from Python."""

from __future__ import annotations

from collections.abc import Sequence

from .ir import Module, Operation
from .passmanager import PassManager


class PipelineError(RuntimeError):
    """A pass pipeline failed to parse or to run; the message carries MLIR's diagnostics."""


def run_pipeline(
    module: Module | Operation, passes: Sequence[str] | str, *, verify_each: bool = True
) -> None:
    """Runs `passes` (pass names with optional `{opt=value}` options, or one textual pipeline) on
    `module` in place, e.g. ``run_pipeline(m, ["assign-layer-id", "canonicalize"])``."""
    text = passes if isinstance(passes, str) else ",".join(passes)
    pipeline = text if text.startswith("builtin.module(") else f"builtin.module({text})"
    op = module.operation if isinstance(module, Module) else module
    try:
        pm = PassManager.parse(pipeline, op.context)
    except ValueError as error:
        raise PipelineError(f"invalid pass pipeline '{pipeline}': {error}") from error
    pm.enable_verifier(verify_each)
    try:
        pm.run(op)
    except Exception as error:  # MLIRError carries the diagnostics
        raise PipelineError(f"pipeline '{pipeline}' failed: {error}") from error
