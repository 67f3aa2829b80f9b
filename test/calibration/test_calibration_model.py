"""What calibration reads from a module: inputs with their preprocessing, layers in program order
(weights excluded), custom-op threshold_overwrite settings, and clear errors."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

pytest.importorskip("tpuc.calibration", reason="tpuc is not installed")

from tpuc.calibration.model import ModelError, inspect_module, parse_module  # noqa: E402

MODEL = """
module attributes {tpu.weight_file = "w.npz"} {
  func.func @main(%arg0: tensor<1x3x8x8xf32>) -> tensor<1x3x8x8xf32> {
    %0 = tpu.input %arg0 {name = "data", preprocess = {mean = [1.0, 2.0, 3.0],
           channel_order = "bgr"}} : (tensor<1x3x8x8xf32>) -> tensor<1x3x8x8xf32>
    %1 = tpu.relu %0 {name = "r1"} : (tensor<1x3x8x8xf32>) -> tensor<1x3x8x8xf32>
    %2 = tpu.custom_op %1 {name = "lrelu", operation_name = "leaky_relu",
           param = {negative_slope = 0.1 : f32}, tpu = true, do_quant = true,
           threshold_overwrite = "backward", quant = {mode = "NONE"}}
           : (tensor<1x3x8x8xf32>) -> tensor<1x3x8x8xf32>
    %3 = tpu.custom_op %2 {name = "post", operation_name = "identity", param = {},
           tpu = false, do_quant = false, threshold_overwrite = "forward", quant = {mode = "NONE"}}
           : (tensor<1x3x8x8xf32>) -> tensor<1x3x8x8xf32>
    return %3 : tensor<1x3x8x8xf32>
  }
}
"""


def write(tmp_path: Path, text: str, name: str = "m.mlir") -> Path:
    path = tmp_path / name
    path.write_text(text)
    return path


def test_inputs_layers_and_overwrites(ir: Any, tmp_path: Path) -> None:
    info = inspect_module(parse_module(write(tmp_path, MODEL)))
    assert info.layer_names == ["data", "r1", "lrelu", "post"]
    (data,) = info.inputs
    assert data.name == "data" and data.shape == (1, 3, 8, 8) and data.element_type == "f32"
    assert data.preprocess["channel_order"] == "bgr"
    assert [float(v) for v in data.preprocess["mean"]] == [1.0, 2.0, 3.0]
    by_name = {layer.name: layer for layer in info.layers}
    assert by_name["lrelu"].threshold_overwrite == "backward"
    assert by_name["lrelu"].producer == "r1"
    assert by_name["post"].threshold_overwrite == "forward"
    assert by_name["post"].producer == "lrelu"
    assert by_name["r1"].threshold_overwrite == "none"
    assert by_name["data"].producer is None


def test_weights_are_not_layers(ir: Any, tmp_path: Path) -> None:
    from calibration_helpers import convert_conv_model

    info = inspect_module(parse_module(convert_conv_model(tmp_path)))
    assert info.layer_names == [
        "data", "conv1", "relu1", "pool1", "conv2", "sig2", "gap", "flat", "fc", "prob",
    ]  # fmt: skip


def test_parse_module_accepts_a_module(ir: Any) -> None:
    with ir.Context():
        module = ir.Module.parse(MODEL)
        assert parse_module(module) is module
        assert len(inspect_module(module).layers) == 4


def test_module_errors(ir: Any, tmp_path: Path) -> None:
    with pytest.raises(ModelError, match="cannot read model"):
        parse_module(tmp_path / "missing.mlir")
    with pytest.raises(ModelError, match="cannot parse model"):
        parse_module(write(tmp_path, "this is not mlir"))
    binary = tmp_path / "b.mlir"
    binary.write_bytes(b"\xff\xfe\x00\x80")
    with pytest.raises(ModelError, match="not a text .mlir file"):
        parse_module(binary)
    with pytest.raises(TypeError, match="expected an ir.Module or the path"):
        parse_module(42)
    no_input = MODEL.replace(
        '%0 = tpu.input %arg0 {name = "data", preprocess = {mean = [1.0, 2.0, 3.0],\n'
        '           channel_order = "bgr"}} : (tensor<1x3x8x8xf32>) -> tensor<1x3x8x8xf32>',
        '%0 = tpu.relu %arg0 {name = "r0"} : (tensor<1x3x8x8xf32>) -> tensor<1x3x8x8xf32>',
    )
    with pytest.raises(ModelError, match="no tpu.input"):
        inspect_module(parse_module(write(tmp_path, no_input, "n.mlir")))
    duplicate = MODEL.replace('name = "post"', 'name = "r1"')
    with pytest.raises(ModelError, match="layer name 'r1' is used by both tpu.relu and"):
        inspect_module(parse_module(write(tmp_path, duplicate, "d.mlir")))
