"""The interpreter of tpu IR: fp32 modules, and the INT8 modules of ``--tpu-quant``.

``run(module_or_path, inputs)`` parses a module (a .mlir path, MLIR text or a ``tpuc.ir.Module``),
runs its function on numpy inputs and returns the results by op name::

    from tpuc import interpreter
    outputs = interpreter.run("net.mlir", {"data": x})
    everything = interpreter.run("net.mlir", {"data": x}, dump_all=True)

``compile()`` returns a ``Program`` to run repeatedly without re-parsing. Inputs are matched to the
function's ``tpu.input`` names, or by position when the names do not match. Weights come from the
npz named by the module's ``tpu.weight_file`` attribute (relative to the .mlir file) unless
``weight_file`` is given. ``tpu.custom_op`` ops are implemented by ``custom_ops`` callables
``fn(inputs: list[np.ndarray], params: dict, output_shape: tuple) -> np.ndarray`` keyed by
``operation_name``, or by plugin libraries.

INT8 layers run the integer formulas of docs/quantization.md bit-exactly. Their tensors are
returned as ``np.int8`` codes with a ``np.float32`` entry ``<name>_scale`` (threshold / 127, so
``real = code * scale``; ``<name>_scale_`` when that name is taken); fp32 tensors as float32.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterable, Mapping
from pathlib import Path
from typing import Any

import numpy as np

from .._mlir_libs import _interpreter

__all__ = ["InterpreterError", "Program", "compile", "run"]

CustomOpFunction = Callable[[list[np.ndarray], dict[str, Any], tuple[int, ...]], np.ndarray]


class InterpreterError(RuntimeError):
    """The module cannot be interpreted or a run failed; the message names the op and location."""


class Program:
    """A function of a tpu module translated for the interpreter; run() may be called many
    times."""

    def __init__(self, native: Any) -> None:
        self._native = native

    @property
    def inputs(self) -> list[tuple[str, tuple[int, ...]]]:
        """(name, shape) of each function argument, in order."""
        return [(name, tuple(shape)) for name, shape in self._native.inputs]

    def run(
        self, inputs: Mapping[str, np.ndarray], *, dump_all: bool = False
    ) -> dict[str, np.ndarray]:
        """Runs the function. Returns its results by op name, or with ``dump_all`` every tpu
        op's result by its ``name`` (the results included). INT8 tensors come as int8 codes
        plus their ``<name>_scale``."""
        arrays = {
            str(name): np.ascontiguousarray(value, dtype=np.float32)
            for name, value in inputs.items()
        }
        try:
            result = self._native.run(arrays, dump_all)
        except RuntimeError as error:
            raise InterpreterError(str(error)) from None
        if not dump_all:
            return dict(result)
        outputs, everything = result
        merged = dict(everything)
        for name, value in outputs.items():
            merged.setdefault(name, value)
        return merged


def _source_of(module_or_path: Any) -> tuple[str, bool, str]:
    """(text or path, is_path, base directory for relative weight files)."""
    if isinstance(module_or_path, os.PathLike):
        return os.fspath(module_or_path), True, ""
    if isinstance(module_or_path, str):
        if "\n" in module_or_path or "{" in module_or_path:
            return module_or_path, False, os.getcwd()
        if not Path(module_or_path).exists():
            raise FileNotFoundError(f"no such .mlir file: '{module_or_path}'")
        return module_or_path, True, ""
    operation = getattr(module_or_path, "operation", None)
    if operation is not None:
        return str(operation), False, os.getcwd()
    raise TypeError(
        "module_or_path must be a path, MLIR text or a tpuc.ir.Module, got "
        f"{type(module_or_path).__name__}"
    )


def compile(
    module_or_path: Any,
    *,
    weight_file: str | os.PathLike[str] | None = None,
    function: str | None = None,
    custom_ops: Mapping[str, CustomOpFunction] | None = None,
    custom_op_plugins: Iterable[str | os.PathLike[str]] = (),
) -> Program:
    """Parses the module and translates its function (``main`` or the only one) into a Program.
    Raises InterpreterError naming the op that cannot be interpreted."""
    source, is_path, base = _source_of(module_or_path)
    try:
        native = _interpreter.compile(
            source,
            is_path,
            base,
            os.fspath(weight_file) if weight_file else "",
            function or "",
            dict(custom_ops or {}),
            [os.fspath(p) for p in custom_op_plugins],
        )
    except RuntimeError as error:
        raise InterpreterError(str(error)) from None
    return Program(native)


def run(
    module_or_path: Any,
    inputs: Mapping[str, np.ndarray],
    *,
    dump_all: bool = False,
    weight_file: str | os.PathLike[str] | None = None,
    function: str | None = None,
    custom_ops: Mapping[str, CustomOpFunction] | None = None,
    custom_op_plugins: Iterable[str | os.PathLike[str]] = (),
) -> dict[str, np.ndarray]:
    """Interprets the module on ``inputs`` (name -> array). Returns the function's results by op
    name, or with ``dump_all`` every tpu op's result by its ``name``."""
    program = compile(
        module_or_path,
        weight_file=weight_file,
        function=function,
        custom_ops=custom_ops,
        custom_op_plugins=custom_op_plugins,
    )
    return program.run(inputs, dump_all=dump_all)
