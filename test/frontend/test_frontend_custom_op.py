"""The custom-op route of the vendor guide: a converter subclass registers a handler that calls
add_custom_op."""

from __future__ import annotations

from typing import Any

import pytest
from frontend_util import check_weights, layer_ops, require_frontend

require_frontend()

from frontend_cases import X, make_model, node, rand  # noqa: E402
from tpuc.frontend import OnnxConverter, OnnxNode, TensorType  # noqa: E402


class LeakyReluAsCustomOp(OnnxConverter):
    """The guide's first example: LeakyRelu becomes a TPU custom op."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.onnxop_factory["LeakyRelu"] = self.convert_leaky_relu_custom

    def convert_leaky_relu_custom(self, onnx_node: OnnxNode) -> None:
        op, input_shape, tensor_type = self.getOperand(onnx_node.inputs[0])
        assert tensor_type == TensorType.ACTIVATION
        custom = self.CVI.add_custom_op(
            f"{onnx_node.name}_{onnx_node.op_type}",
            [op],
            input_shape,
            operation_name="leaky_relu",
            do_quant=True,
            tpu=True,
            threshold_overwrite="backward",
            param={"negative_slope": float(onnx_node.attrs.get("alpha", 0.01))},
        )
        self.addOperand(onnx_node.name, custom, input_shape, TensorType.ACTIVATION)


class SoftmaxAsCpuOp(OnnxConverter):
    """The guide's third example: Softmax as a CPU op, plus a param of every kind."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.onnxop_factory["Softmax"] = self.convert_softmax_cpu

    def convert_softmax_cpu(self, onnx_node: OnnxNode) -> None:
        op, shape, _ = self.getOperand(onnx_node.inputs[0])
        out = self.mlir.add_custom_op(
            onnx_node.name,
            [op],
            shape,
            operation_name="mysoftmax",
            tpu=False,
            do_quant=False,
            param={
                "axis": int(onnx_node.attrs.get("axis", -1)),
                "beta": 1.5,
                "log": False,
                "tag": "cpu",
                "dims": [1, 2, 3],
                "weights": [0.5, 0.25],
                "flags": [True, False],
                "names": ["a", "b"],
            },
        )
        self.addOperand(onnx_node.name, out, shape, TensorType.ACTIVATION)


def test_leaky_relu_custom_op(tmp_path: Any) -> None:
    model = make_model(
        [node("Conv", ["x", "w"], ["c"]), node("LeakyRelu", ["c"], ["y"], alpha=0.1)],
        X,
        ["y"],
        {"w": rand(4, 4, 1, 1)},
    )
    converter = LeakyReluAsCustomOp("yolo", model, tmp_path / "yolo.mlir")
    converter.run()
    ops = {op.name: op for op in layer_ops(converter.module)}
    custom = ops["y_LeakyRelu"]
    assert custom.op == "tpu.custom_op"
    assert custom.attrs["operation_name"] == '"leaky_relu"'
    assert custom.attrs["threshold_overwrite"] == '"backward"'
    assert custom.attrs["tpu"] == "true" and custom.attrs["do_quant"] == "true"
    assert "negative_slope = 1.000000e-01 : f32" in custom.attrs["param"]
    assert custom.shape == [1, 4, 8, 8]
    check_weights(converter)
    text = converter.mlir_file.read_text()
    assert "tpu.custom_op" in text and "tpu.leaky_relu" not in text


def test_cpu_custom_op_with_every_param_kind(tmp_path: Any) -> None:
    model = make_model([node("Softmax", ["x"], ["y"], axis=1)], X, ["y"])
    converter = SoftmaxAsCpuOp("net", model, tmp_path / "net.mlir")
    converter.run()
    custom = next(op for op in layer_ops(converter.module) if op.op == "tpu.custom_op")
    param = custom.attrs["param"]
    for fragment in (
        "axis = 1 : i32",
        "beta = 1.500000e+00 : f32",
        "log = false",
        'tag = "cpu"',
        "dims = [1 : i32, 2 : i32, 3 : i32]",
        "flags = [true, false]",
        'names = ["a", "b"]',
    ):
        assert fragment in param, (fragment, param)
    assert custom.attrs["tpu"] == "false" and custom.attrs["do_quant"] == "false"


