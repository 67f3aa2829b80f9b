"""Layer-by-layer check of a converted model: the fp32 interpreter against onnxruntime.

    converter = OnnxConverter("net", "net.onnx", "net.mlir"); converter.run()
    report = compare_with_onnxruntime(converter, {"input": x})
    assert report.passed

Tensors pair by name: every tpu op carries the ONNX tensor name it computes.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any, Protocol

import numpy as np


class Fp32Interpreter(Protocol):
    def run(
        self, mlir: str, inputs: Mapping[str, np.ndarray], dump_all: bool = True
    ) -> dict[str, np.ndarray]: ...


class InterpreterCommand:
    """The `tpuc-interpreter` command with the Python interpreter's run() signature."""

    def __init__(self, tool: str) -> None:
        self.tool = tool

    def run(
        self, mlir: str, inputs: Mapping[str, np.ndarray], dump_all: bool = True
    ) -> dict[str, np.ndarray]:
        with tempfile.TemporaryDirectory(prefix="tpuc-interp-") as tmp:
            tensor_in, out = Path(tmp) / "in.npz", Path(tmp) / "out.npz"
            np.savez(tensor_in, **{k: np.asarray(v) for k, v in inputs.items()})
            flag = "--dump-all-tensor" if dump_all else "--tensor-out"
            done = subprocess.run(
                [self.tool, str(mlir), "--tensor-in", str(tensor_in), flag, str(out)],
                capture_output=True,
                text=True,
                check=False,
            )
            if done.returncode != 0:
                raise RuntimeError(f"{self.tool} failed: {done.stderr.strip()}")
            with np.load(out) as data:
                return {name: data[name] for name in data.files}


def fp32_interpreter() -> Fp32Interpreter | None:
    """tpuc.interpreter when it is built, else the tpuc-interpreter command (named by the
    TPUC_INTERPRETER environment variable, installed with tpuc, or on PATH), else None."""
    try:
        from .. import interpreter  # type: ignore[attr-defined]

        if hasattr(interpreter, "run"):
            return interpreter
    except ImportError:
        pass
    tool = os.environ.get("TPUC_INTERPRETER")
    if tool is None:
        try:
            from .._tools import tool_path

            tool = str(tool_path("tpuc-interpreter"))
        except (ImportError, FileNotFoundError):
            tool = shutil.which("tpuc-interpreter")
    return InterpreterCommand(tool) if tool else None


def compare_with_onnxruntime(
    converter: Any,
    inputs: Mapping[str, np.ndarray],
    *,
    tolerance: Sequence[float] = (0.9999, 0.9999, 0.999),
    interpreter: Fp32Interpreter | None = None,
) -> Any:
    """Runs the converted module (converter.mlir_file) with the fp32 interpreter and the ONNX
    model (converter.model) with onnxruntime on `inputs`; returns the
    tpuc.tools.npz_compare.CompareReport over the tensors both produce, in graph order."""
    from ..tools.npz_compare import compare_npz
    from .onnx_reference import run_onnx_inference

    interp = interpreter or fp32_interpreter()
    if interp is None:
        raise RuntimeError(
            "no fp32 interpreter: build tpuc with tpuc.interpreter or tpuc-interpreter, or set "
            "TPUC_INTERPRETER"
        )
    reference = run_onnx_inference(converter.model, inputs)
    ours = interp.run(str(converter.mlir_file), dict(inputs), dump_all=True)
    order = [out for node in converter.model.graph.node for out in node.output]
    return compare_npz(ours, reference, names=order, tolerance=tolerance)
