"""Bad models and unsupported constructs give clear errors naming what is wrong."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pytest
from frontend_util import layer_ops, require_frontend

require_frontend()

import onnx  # noqa: E402
from frontend_cases import X, make_model, node, rand  # noqa: E402
from onnx import TensorProto, helper  # noqa: E402
from tpuc.frontend import ConversionError, OnnxConverter, UnsupportedOpError  # noqa: E402


def test_unsupported_op_names_node_type_and_custom_op_route(convert: Any) -> None:
    model = make_model(
        [node("Relu", ["x"], ["r"]), node("Einsum", ["r"], ["y"], equation="ij->ji")],
        {"x": [3, 4]},
        ["y"],
        opset=13,
    )
    with pytest.raises(UnsupportedOpError) as info:
        convert(model)
    message = str(info.value)
    assert "Einsum_y" in message and "'Einsum'" in message
    assert "add_custom_op" in message and "onnxop_factory" in message


def test_custom_domain_op_is_unsupported(convert: Any) -> None:
    custom = helper.make_node("MyOp", ["x"], ["y"], name="my_node", domain="com.example")
    graph = helper.make_graph(
        [custom],
        "g",
        [helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, 4, 8, 8])],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, [1, 4, 8, 8])],
    )
    model = helper.make_model(
        graph, opset_imports=[helper.make_opsetid("", 13), helper.make_opsetid("com.example", 1)]
    )
    model.ir_version = 8
    with pytest.raises(UnsupportedOpError, match="my_node.*MyOp.*com.example"):
        convert(model)


def test_dynamic_dims_ask_for_input_shapes(convert: Any) -> None:
    model = make_model([node("Relu", ["x"], ["y"])], {"x": ["batch", 4, "h", 8]}, ["y"])
    with pytest.raises(
        ConversionError, match=r"dynamic dimensions.*axis 0 \('batch'\).*input_shapes"
    ):
        convert(model)
    converter = convert(model, name="fixed", input_shapes=[[2, 4, 6, 8]])
    assert [op.shape for op in layer_ops(converter.module) if op.op == "tpu.relu"] == [[2, 4, 6, 8]]
    converter = convert(model, name="by_name", input_shapes={"x": [1, 4, 3, 8]})
    assert [op.shape for op in layer_ops(converter.module) if op.op == "tpu.relu"] == [[1, 4, 3, 8]]


def test_input_shapes_conflicting_with_model(convert: Any) -> None:
    model = make_model([node("Relu", ["x"], ["y"])], X, ["y"])
    with pytest.raises(ConversionError, match="fixes it to 4"):
        convert(model, input_shapes=[[1, 5, 8, 8]])
    with pytest.raises(ConversionError, match="unknown inputs"):
        convert(model, input_shapes={"nope": [1]})
    with pytest.raises(ConversionError, match="2 shapes but the model has 1 inputs"):
        convert(model, input_shapes=[[1], [2]])


def test_undefined_input_is_reported(convert: Any) -> None:
    model = make_model([node("Add", ["x", "ghost"], ["y"])], X, ["y"])
    with pytest.raises(ConversionError, match="ghost"):
        convert(model)


def test_unreadable_and_missing_files(tmp_path: Path) -> None:
    bad = tmp_path / "bad.onnx"
    bad.write_bytes(b"\x08\x07garbage that is not a protobuf \xff\xff\xff")
    with pytest.raises(ConversionError, match="cannot read ONNX model|malformed"):
        OnnxConverter("bad", bad, tmp_path / "bad.mlir").run()
    with pytest.raises(ConversionError, match="does not exist"):
        OnnxConverter("missing", tmp_path / "missing.onnx", tmp_path / "m.mlir")


def test_opset_out_of_range(convert: Any) -> None:
    model = make_model([node("Relu", ["x"], ["y"])], X, ["y"], opset=7)
    with pytest.raises(ConversionError, match="opset 7; supported opsets are 9 to"):
        convert(model)


def test_integer_input_rejected(convert: Any) -> None:
    graph = helper.make_graph(
        [node("Identity", ["x"], ["y"])],
        "g",
        [helper.make_tensor_value_info("x", TensorProto.INT64, [1, 4])],
        [helper.make_tensor_value_info("y", TensorProto.INT64, [1, 4])],
    )
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 13)])
    model.ir_version = 8
    with pytest.raises(ConversionError, match="element type INT64"):
        convert(model)


def test_non_constant_conv_weight(convert: Any) -> None:
    model = make_model(
        [node("Conv", ["x", "w"], ["y"])], {"x": [1, 4, 8, 8], "w": [2, 4, 3, 3]}, ["y"]
    )
    with pytest.raises(
        UnsupportedOpError, match=r"Conv_y.*input 1 \(filter\) 'w' must be a constant"
    ):
        convert(model)


def test_conv_channel_mismatch_caught_by_verifier(convert: Any) -> None:
    model = make_model([node("Conv", ["x", "w"], ["y"])], X, ["y"], {"w": rand(2, 3, 3, 3)})
    with pytest.raises(ConversionError, match="Conv_y"):
        convert(model)


def test_unsupported_forms_of_supported_ops(convert: Any) -> None:
    cases = {
        "pool indices": make_model(
            [helper.make_node("MaxPool", ["x"], ["y", "idx"], name="mp", kernel_shape=[2, 2])],
            X,
            ["y", "idx"],
        ),
        "negative step": make_model(
            [node("Slice", ["x", "s", "e", "a", "st"], ["y"])],
            X,
            ["y"],
            {
                "s": np.asarray([-1], np.int64),
                "e": np.asarray([-100], np.int64),
                "a": np.asarray([3], np.int64),
                "st": np.asarray([-1], np.int64),
            },
        ),
        "cubic resize": make_model(
            [node("Resize", ["x", "", "sc"], ["y"], mode="cubic")],
            X,
            ["y"],
            {"sc": np.asarray([1, 1, 2, 2], np.float32)},
        ),
        "nearest downscale": make_model(
            [node("Resize", ["x", "", "sc"], ["y"], mode="nearest")],
            X,
            ["y"],
            {"sc": np.asarray([1, 1, 0.5, 0.5], np.float32)},
        ),
        "wrap pad": make_model(
            [node("Pad", ["x", "p"], ["y"], mode="wrap")],
            X,
            ["y"],
            {"p": np.asarray([0, 0, 1, 1, 0, 0, 1, 1], np.int64)},
            opset=19,
        ),
        "gather permutation": make_model(
            [node("Gather", ["x", "i"], ["y"], axis=1)],
            X,
            ["y"],
            {"i": np.asarray([2, 0], np.int64)},
        ),
    }
    for what, model in cases.items():
        with pytest.raises(UnsupportedOpError) as info:
            convert(model, name=what.replace(" ", "_"))
        assert "node '" in str(info.value), what


def test_no_silent_skip_of_unused_unsupported_node(convert: Any) -> None:
    """An unsupported node fails the conversion even when its output is unused."""
    model = make_model(
        [node("Relu", ["x"], ["y"]), node("Det", ["x"], ["unused"])], {"x": [4, 4]}, ["y"]
    )
    with pytest.raises(UnsupportedOpError, match="Det"):
        convert(model)


def test_graph_without_outputs(convert: Any) -> None:
    model = make_model([node("Relu", ["x"], ["y"])], X, [])
    with pytest.raises(ConversionError, match="no outputs"):
        convert(model)


def test_checker_rejects_unsorted_graph(convert: Any) -> None:
    model = make_model([node("Relu", ["r"], ["y"]), node("Relu", ["x"], ["r"])], X, ["y"])
    with pytest.raises(ConversionError):
        convert(model)


def test_preprocess_shape_mismatch(convert: Any) -> None:
    from tpuc.frontend import Preprocess

    model = make_model([node("Relu", ["x"], ["y"])], X, ["y"])
    with pytest.raises(ConversionError, match="3-channel"):
        convert(model, preprocess=Preprocess())


def test_onnx_model_proto_accepted_from_path(tmp_path: Path) -> None:
    model = make_model([node("Relu", ["x"], ["y"])], X, ["y"])
    path = tmp_path / "m.onnx"
    onnx.save(model, path)
    converter = OnnxConverter("m", path, tmp_path / "out" / "m.mlir")
    converter.run()
    assert (tmp_path / "out" / "m.mlir").is_file()
    assert (tmp_path / "out" / "m_weights.npz").is_file()
