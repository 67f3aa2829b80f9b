"""tpu-quant with the example plugin: quantizeInt8 sees the thresholds around the op (after
threshold_overwrite), and its results land in the op's param and quant fields; calibration runs
the plugin's interpretFp32."""

from __future__ import annotations

import re
import sys
from pathlib import Path

import numpy as np
import pytest

from .plugin_helpers import Plugin, import_interpreter, leaky_relu_module, rand, run, softmax_module


def find_rshift_and_multiplier(qscale: float) -> tuple[int, int]:
    """The guide's rule: the smallest rshift with qscale * 2^(rshift+1) >= 127, m = qscale * 2^r."""
    for r in range(32):
        if qscale * 2.0 ** (r + 1) >= 127:
            return int(qscale * 2.0**r), r
    raise AssertionError(qscale)


def param_of(module: str, name: str) -> dict[str, str]:
    match = re.search(r'tpu\.custom_op .*?name = "' + name + r'".*', module)
    assert match, module
    line = match.group(0)
    param = re.search(r"param = \{(.*?)\}", line)
    assert param, line
    return dict(re.findall(r"(\w+) = ([^,]+)", param.group(1)))


def quantize(opt_cli: Path, tmp_path: Path, mlir: str, *args: object) -> str:
    model = tmp_path / "fp32.mlir"
    model.write_text(mlir)
    out = tmp_path / "int8.mlir"
    run(opt_cli, model, *args, "-o", out, check=True)
    return out.read_text()


@pytest.mark.parametrize("flag", ["tool", "pass-option"])
def test_quant_params_written(opt_cli: Path, plugin: Plugin, tmp_path: Path, flag: str) -> None:
    mlir = leaky_relu_module(thresholds=(4.0, 3.0))
    if flag == "tool":
        module = quantize(
            opt_cli, tmp_path, mlir, "--tpu-quant", "--custom-op-plugin", plugin.library
        )
    else:
        module = quantize(opt_cli, tmp_path, mlir, f"--tpu-quant=custom-op-plugin={plugin.library}")
    m_pos, r_pos = find_rshift_and_multiplier(4.0 / 3.0)
    m_neg, r_neg = find_rshift_and_multiplier(abs(4.0 / 3.0 * float(np.float32(0.1))))
    assert (m_pos, r_pos, m_neg, r_neg) == (85, 6, 68, 9)
    param = param_of(module, "lrelu")
    assert param["m_i8_pos"] == f"{m_pos} : i8" and param["rshift_pos"] == f"{r_pos} : i8"
    assert param["m_i8_neg"] == f"{m_neg} : i8" and param["rshift_neg"] == f"{r_neg} : i8"
    assert param["negative_slope"].startswith("1.000000e-01 : f32")
    line = next(ln for ln in module.splitlines() if 'name = "lrelu"' in ln)
    assert 'mode = "INT8"' in line and 'param_type = "RSHIFT_AND_M_I8"' in line
    assert "is_perchannel = false" in line
    assert "-> tensor<1x4x8x8xi8>" in line


@pytest.mark.parametrize(
    "overwrite,table",
    [
        ("forward", "in 3.0\n"),
        ("backward", "in 5.0\nlrelu 3.0\n"),
    ],
)
def test_threshold_overwrite(
    opt_cli: Path, plugin: Plugin, tmp_path: Path, overwrite: str, table: str
) -> None:
    (tmp_path / "table").write_text("# op_name threshold\n" + table)
    module = quantize(
        opt_cli,
        tmp_path,
        leaky_relu_module(overwrite=overwrite),
        "--import-calibration-table",
        "--calibration-table",
        tmp_path / "table",
        "--tpu-quant",
        "--custom-op-plugin",
        plugin.library,
    )
    param = param_of(module, "lrelu")
    # Equal thresholds on both sides: no positive scale, only the slope.
    assert "m_i8_pos" not in param and "rshift_pos" not in param
    m_neg, r_neg = find_rshift_and_multiplier(float(np.float32(0.1)))
    assert param["m_i8_neg"] == f"{m_neg} : i8" and param["rshift_neg"] == f"{r_neg} : i8"


