"""Shared helpers of the interpreter tests: building one-op (or small) tpu modules with weights,
running them through tpuc.interpreter, and running the equivalent ONNX node on onnxruntime."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pytest

REPO_ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="session")
def interp() -> Any:
    return pytest.importorskip(
        "tpuc.interpreter",
        reason="tpuc.interpreter is not built (put the build's python_packages on PYTHONPATH)",
    )


def tensor_type(shape: Sequence[int], element: str = "f32") -> str:
    dims = "x".join(str(d) for d in shape)
    return f"tensor<{dims}x{element}>" if dims else f"tensor<{element}>"


def i64s(values: Sequence[int]) -> str:
    return "array<i64: " + ", ".join(str(int(v)) for v in values) + ">"


def f32s(values: Sequence[float]) -> str:
    return "array<f32: " + ", ".join(f"{float(v):.9e}" for v in values) + ">"


def f32(value: float) -> str:
    return f"{float(value):.9e} : f32"


class Value:
    def __init__(
        self, ssa: str, shape: Sequence[int], element: str = "f32", name: str = ""
    ) -> None:
        self.ssa = ssa
        self.name = name
        self.shape = tuple(int(d) for d in shape)
        self.element = element

    @property
    def type(self) -> str:
        return tensor_type(self.shape, self.element)


class Net:
    """Builds the text of a module with one function of tpu ops, and its weight file."""

    def __init__(self) -> None:
        self.args: list[Value] = []
        self.lines: list[str] = []
        self.weights: dict[str, np.ndarray] = {}
        self.count = 0

    def _fresh(self) -> str:
        self.count += 1
        return f"%v{self.count}"

    def input(self, name: str, shape: Sequence[int], element: str = "f32") -> Value:
        arg = Value(f"%arg{len(self.args)}", shape, element)
        self.args.append(arg)
        out = Value(self._fresh(), shape, element, name)
        self.lines.append(
            f'{out.ssa} = tpu.input {arg.ssa} {{name = "{name}"}} : ({arg.type}) -> {out.type}'
        )
        return out

    def weight(self, name: str, array: np.ndarray, element: str = "f32") -> Value:
        self.weights[name] = np.asarray(array, dtype=np.float32)
        out = Value(self._fresh(), array.shape, element)
        self.lines.append(f'{out.ssa} = tpu.load_weight {{name = "{name}"}} : {out.type}')
        return out

    def op(
        self,
        op: str,
        operands: Sequence[Value],
        shape: Sequence[int],
        attrs: str = "",
        name: str | None = None,
        element: str = "f32",
    ) -> Value:
        ssa = self._fresh()
        name = name or f"{op}_{self.count}"
        out = Value(ssa, shape, element, name)
        all_attrs = f'name = "{name}"' + (f", {attrs}" if attrs else "")
        ins = ", ".join(v.ssa for v in operands)
        types = ", ".join(v.type for v in operands)
        self.lines.append(f"{out.ssa} = tpu.{op} {ins} {{{all_attrs}}} : ({types}) -> {out.type}")
        return out

    def text(self, outputs: Sequence[Value], weight_file: str = "weights.npz") -> str:
        args = ", ".join(f"{a.ssa}: {a.type}" for a in self.args)
        results = ", ".join(v.type for v in outputs)
        body = "\n".join("    " + line for line in self.lines)
        ret = ", ".join(v.ssa for v in outputs)
        types = ", ".join(v.type for v in outputs)
        return (
            f'module attributes {{tpu.weight_file = "{weight_file}"}} {{\n'
            f"  func.func @main({args}) -> ({results}) {{\n{body}\n"
            f"    return {ret} : {types}\n  }}\n}}\n"
        )

    def save(self, directory: Path, outputs: Sequence[Value], stem: str = "net") -> Path:
        directory.mkdir(parents=True, exist_ok=True)
        np.savez(directory / "weights.npz", **self.weights)
        path = directory / f"{stem}.mlir"
        path.write_text(self.text(outputs))
        return path


def run_net(
    interp: Any,
    net: Net,
    outputs: Sequence[Value],
    inputs: dict[str, np.ndarray],
    tmp_path: Path,
    **kwargs: Any,
) -> list[np.ndarray]:
    """Runs the net through tpuc.interpreter; returns the outputs in order."""
    path = net.save(tmp_path, outputs)
    result = interp.run(path, inputs, **kwargs)
    return [result[v.name] for v in outputs]


def onnx_run(
    op_type: str, inputs: Sequence[np.ndarray | None], opset: int = 17, **attrs: Any
) -> np.ndarray:
    """Runs one ONNX node on onnxruntime with `inputs` as graph inputs (None = omitted)."""
    pytest.importorskip("onnx")
    ort = pytest.importorskip("onnxruntime")
    from onnx import TensorProto, helper

    names, feeds, infos = [], {}, []
    for i, value in enumerate(inputs):
        if value is None:
            names.append("")
            continue
        name = f"in{i}"
        names.append(name)
        feeds[name] = value
        elem = helper.np_dtype_to_tensor_dtype(value.dtype)
        infos.append(helper.make_tensor_value_info(name, elem, list(value.shape)))
    node = helper.make_node(op_type, names, ["out"], **attrs)
    graph = helper.make_graph(
        [node], "g", infos, [helper.make_tensor_value_info("out", TensorProto.FLOAT, None)]
    )
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", opset)])
    model.ir_version = 8
    options = ort.SessionOptions()
    options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_DISABLE_ALL
    session = ort.InferenceSession(
        model.SerializeToString(), options, providers=["CPUExecutionProvider"]
    )
    return session.run(None, feeds)[0]


def rand(shape: Sequence[int], seed: int = 0, scale: float = 1.0) -> np.ndarray:
    return (np.random.default_rng(seed).standard_normal(shape) * scale).astype(np.float32)


def assert_close(
    actual: np.ndarray, expected: np.ndarray, rtol: float = 1e-4, atol: float = 1e-5
) -> None:
    assert actual.shape == expected.shape, f"shape {actual.shape} != {expected.shape}"
    np.testing.assert_allclose(actual, expected, rtol=rtol, atol=atol)
