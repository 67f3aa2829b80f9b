"""Helpers of the custom-op plugin tests: finding the tpuc tools, building the example plugin
(examples/custom_ops) out of tree, test modules and the reference arithmetic."""

from __future__ import annotations

import importlib.util
import os
import shutil
import subprocess
from pathlib import Path
from typing import Any

import numpy as np
import pytest

REPO_ROOT = Path(__file__).resolve().parents[2]
EXAMPLE_DIR = REPO_ROOT / "examples" / "custom_ops"


def run(
    *args: Any, check: bool = False, env: dict[str, str] | None = None, cwd: Path | None = None
) -> subprocess.CompletedProcess[str]:
    result = subprocess.run(
        [str(a) for a in args], capture_output=True, text=True, timeout=600, env=env, cwd=cwd
    )
    if check and result.returncode != 0:
        raise AssertionError(
            f"{' '.join(map(str, args))} failed ({result.returncode}):\n"
            f"{result.stdout}\n{result.stderr}"
        )
    return result


def import_interpreter() -> Any:
    """tpuc.interpreter, or a skip when its native module is not built."""
    try:
        from tpuc import interpreter
    except ImportError as error:
        pytest.skip(f"tpuc.interpreter is not built: {error}")
    return interpreter


def tpuc_package_dir() -> Path | None:
    try:
        import tpuc
    except ImportError:
        return None
    return Path(tpuc.__file__).absolute().parent


def find_tool(name: str) -> Path | None:
    """$TPUC_BIN_DIR, the installed package's _bin, the build tree's dialect/tools, then PATH."""
    env = os.environ.get("TPUC_BIN_DIR")
    if env and (Path(env) / name).is_file():
        return Path(env) / name
    package = tpuc_package_dir()
    if package is not None:
        build = package.parent.parent
        for candidate in (
            package / "_bin" / name,
            build / "dialect" / "tools" / name,
            build / "bin" / name,
        ):
            if candidate.is_file():
                return candidate
    found = shutil.which(name)
    return Path(found) if found else None


def tool_fixture(name: str) -> Path:
    path = find_tool(name)
    if path is None:
        pytest.skip(f"{name} is not built (set TPUC_BIN_DIR or put it on PATH)")
    return path


def cmake_build(source: Path, build: Path, cmake_dir: Path, *extra: str) -> None:
    if shutil.which("cmake") is None:
        pytest.skip("cmake is not installed")
    args = [
        "cmake",
        "-S",
        source,
        "-B",
        build,
        f"-Dtpuc_DIR={cmake_dir}",
        "-DCMAKE_BUILD_TYPE=Release",
        *extra,
    ]
    if shutil.which("ninja"):
        args += ["-G", "Ninja"]
    if shutil.which("ccache"):
        args += ["-DCMAKE_CXX_COMPILER_LAUNCHER=ccache"]
    run(*args, check=True)
    run("cmake", "--build", build, "-j2", check=True)


class Plugin:
    """The example plugin and runtime library, built out of tree."""

    def __init__(self, build: Path) -> None:
        self.build = build
        self.library = build / "libCustomOpPlugin.so"
        self.runtime = build / "libCustomOpRuntime_x86.so"


# -- modules ---------------------------------------------------------------------------------

SHAPE = (1, 4, 8, 8)


def ttype(shape: tuple[int, ...] = SHAPE, element: str = "f32") -> str:
    return "tensor<" + "x".join(map(str, shape)) + f"x{element}>"


def quant(threshold: float | None) -> str:
    if threshold is None:
        return 'quant = {mode = "NONE"}'
    return (
        f'quant = {{mode = "NONE", threshold_max = {threshold:.6e} : f64, '
        f"threshold_min = {-threshold:.6e} : f64}}"
    )


def leaky_relu_module(
    slope: str = "1.000000e-01 : f32",
    operation: str = "leaky_relu",
    thresholds: tuple[float, float] | None = None,
    do_quant: bool = True,
    overwrite: str = "none",
    extra_param: str = "",
) -> str:
    """input -> custom op (LeakyRelu by default) -> return, optionally with thresholds."""
    t_in, t_out = thresholds if thresholds else (None, None)
    param = f"negative_slope = {slope}" + (f", {extra_param}" if extra_param else "")
    return f"""module {{
func.func @main(%arg0: {ttype()}) -> {ttype()} {{
  %0 = tpu.input %arg0 {{name = "in", {quant(t_in)}}} : ({ttype()}) -> {ttype()}
  %1 = tpu.custom_op %0 {{name = "lrelu", operation_name = "{operation}", param = {{{param}}},
         tpu = true, do_quant = {str(do_quant).lower()}, threshold_overwrite = "{overwrite}",
         {quant(t_out)}}} : ({ttype()}) -> {ttype()}
  return %1 : {ttype()}
}}
}}
"""


