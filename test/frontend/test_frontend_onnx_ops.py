"""One tiny ONNX graph per converter method: the converted module verifies, has the expected tpu
ops named after the ONNX tensors with onnxruntime's shapes, and its weights file holds exactly
the arrays the module loads. With the fp32 interpreter built, values are compared too."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest
from frontend_util import (
    check_against_onnxruntime,
    check_weights,
    check_with_interpreter,
    layer_ops,
    require_frontend,
)

require_frontend()

from frontend_cases import CASES  # noqa: E402


@pytest.mark.parametrize("case_id", sorted(CASES))
def test_converts_with_onnxruntime_shapes(case_id: str, convert: Any) -> None:
    case = CASES[case_id]()
    converter = convert(case.model)
    ops = {op.op for op in layer_ops(converter.module)}
    assert case.expect <= ops, f"missing {case.expect - ops} in {sorted(ops)}"
    assert not (case.absent & ops), f"unexpected {case.absent & ops}"
    check_against_onnxruntime(converter, case.positive)
    check_weights(converter)
    # The written file parses back and verifies in a fresh context.
    from tpuc.ir import Context, Module

    with Context():
        reparsed = Module.parse(converter.mlir_file.read_text())
        reparsed.operation.verify()


@pytest.mark.parametrize("case_id", sorted(CASES))
def test_values_match_onnxruntime(case_id: str, convert: Any) -> None:
    case = CASES[case_id]()
    converter = convert(case.model)
    checked = check_against_onnxruntime(converter, case.positive)
    check_with_interpreter(converter, checked)


def test_every_default_handler_has_a_case() -> None:
    """Each op type of the default dispatch table is exercised by some case graph."""
    from tpuc.frontend import OnnxConverter

    covered = {n.op_type for factory in CASES.values() for n in factory().model.graph.node}
    converter = OnnxConverter("x", CASES["relu"]().model, "/nonexistent/x.mlir")
    missing = set(converter.onnxop_factory) - covered
    assert not missing, f"op types without a test case: {sorted(missing)}"


def test_layer_names_are_onnx_tensor_names(convert: Any) -> None:
    case = CASES["silu_pattern"]()
    converter = convert(case.model)
    names = {op.name: op.op for op in layer_ops(converter.module)}
    assert names["x"] == "tpu.input"
    assert names["c"] == "tpu.conv_2d"
    assert names["y"] == "tpu.silu"
    assert "s" not in names  # the sigmoid is folded into the SiLU


def test_conv_attributes(convert: Any) -> None:
    converter = convert(CASES["conv_same_lower"]().model)
    conv = next(op for op in layer_ops(converter.module) if op.op == "tpu.conv_2d")
    # 7x7 input, 3x3 kernel, stride 2: total padding 2, SAME_LOWER puts the extra one first.
    assert conv.attrs["pads"] == "array<i64: 1, 1, 1, 1>"
    assert conv.attrs["strides"] == "array<i64: 2, 2>"
    converter = convert(CASES["conv_asymmetric_pads"]().model, name="asym")
    conv = next(op for op in layer_ops(converter.module) if op.op == "tpu.conv_2d")
    assert conv.attrs["pads"] == "array<i64: 0, 1, 2, 0>"


def test_gemm_folds_alpha_beta_and_transposes(convert: Any) -> None:
    case = CASES["gemm_trans_b_alpha_beta"]()
    converter = convert(case.model)
    inits = {i.name: i for i in case.model.graph.initializer}
    from onnx import numpy_helper

    b = numpy_helper.to_array(inits["b"])
    c = numpy_helper.to_array(inits["c"])
    with np.load(converter.weight_file) as data:
        np.testing.assert_allclose(data["y_filter"], 0.5 * b)
        np.testing.assert_allclose(data["y_bias"], 2.0 * c)


def test_scale_from_constant_sub(convert: Any) -> None:
    case = CASES["sub_from_const"]()
    converter = convert(case.model)
    from onnx import numpy_helper

    a = numpy_helper.to_array(case.model.graph.initializer[0]).reshape(-1)
    with np.load(converter.weight_file) as data:
        np.testing.assert_allclose(data["y_scale"], -np.ones(4))
        np.testing.assert_allclose(data["y_bias"], a)


def test_dead_ops_are_removed(convert: Any) -> None:
    """Nodes that only feed shape arithmetic leave nothing behind."""
    converter = convert(CASES["shape_chain_folded"]().model)
    ops = [op.op for op in layer_ops(converter.module)]
    assert ops == ["tpu.input", "tpu.reshape"]


@pytest.mark.parametrize(
    "case_id",
    [
        "resize_nearest_scales",
        "resize_nearest_asymmetric_floor",
        "resize_nearest_sizes",
        "upsample_nearest_opset9",
        "resize_nearest_opset10",
    ],
)
def test_nearest_resizes_mapped_to_upsample_repeat_pixels(case_id: str, convert: Any) -> None:
    """The nearest-neighbour forms converted to tpu.upsample are exactly a pixel repeat in
    onnxruntime (the meaning of tpu.upsample)."""
    case = CASES[case_id]()
    converter = convert(case.model)
    up = next(op for op in layer_ops(converter.module) if op.op == "tpu.upsample")
    scale_h = int(up.attrs["scale_h"].split(":")[0])
    scale_w = int(up.attrs["scale_w"].split(":")[0])
    checked = check_against_onnxruntime(converter)
    x = checked["inputs"]["x"]
    expected = np.repeat(np.repeat(x, scale_h, axis=2), scale_w, axis=3)
    np.testing.assert_array_equal(checked["reference"]["y"], expected)
