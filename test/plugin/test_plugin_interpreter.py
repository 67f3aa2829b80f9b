"""The example plugin in the interpreters: fp32 (tpuc-interpreter --custom-op-plugin and
tpuc.interpreter) and INT8 (a module quantized by tpu-quant with the plugin)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from .plugin_helpers import (
    Plugin,
    import_interpreter,
    interpret,
    leaky_relu_int8,
    leaky_relu_module,
    rand,
    run,
    softmax_module,
)


def softmax(x: np.ndarray, axis: int) -> np.ndarray:
    e = np.exp(x - x.max(axis=axis, keepdims=True))
    return e / e.sum(axis=axis, keepdims=True)


def test_fp32_leaky_relu(interpreter_cli: Path, plugin: Plugin, tmp_path: Path) -> None:
    x = rand()
    result, tensors = interpret(interpreter_cli, tmp_path, leaky_relu_module(), x, plugin.library)
    assert result.returncode == 0, result.stderr
    expected = np.where(x >= 0, x, np.float32(0.1) * x)
    np.testing.assert_array_equal(tensors["lrelu"], expected)


@pytest.mark.parametrize("axis", [1, -1])
def test_fp32_softmax(interpreter_cli: Path, plugin: Plugin, tmp_path: Path, axis: int) -> None:
    x = rand(seed=1)
    result, tensors = interpret(interpreter_cli, tmp_path, softmax_module(axis), x, plugin.library)
    assert result.returncode == 0, result.stderr
    np.testing.assert_allclose(tensors["prob"], softmax(x, axis), rtol=1e-5, atol=1e-7)


def test_python_interpreter(plugin: Plugin) -> None:
    interp = import_interpreter()
    x = rand(seed=2)
    out = interp.run(leaky_relu_module(), {"in": x}, custom_op_plugins=[plugin.library])
    np.testing.assert_array_equal(out["lrelu"], np.where(x >= 0, x, np.float32(0.1) * x))


def test_int8_leaky_relu(
    interpreter_cli: Path, opt_cli: Path, plugin: Plugin, tmp_path: Path
) -> None:
    fp32 = tmp_path / "fp32.mlir"
    fp32.write_text(leaky_relu_module(thresholds=(4.0, 3.0)))
    int8 = tmp_path / "int8.mlir"
    run(opt_cli, fp32, "--tpu-quant", "--custom-op-plugin", plugin.library, "-o", int8, check=True)
    x = rand(seed=3, scale=2.0)
    result, tensors = interpret(interpreter_cli, tmp_path, int8.read_text(), x, plugin.library)
    assert result.returncode == 0, result.stderr
    q_in = np.asarray(tensors["in_quant"]).astype(np.int64)
    # thresholds 4 -> 3: positive (85, 6), negative (68, 9) (see test_plugin_quant.py).
    expected = leaky_relu_int8(q_in, (85, 6), (68, 9))
    np.testing.assert_array_equal(np.asarray(tensors["lrelu"]).astype(np.int64), expected)