def softmax_module(
    axis: int = 1, do_quant: bool = False, thresholds: tuple[float, float] | None = None
) -> str:
    t_in, t_out = thresholds if thresholds else (None, None)
    return f"""module {{
func.func @main(%arg0: {ttype()}) -> {ttype()} {{
  %0 = tpu.input %arg0 {{name = "in", {quant(t_in)}}} : ({ttype()}) -> {ttype()}
  %1 = tpu.custom_op %0 {{name = "prob", operation_name = "mysoftmax",
         param = {{axis = {axis} : i32}}, tpu = false, do_quant = {str(do_quant).lower()},
         {quant(t_out)}}} : ({ttype()}) -> {ttype()}
  return %1 : {ttype()}
}}
}}
"""


def rand(shape: tuple[int, ...] = SHAPE, seed: int = 0, scale: float = 3.0) -> np.ndarray:
    return (np.random.default_rng(seed).standard_normal(shape) * scale).astype(np.float32)


def interpret(
    cli: Path, tmp_path: Path, mlir: str, x: np.ndarray, *plugins: Path
) -> tuple[subprocess.CompletedProcess[str], dict[str, np.ndarray]]:
    """Runs tpuc-interpreter on `mlir` with input `x`; (process, all tensors)."""
    model = tmp_path / "model.mlir"
    model.write_text(mlir)
    np.savez(tmp_path / "in.npz", **{"in": x})
    out = tmp_path / "all.npz"
    args: list[Any] = [cli, model, "--tensor-in", tmp_path / "in.npz", "--dump-all-tensor", out]
    for p in plugins:
        args += ["--custom-op-plugin", p]
    result = run(*args)
    tensors = dict(np.load(out)) if result.returncode == 0 and out.exists() else {}
    return result, tensors


def rounding_right_shift(x: np.ndarray, r: int) -> np.ndarray:
    """(x + 2^(r-1)) >> r: the TIU's rounding shift (tpuc::arith::roundingRightShift)."""
    return (x + (1 << (r - 1))) >> r if r > 0 else x


def leaky_relu_int8(q: np.ndarray, pos: tuple[int, int], neg: tuple[int, int]) -> np.ndarray:
    """The example LeakyRelu's interpretInt8: sat8(round(q * m >> r)) with (m, r) by sign."""
    q = q.astype(np.int64)
    p = rounding_right_shift(q * pos[0], pos[1])
    n = rounding_right_shift(q * neg[0], neg[1])
    return np.clip(np.where(q > 0, p, n), -128, 127)


# -- the walkthrough model --------------------------------------------------------------------


def small_model(path: Path, leaky_relu: bool = True) -> None:
    """Conv -> [LeakyRelu ->] Softmax(axis 1) on a (1, 3, 8, 8) input."""
    import onnx
    from onnx import TensorProto, helper, numpy_helper

    rng = np.random.default_rng(0)
    w = numpy_helper.from_array(rng.normal(0, 0.5, (4, 3, 3, 3)).astype(np.float32), "w")
    b = numpy_helper.from_array(rng.normal(0, 0.1, (4,)).astype(np.float32), "b")
    nodes = [
        helper.make_node(
            "Conv", ["input", "w", "b"], ["conv"], pads=[1, 1, 1, 1], kernel_shape=[3, 3]
        ),
        helper.make_node("Softmax", ["lrelu" if leaky_relu else "conv"], ["prob"], axis=1),
    ]
    if leaky_relu:
        nodes.insert(1, helper.make_node("LeakyRelu", ["conv"], ["lrelu"], alpha=0.1))
    graph = helper.make_graph(
        nodes,
        "net",
        [helper.make_tensor_value_info("input", TensorProto.FLOAT, [1, 3, 8, 8])],
        [helper.make_tensor_value_info("prob", TensorProto.FLOAT, [1, 4, 8, 8])],
        [w, b],
    )
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 13)])
    model.ir_version = 8
    onnx.save(model, str(path))


def load_converter() -> Any:
    spec = importlib.util.spec_from_file_location("my_converter", EXAMPLE_DIR / "my_converter.py")
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module.MyConverter
