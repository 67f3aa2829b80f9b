"""The walkthrough of docs/custom-ops.md on a small ONNX model (Conv -> LeakyRelu -> Softmax):
the converter of examples/custom_ops/my_converter.py, the fp32 interpreter against onnxruntime,
calibration, tpu-quant and the INT8 interpreter, all with the example plugin."""

from __future__ import annotations

import re
import sys
from pathlib import Path

import numpy as np
import pytest

from .plugin_helpers import (
    Plugin,
    import_interpreter,
    leaky_relu_int8,
    load_converter,
    run,
    small_model,
)

onnx = pytest.importorskip("onnx")
ort = pytest.importorskip("onnxruntime")


def test_walkthrough(plugin: Plugin, opt_cli: Path, tmp_path: Path) -> None:
    interp = import_interpreter()
    pytest.importorskip("tpuc.ir")
    small_model(tmp_path / "net.onnx")
    load_converter()("net", tmp_path / "net.onnx", tmp_path / "net.mlir").run()
    text = (tmp_path / "net.mlir").read_text()
    assert 'operation_name = "leaky_relu"' in text and 'operation_name = "mysoftmax"' in text

    # fp32 against onnxruntime
    inputs = [
        np.random.default_rng(1 + i).normal(0, 1, (1, 3, 8, 8)).astype(np.float32) for i in range(4)
    ]
    session = ort.InferenceSession(str(tmp_path / "net.onnx"), providers=["CPUExecutionProvider"])
    fp32 = interp.run(
        tmp_path / "net.mlir",
        {"input": inputs[0]},
        dump_all=True,
        custom_op_plugins=[plugin.library],
    )
    np.testing.assert_allclose(
        fp32["prob_Softmax"], session.run(None, {"input": inputs[0]})[0], rtol=1e-4, atol=1e-6
    )

    # calibration (interpretFp32 on every input)
    for i, x in enumerate(inputs):
        np.savez(tmp_path / f"x{i}.npz", input=x)
    (tmp_path / "list.txt").write_text(
        "".join(f"{tmp_path / f'x{i}.npz'}\n" for i in range(len(inputs)))
    )
    table = tmp_path / "table"
    run(
        sys.executable,
        "-m",
        "tpuc.tools.run_calibration",
        tmp_path / "net.mlir",
        tmp_path / "list.txt",
        "--calibration_table",
        table,
        "--method",
        "max",
        "--custom_op_plugin",
        plugin.library,
        check=True,
    )

    # quantization (quantizeInt8; backward threshold_overwrite gives conv the lrelu threshold)
    int8 = tmp_path / "net_int8.mlir"
    run(
        opt_cli,
        tmp_path / "net.mlir",
        "--import-calibration-table",
        "--calibration-table",
        table,
        "--assign-chip-name",
        "--chipname",
        "cv183x",
        "--tpu-quant",
        "--custom-op-plugin",
        plugin.library,
        "-o",
        int8,
        check=True,
    )
    line = next(ln for ln in int8.read_text().splitlines() if 'name = "lrelu_LeakyRelu"' in ln)
    param = dict(re.findall(r"(\w+) = (-?\d+) : i8", line))
    assert "m_i8_pos" not in param  # equal thresholds around the op
    neg = (int(param["m_i8_neg"]), int(param["rshift_neg"]))

    # INT8: the custom op's codes follow its interpretInt8 formula; the result stays close
    out = interp.run(int8, {"input": inputs[0]}, dump_all=True, custom_op_plugins=[plugin.library])
    conv_codes = np.asarray(out["conv"]).astype(np.int64)
    np.testing.assert_array_equal(
        np.asarray(out["lrelu_LeakyRelu"]).astype(np.int64),
        leaky_relu_int8(conv_codes, (1, 0), neg),
    )
    a, b = np.ravel(out["prob_Softmax"]), np.ravel(fp32["prob_Softmax"])
    assert float(a @ b / np.linalg.norm(a) / np.linalg.norm(b)) > 0.99
