"""The CPU custom op at run time: a model whose Softmax is the example's `mysoftmax` CPU op is
compiled with libCustomOpRuntime_x86.so embedded (tpuc-translate --custom-runtime-lib) and run by
model_runner, which calls the library's REGISTER_OP_RUNTIME_FUNCS function."""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import pytest

from .plugin_helpers import Plugin, find_tool, import_interpreter, load_converter, run, small_model

pytest.importorskip("onnx")


def softmax(x: np.ndarray, axis: int) -> np.ndarray:
    e = np.exp(x - x.max(axis=axis, keepdims=True))
    return e / e.sum(axis=axis, keepdims=True)


def test_cpu_custom_op_in_a_cvimodel(plugin: Plugin, opt_cli: Path, tmp_path: Path) -> None:
    translate, runner = find_tool("tpuc-translate"), find_tool("model_runner")
    if translate is None or runner is None:
        pytest.skip("tpuc-translate / model_runner are not built")
    interp = import_interpreter()
    pytest.importorskip("tpuc.ir")
    small_model(tmp_path / "net.onnx", leaky_relu=False)
    load_converter()("net", tmp_path / "net.onnx", tmp_path / "net.mlir").run()
    inputs = [
        np.random.default_rng(1 + i).normal(0, 1, (1, 3, 8, 8)).astype(np.float32) for i in range(3)
    ]
    for i, x in enumerate(inputs):
        np.savez(tmp_path / f"x{i}.npz", input=x)
    (tmp_path / "list.txt").write_text("".join(f"{tmp_path / f'x{i}.npz'}\n" for i in range(3)))
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
    int8, tg = tmp_path / "int8.mlir", tmp_path / "tg.mlir"
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
    run(
        opt_cli,
        int8,
        "--tpu-lower",
        "--assign-weight-address",
        f"--tpu-weight-map-filename={tmp_path / 'weight_map.csv'}",
        f"--tpu-weight-bin-filename={tmp_path / 'weight.bin'}",
        "--assign-neuron-address",
        f"--tpu-neuron-map-filename={tmp_path / 'neuron_map.csv'}",
        "--divide-ops-to-func",
        "-o",
        tg,
        check=True,
    )
    model = tmp_path / "net.cvimodel"
    run(
        translate,
        tg,
        "--mlir-to-cvimodel",
        "--weight-file",
        tmp_path / "weight.bin",
        "--custom-op-plugin",
        plugin.library,
        "--custom-runtime-lib",
        plugin.runtime,
        "-o",
        model,
        check=True,
    )
    assert plugin.runtime.read_bytes() in model.read_bytes()  # embedded as is

    out = tmp_path / "out.npz"
    run(
        runner,
        "--input",
        tmp_path / "x0.npz",
        "--model",
        model,
        "--output",
        out,
        "--dump-all-tensors",
        check=True,
    )
    tensors = dict(np.load(out))
    # The runtime function computed softmax over the dequantized convolution it was given (the
    # `<layer>_in0_dequant` tpu-quant put before the fp32 layer) ...
    np.testing.assert_allclose(
        tensors["prob_Softmax"],
        softmax(tensors["prob_Softmax_in0_dequant"], 1),
        rtol=1e-5,
        atol=1e-7,
    )
    # ... and agrees with the INT8 interpreter (which runs the plugin's interpretFp32 there).
    expected = interp.run(int8, {"input": inputs[0]}, custom_op_plugins=[plugin.library])
    np.testing.assert_allclose(tensors["prob_Softmax"], expected["prob_Softmax"], atol=1e-2)
