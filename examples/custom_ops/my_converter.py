"""The converter of docs/custom-ops.md: ONNX LeakyRelu becomes the TPU custom op `leaky_relu`
and Softmax the CPU custom op `mysoftmax` of this folder's plugin.

    cvi_model_convert --model_path model.onnx --model_name model --mlir_file_path model.mlir \\
        --converter examples/custom_ops/my_converter.py:MyConverter
"""

from __future__ import annotations

from typing import Any

from tpuc.frontend.onnx_converter import OnnxConverter, TensorType


class MyConverter(OnnxConverter):
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.onnxop_factory["LeakyRelu"] = self.convert_leaky_relu_custom
        self.onnxop_factory["Softmax"] = self.convert_softmax_custom

    def convert_leaky_relu_custom(self, node: Any) -> None:
        op, shape, _ = self.getOperand(node.inputs[0])
        out = self.mlir.add_custom_op(
            f"{node.name}_{node.op_type}",
            [op],
            shape,
            operation_name="leaky_relu",
            do_quant=True,
            tpu=True,
            threshold_overwrite="backward",
            param={"negative_slope": float(node.attrs.get("alpha", 0.01))},
        )
        self.addOperand(node.name, out, shape, TensorType.ACTIVATION)

    def convert_softmax_custom(self, node: Any) -> None:
        op, shape, _ = self.getOperand(node.inputs[0])
        out = self.mlir.add_custom_op(
            f"{node.name}_{node.op_type}",
            [op],
            shape,
            operation_name="mysoftmax",
            do_quant=False,
            tpu=False,
            param={"axis": int(node.attrs.get("axis", 1))},
        )
        self.addOperand(node.name, out, shape, TensorType.ACTIVATION)
