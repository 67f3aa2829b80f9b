"""Helpers of the Caffe frontend tests: build a one-layer (or few-layer) net, convert it and
compare every layer of the fp32 interpreter's run with the numpy reference."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pytest


def require_caffe_frontend() -> None:
    pytest.importorskip("tpuc.ir", reason="tpuc is not built")
    pytest.importorskip("tpuc.interpreter", reason="the fp32 interpreter is not built")


def convert_and_compare(
    net: Any,
    tmp_path: Path,
    inputs: Mapping[str, np.ndarray] | None = None,
    *,
    converter_class: Any = None,
    custom_ops: Mapping[str, Any] | None = None,
    rtol: float = 1e-4,
    atol: float = 1e-5,
    seed: int = 0,
) -> tuple[Any, dict[str, np.ndarray], dict[str, np.ndarray]]:
    """Saves the CaffeNetBuilder `net`, converts it, runs the interpreter and the reference on
    `inputs` (random when None) and checks every layer; returns (converter, ours, reference)."""
    from tpuc import interpreter
    from tpuc.frontend import CaffeConverter, caffe_forward

    prototxt, caffemodel = net.save(tmp_path / "net.prototxt", tmp_path / "net.caffemodel")
    cls = converter_class or CaffeConverter
    converter = cls("net", prototxt, caffemodel, tmp_path / "net.mlir")
    converter.run()
    if inputs is None:
        rng = np.random.default_rng(seed)
        inputs = {
            name: rng.normal(size=[int(d) for d in shape.dim]).astype(np.float32)
            for name, shape in zip(net.net.input, net.net.input_shape, strict=True)
        }
    ours = interpreter.run(
        str(converter.mlir_file), dict(inputs), dump_all=True, custom_ops=custom_ops
    )
    reference = caffe_forward(prototxt, caffemodel, inputs).by_layer()
    checked = 0
    for layer in converter.layers:
        name = layer.name
        key = name if name in ours else f"{name}_{layer.type}"
        if layer.type in ("Input", "Dropout"):
            continue
        assert key in ours, f"no op named '{name}' in {sorted(ours)}"
        np.testing.assert_allclose(
            ours[key], reference[name], rtol=rtol, atol=atol, err_msg=f"layer {name}"
        )
        checked += 1
    assert checked > 0
    results = interpreter.run(str(converter.mlir_file), dict(inputs), custom_ops=custom_ops)
    assert len(results) == len(converter.output_names)
    return converter, ours, reference


def op_names(module: Any) -> list[str]:
    """The operation names (tpu.conv_2d, ...) of the module's function, in order."""
    names = []
    for func_op in module.body.operations:
        for block in func_op.regions[0].blocks:
            names.extend(op.operation.name for op in block.operations)
    return names


def shapes_of(*shapes: Sequence[int]) -> list[list[int]]:
    return [list(s) for s in shapes]
