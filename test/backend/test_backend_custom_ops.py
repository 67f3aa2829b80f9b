"""The vendor guide's custom-op flow through the backend, with the example plugins of
examples/custom_ops: a TPU custom op (leaky_relu, quantized by the plugin's quantizeInt8 and
emitted by its codeGenInt8) followed by a CPU custom op (mysoftmax, from the embedded runtime
library). The cvimodel runs on model_runner; its int8 tensor equals the INT8 interpreter's (which
runs the plugin's interpretInt8), the softmax agrees to the bf16 precision of the TPU
dequantization."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from .test_backend_conformance import BACKEND_FLAGS, _interpreter, _tool

EXAMPLES = Path(__file__).resolve().parents[2] / "examples" / "custom_ops"

MODEL = """
module {
  func.func @main(%arg0: tensor<1x4x8x8xf32>) -> tensor<1x4x8x8xf32> {
    %0 = tpu.input %arg0 {name = "in",
           quant = {mode = "NONE", threshold_max = 3.0 : f64, threshold_min = -3.0 : f64}}
           : (tensor<1x4x8x8xf32>) -> tensor<1x4x8x8xf32>
    %1 = tpu.custom_op %0 {name = "lrelu", operation_name = "leaky_relu",
           param = {negative_slope = 0.1 : f32}, tpu = true, do_quant = true,
           threshold_overwrite = "none",
           quant = {mode = "NONE", threshold_max = 3.0 : f64, threshold_min = -3.0 : f64}}
           : (tensor<1x4x8x8xf32>) -> tensor<1x4x8x8xf32>
    %2 = tpu.custom_op %1 {name = "prob", operation_name = "mysoftmax", param = {axis = 1 : i32},
           tpu = false, do_quant = false,
           quant = {mode = "NONE", threshold_max = 1.0 : f64, threshold_min = -1.0 : f64}}
           : (tensor<1x4x8x8xf32>) -> tensor<1x4x8x8xf32>
    return %2 : tensor<1x4x8x8xf32>
  }
}
"""


def _cmake_dir() -> Path | None:
    build = os.environ.get("TPUC_BUILD_DIR")
    if build:
        path = Path(build) / "python_packages" / "tpuc" / "lib" / "cmake" / "tpuc"
        return path if (path / "tpucConfig.cmake").is_file() else None
    proc = subprocess.run(
        [sys.executable, "-m", "tpuc", "--cmake-dir"], capture_output=True, text=True
    )
    return Path(proc.stdout.strip()) if proc.returncode == 0 else None


@pytest.fixture(scope="module")
def plugins(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    cmake_dir = _cmake_dir()
    if cmake_dir is None or shutil.which("cmake") is None:
        pytest.skip("the tpuc CMake package or cmake is not available")
    build = tmp_path_factory.mktemp("custom_ops")
    args = ["cmake", "-S", str(EXAMPLES), "-B", str(build), f"-Dtpuc_DIR={cmake_dir}",
            "-DCMAKE_BUILD_TYPE=Release"]  # fmt: skip
    if shutil.which("ninja"):
        args += ["-G", "Ninja"]
    subprocess.run(args, check=True, capture_output=True)
    subprocess.run(["cmake", "--build", str(build), "-j2"], check=True, capture_output=True)
    return build / "libCustomOpPlugin.so", build / "libCustomOpRuntime_x86.so"


def _run(cmd: list, cwd: Path) -> subprocess.CompletedProcess[str]:
    proc = subprocess.run(
        [str(c) for c in cmd], cwd=cwd, capture_output=True, text=True, timeout=300
    )
    assert proc.returncode == 0, f"{cmd}:\n{proc.stderr}"
    return proc


def test_tpu_and_cpu_custom_ops(plugins: tuple[Path, Path], tmp_path: Path) -> None:
    plugin, runtime_lib = plugins
    (tmp_path / "model.mlir").write_text(MODEL)
    opt = _tool("tpuc-opt")
    _run([opt, "model.mlir", "--assign-chip-name", "--chipname", "cv183x", "--tpu-quant",
          "--custom-op-plugin", plugin, "-o", "int8.mlir"], tmp_path)  # fmt: skip
    _run([opt, "int8.mlir", *BACKEND_FLAGS, "-o", "opt.mlir"], tmp_path)
    _run([_tool("tpuc-translate"), "--mlir-to-cvimodel", "--custom-op-plugin", plugin,
          f"--custom-runtime-lib={runtime_lib}", "--weight-file", "weight.bin", "opt.mlir",
          "-o", "model.cvimodel"], tmp_path)  # fmt: skip
    info = _run([_tool("cvimodel"), "model.cvimodel"], tmp_path).stdout
    assert "function mysoftmax (axis=1)" in info
    assert "func_x86      libCustomOpRuntime_x86.so" in info

    x = (np.random.default_rng(0).normal(size=(1, 4, 8, 8)) * 1.5).astype(np.float32)
    np.savez(tmp_path / "in.npz", **{"in": x})
    _run([_tool("model_runner"), "--input", "in.npz", "--model", "model.cvimodel", "--output",
          "ours.npz", "--dump-all-tensors", "--out-fixed"], tmp_path)  # fmt: skip
    _run([_interpreter(), "int8.mlir", "--custom-op-plugin", plugin, "--tensor-in", "in.npz",
          "--tensor-out", "interp_out.npz", "--dump-all-tensor=interp.npz"], tmp_path)  # fmt: skip
    ours, interp = np.load(tmp_path / "ours.npz"), np.load(tmp_path / "interp.npz")
    assert ours["lrelu"].dtype == np.int8
    np.testing.assert_array_equal(ours["lrelu"].astype(np.int64), interp["lrelu"].astype(np.int64))
    np.testing.assert_allclose(ours["prob"], interp["prob"], atol=5e-3)
    assert not np.array_equal(ours["lrelu"], np.maximum(ours["lrelu"], 0))  # negatives kept


def test_tpu_custom_op_without_plugin_is_an_error(
    plugins: tuple[Path, Path], tmp_path: Path
) -> None:
    plugin, _ = plugins
    (tmp_path / "model.mlir").write_text(MODEL)
    opt = _tool("tpuc-opt")
    _run([opt, "model.mlir", "--assign-chip-name", "--chipname", "cv183x", "--tpu-quant",
          "--custom-op-plugin", plugin, "-o", "int8.mlir"], tmp_path)  # fmt: skip
    _run([opt, "int8.mlir", *BACKEND_FLAGS, "-o", "opt.mlir"], tmp_path)
    proc = subprocess.run(
        [str(_tool("tpuc-translate")), "--mlir-to-cvimodel", "--weight-file", "weight.bin",
         "opt.mlir", "-o", "model.cvimodel"],
        cwd=tmp_path, capture_output=True, text=True,
    )  # fmt: skip
    assert proc.returncode != 0
    assert "tpu.custom_op 'lrelu'" in proc.stderr and "--custom-op-plugin" in proc.stderr
