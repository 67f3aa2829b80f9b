"""MLIRImporter: builds an fp32 `tpu` dialect module op by op, with its weight npz.

Every op is built through the generic `Operation.create` with an explicit result type, so the
importer does not depend on the signatures of the generated op builders.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from ..dialects import func
from ..dialects import tpu as tpu_dialect
from ..ir import (
    ArrayAttr,
    Attribute,
    BoolAttr,
    DenseF32ArrayAttr,
    DenseI64ArrayAttr,
    DictAttr,
    F32Type,
    FloatAttr,
    FunctionType,
    InsertionPoint,
    IntegerAttr,
    IntegerType,
    Location,
    MLIRError,
    Module,
    Operation,
    OpView,
    RankedTensorType,
    StringAttr,
    TypeAttr,
    Value,
)

AttrValue = Attribute | bool | int | float | str | Sequence[int] | Sequence[float] | np.ndarray


class MLIRBuildError(ValueError):
    """An op could not be built or does not verify; the message names the layer."""


def to_attribute(value: AttrValue) -> Attribute:
    """Python value -> attribute of the kind the tpu dialect uses: bool -> BoolAttr, int -> i64,
    float -> f32, str -> StringAttr, list of ints -> DenseI64ArrayAttr, list of floats ->
    DenseF32ArrayAttr, dict -> DictAttr. Attributes pass through."""
    if isinstance(value, Attribute):
        return value
    if isinstance(value, (bool, np.bool_)):
        return BoolAttr.get(bool(value))
    if isinstance(value, (int, np.integer)):
        return IntegerAttr.get(IntegerType.get_signless(64), int(value))
    if isinstance(value, (float, np.floating)):
        return FloatAttr.get(F32Type.get(), float(value))
    if isinstance(value, str):
        return StringAttr.get(value)
    if isinstance(value, Mapping):
        return DictAttr.get({str(k): to_attribute(v) for k, v in value.items()})
    if isinstance(value, (Sequence, np.ndarray)):
        items = (
            list(np.asarray(value).reshape(-1)) if isinstance(value, np.ndarray) else list(value)
        )
        if all(isinstance(v, (int, np.integer)) and not isinstance(v, bool) for v in items):
            return DenseI64ArrayAttr.get([int(v) for v in items])
        if all(isinstance(v, (int, float, np.integer, np.floating)) for v in items):
            return DenseF32ArrayAttr.get([float(v) for v in items])
        if all(isinstance(v, str) for v in items):
            return ArrayAttr.get([StringAttr.get(v) for v in items])
    raise TypeError(f"cannot turn {value!r} ({type(value).__name__}) into an attribute")


def as_value(op_or_value: Value | OpView | Operation) -> Value:
    """The single result of an op, or the value itself."""
    if isinstance(op_or_value, Value):
        return op_or_value
    operation = op_or_value.operation if isinstance(op_or_value, OpView) else op_or_value
    if len(operation.results) != 1:
        raise ValueError(f"{operation.name} has {len(operation.results)} results, expected one")
    return operation.results[0]


def shape_of(value: Value) -> list[int]:
    return list(RankedTensorType(value.type).shape)


class MLIRImporter:
    """Builds one function `main` in a module with attribute `tpu.weight_file`.

    Typical use (inside `with context, Location.unknown():`)::

        imp = MLIRImporter("net", input_shapes={"data": [1, 3, 224, 224]})
        x = imp.input_values["data"]
        w = imp.add_weight("conv_w", np.zeros((8, 3, 3, 3), np.float32))
        y = imp.add_op("tpu.conv_2d", [x, w], [1, 8, 222, 222], name="conv",
                       attrs={"strides": [1, 1], "pads": [0, 0, 0, 0], "dilations": [1, 1]})
        imp.set_outputs([y])
        imp.write("net.mlir", "net_weights.npz")
    """

    def __init__(
        self,
        model_name: str,
        input_shapes: Mapping[str, Sequence[int]],
        *,
        input_preprocess: Mapping[str, Mapping[str, Any]] | None = None,
        func_name: str = "main",
    ) -> None:
        self.model_name = model_name
        self.f32 = F32Type.get()
        self.module = Module.create()
        self.module.operation.attributes["tpu.model_name"] = StringAttr.get(model_name)
        self.weights: dict[str, np.ndarray] = {}
        self._weight_values: dict[str, Value] = {}
        self._layer_names: set[str] = set()
        input_types = [self.tensor_type(shape) for shape in input_shapes.values()]
        with InsertionPoint(self.module.body):
            self.func = func.FuncOp(func_name, FunctionType.get(input_types, []))
        self.entry = self.func.add_entry_block()
        self.ip = InsertionPoint(self.entry)
        self.input_values: dict[str, Value] = {}
        preprocess = input_preprocess or {}
        for (name, _), arg in zip(input_shapes.items(), self.entry.arguments, strict=True):
            attrs: dict[str, AttrValue] = {}
            if name in preprocess:
                attrs["preprocess"] = to_attribute(dict(preprocess[name]))
            self.input_values[name] = self.add_op(
                "tpu.input", [arg], list(input_shapes[name]), name=name, attrs=attrs
            )
        self.outputs: list[Value] = []

    def tensor_type(self, shape: Sequence[int]) -> RankedTensorType:
        return RankedTensorType.get([int(d) for d in shape], self.f32)

    # -- building ops ----------------------------------------------------------------------

    def add_op(
        self,
        op_name: str,
        operands: Sequence[Value | OpView | Operation],
        output_shape: Sequence[int],
        *,
        name: str,
        attrs: Mapping[str, AttrValue] | None = None,
        loc: Location | str | None = None,
        verify: bool = True,
    ) -> Value:
        """Appends layer op `op_name` (e.g. "tpu.conv_2d") with layer name `name` and one f32
        result of `output_shape`; returns the result. Raises MLIRBuildError when it does not
        verify."""
        attributes = {key: to_attribute(value) for key, value in (attrs or {}).items()}
        attributes["name"] = StringAttr.get(name)
        location = (
            Location.name(loc if isinstance(loc, str) else name)
            if not isinstance(loc, Location)
            else loc
        )
        result_type = self.tensor_type(output_shape)
        with location:
            op = Operation.create(
                op_name,
                results=[result_type],
                operands=[as_value(v) for v in operands],
                attributes=attributes,
                ip=self.ip,
            )
        self._layer_names.add(name)
        if verify:
            self._verify(op, f"layer '{name}' ({op_name})")
        return op.results[0]

    def add_weight(self, name: str, data: np.ndarray) -> Value:
        """Records `data` (as float32) as weight `name` and returns its `tpu.load_weight`. The same
        name with the same data returns the same value; different data under a taken name gets a
        fresh name."""
        array = np.ascontiguousarray(np.asarray(data, dtype=np.float32))
        if name in self.weights:
            known = self.weights[name]
            if known.shape == array.shape and np.array_equal(known, array, equal_nan=True):
                return self._weight_values[name]
            name = self.unique_weight_name(name)
        self.weights[name] = array
        with Location.name(name):
            op = Operation.create(
                "tpu.load_weight",
                results=[self.tensor_type(array.shape)],
                attributes={"name": StringAttr.get(name)},
                ip=self._weight_insertion_point(),
            )
        self._verify(op, f"weight '{name}'")
        self._weight_values[name] = op.results[0]
        return op.results[0]

    def unique_weight_name(self, base: str) -> str:
        candidate, index = base, 1
        while candidate in self.weights:
            candidate = f"{base}_{index}"
            index += 1
        return candidate

    def add_custom_op(
        self,
        op_name: str,
        inputOperands: Sequence[Value | OpView | Operation],  # noqa: N803 (vendor spelling)
        output_tensor_shape: Sequence[int],
        operation_name: str | None = None,
        do_quant: bool = True,
        tpu: bool = True,
        threshold_overwrite: str = "none",
        param: Mapping[str, tpu_dialect.ParamValue] | None = None,
        **kwargs: Any,
    ) -> Value:
        """The vendor template `tpu.custom_op`: `op_name` is the layer name, `operation_name` the
        plugin op (defaults to `op_name`), `param` a dict of int / float / bool / str values or
        lists of them. The result element type follows the first input."""
        if kwargs:
            raise TypeError(
                f"add_custom_op('{op_name}'): unexpected argument(s) {sorted(kwargs)}; expected "
                "operation_name, do_quant, tpu, threshold_overwrite, param"
            )
        if not op_name:
            raise MLIRBuildError("add_custom_op: op_name (the layer name) must not be empty")
        inputs = [as_value(v) for v in inputOperands]
        with self.ip, Location.name(op_name):
            op = tpu_dialect.custom_op(
                op_name,
                inputs,
                [int(d) for d in output_tensor_shape],
                operation_name=operation_name or op_name,
                param=dict(param or {}),
                tpu=bool(tpu),
                do_quant=bool(do_quant),
                threshold_overwrite=threshold_overwrite,
            )
        self._layer_names.add(op_name)
        self._verify(op.operation, f"custom op '{op_name}'")
        return op.result

    # -- finishing -------------------------------------------------------------------------

    def set_outputs(self, outputs: Sequence[Value | OpView | Operation]) -> None:
        """Ends the function with `func.return` of `outputs` and sets its type."""
        values = [as_value(v) for v in outputs]
        with Location.unknown():
            func.ReturnOp(values, ip=self.ip)
        inputs = list(FunctionType(TypeAttr(self.func.attributes["function_type"]).value).inputs)
        self.func.attributes["function_type"] = TypeAttr.get(
            FunctionType.get(inputs, [v.type for v in values])
        )
        self.outputs = values

    def remove_dead_ops(self) -> int:
        """Erases ops whose results are unused (walking backwards); returns how many."""
        removed = 0
        changed = True
        while changed:
            changed = False
            for op in reversed(list(self.entry.operations)):
                operation = op.operation
                if operation.name in ("func.return", "tpu.input") or not operation.results:
                    continue
                if all(_has_no_uses(r) for r in operation.results):
                    if operation.name == "tpu.load_weight":
                        weight = StringAttr(operation.attributes["name"]).value
                        self.weights.pop(weight, None)
                        self._weight_values.pop(weight, None)
                    operation.erase()
                    removed += 1
                    changed = True
        return removed

    def verify(self) -> None:
        self._verify(self.module.operation, f"module '{self.model_name}'")

    def write(self, mlir_file: str | Path, weight_file: str | Path) -> None:
        """Writes the weights npz and the module (with `tpu.weight_file` = absolute npz path)."""
        weight_path = Path(weight_file).resolve()
        weight_path.parent.mkdir(parents=True, exist_ok=True)
        np.savez(weight_path, **self.weights)
        self.module.operation.attributes["tpu.weight_file"] = StringAttr.get(str(weight_path))
        Path(mlir_file).parent.mkdir(parents=True, exist_ok=True)
        Path(mlir_file).write_text(str(self.module))

    def print_module(self) -> str:
        return str(self.module)

    # -- internals -------------------------------------------------------------------------

    def _weight_insertion_point(self) -> InsertionPoint:
        """Weights go before the first non-input op so they dominate every use."""
        for op in self.entry.operations:
            if op.operation.name not in ("tpu.input", "tpu.load_weight"):
                return InsertionPoint(op)
        return self.ip

    @staticmethod
    def _verify(op: Operation | OpView, what: str) -> None:
        operation = op.operation if isinstance(op, OpView) else op
        try:
            operation.verify()
        except MLIRError as error:
            details = "; ".join(str(d.message) for d in error.error_diagnostics) or str(error)
            raise MLIRBuildError(f"{what} does not verify: {details}") from None


def _has_no_uses(value: Value) -> bool:
    return next(iter(value.uses), None) is None