POOLED_BACKWARD = """module {
func.func @main(%arg0: tensor<1x4x8x8xf32>) -> tensor<1x4x4x4xf32> {
  %0 = tpu.input %arg0 {name = "in", quant = {mode = "NONE"}}
         : (tensor<1x4x8x8xf32>) -> tensor<1x4x8x8xf32>
  %1 = tpu.pool_max_2d %0 {name = "pool", kernel_shape = array<i64: 2, 2>,
         strides = array<i64: 2, 2>, pads = array<i64: 0, 0, 0, 0>, quant = {mode = "NONE"}}
         : (tensor<1x4x8x8xf32>) -> tensor<1x4x4x4xf32>
  %2 = tpu.relu %1 {name = "r", quant = {mode = "NONE"}}
         : (tensor<1x4x4x4xf32>) -> tensor<1x4x4x4xf32>
  %3 = tpu.custom_op %2 {name = "lrelu", operation_name = "leaky_relu",
         param = {negative_slope = 1.000000e-01 : f32}, tpu = true, do_quant = true,
         threshold_overwrite = "backward", quant = {mode = "NONE"}}
         : (tensor<1x4x4x4xf32>) -> tensor<1x4x4x4xf32>
  return %3 : tensor<1x4x4x4xf32>
}
}
"""


def test_backward_overwrite_through_max_pool(opt_cli: Path, plugin: Plugin, tmp_path: Path) -> None:
    """A backward overwrite reaches the layer before a max pool and a relu (which take their
    input's threshold in tpu-quant), so tpu-quant accepts the custom op."""
    (tmp_path / "table").write_text("# op_name threshold\nin 5.0\npool 4.0\nr 4.5\nlrelu 3.0\n")
    module = quantize(opt_cli, tmp_path, POOLED_BACKWARD, "--import-calibration-table",
                      "--calibration-table", tmp_path / "table", "--tpu-quant",
                      "--custom-op-plugin", plugin.library)  # fmt: skip
    for name in ("in_quant", "pool", "r", "lrelu"):
        line = next(ln for ln in module.splitlines() if f'name = "{name}"' in ln)
        assert "threshold_max = 3.000000e+00" in line, line
    param = param_of(module, "lrelu")
    assert "m_i8_pos" not in param and "rshift_pos" not in param


def test_do_quant_false_stays_fp32(opt_cli: Path, plugin: Plugin, tmp_path: Path) -> None:
    module = quantize(
        opt_cli,
        tmp_path,
        softmax_module(thresholds=(4.0, 1.0)),
        "--tpu-quant",
        "--custom-op-plugin",
        plugin.library,
    )
    assert param_of(module, "prob") == {"axis": "1 : i32"}
    line = next(ln for ln in module.splitlines() if 'name = "prob"' in ln)
    assert 'mode = "NONE"' in line and "-> tensor<1x4x8x8xf32>" in line
    # It reads the fp32 graph input directly: no int8 round trip, no quantized input at all.
    assert "tpu.custom_op %0 " in line
    assert "prob_in0_dequant" not in module and "in_quant" not in module


def test_calibration_with_plugin(plugin: Plugin, tmp_path: Path) -> None:
    import_interpreter()
    model = tmp_path / "fp32.mlir"
    model.write_text(leaky_relu_module())
    inputs = []
    for i in range(3):
        path = tmp_path / f"x{i}.npz"
        np.savez(path, **{"in": rand(seed=10 + i)})
        inputs.append(str(path))
    (tmp_path / "list.txt").write_text("\n".join(inputs) + "\n")
    table = tmp_path / "table"
    result = run(
        sys.executable,
        "-m",
        "tpuc.tools.run_calibration",
        model,
        tmp_path / "list.txt",
        "--calibration_table",
        table,
        "--input_num=3",
        "--method",
        "max",
        "--custom_op_plugin",
        plugin.library,
    )
    assert result.returncode == 0, result.stderr
    rows = {
        line.split()[0]: float(line.split()[1])
        for line in table.read_text().splitlines()
        if line.strip() and not line.startswith("#")
    }
    data = [np.load(p)["in"] for p in inputs]
    assert rows["in"] == pytest.approx(max(np.abs(x).max() for x in data), rel=1e-5)
    expected = max(np.abs(np.where(x >= 0, x, np.float32(0.1) * x)).max() for x in data)
    assert rows["lrelu"] == pytest.approx(expected, rel=1e-5)
