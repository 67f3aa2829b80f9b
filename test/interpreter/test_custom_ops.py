"""tpu.custom_op: implementations from Python callables and plugin libraries."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from conftest import Net, assert_close, rand

PARAMS = (
    "param = {negative_slope = 1.000000e-01 : f32, sizes = [1 : i32, 2 : i32], "
    'small = 3 : i8, names = ["a", "b"], flags = [true, false], mode = "fast", '
    "on = true, scales = [5.000000e-01 : f32]}, tpu = false, do_quant = false, "
    'quant = {mode = "NONE"}'
)


def custom_net(operation: str = "leaky_relu") -> tuple[Net, Any]:
    net = Net()
    x = net.input("x", (1, 4, 3, 3))
    y = net.op(
        "custom_op", [x], (1, 4, 3, 3), f'operation_name = "{operation}", {PARAMS}', name="custom"
    )
    return net, y


def test_python_custom_op(interp: Any, tmp_path: Path) -> None:
    net, y = custom_net()
    path = net.save(tmp_path, [y])
    seen: dict[str, Any] = {}

    def leaky_relu(
        inputs: list[np.ndarray], params: dict[str, Any], shape: tuple[int, ...]
    ) -> np.ndarray:
        seen.update(params=params, shape=shape, shapes=[a.shape for a in inputs])
        x = inputs[0]
        return np.where(x >= 0, x, params["negative_slope"] * x)

    x = rand((1, 4, 3, 3))
    out = interp.run(path, {"x": x}, custom_ops={"leaky_relu": leaky_relu})
    assert_close(out["custom"], np.where(x >= 0, x, np.float32(0.1) * x), rtol=1e-6, atol=0)
    assert seen["shape"] == (1, 4, 3, 3) and seen["shapes"] == [(1, 4, 3, 3)]
    params = seen["params"]
    assert params["sizes"] == [1, 2] and params["small"] == 3
    assert params["names"] == ["a", "b"] and params["flags"] == [True, False]
    assert params["mode"] == "fast" and params["on"] is True
    assert params["negative_slope"] == pytest.approx(0.1)
    assert params["scales"] == [0.5]


def test_unknown_custom_op_without_plugins(interp: Any, tmp_path: Path) -> None:
    net, y = custom_net("roi_align")
    path = net.save(tmp_path, [y])
    with pytest.raises(
        interp.InterpreterError,
        match=r"tpu.custom_op 'custom' at .*: no custom-op plugin is loaded to "
        r"implement operation 'roi_align'",
    ):
        interp.run(path, {"x": rand((1, 4, 3, 3))})


def test_unknown_custom_op_with_other_implementations(interp: Any, tmp_path: Path) -> None:
    net, y = custom_net("roi_align")
    path = net.save(tmp_path, [y])
    with pytest.raises(
        interp.InterpreterError,
        match=r"no custom-op plugin implements operation 'roi_align' "
        r"\(searched: Python custom_ops\)",
    ):
        interp.run(path, {"x": rand((1, 4, 3, 3))}, custom_ops={"other": lambda *a: None})


def test_python_custom_op_failure(interp: Any, tmp_path: Path) -> None:
    net, y = custom_net()
    path = net.save(tmp_path, [y])

    def broken(inputs: list[np.ndarray], params: dict[str, Any], shape: Any) -> np.ndarray:
        raise ValueError("deliberate failure")

    with pytest.raises(
        interp.InterpreterError, match=r"tpu.custom_op 'custom'.*deliberate failure"
    ):
        interp.run(path, {"x": rand((1, 4, 3, 3))}, custom_ops={"leaky_relu": broken})


def test_python_custom_op_wrong_size(interp: Any, tmp_path: Path) -> None:
    net, y = custom_net()
    path = net.save(tmp_path, [y])
    with pytest.raises(interp.InterpreterError, match=r"returned 5 values for a result of 36"):
        interp.run(
            path, {"x": rand((1, 4, 3, 3))}, custom_ops={"leaky_relu": lambda i, p, s: np.zeros(5)}
        )


def test_custom_op_operands_are_not_modified_by_implementations(
    interp: Any, tmp_path: Path
) -> None:
    net = Net()
    x = net.input("x", (1, 4, 3, 3))
    y = net.op(
        "custom_op", [x], (1, 4, 3, 3), f'operation_name = "scribble", {PARAMS}', name="custom"
    )
    z = net.op("eltwise_add", [x, y], (1, 4, 3, 3), name="sum")
    path = net.save(tmp_path, [z])

    def scribble(inputs: list[np.ndarray], params: Any, shape: Any) -> np.ndarray:
        result = inputs[0].copy()
        inputs[0][...] = 1000.0
        return result

    value = rand((1, 4, 3, 3))
    out = interp.run(path, {"x": value}, custom_ops={"scribble": scribble})
    assert_close(out["sum"], 2 * value, rtol=1e-6, atol=0)


def test_missing_plugin_library(interp: Any, tmp_path: Path) -> None:
    net, y = custom_net()
    with pytest.raises(interp.InterpreterError, match=r"cannot load custom-op plugin '.*nope.so'"):
        interp.compile(net.save(tmp_path, [y]), custom_op_plugins=[tmp_path / "nope.so"])


@pytest.fixture
def plugin_library(tmp_path: Path) -> Path:
    compiler = shutil.which("cc") or shutil.which("gcc") or shutil.which("clang")
    if not compiler:
        pytest.skip("no C compiler to build a test plugin library")
    source = tmp_path / "plugin.c"
    source.write_text("void *CustomOpleaky_reluCreate(void *param) { return 0; }\n")
    library = tmp_path / "libCustomOpPlugin.so"
    subprocess.run([compiler, "-shared", "-fPIC", "-o", str(library), str(source)], check=True)
    return library


def test_plugin_library_without_the_op(interp: Any, tmp_path: Path, plugin_library: Path) -> None:
    net, y = custom_net("roi_align")
    with pytest.raises(
        interp.InterpreterError,
        match=r"no custom-op plugin implements operation 'roi_align' "
        r"\(searched: plugin .*libCustomOpPlugin.so\)",
    ):
        interp.compile(net.save(tmp_path, [y]), custom_op_plugins=[plugin_library])


def test_plugin_factory_without_the_sdk_is_refused(
    interp: Any, tmp_path: Path, plugin_library: Path
) -> None:
    # Real plugins are exercised in test/plugin.
    net, y = custom_net("leaky_relu")
    with pytest.raises(
        interp.InterpreterError,
        match=r"exports CustomOpleaky_reluCreate but not "
        r"CustomOpleaky_reluAbiVersion: it was not built with tpuc's "
        r"cvi/CustomOp.h",
    ):
        interp.compile(net.save(tmp_path, [y]), custom_op_plugins=[plugin_library])


def test_python_implementations_take_precedence_over_plugins(
    interp: Any, tmp_path: Path, plugin_library: Path
) -> None:
    net, y = custom_net("leaky_relu")
    x = rand((1, 4, 3, 3))
    out = interp.run(
        net.save(tmp_path, [y]),
        {"x": x},
        custom_op_plugins=[plugin_library],
        custom_ops={"leaky_relu": lambda i, p, s: np.maximum(i[0], 0)},
    )
    assert_close(out["custom"], np.maximum(x, 0), rtol=0, atol=0)
