"""Python view of the tpu dialect: the generated op classes plus small helpers."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from .._mlir_libs._tpuc import register_dialects  # noqa: F401
from ..ir import (
    ArrayAttr,
    Attribute,
    BoolAttr,
    DictAttr,
    FloatAttr,
    F32Type,
    IntegerAttr,
    IntegerType,
    OpView,
    RankedTensorType,
    StringAttr,
    Value,
)
from ._tpu_ops_gen import *  # noqa: F403
from ._tpu_ops_gen import _Dialect  # noqa: F401
from ._tpu_ops_gen import CustomOp, _ods_ir

ParamValue = (
    int | float | bool | str | Sequence[int] | Sequence[float] | Sequence[bool] | Sequence[str]
)


def _restore_op_name(cls: type) -> None:
    """Every tpu op carries a `name` attribute (the layer name); the generated property of that
    name would hide OpView.name (the operation name, e.g. "tpu.conv_2d"). Keep OpView.name and
    expose the attribute as `layer_name`."""
    if "name" not in cls.__dict__:
        return
    delattr(cls, "name")

    def get_layer_name(self: OpView) -> str:
        return StringAttr(self.operation.attributes["name"]).value

    def set_layer_name(self: OpView, value: str) -> None:
        self.operation.attributes["name"] = StringAttr.get(value)

    cls.layer_name = property(get_layer_name, set_layer_name, doc="The layer (tensor) name.")


for _cls in list(globals().values()):
    if isinstance(_cls, type) and issubclass(_cls, OpView) and _cls is not OpView:
        _restore_op_name(_cls)


def _param_attr(key: str, value: ParamValue) -> Attribute:
    if isinstance(value, bool):
        return BoolAttr.get(value)
    if isinstance(value, int):
        return IntegerAttr.get(IntegerType.get_signless(32), value)
    if isinstance(value, float):
        return FloatAttr.get(F32Type.get(), value)
    if isinstance(value, str):
        return StringAttr.get(value)
    if isinstance(value, Sequence):
        items = list(value)
        kinds = {type(v) for v in items}
        if len(kinds) > 1:
            raise TypeError(
                f"param '{key}': list mixes value types {sorted(k.__name__ for k in kinds)}"
            )
        return ArrayAttr.get([_param_attr(key, v) for v in items])
    raise TypeError(
        f"param '{key}': unsupported value {value!r} of type {type(value).__name__} "
        "(expected int, float, bool, str or a list of them)"
    )


def param_dict(param: Mapping[str, ParamValue]) -> DictAttr:
    """Converts a Python dict of plugin parameters to the `param` DictionaryAttr."""
    return DictAttr.get({key: _param_attr(key, value) for key, value in param.items()})


def custom_op(
    name: str,
    inputs: Sequence[Value],
    output_shape: Sequence[int],
    *,
    operation_name: str,
    param: Mapping[str, ParamValue] | None = None,
    tpu: bool = True,
    do_quant: bool = True,
    threshold_overwrite: str = "none",
    quant: Mapping[str, Attribute] | None = None,
    layer_id: int | None = None,
) -> CustomOp:
    """Builds a `tpu.custom_op` at the current insertion point. The result element type follows the
    first input, as in the vendor template."""
    if not inputs:
        raise ValueError(f"custom op '{name}': needs at least one input")
    if threshold_overwrite not in ("none", "forward", "backward"):
        raise ValueError(
            f"custom op '{name}': threshold_overwrite must be none, forward or backward, "
            f"got {threshold_overwrite!r}"
        )
    element_type = RankedTensorType(inputs[0].type).element_type
    result_type = RankedTensorType.get(list(output_shape), element_type)
    quant_attr = DictAttr.get(dict(quant) if quant else {"mode": StringAttr.get("NONE")})
    op = CustomOp(
        result_type,
        list(inputs),
        name,
        param_dict(param or {}),
        tpu,
        do_quant,
        quant_attr,
        threshold_overwrite=threshold_overwrite,
        layer_id=layer_id,
    )
    op.operation.attributes["operation_name"] = StringAttr.get(operation_name)
    return op


__all__ = [name for name in dir() if not name.startswith("_")] + ["_Dialect"]
del _cls
_ = _ods_ir