def test_add_custom_op_rejects_bad_arguments(tmp_path: Any) -> None:
    class Bad(OnnxConverter):
        def __init__(self, mode: str, *args: Any) -> None:
            super().__init__(*args)
            self.mode = mode
            self.onnxop_factory["Relu"] = self.convert_bad

        def convert_bad(self, onnx_node: OnnxNode) -> None:
            op, shape, _ = self.getOperand(onnx_node.inputs[0])
            kwargs: dict[str, Any] = {"operation_name": "x"}
            if self.mode == "mixed":
                kwargs["param"] = {"v": [1, "a"]}
            elif self.mode == "dict":
                kwargs["param"] = {"v": {"nested": 1}}
            else:
                kwargs["threshold_overwrite"] = "sideways"
            out = self.mlir.add_custom_op(onnx_node.name, [op], shape, **kwargs)
            self.addOperand(onnx_node.name, out, shape)

    model = make_model([node("Relu", ["x"], ["y"])], X, ["y"])
    for mode, pattern in (
        ("mixed", "mixes value types"),
        ("dict", "unsupported value"),
        ("overwrite", "none, forward or backward"),
    ):
        with pytest.raises(Exception, match=pattern) as info:
            Bad(mode, "m", model, tmp_path / f"{mode}.mlir").run()
        assert isinstance(info.value, (TypeError, ValueError))


def test_replacing_a_builtin_handler_and_adding_new_type(tmp_path: Any) -> None:
    """A subclass can add a handler for an op type the converter does not know."""

    class WithDet(OnnxConverter):
        def __init__(self, *args: Any) -> None:
            super().__init__(*args)
            self.onnxop_factory["Det"] = self.convert_det

        def convert_det(self, onnx_node: OnnxNode) -> None:
            op, shape, _ = self.getOperand(onnx_node.inputs[0])
            out = self.mlir.add_custom_op(
                f"{onnx_node.name}",
                [op],
                shape[:-2],
                operation_name="det",
                tpu=False,
                do_quant=False,
            )
            self.addOperand(onnx_node.name, out, shape[:-2])

    model = make_model([node("Det", ["x"], ["y"])], {"x": [2, 3, 3]}, ["y"])
    converter = WithDet("d", model, tmp_path / "d.mlir")
    converter.run()
    custom = next(op for op in layer_ops(converter.module) if op.op == "tpu.custom_op")
    assert custom.shape == [2] and custom.name == "y"


def test_replaced_handler_disables_patterns_over_it(tmp_path: Any) -> None:
    """x * Sigmoid(x) stays two layers when Sigmoid is a custom op."""

    class CustomSigmoid(OnnxConverter):
        def __init__(self, *args: Any) -> None:
            super().__init__(*args)
            self.onnxop_factory["Sigmoid"] = self.convert_sigmoid_custom

        def convert_sigmoid_custom(self, onnx_node: OnnxNode) -> None:
            op, shape, _ = self.getOperand(onnx_node.inputs[0])
            out = self.mlir.add_custom_op(onnx_node.name, [op], shape, operation_name="my_sigmoid")
            self.addOperand(onnx_node.name, out, shape)

    model = make_model([node("Sigmoid", ["x"], ["s"]), node("Mul", ["x", "s"], ["y"])], X, ["y"])
    converter = CustomSigmoid("s", model, tmp_path / "s.mlir")
    converter.run()
    ops = {op.name: op.op for op in layer_ops(converter.module)}
    assert ops["s"] == "tpu.custom_op" and ops["y"] == "tpu.eltwise_mul"
