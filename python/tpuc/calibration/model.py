"""What calibration needs to know about an fp32 tpu module: its inputs and its layer tensors."""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

WEIGHT_OPS = frozenset({"tpu.load_weight"})
"""tpu ops with a `name` that are not layers (their `name` names a weight array)."""


class ModelError(ValueError):
    """The module cannot be calibrated (no inputs, duplicate layer names, unreadable file...)."""


@dataclass(frozen=True)
class ModelInput:
    """A `tpu.input` op: the tensor name, its shape and element type, and its preprocessing."""

    name: str
    shape: tuple[int, ...]
    element_type: str
    preprocess: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class LayerInfo:
    """A tpu layer op: its tensor name, operation name and (for custom ops) threshold_overwrite
    plus the name of the layer producing its first operand, if any, and the names of the layers
    producing each of its operands (weights and block arguments left out)."""

    name: str
    op: str
    threshold_overwrite: str = "none"
    producer: str | None = None
    operands: tuple[str, ...] = ()


@dataclass(frozen=True)
class ModelInfo:
    inputs: tuple[ModelInput, ...]
    layers: tuple[LayerInfo, ...]
    outputs: tuple[str, ...] = ()
    """Names of the layers whose results the function returns."""

    @property
    def layer_names(self) -> list[str]:
        return [layer.name for layer in self.layers]


def parse_module(source: Any) -> Any:
    """An `ir.Module` from a Module (returned as is) or the path of a .mlir file.

    A parsed module owns a new Context, kept alive as the module's `context`."""
    from ..ir import Context, Module

    if isinstance(source, Module):
        return source
    if not isinstance(source, str | os.PathLike):
        raise TypeError(f"expected an ir.Module or the path of a .mlir file, got {type(source)}")
    path = Path(source)
    try:
        text = path.read_text()
    except OSError as error:
        raise ModelError(f"cannot read model '{path}': {error.strerror or error}") from None
    except UnicodeDecodeError:
        raise ModelError(f"model '{path}' is not a text .mlir file") from None
    context = Context()
    try:
        return Module.parse(text, context)
    except Exception as error:  # MLIRError carries the diagnostics
        raise ModelError(f"cannot parse model '{path}': {error}") from None


def attribute_to_python(attr: Any) -> Any:
    """bool/int/float/str, lists and dicts from builtin attributes (dense arrays give lists)."""
    from .. import ir

    if isinstance(attr, ir.BoolAttr):
        return bool(attr.value)
    if isinstance(attr, ir.IntegerAttr):
        return int(attr.value)
    if isinstance(attr, ir.FloatAttr):
        return float(attr.value)
    if isinstance(attr, ir.StringAttr):
        return str(attr.value)
    if isinstance(attr, ir.DictAttr):
        return {named.name: attribute_to_python(named.attr) for named in _dict_items(attr)}
    if isinstance(attr, ir.ArrayAttr):
        return [attribute_to_python(item) for item in attr]
    dense_arrays = tuple(
        getattr(ir, kind)
        for kind in (
            "DenseBoolArrayAttr",
            "DenseI8ArrayAttr",
            "DenseI16ArrayAttr",
            "DenseI32ArrayAttr",
            "DenseI64ArrayAttr",
            "DenseF32ArrayAttr",
            "DenseF64ArrayAttr",
        )
        if hasattr(ir, kind)
    )
    if isinstance(attr, dense_arrays):
        return list(attr)
    if isinstance(attr, ir.DenseElementsAttr):
        import numpy as np

        return np.array(attr).tolist()
    raise ModelError(f"unsupported attribute in preprocess settings: {attr}")


def _dict_items(attr: Any) -> list[Any]:
    return [attr[i] for i in range(len(attr))]


def inspect_module(module: Any) -> ModelInfo:
    """Collects the `tpu.input` ops and every tpu layer op (in program order).

    Raises ModelError when two layers share a name (their rows would collide in the table)
    or when the module has no `tpu.input`."""
    from .. import ir

    operations: list[Any] = []

    returned: list[str] = []

    def visit(operation: Any) -> Any:
        op_name = operation.name
        if op_name in ("func.return", "return"):
            returned.extend(n for n in (_owner_name(v) for v in operation.operands) if n)
        if op_name.startswith("tpu.") and op_name not in WEIGHT_OPS:
            if "name" in operation.attributes:
                operations.append(operation)
        return ir.WalkResult.ADVANCE

    module.operation.walk(visit)

    inputs: list[ModelInput] = []
    layers: list[LayerInfo] = []
    seen: dict[str, str] = {}
    for operation in operations:
        op_name = operation.name
        attributes = operation.attributes
        name = str(ir.StringAttr(attributes["name"]).value)
        if name in seen:
            raise ModelError(f"layer name '{name}' is used by both {seen[name]} and {op_name}")
        seen[name] = op_name
        overwrite = "none"
        if "threshold_overwrite" in attributes:
            overwrite = str(ir.StringAttr(attributes["threshold_overwrite"]).value)
        operands = tuple(n for n in (_owner_name(v) for v in operation.operands) if n)
        layers.append(LayerInfo(name, op_name, overwrite, _producer_name(operation), operands))
        if op_name == "tpu.input":
            result_type = ir.RankedTensorType(operation.results[0].type)
            preprocess: dict[str, Any] = {}
            if "preprocess" in attributes:
                preprocess = attribute_to_python(attributes["preprocess"])
            inputs.append(
                ModelInput(
                    name, tuple(result_type.shape), str(result_type.element_type), preprocess
                )
            )
    if not inputs:
        raise ModelError("the module has no tpu.input op; calibration needs the network inputs")
    return ModelInfo(tuple(inputs), tuple(layers), tuple(returned))


def _owner_name(value: Any) -> str | None:
    """Name of the layer producing `value` (None for a weight or a block argument)."""
    from .. import ir

    owner = value.owner
    if not isinstance(owner, ir.Operation | ir.OpView):
        return None
    owner = owner.operation if isinstance(owner, ir.OpView) else owner
    if "name" not in owner.attributes or owner.name in WEIGHT_OPS:
        return None
    if not owner.name.startswith("tpu."):
        return None
    return str(ir.StringAttr(owner.attributes["name"]).value)


def _producer_name(operation: Any) -> str | None:
    from .. import ir

    if len(operation.operands) == 0:
        return None
    owner = operation.operands[0].owner
    if not isinstance(owner, ir.Operation | ir.OpView):
        return None  # a block argument
    owner = owner.operation if isinstance(owner, ir.OpView) else owner
    if "name" not in owner.attributes or owner.name in WEIGHT_OPS:
        return None
    return str(ir.StringAttr(owner.attributes["name"]).value)
