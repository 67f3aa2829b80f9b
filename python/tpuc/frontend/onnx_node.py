"""A light view of an ONNX node for the converter handlers."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np
import onnx
from onnx import numpy_helper


def attribute_value(attr: onnx.AttributeProto) -> Any:
    """Python value of an ONNX attribute: str for strings, np.ndarray for tensors, lists for
    repeated fields."""
    value = onnx.helper.get_attribute_value(attr)
    if isinstance(value, bytes):
        return value.decode("utf-8")
    if isinstance(value, onnx.TensorProto):
        return numpy_helper.to_array(value)
    if isinstance(value, list):
        return [
            v.decode("utf-8")
            if isinstance(v, bytes)
            else numpy_helper.to_array(v)
            if isinstance(v, onnx.TensorProto)
            else v
            for v in value
        ]
    return value


@dataclass
class OnnxNode:
    """`name` is the first output (the tensor name our op carries), `node_name` the ONNX node's
    own name (used in error messages and locations), `attrs` the decoded attributes."""

    proto: onnx.NodeProto
    name: str
    node_name: str
    op_type: str
    domain: str
    inputs: list[str]
    outputs: list[str]
    attrs: dict[str, Any] = field(default_factory=dict)

    @classmethod
    def from_proto(cls, proto: onnx.NodeProto, index: int) -> OnnxNode:
        outputs = list(proto.output)
        first = outputs[0] if outputs else f"{proto.op_type}_{index}"
        return cls(
            proto=proto,
            name=first,
            node_name=proto.name or f"{proto.op_type}_{index}",
            op_type=proto.op_type,
            domain=proto.domain,
            inputs=list(proto.input),
            outputs=outputs,
            attrs={a.name: attribute_value(a) for a in proto.attribute},
        )

    def attr(self, key: str, default: Any = None) -> Any:
        return self.attrs.get(key, default)

    def input(self, index: int) -> str:
        """Name of input `index`, or "" when absent (optional inputs may be omitted)."""
        return self.inputs[index] if index < len(self.inputs) else ""

    def describe(self) -> str:
        return f"node '{self.node_name}' ({self.op_type})"


def ints(value: Any) -> list[int]:
    return [int(v) for v in np.asarray(value).reshape(-1)]
