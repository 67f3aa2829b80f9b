"""cvi_model_convert: the command-line conversion, with preprocessing and a custom converter."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from frontend_util import layer_ops, require_frontend

require_frontend()

import onnx  # noqa: E402
from frontend_cases import make_model, node, rand  # noqa: E402
from tpuc.frontend import preprocess_of  # noqa: E402
from tpuc.tools import model_convert  # noqa: E402

CUSTOM = """
from tpuc.frontend import OnnxConverter, TensorType


class LeakyAsCustom(OnnxConverter):
    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.onnxop_factory["LeakyRelu"] = self.convert_custom

    def convert_custom(self, node):
        op, shape, _ = self.getOperand(node.inputs[0])
        out = self.mlir.add_custom_op(node.name, [op], shape, operation_name="leaky_relu",
                                      param={"negative_slope": node.attrs.get("alpha", 0.01)})
        self.addOperand(node.name, out, shape, TensorType.ACTIVATION)
"""


@pytest.fixture
def onnx_file(tmp_path: Path) -> Path:
    model = make_model(
        [node("Conv", ["data", "w"], ["c"]), node("LeakyRelu", ["c"], ["y"])],
        {"data": ["n", 3, 8, 8]},
        ["y"],
        {"w": rand(4, 3, 3, 3)},
    )
    path = tmp_path / "m.onnx"
    onnx.save(model, path)
    return path


def test_convert_with_preprocess(onnx_file: Path, tmp_path: Path) -> None:
    mlir = tmp_path / "out" / "m.mlir"
    code = model_convert.main(
        [
            "--model_path",
            str(onnx_file),
            "--model_name",
            "m",
            "--mlir_file_path",
            str(mlir),
            "--input_shapes",
            "1,3,8,8",
            "--mean",
            "0.5",
            "--std",
            "0.25",
            "--raw_scale",
            "1.0",
            "--resize",
            "10,10",
            "--model_channel_order",
            "bgr",
        ]
    )
    assert code == 0
    assert (tmp_path / "out" / "m_weights.npz").is_file()
    pre = preprocess_of(mlir)["data"]
    assert pre.channel_order == "bgr" and pre.crop == (8, 8) and pre.resize == (10, 10)
    image = np.full((12, 12, 3), 255, np.uint8)
    np.testing.assert_allclose(pre.apply(image), np.full((1, 3, 8, 8), 2.0), rtol=1e-6)


def test_convert_with_custom_converter(onnx_file: Path, tmp_path: Path) -> None:
    plugin = tmp_path / "my_converter.py"
    plugin.write_text(CUSTOM)
    mlir = tmp_path / "m.mlir"
    code = model_convert.main(
        [
            "--model_path",
            str(onnx_file),
            "--model_name",
            "m",
            "--mlir_file_path",
            str(mlir),
            "--input_shapes",
            "1,3,8,8",
            "--converter",
            f"{plugin}:LeakyAsCustom",
        ]
    )
    assert code == 0
    from tpuc.ir import Context, Module

    with Context():
        module = Module.parse(mlir.read_text())
        ops = {op.op for op in layer_ops(module)}
    assert "tpu.custom_op" in ops and "tpu.leaky_relu" not in ops


def test_convert_errors(
    onnx_file: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    base = [
        "--model_path",
        str(onnx_file),
        "--model_name",
        "m",
        "--mlir_file_path",
        str(tmp_path / "m.mlir"),
    ]
    assert model_convert.main(base) == 1
    assert "input_shapes" in capsys.readouterr().err
    assert model_convert.main(base + ["--input_shapes", "1,3,8,8", "--converter", "x"]) == 1
    assert "--converter" in capsys.readouterr().err
