"""Helpers of the frontend tests: converting a model, listing its tpu ops, comparing
shapes (and, once the fp32 interpreter is built, values) with onnxruntime."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pytest


def require_frontend() -> None:
    """Skips the calling test module unless onnx, onnxruntime and the tpuc bindings import."""
    pytest.importorskip("onnx", reason="the ONNX frontend needs onnx (pip install onnx)")
    pytest.importorskip("onnxruntime", reason="reference runs need onnxruntime")
    pytest.importorskip("tpuc.ir", reason="tpuc is not built (put python_packages on PYTHONPATH)")


REPO_ROOT = Path(__file__).resolve().parents[2]


@dataclass
class LayerOp:
    op: str
    name: str
    shape: list[int]
    attrs: dict[str, str]


def layer_ops(module: Any) -> list[LayerOp]:
    """Every op of the module's function with a `name` attribute, in order."""
    from tpuc.ir import RankedTensorType, StringAttr

    ops = []
    for func_op in module.body.operations:
        for block in func_op.regions[0].blocks:
            for op in block.operations:
                operation = op.operation
                if "name" not in operation.attributes:
                    continue
                shape = (
                    list(RankedTensorType(operation.results[0].type).shape)
                    if len(operation.results)
                    else []
                )
                attrs = {k: str(operation.attributes[k]) for k in operation.attributes}
                ops.append(
                    LayerOp(
                        operation.name, StringAttr(operation.attributes["name"]).value, shape, attrs
                    )
                )
    return ops


def make_inputs(
    model: Any, shapes: dict[str, list[int]], positive: bool = False, seed: int = 0
) -> dict[str, np.ndarray]:
    rng = np.random.default_rng(seed)
    low = 0.5 if positive else -2.0
    return {n: rng.uniform(low, 2.0, size=s).astype(np.float32) for n, s in shapes.items()}


def interpreter() -> Any:
    """The fp32 interpreter (tpuc.interpreter or the tpuc-interpreter command), or None."""
    from tpuc.frontend import fp32_interpreter

    return fp32_interpreter()


def input_shapes_of(converter: Any) -> dict[str, list[int]]:
    return {op.name: op.shape for op in layer_ops(converter.module) if op.op == "tpu.input"}


def check_against_onnxruntime(converter: Any, positive: bool = False) -> dict[str, Any]:
    """Runs the ONNX model with every tensor exposed and checks that every tpu op named after an
    ONNX tensor has that tensor's shape; returns the reference tensors and the inputs."""
    from tpuc.frontend import run_onnx_inference

    shapes = input_shapes_of(converter)
    inputs = make_inputs(converter.model, shapes, positive)
    reference = run_onnx_inference(converter.model, inputs)
    matched = 0
    for op in layer_ops(converter.module):
        if op.name in reference and op.op != "tpu.load_weight":
            expected = list(reference[op.name].shape)
            assert expected == op.shape, f"{op.op} '{op.name}': {op.shape}, onnxruntime {expected}"
            matched += 1
    for out in converter.model.graph.output:
        assert any(op.name == out.name for op in layer_ops(converter.module)), (
            f"graph output '{out.name}' has no op of that name"
        )
    assert matched > 0
    return {"reference": reference, "inputs": inputs}


def check_weights(converter: Any) -> None:
    """Every tpu.load_weight names an array of the npz with its shape, and nothing else is in
    the npz."""
    from tpuc.ir import StringAttr

    assert converter.weight_file.is_file()
    with np.load(converter.weight_file) as data:
        arrays = {n: data[n] for n in data.files}
    module_attr = StringAttr(converter.module.operation.attributes["tpu.weight_file"]).value
    assert Path(module_attr) == converter.weight_file.resolve()
    loads = [op for op in layer_ops(converter.module) if op.op == "tpu.load_weight"]
    assert sorted(op.name for op in loads) == sorted(arrays)
    for op in loads:
        assert list(arrays[op.name].shape) == op.shape, op.name
        assert arrays[op.name].dtype == np.float32


def check_with_interpreter(
    converter: Any,
    checked: dict[str, Any],
    tolerance: tuple[float, float, float] = (0.9999, 0.9999, 0.999),
) -> int:
    """Compares every common tensor of the fp32 interpreter's dump with onnxruntime (cosine,
    correlation, euclidean similarity at least `tolerance`); returns how many were compared."""
    if interpreter() is None:
        pytest.skip("the fp32 interpreter (tpuc.interpreter / tpuc-interpreter) is not built")
    from tpuc.frontend import compare_with_onnxruntime

    report = compare_with_onnxruntime(converter, checked["inputs"], tolerance=tolerance)
    bad = [(r.name, r.verdict, r.metrics, r.note) for r in report.results if not r.passed]
    assert not bad, bad
    assert report.results
    return len(report.results)
