"""ONNX -> fp32 `tpu` dialect.

One small method per ONNX op type, dispatched through the overridable dict `onnxop_factory`.
A model-specific converter adds or replaces handlers in a subclass, as in the custom-op guide::

    class MyConverter(OnnxConverter):
        def __init__(self, *args, **kwargs):
            super().__init__(*args, **kwargs)
            self.onnxop_factory["LeakyRelu"] = self.convert_leaky_relu_custom

        def convert_leaky_relu_custom(self, node):
            op, shape, _ = self.getOperand(node.inputs[0])
            out = self.mlir.add_custom_op(f"{node.name}_{node.op_type}", [op], shape,
                                          operation_name="leaky_relu",
                                          param={"negative_slope": node.attrs.get("alpha", 0.01)})
            self.addOperand(node.name, out, shape, TensorType.ACTIVATION)

Every op carries the ONNX output tensor name as `name`, so fp32 interpreter dumps pair with
run_onnx_inference dumps tensor by tensor.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping, Sequence
from enum import Enum
from pathlib import Path
from typing import Any

import numpy as np
import onnx
from onnx import numpy_helper

from ..ir import Context, Location, Module, Operation, OpView, Value
from . import shapes as shp
from .constant_folding import NOT_FOLDABLE, FoldError, fold_node
from .mlir_importer import MLIRBuildError, MLIRImporter, as_value
from .onnx_node import OnnxNode, ints
from .preprocess import Preprocess

MIN_OPSET = 9
MAX_OPSET = 21
FLT_MAX = float(np.finfo(np.float32).max)


class TensorType(Enum):
    """Kind of a converted tensor: an activation computed by ops, or a constant (weight)."""

    ACTIVATION = "ACTIVATION"
    TENSOR = "TENSOR"


class ConversionError(ValueError):
    """The model cannot be converted; the message names the node and what is wrong."""


class UnsupportedOpError(ConversionError):
    """No handler for an ONNX op type, or a form of an op the tpu dialect cannot express."""


Handler = Callable[[OnnxNode], None]
Operand = tuple[Value, list[int], TensorType]


def load_onnx(model_or_path: onnx.ModelProto | str | Path) -> onnx.ModelProto:
    if isinstance(model_or_path, onnx.ModelProto):
        return model_or_path
    path = Path(model_or_path)
    if not path.is_file():
        raise ConversionError(f"ONNX model '{path}' does not exist")
    try:
        return onnx.load(str(path))
    except Exception as error:  # protobuf decode errors have several types
        raise ConversionError(f"cannot read ONNX model '{path}': {error}") from error


class OnnxConverter:
    """Converts an ONNX model to a `tpu` dialect module `mlir_file` plus its weights
    `<model_name>_weights.npz` (next to the .mlir unless `weight_file` is given).

    input_shapes: static shapes for the inputs, as a list in input order or a dict by name;
    required when the model has dynamic dimensions.
    preprocess: a Preprocess (single-input models) or a dict input name -> Preprocess, recorded
    as the `preprocess` dictionary of the matching `tpu.input`.
    """

    def __init__(
        self,
        model_name: str,
        onnx_model_or_path: onnx.ModelProto | str | Path,
        mlir_file: str | Path,
        input_shapes: Sequence[Sequence[int]] | Mapping[str, Sequence[int]] | None = None,
        preprocess: Preprocess | Mapping[str, Preprocess] | None = None,
        weight_file: str | Path | None = None,
    ) -> None:
        if not model_name:
            raise ConversionError("model_name must not be empty")
        self.model_name = model_name
        self.model = load_onnx(onnx_model_or_path)
        self.mlir_file = Path(mlir_file)
        self.weight_file = (
            Path(weight_file)
            if weight_file is not None
            else self.mlir_file.parent / f"{model_name}_weights.npz"
        )
        self.input_shapes_arg = input_shapes
        self.preprocess_arg = preprocess
        self.ctx = Context()
        self.mlir: MLIRImporter | None = None
        self.module: Module | None = None
        self.opset = self._default_opset()
        self.tensors: dict[str, np.ndarray] = {}
        self.valueMap: dict[str, Operand] = {}  # noqa: N815 (vendor spelling)
        self.producers: dict[str, OnnxNode] = {}
        self.consumers: dict[str, list[OnnxNode]] = {}
        self.graph_outputs: set[str] = set()
        self.fused: dict[str, tuple[str, str]] = {}  # output -> (pattern, source tensor)
        self.skipped_nodes: set[str] = set()
        self.normalize_eps: dict[str, float] = {}
        self.onnxop_factory: dict[str, Handler] = {
            "Add": self.convert_add_op,
            "ArgMax": self.convert_argmax_op,
            "AveragePool": self.convert_avg_pool_op,
            "BatchNormalization": self.convert_batchnorm_op,
            "Cast": self.convert_cast_op,
            "Clip": self.convert_clip_op,
            "Concat": self.convert_concat_op,
            "Constant": self.convert_constant_op,
            "Conv": self.convert_conv_op,
            "ConvTranspose": self.convert_conv_transpose_op,
            "DepthToSpace": self.convert_depth_to_space_op,
            "Div": self.convert_div_op,
            "Dropout": self.convert_identity_op,
            "Exp": self.convert_exp_op,
            "Expand": self.convert_expand_op,
            "Flatten": self.convert_flatten_op,
            "Gather": self.convert_gather_op,
            "Gemm": self.convert_gemm_op,
            "GlobalAveragePool": self.convert_global_avg_pool_op,
            "GlobalMaxPool": self.convert_global_max_pool_op,
            "HardSigmoid": self.convert_hard_sigmoid_op,
            "HardSwish": self.convert_hard_swish_op,
            "Identity": self.convert_identity_op,
            "LeakyRelu": self.convert_leaky_relu_op,
            "LpNormalization": self.convert_lp_normalization_op,
            "LRN": self.convert_lrn_op,
            "MatMul": self.convert_matmul_op,
            "Max": self.convert_max_op,
            "MaxPool": self.convert_max_pool_op,
            "Min": self.convert_min_op,
            "Mish": self.convert_mish_op,
            "Mul": self.convert_mul_op,
            "Neg": self.convert_neg_op,
            "Pad": self.convert_pad_op,
            "Pow": self.convert_pow_op,
            "PRelu": self.convert_prelu_op,
            "Reciprocal": self.convert_reciprocal_op,
            "ReduceMean": self.convert_reduce_mean_op,
            "Relu": self.convert_relu_op,
            "Reshape": self.convert_reshape_op,
            "Resize": self.convert_resize_op,
            "Shape": self.convert_shape_op,
            "Sigmoid": self.convert_sigmoid_op,
            "Slice": self.convert_slice_op,
            "Softmax": self.convert_softmax_op,
            "SpaceToDepth": self.convert_space_to_depth_op,
            "Split": self.convert_split_op,
            "Sqrt": self.convert_sqrt_op,
            "Squeeze": self.convert_squeeze_op,
            "Sub": self.convert_sub_op,
            "Sum": self.convert_sum_op,
            "Tanh": self.convert_tanh_op,
            "Transpose": self.convert_transpose_op,
            "Unsqueeze": self.convert_unsqueeze_op,
            "Upsample": self.convert_upsample_op,
        }

    # ------------------------------------------------------------------------------------
    # Driver
    # ------------------------------------------------------------------------------------

    @property
    def CVI(self) -> MLIRImporter:  # noqa: N802 (vendor spelling)
        """The MLIR importer (also `self.mlir`)."""
        return self._importer()

    def run(self) -> Module:
        """Converts, verifies and writes the .mlir and weight files; returns the module."""
        with self.ctx, Location.unknown():
            self._check_model()
            graph = self.model.graph
            for init in graph.initializer:
                self.addTensor(init.name, numpy_helper.to_array(init))
            input_shapes = self._resolve_input_shapes()
            self.mlir = MLIRImporter(
                self.model_name, input_shapes, input_preprocess=self._preprocess_dicts(input_shapes)
            )
            for name, value in self.mlir.input_values.items():
                self.addOperand(name, value, list(input_shapes[name]), TensorType.ACTIVATION)
            nodes = [OnnxNode.from_proto(proto, i) for i, proto in enumerate(graph.node)]
            self._index_graph(nodes)
            self._match_patterns(nodes)
            for node in nodes:
                if node.node_name not in self.skipped_nodes:
                    self.convert_node(node)
            self.mlir.set_outputs([self._graph_output(o.name) for o in graph.output])
            self.mlir.remove_dead_ops()
            try:
                self.mlir.verify()
            except MLIRBuildError as error:
                raise ConversionError(str(error)) from None
            self.mlir.write(self.mlir_file, self.weight_file)
            self.module = self.mlir.module
        return self.module

    def convert_node(self, node: OnnxNode) -> None:
        """Converts one node: folds it when all its inputs are constants, else calls the handler
        registered for its op type."""
        for name in node.inputs:
            if (
                node.name in self.fused
                and self.producers.get(name) is not None
                and (self.producers[name].node_name in self.skipped_nodes)
            ):
                continue  # computed inside the fused pattern
            if name and name not in self.valueMap and name not in self.tensors:
                raise ConversionError(
                    f"{node.describe()}: input '{name}' is not produced by any earlier node, "
                    "initializer or graph input (is the graph topologically sorted?)"
                )
        if self._try_fold(node):
            return
        handler = self.onnxop_factory.get(node.op_type)
        if handler is None:
            raise UnsupportedOpError(
                f"{node.describe()}: ONNX op type '{node.op_type}'"
                f"{' of domain ' + repr(node.domain) if node.domain else ''} is not supported. "
                "Add it as a custom op: subclass OnnxConverter, register a handler with "
                f"self.onnxop_factory['{node.op_type}'] = self.convert_my_op, and in it call "
                "self.mlir.add_custom_op(...) and self.addOperand(...)"
            )
        try:
            handler(node)
        except ConversionError:
            raise
        except (MLIRBuildError, ValueError, KeyError, IndexError, TypeError) as error:
            raise ConversionError(f"{node.describe()}: {error}") from error
        for out in node.outputs:
            if out and out not in self.valueMap and out not in self.tensors:
                if self.consumers.get(out) or out in self.graph_outputs:
                    raise ConversionError(
                        f"{node.describe()}: output '{out}' is used but the handler did not "
                        "define it"
                    )

    # ------------------------------------------------------------------------------------
    # Operand API (vendor names)
    # ------------------------------------------------------------------------------------

    def addOperand(  # noqa: N802
        self,
        op_name: str,
        op: Value | OpView | Operation,
        shape: Sequence[int],
        tensor_type: TensorType = TensorType.ACTIVATION,
    ) -> None:
        """Records the MLIR value of tensor `op_name`."""
        self.valueMap[op_name] = (as_value(op), [int(d) for d in shape], tensor_type)

    def getOperand(self, op_name: str) -> Operand:  # noqa: N802
        """(value, shape, TensorType) of a tensor; a constant becomes a `tpu.load_weight`."""
        if op_name in self.valueMap:
            return self.valueMap[op_name]
        if op_name in self.tensors:
            data = self.tensors[op_name]
            value = self._importer().add_weight(op_name, data)
            self.valueMap[op_name] = (value, list(data.shape), TensorType.TENSOR)
            return self.valueMap[op_name]
        raise ConversionError(f"tensor '{op_name}' is not defined")

    def addTensor(self, op_name: str, data: np.ndarray) -> None:  # noqa: N802
        """Records a constant tensor."""
        self.tensors[op_name] = np.asarray(data)

    def getTensor(self, op_name: str) -> np.ndarray:  # noqa: N802
        if op_name not in self.tensors:
            raise ConversionError(f"tensor '{op_name}' is not a constant")
        return self.tensors[op_name]

    def isTensor(self, op_name: str) -> bool:  # noqa: N802
        return op_name in self.tensors

    # ------------------------------------------------------------------------------------
    # Helpers for handlers
    # ------------------------------------------------------------------------------------

    def _importer(self) -> MLIRImporter:
        if self.mlir is None:
            raise ConversionError("the MLIR importer exists only while run() converts")
        return self.mlir

    def activation(self, node: OnnxNode, index: int) -> tuple[Value, list[int]]:
        """Value and shape of input `index` (a constant input becomes a weight)."""
        name = node.input(index)
        if not name:
            raise ConversionError(f"{node.describe()}: input {index} is missing")
        value, shape, _ = self.getOperand(name)
        return value, shape

    def constant(self, node: OnnxNode, index: int, what: str) -> np.ndarray:
        name = node.input(index)
        if not name:
            raise ConversionError(f"{node.describe()}: input {index} ({what}) is missing")
        if name not in self.tensors:
            raise UnsupportedOpError(
                f"{node.describe()}: input {index} ({what}) '{name}' must be a constant "
                "(initializer or Constant node); computed values are not supported there"
            )
        return self.tensors[name]

    def optional_constant(self, node: OnnxNode, index: int, what: str) -> np.ndarray | None:
        return self.constant(node, index, what) if node.input(index) else None

    def emit(
        self,
        node: OnnxNode,
        op_name: str,
        operands: Sequence[Value],
        shape: Sequence[int],
        attrs: Mapping[str, Any] | None = None,
        *,
        name: str | None = None,
        register: bool = True,
    ) -> Value:
        """Builds op `op_name` named `name` (default: the node's first output) and records it."""
        layer = name or node.name
        value = self._importer().add_op(
            op_name, operands, shape, name=layer, attrs=attrs, loc=node.node_name
        )
        if register:
            self.addOperand(layer, value, shape, TensorType.ACTIVATION)
        return value

    def weight(self, name: str, data: np.ndarray) -> Value:
        return self._importer().add_weight(name, data)

    def emit_unary(
        self, node: OnnxNode, op_name: str, attrs: Mapping[str, Any] | None = None
    ) -> None:
        value, shape = self.activation(node, 0)
        self.emit(node, op_name, [value], shape, attrs)

    def alias(self, node: OnnxNode, source: str) -> None:
        """The node's output is the tensor `source`; a graph output gets a copy op of its name."""
        value, shape, kind = self.getOperand(source)
        if node.name in self.graph_outputs:
            self.emit(node, "tpu.reshape", [value], shape)
        else:
            self.addOperand(node.name, value, shape, kind)

    # ------------------------------------------------------------------------------------
    # Graph-level preparation
    # ------------------------------------------------------------------------------------

    def _default_opset(self) -> int:
        for opset in self.model.opset_import:
            if opset.domain in ("", "ai.onnx"):
                return int(opset.version)
        raise ConversionError("the model imports no version of the default ONNX domain")

    def _check_model(self) -> None:
        if not MIN_OPSET <= self.opset <= MAX_OPSET:
            raise ConversionError(
                f"model uses ONNX opset {self.opset}; supported opsets are {MIN_OPSET} to "
                f"{MAX_OPSET} (convert it with onnx.version_converter first)"
            )
        try:
            onnx.checker.check_model(self.model)
        except onnx.checker.ValidationError as error:
            raise ConversionError(f"malformed ONNX model: {error}") from None
        if not self.model.graph.output:
            raise ConversionError("the ONNX graph has no outputs")

    def _resolve_input_shapes(self) -> dict[str, list[int]]:
        graph = self.model.graph
        initializers = {init.name for init in graph.initializer}
        inputs = [i for i in graph.input if i.name not in initializers]
        given = self.input_shapes_arg
        if isinstance(given, Mapping):
            unknown = set(given) - {i.name for i in inputs}
            if unknown:
                raise ConversionError(
                    f"input_shapes names unknown inputs {sorted(unknown)}; the model's inputs "
                    f"are {[i.name for i in inputs]}"
                )
        elif given is not None and len(given) != len(inputs):
            raise ConversionError(
                f"input_shapes has {len(given)} shapes but the model has {len(inputs)} inputs "
                f"{[i.name for i in inputs]}"
            )
        result: dict[str, list[int]] = {}
        for index, info in enumerate(inputs):
            tensor = info.type.tensor_type
            if tensor.elem_type not in (onnx.TensorProto.FLOAT, onnx.TensorProto.FLOAT16):
                raise ConversionError(
                    f"input '{info.name}' has element type "
                    f"{onnx.TensorProto.DataType.Name(tensor.elem_type)}; only float inputs are "
                    "supported"
                )
            declared = [
                d.dim_value if d.HasField("dim_value") else (d.dim_param or "?")
                for d in tensor.shape.dim
            ]
            override = None
            if isinstance(given, Mapping):
                override = given.get(info.name)
            elif given is not None:
                override = given[index]
            if override is not None:
                shape = [int(d) for d in override]
                if tensor.HasField("shape") and len(shape) != len(declared):
                    raise ConversionError(
                        f"input '{info.name}': input_shapes gives rank {len(shape)} but the "
                        f"model declares {declared}"
                    )
                for axis, (want, have) in enumerate(zip(shape, declared, strict=False)):
                    if isinstance(have, int) and have > 0 and want != have:
                        raise ConversionError(
                            f"input '{info.name}': input_shapes gives {want} at axis {axis} but "
                            f"the model fixes it to {have}"
                        )
            else:
                if not tensor.HasField("shape"):
                    raise ConversionError(f"input '{info.name}' has no shape; pass input_shapes")
                dynamic = [
                    (a, d) for a, d in enumerate(declared) if not isinstance(d, int) or d <= 0
                ]
                if dynamic:
                    axes = ", ".join(f"axis {a} ('{d}')" for a, d in dynamic)
                    raise ConversionError(
                        f"input '{info.name}' has dynamic dimensions at {axes} (shape {declared}); "
                        "pass static shapes with input_shapes=[...] or {'"
                        f"{info.name}': [...]}}"
                    )
                shape = [int(d) for d in declared]
            if any(d <= 0 for d in shape):
                raise ConversionError(f"input '{info.name}': shape {shape} must be positive")
            result[info.name] = shape
        return result

    def _preprocess_dicts(self, input_shapes: Mapping[str, Sequence[int]]) -> dict[str, Any]:
        given = self.preprocess_arg
        if given is None:
            return {}
        if isinstance(given, Preprocess):
            if len(input_shapes) != 1:
                raise ConversionError(
                    "preprocess given as one Preprocess but the model has inputs "
                    f"{list(input_shapes)}; pass a dict input name -> Preprocess"
                )
            given = {next(iter(input_shapes)): given}
        result = {}
        for name, pre in given.items():
            if name not in input_shapes:
                raise ConversionError(f"preprocess names unknown input '{name}'")
            shape = input_shapes[name]
            if len(shape) != 4 or shape[1] != pre.channels:
                raise ConversionError(
                    f"preprocess of input '{name}' makes {pre.channels}-channel NCHW images but "
                    f"the input shape is {list(shape)}"
                )
            if pre.crop is not None and list(pre.crop) != list(shape[2:]):
                raise ConversionError(
                    f"preprocess of input '{name}': crop {list(pre.crop)} differs from the input "
                    f"size {list(shape[2:])}"
                )
            pre = pre.with_input_shape(shape)
            if (
                pre.resize is not None
                and isinstance(pre.resize, tuple)
                and any(r < c for r, c in zip(pre.resize, shape[2:], strict=True))
            ):
                raise ConversionError(
                    f"preprocess of input '{name}': resize {list(pre.resize)} is smaller than the "
                    f"input size {list(shape[2:])} it is cropped to"
                )
            result[name] = pre.to_dict()
        return result

    def _index_graph(self, nodes: Sequence[OnnxNode]) -> None:
        self.graph_outputs = {o.name for o in self.model.graph.output}
        for node in nodes:
            for out in node.outputs:
                if out:
                    self.producers[out] = node
            for name in node.inputs:
                if name:
                    self.consumers.setdefault(name, []).append(node)

    def _producer(self, tensor: str, op_type: str) -> OnnxNode | None:
        node = self.producers.get(tensor)
        return node if node is not None and node.op_type == op_type else None

    def _only_used_by(self, tensor: str, node: OnnxNode) -> bool:
        users = self.consumers.get(tensor, [])
        return tensor not in self.graph_outputs and all(u is node for u in users)

    def _match_patterns(self, nodes: Sequence[OnnxNode]) -> None:
        """Finds x * f(x) activations (SiLU, HardSwish, Mish) and L2 normalizations; the inner
        nodes are skipped when nothing else uses them."""
        for node in nodes:
            if node.op_type == "Mul" and len(node.inputs) == 2:
                self._match_gated_activation(node)
            if node.op_type == "Div" and len(node.inputs) == 2:
                self._match_l2_normalize(node)
            if node.op_type in ("Div", "Mul") and len(node.inputs) == 2:
                self._match_decomposed_hard_swish(node)

    def _has_default_handler(self, op_type: str) -> bool:
        """The op type is handled by this class's own method (not replaced through
        onnxop_factory) or has no handler at all."""
        handler = self.onnxop_factory.get(op_type)
        if handler is None:
            return True
        name = getattr(handler, "__name__", "")
        return getattr(handler, "__self__", None) is self and getattr(
            type(self), name, None
        ) is getattr(OnnxConverter, name, None)

    def _fuse(self, final: OnnxNode, pattern: str, source: str, chain: list[OnnxNode]) -> bool:
        """Converts `final` to `pattern` applied to `source`; the chain's nodes (from `final`
        backwards) are skipped while only the chain uses them. Nothing happens when a handler of
        one of these op types was replaced by a subclass."""
        if not all(self._has_default_handler(n.op_type) for n in [final, *chain]):
            return False
        self.fused[final.name] = (pattern, source)
        consumer = final
        for inner in chain:
            if not self._only_used_by(inner.name, consumer):
                break
            self.skipped_nodes.add(inner.node_name)
            consumer = inner
        return True

    def _match_gated_activation(self, mul: OnnxNode) -> None:
        for gate_index in (0, 1):
            x, gate = mul.inputs[1 - gate_index], mul.inputs[gate_index]
            chain: list[OnnxNode] = []
            pattern = None
            sig = self._producer(gate, "Sigmoid")
            hsig = self._producer(gate, "HardSigmoid")
            tanh = self._producer(gate, "Tanh")
            if sig is not None and sig.inputs[0] == x:
                pattern, chain = "tpu.silu", [sig]
            elif (
                hsig is not None
                and hsig.inputs[0] == x
                and math.isclose(float(hsig.attr("alpha", 0.2)), 1 / 6, rel_tol=1e-5)
                and math.isclose(float(hsig.attr("beta", 0.5)), 0.5, rel_tol=1e-6)
            ):
                pattern, chain = "tpu.hard_swish", [hsig]
            elif tanh is not None:
                softplus = self._producer(tanh.inputs[0], "Softplus")
                if softplus is not None and softplus.inputs[0] == x:
                    pattern, chain = "tpu.mish", [tanh, softplus]
            if pattern is None:
                continue
            self._fuse(mul, pattern, x, chain)
            return

    def _scalar_constant(self, name: str) -> float | None:
        value = self._constant_value_of(name)
        if value is None or value.size != 1:
            return None
        return float(value.reshape(-1)[0])

    def _clip_bounds(self, clip: OnnxNode) -> tuple[float | None, float | None]:
        if self.opset < 11:
            return clip.attr("min"), clip.attr("max")
        low = self._scalar_constant(clip.input(1)) if clip.input(1) else None
        high = self._scalar_constant(clip.input(2)) if clip.input(2) else None
        return low, high

    def _match_decomposed_hard_swish(self, final: OnnxNode) -> None:
        """x * clip(x + 3, 0, 6) / 6 (or * 1/6) -> tpu.hard_swish."""
        if final.name in self.fused:
            return
        for const_index in (0, 1) if final.op_type == "Mul" else (1,):
            factor = self._scalar_constant(final.inputs[const_index])
            if factor is None:
                continue
            expected = 6.0 if final.op_type == "Div" else 1.0 / 6.0
            if not math.isclose(factor, expected, rel_tol=1e-5):
                continue
            product = self._producer(final.inputs[1 - const_index], "Mul")
            if product is None:
                continue
            for x_index in (0, 1):
                x = product.inputs[x_index]
                clip = self._producer(product.inputs[1 - x_index], "Clip")
                if clip is None or self._clip_bounds(clip) != (0.0, 6.0):
                    continue
                add = self._producer(clip.inputs[0], "Add")
                if add is None or x not in add.inputs:
                    continue
                three = self._scalar_constant(add.inputs[1 - add.inputs.index(x)])
                if three is None or not math.isclose(three, 3.0, rel_tol=1e-6):
                    continue
                self._fuse(final, "tpu.hard_swish", x, [product, clip, add])
                return

    def _guard_eps(self, guard: OnnxNode) -> float | None:
        """eps of max(v, eps) / clip(v, eps) / v + eps, or None when it is not a constant."""
        if guard.op_type == "Clip":
            low, _ = self._clip_bounds(guard)
            return None if low is None else float(low)
        if len(guard.inputs) != 2:
            return None
        return self._scalar_constant(guard.inputs[1])

    def _channel_reduction(self, node: OnnxNode | None) -> bool:
        """The node reduces over axis 1 only, keeping dims."""
        if node is None or int(node.attr("keepdims", 1)) != 1:
            return False
        axes = node.attr("axes")
        if axes is None and len(node.inputs) > 1:
            value = self._constant_value_of(node.inputs[1])
            axes = None if value is None else ints(value)
        return axes is not None and [int(a) for a in axes] == [1]

    def _match_l2_normalize(self, div: OnnxNode) -> None:
        """x / ||x||_2 over channels -> tpu.normalize (x / sqrt(sum x^2 + eps)). The norm is
        ReduceL2(x), Sqrt(ReduceSumSquare(x)) or Sqrt(ReduceSum(x * x | x ^ 2)), optionally
        guarded by an eps (Clip / Max / Add, outside or inside the square root) and expanded."""
        x, divisor = div.inputs
        chain: list[OnnxNode] = []
        eps_squared = 0.0

        def take(name: str, op_types: tuple[str, ...]) -> OnnxNode | None:
            for op_type in op_types:
                found = self._producer(name, op_type)
                if found is not None:
                    chain.append(found)
                    return found
            return None

        current = divisor
        expand = take(current, ("Expand",))
        if expand is not None:
            current = expand.inputs[0]
        guard = take(current, ("Clip", "Max", "Add"))
        if guard is not None:
            eps = self._guard_eps(guard)
            if eps is None:
                return
            eps_squared = eps * eps
            current = guard.inputs[0]
        norm = take(current, ("ReduceL2", "Sqrt"))
        if norm is None:
            return
        if norm.op_type == "ReduceL2":
            if norm.inputs[0] != x or not self._channel_reduction(norm):
                return
        else:
            current = norm.inputs[0]
            inner_guard = take(current, ("Add", "Max")) if guard is None else None
            if inner_guard is not None:
                eps = self._guard_eps(inner_guard)
                if eps is None:
                    return
                eps_squared = eps
                current = inner_guard.inputs[0]
            reduce = take(current, ("ReduceSumSquare", "ReduceSum"))
            if reduce is None or not self._channel_reduction(reduce):
                return
            if reduce.op_type == "ReduceSumSquare":
                if reduce.inputs[0] != x:
                    return
            else:
                square = take(reduce.inputs[0], ("Mul", "Pow"))
                if square is None:
                    return
                if square.op_type == "Mul" and square.inputs != [x, x]:
                    return
                if square.op_type == "Pow" and (
                    square.inputs[0] != x or self._scalar_constant(square.inputs[1]) != 2.0
                ):
                    return
        if self._fuse(div, "tpu.normalize", x, chain):
            self.normalize_eps[div.name] = eps_squared

    def _constant_value_of(self, name: str) -> np.ndarray | None:
        """A constant known before conversion: an initializer or a Constant node's value."""
        if name in self.tensors:
            return self.tensors[name]
        node = self.producers.get(name)
        if node is not None and node.op_type == "Constant":
            return self._constant_node_value(node)
        return None

    def _try_fold(self, node: OnnxNode) -> bool:
        present = [name for name in node.inputs if name]
        if (
            node.domain not in ("", "ai.onnx")
            or node.op_type in NOT_FOLDABLE
            or node.op_type == "Constant"
            or not present
            or not all(name in self.tensors for name in present)
        ):
            return False
        inputs = [self.tensors[name] if name else None for name in node.inputs]
        try:
            results = fold_node(
                node.proto, node.attrs, inputs, self.model.opset_import, self.model.ir_version
            )
        except FoldError as error:
            raise ConversionError(
                f"{node.describe()}: evaluating it on its constant inputs failed: {error}"
            ) from None
        for out, value in zip(node.outputs, results, strict=False):
            if out:
                self.addTensor(out, value)
                if out in self.graph_outputs:
                    self.getOperand(out)
        return True

    def _graph_output(self, name: str) -> Value:
        if name not in self.valueMap and name not in self.tensors:
            raise ConversionError(f"graph output '{name}' is not produced by any node")
        return self.getOperand(name)[0]

    # ------------------------------------------------------------------------------------
    # Constants, identities and shape arithmetic
    # ------------------------------------------------------------------------------------

    def _constant_node_value(self, node: OnnxNode) -> np.ndarray:
        attrs = node.attrs
        if "value" in attrs:
            return np.asarray(attrs["value"])
        for key, dtype in (("value_float", np.float32), ("value_int", np.int64)):
            if key in attrs:
                return np.asarray(attrs[key], dtype=dtype)
        for key, dtype in (("value_floats", np.float32), ("value_ints", np.int64)):
            if key in attrs:
                return np.asarray(attrs[key], dtype=dtype).reshape(-1)
        if "value_string" in attrs or "value_strings" in attrs:
            raise UnsupportedOpError(f"{node.describe()}: string constants are not supported")
        raise ConversionError(f"{node.describe()}: no value attribute")

    def convert_constant_op(self, node: OnnxNode) -> None:
        self.addTensor(node.name, self._constant_node_value(node))
        if node.name in self.graph_outputs:
            self.getOperand(node.name)

    def convert_identity_op(self, node: OnnxNode) -> None:
        self.alias(node, node.inputs[0])

    def convert_cast_op(self, node: OnnxNode) -> None:
        to = int(node.attr("to"))
        if to not in (onnx.TensorProto.FLOAT, onnx.TensorProto.FLOAT16, onnx.TensorProto.DOUBLE):
            raise UnsupportedOpError(
                f"{node.describe()}: casting an activation to "
                f"{onnx.TensorProto.DataType.Name(to)} is not supported (activations are float)"
            )
        self.alias(node, node.inputs[0])

    def convert_shape_op(self, node: OnnxNode) -> None:
        _, shape = self.activation(node, 0)
        start = int(node.attr("start", 0))
        end = node.attr("end")
        selected = shape[start:] if end is None else shape[start : int(end)]
        self.addTensor(node.name, np.asarray(selected, dtype=np.int64))

    def convert_expand_op(self, node: OnnxNode) -> None:
        _, shape = self.activation(node, 0)
        target = ints(self.constant(node, 1, "shape"))
        if shp.broadcast(shape, target) != shape:
            raise UnsupportedOpError(
                f"{node.describe()}: expanding an activation from {shape} to "
                f"{shp.broadcast(shape, target)} is not supported"
            )
        self.alias(node, node.inputs[0])

    def convert_reshape_op(self, node: OnnxNode) -> None:
        value, shape = self.activation(node, 0)
        target = ints(self.constant(node, 1, "shape"))
        allow_zero = int(node.attr("allowzero", 0)) == 1
        out = [shape[i] if d == 0 and not allow_zero else d for i, d in enumerate(target)]
        if out.count(-1) > 1:
            raise ConversionError(f"{node.describe()}: shape {target} has more than one -1")
        if -1 in out:
            known = int(np.prod([d for d in out if d != -1]))
            total = int(np.prod(shape))
            if known == 0 or total % known:
                raise ConversionError(f"{node.describe()}: cannot reshape {shape} to {target}")
            out[out.index(-1)] = total // known
        if int(np.prod(out)) != int(np.prod(shape)):
            raise ConversionError(f"{node.describe()}: cannot reshape {shape} to {target}")
        if self._emit_shuffle_channel(node, out):
            return
        self.emit(node, "tpu.reshape", [value], out)

    def _emit_shuffle_channel(self, node: OnnxNode, out: list[int]) -> bool:
        """Reshape(Transpose(Reshape(x, [N, G, C/G, H, W]), [0, 2, 1, 3, 4]), [N, C, H, W])
        (ShuffleNet's channel shuffle) -> tpu.shuffle_channel; the inner ops become unused."""
        if not (self._has_default_handler("Transpose") and self._has_default_handler("Reshape")):
            return False
        transpose = self._producer(node.inputs[0], "Transpose")
        if transpose is None or [int(p) for p in transpose.attr("perm", [])] != [0, 2, 1, 3, 4]:
            return False
        split = self._producer(transpose.inputs[0], "Reshape")
        if split is None or split.inputs[0] not in self.valueMap or split.name not in self.valueMap:
            return False
        source, source_shape, _ = self.valueMap[split.inputs[0]]
        grouped = self.valueMap[split.name][1]
        if len(source_shape) != 4 or out != source_shape or len(grouped) != 5:
            return False
        n, c, h, w = source_shape
        if grouped[0] != n or grouped[3:] != [h, w] or grouped[1] * grouped[2] != c:
            return False
        self.emit(node, "tpu.shuffle_channel", [source], out, {"group": grouped[1]})
        return True

    def convert_flatten_op(self, node: OnnxNode) -> None:
        value, shape = self.activation(node, 0)
        axis = shp.normalize_axis(int(node.attr("axis", 1)), len(shape) + 1)
        out = [int(np.prod(shape[:axis])), int(np.prod(shape[axis:]))]
        self.emit(node, "tpu.reshape", [value], out)

    def _axes_input_or_attr(self, node: OnnxNode, since: int) -> list[int] | None:
        if self.opset >= since:
            return ints(self.constant(node, 1, "axes")) if node.input(1) else None
        axes = node.attr("axes")
        return None if axes is None else [int(a) for a in axes]

    def convert_squeeze_op(self, node: OnnxNode) -> None:
        value, shape = self.activation(node, 0)
        axes = self._axes_input_or_attr(node, 13)
        if axes is None:
            drop = {i for i, d in enumerate(shape) if d == 1}
        else:
            drop = {shp.normalize_axis(a, len(shape)) for a in axes}
            for axis in drop:
                if shape[axis] != 1:
                    raise ConversionError(
                        f"{node.describe()}: cannot squeeze axis {axis} of size {shape[axis]}"
                    )
        out = [d for i, d in enumerate(shape) if i not in drop]
        self.emit(node, "tpu.reshape", [value], out)

    def convert_unsqueeze_op(self, node: OnnxNode) -> None:
        value, shape = self.activation(node, 0)
        axes = self._axes_input_or_attr(node, 13)
        if axes is None:
            raise ConversionError(f"{node.describe()}: axes are required")
        rank = len(shape) + len(axes)
        positions = sorted(shp.normalize_axis(a, rank) for a in axes)
        out = list(shape)
        for axis in positions:
            out.insert(axis, 1)
        self.emit(node, "tpu.reshape", [value], out)

    def convert_transpose_op(self, node: OnnxNode) -> None:
        value, shape = self.activation(node, 0)
        perm = node.attr("perm")
        order = list(range(len(shape)))[::-1] if perm is None else [int(p) for p in perm]
        if sorted(order) != list(range(len(shape))):
            raise ConversionError(f"{node.describe()}: perm {order} is not a permutation")
        self.emit(node, "tpu.permute", [value], [shape[p] for p in order], {"order": order})

    def convert_concat_op(self, node: OnnxNode) -> None:
        operands = [self.activation(node, i) for i in range(len(node.inputs))]
        rank = len(operands[0][1])
        axis = shp.normalize_axis(int(node.attr("axis")), rank)
        out = list(operands[0][1])
        for _, shape in operands[1:]:
            if len(shape) != rank or any(
                a != b for i, (a, b) in enumerate(zip(shape, out, strict=False)) if i != axis
            ):
                raise ConversionError(
                    f"{node.describe()}: shapes {[s for _, s in operands]} do not concatenate "
                    f"along axis {axis}"
                )
            out[axis] += shape[axis]
        self.emit(node, "tpu.concat", [v for v, _ in operands], out, {"axis": axis})

    def convert_slice_op(self, node: OnnxNode) -> None:
        value, shape = self.activation(node, 0)
        rank = len(shape)
        if self.opset < 10:
            starts, ends = ints(node.attr("starts")), ints(node.attr("ends"))
            axes = node.attr("axes")
            steps = [1] * len(starts)
        else:
            starts = ints(self.constant(node, 1, "starts"))
            ends = ints(self.constant(node, 2, "ends"))
            axes = self.optional_constant(node, 3, "axes")
            step_values = self.optional_constant(node, 4, "steps")
            steps = [1] * len(starts) if step_values is None else ints(step_values)
        axes = list(range(len(starts))) if axes is None else ints(axes)
        offsets, strides, out = [0] * rank, [1] * rank, list(shape)
        for start, end, axis, step in zip(starts, ends, axes, steps, strict=False):
            axis = shp.normalize_axis(axis, rank)
            if step <= 0:
                raise UnsupportedOpError(
                    f"{node.describe()}: step {step} on axis {axis}; only positive steps are "
                    "supported"
                )
            dim = shape[axis]
            start = min(max(start + dim if start < 0 else start, 0), dim)
            end = min(max(end + dim if end < 0 else end, 0), dim)
            size = max(0, math.ceil((end - start) / step))
            if size == 0:
                raise UnsupportedOpError(f"{node.describe()}: empty slice on axis {axis}")
            offsets[axis], strides[axis], out[axis] = start, step, size
        self.emit(node, "tpu.slice", [value], out, {"offsets": offsets, "steps": strides})

    def convert_split_op(self, node: OnnxNode) -> None:
        value, shape = self.activation(node, 0)
        axis = shp.normalize_axis(int(node.attr("axis", 0)), len(shape))
        count = len(node.outputs)
        if self.opset >= 13 and node.input(1):
            sizes = ints(self.constant(node, 1, "split"))
        elif node.attr("split") is not None:
            sizes = ints(node.attr("split"))
        elif node.attr("num_outputs") is not None:
            chunk = math.ceil(shape[axis] / int(node.attr("num_outputs")))
            sizes = [min(chunk, shape[axis] - i * chunk) for i in range(count)]
        else:
            if shape[axis] % count:
                raise ConversionError(
                    f"{node.describe()}: axis {axis} of size {shape[axis]} does not split in "
                    f"{count} equal parts"
                )
            sizes = [shape[axis] // count] * count
        if len(sizes) != count or sum(sizes) != shape[axis]:
            raise ConversionError(
                f"{node.describe()}: split sizes {sizes} do not cover axis {axis} of size "
                f"{shape[axis]} in {count} outputs"
            )
        begin = 0
        for out_name, size in zip(node.outputs, sizes, strict=False):
            offsets = [0] * len(shape)
            offsets[axis] = begin
            out = list(shape)
            out[axis] = size
            begin += size
            if out_name:
                self.emit(
                    node,
                    "tpu.slice",
                    [value],
                    out,
                    {"offsets": offsets, "steps": [1] * len(shape)},
                    name=out_name,
                )

    def convert_gather_op(self, node: OnnxNode) -> None:
        value, shape = self.activation(node, 0)
        indices = self.constant(node, 1, "indices")
        axis = shp.normalize_axis(int(node.attr("axis", 0)), len(shape))
        flat = [i + shape[axis] if i < 0 else i for i in ints(indices)]
        if not flat:
            raise UnsupportedOpError(f"{node.describe()}: empty indices")
        step = flat[1] - flat[0] if len(flat) > 1 else 1
        if step <= 0 or flat != list(range(flat[0], flat[0] + step * len(flat), step)):
            raise UnsupportedOpError(
                f"{node.describe()}: gathering indices {flat} (not an evenly spaced increasing "
                "range) is not supported"
            )
        offsets = [0] * len(shape)
        steps = [1] * len(shape)
        offsets[axis], steps[axis] = flat[0], step
        sliced = list(shape)
        sliced[axis] = len(flat)
        out = shape[:axis] + list(indices.shape) + shape[axis + 1 :]
        if out == sliced:
            self.emit(node, "tpu.slice", [value], sliced, {"offsets": offsets, "steps": steps})
            return
        part = self.emit(
            node,
            "tpu.slice",
            [value],
            sliced,
            {"offsets": offsets, "steps": steps},
            name=f"{node.name}_slice",
            register=False,
        )
        self.emit(node, "tpu.reshape", [part], out)

    def convert_pad_op(self, node: OnnxNode) -> None:
        value, shape = self.activation(node, 0)
        rank = len(shape)
        mode = str(node.attr("mode", "constant"))
        if mode not in ("constant", "reflect", "edge"):
            raise UnsupportedOpError(f"{node.describe()}: pad mode '{mode}' is not supported")
        if self.opset < 11:
            pads = ints(node.attr("pads"))
            const_val = float(node.attr("value", 0.0))
        else:
            pads = ints(self.constant(node, 1, "pads"))
            const = self.optional_constant(node, 2, "constant_value")
            const_val = 0.0 if const is None or const.size == 0 else float(const.reshape(-1)[0])
            axes_value = self.optional_constant(node, 3, "axes")
            if axes_value is not None:
                axes = [shp.normalize_axis(a, rank) for a in ints(axes_value)]
                full = [0] * (2 * rank)
                for i, axis in enumerate(axes):
                    full[axis], full[rank + axis] = pads[i], pads[len(axes) + i]
                pads = full
        if len(pads) != 2 * rank:
            raise ConversionError(f"{node.describe()}: {len(pads)} pads for rank {rank}")
        if any(p < 0 for p in pads):
            raise UnsupportedOpError(f"{node.describe()}: negative pads {pads} are not supported")
        out = [d + pads[i] + pads[rank + i] for i, d in enumerate(shape)]
        self.emit(
            node, "tpu.pad", [value], out, {"pads": pads, "const_val": const_val, "mode": mode}
        )

    # ------------------------------------------------------------------------------------
    # Convolution, pooling, normalization
    # ------------------------------------------------------------------------------------

    def _window_attrs(
        self, node: OnnxNode, in_shape: Sequence[int], kernel: Sequence[int]
    ) -> tuple[list[int], list[int], list[int]]:
        """(strides, dilations, pads [top, left, bottom, right]) of a 2-D window op."""
        strides = ints(node.attr("strides", [1, 1]))
        dilations = ints(node.attr("dilations", [1, 1]))
        extents = [(k - 1) * d + 1 for k, d in zip(kernel, dilations, strict=False)]
        pads = shp.window_pads(
            str(node.attr("auto_pad", "NOTSET")), node.attr("pads"), in_shape[2:], extents, strides
        )
        return strides, dilations, [int(p) for p in pads]

    def _require_2d(self, node: OnnxNode, shape: Sequence[int]) -> None:
        if len(shape) != 4:
            raise UnsupportedOpError(
                f"{node.describe()}: only 2-D (NCHW) inputs are supported, got shape {list(shape)}"
            )

    def _convert_as_2d(self, node: OnnxNode, handler: Handler) -> bool:
        """A 1-D window op (input [N, C, L]) runs as its 2-D form over [N, C, 1, L]: the input
        is reshaped (`<out>_2d`), the 2-D op computes `<out>_2d_out`, a reshape gives `<out>`.
        Returns False when the input is not 1-D."""
        value, shape = self.activation(node, 0)
        if len(shape) != 3:
            return False
        name = node.name
        self.emit(
            node, "tpu.reshape", [value], [shape[0], shape[1], 1, shape[2]], name=f"{name}_2d"
        )
        inputs = [f"{name}_2d", *node.inputs[1:]]
        if node.input(1) in self.tensors and node.op_type in ("Conv", "ConvTranspose"):
            filt = self.tensors[node.input(1)]
            self.addTensor(f"{name}_filter_2d", filt.reshape(filt.shape[0], filt.shape[1], 1, -1))
            inputs[1] = f"{name}_filter_2d"
        attrs = dict(node.attrs)
        for key in ("kernel_shape", "strides", "dilations", "output_padding", "output_shape"):
            if key in attrs:
                attrs[key] = [1 if key != "output_padding" else 0, *ints(attrs[key])]
        if "pads" in attrs:
            begin, end = ints(attrs["pads"])
            attrs["pads"] = [0, begin, 0, end]
        inner = OnnxNode(
            node.proto,
            f"{name}_2d_out",
            node.node_name,
            node.op_type,
            node.domain,
            inputs,
            [f"{name}_2d_out", *node.outputs[1:]],
            attrs,
        )
        handler(inner)
        result, result_shape, _ = self.getOperand(f"{name}_2d_out")
        self.emit(node, "tpu.reshape", [result], [*result_shape[:2], result_shape[3]])
        return True

    def convert_conv_op(self, node: OnnxNode) -> None:
        if self._convert_as_2d(node, self.convert_conv_op):
            return
        value, shape = self.activation(node, 0)
        self._require_2d(node, shape)
        filt = self.constant(node, 1, "filter")
        bias = self.optional_constant(node, 2, "bias")
        group = int(node.attr("group", 1))
        strides, dilations, pads = self._window_attrs(node, shape, filt.shape[2:])
        out = [shape[0], filt.shape[0]] + [
            shp.window_output(
                shape[2 + i],
                pads[i],
                pads[i + 2],
                (filt.shape[2 + i] - 1) * dilations[i] + 1,
                strides[i],
            )
            for i in range(2)
        ]
        operands = [value, self.getOperand(node.inputs[1])[0]]
        if bias is not None:
            operands.append(self.getOperand(node.inputs[2])[0])
        self.emit(
            node,
            "tpu.conv_2d",
            operands,
            out,
            {
                "strides": strides,
                "pads": pads,
                "dilations": dilations,
                "group": group,
            },
        )

    def convert_conv_transpose_op(self, node: OnnxNode) -> None:
        value, shape = self.activation(node, 0)
        self._require_2d(node, shape)
        filt = self.constant(node, 1, "filter")
        bias = self.optional_constant(node, 2, "bias")
        group = int(node.attr("group", 1))
        kernel = list(filt.shape[2:])
        strides = ints(node.attr("strides", [1, 1]))
        dilations = ints(node.attr("dilations", [1, 1]))
        out_pad = ints(node.attr("output_padding", [0, 0]))
        extents = [(k - 1) * d + 1 for k, d in zip(kernel, dilations, strict=False)]
        full = [strides[i] * (shape[2 + i] - 1) + out_pad[i] + extents[i] for i in range(2)]
        auto_pad = str(node.attr("auto_pad", "NOTSET"))
        output_shape = node.attr("output_shape")
        if output_shape is not None or auto_pad in ("SAME_UPPER", "SAME_LOWER"):
            target = (
                ints(output_shape)[-2:]
                if output_shape is not None
                else [shape[2 + i] * strides[i] for i in range(2)]
            )
            totals = [full[i] - target[i] for i in range(2)]
            if any(t < 0 for t in totals):
                raise UnsupportedOpError(
                    f"{node.describe()}: output_shape {target} needs negative padding"
                )
            if auto_pad == "SAME_UPPER":
                begins = [t // 2 for t in totals]
            else:
                begins = [t - t // 2 for t in totals]
            pads = [begins[0], begins[1], totals[0] - begins[0], totals[1] - begins[1]]
        elif auto_pad == "VALID":
            pads = [0, 0, 0, 0]
        else:
            pads = ints(node.attr("pads", [0, 0, 0, 0]))
        out = [shape[0], filt.shape[1] * group] + [
            full[i] - pads[i] - pads[i + 2] for i in range(2)
        ]
        operands = [value, self.getOperand(node.inputs[1])[0]]
        if bias is not None:
            operands.append(self.getOperand(node.inputs[2])[0])
        self.emit(
            node,
            "tpu.deconv_2d",
            operands,
            out,
            {
                "strides": strides,
                "pads": pads,
                "dilations": dilations,
                "output_padding": out_pad,
                "group": group,
            },
        )

    def _pool_attrs(
        self, node: OnnxNode, shape: Sequence[int]
    ) -> tuple[list[int], list[int], list[int], bool, list[int]]:
        kernel = ints(node.attr("kernel_shape"))
        if len(kernel) != 2:
            raise UnsupportedOpError(f"{node.describe()}: only 2-D pooling is supported")
        strides, dilations, pads = self._window_attrs(node, shape, kernel)
        if dilations != [1, 1]:
            raise UnsupportedOpError(f"{node.describe()}: dilated pooling is not supported")
        ceil_mode = int(node.attr("ceil_mode", 0)) == 1
        out = list(shape[:2]) + [
            shp.window_output(shape[2 + i], pads[i], pads[i + 2], kernel[i], strides[i], ceil_mode)
            for i in range(2)
        ]
        return kernel, strides, pads, ceil_mode, out

    def convert_max_pool_op(self, node: OnnxNode) -> None:
        if len(node.outputs) > 1 and node.outputs[1]:
            raise UnsupportedOpError(f"{node.describe()}: the Indices output is not supported")
        if self._convert_as_2d(node, self.convert_max_pool_op):
            return
        value, shape = self.activation(node, 0)
        self._require_2d(node, shape)
        kernel, strides, pads, ceil_mode, out = self._pool_attrs(node, shape)
        self.emit(
            node,
            "tpu.pool_max_2d",
            [value],
            out,
            {
                "kernel_shape": kernel,
                "strides": strides,
                "pads": pads,
                "ceil_mode": ceil_mode,
            },
        )

    def convert_avg_pool_op(self, node: OnnxNode) -> None:
        if self._convert_as_2d(node, self.convert_avg_pool_op):
            return
        value, shape = self.activation(node, 0)
        self._require_2d(node, shape)
        kernel, strides, pads, ceil_mode, out = self._pool_attrs(node, shape)
        self.emit(
            node,
            "tpu.pool_avg_2d",
            [value],
            out,
            {
                "kernel_shape": kernel,
                "strides": strides,
                "pads": pads,
                "ceil_mode": ceil_mode,
                "count_include_pad": int(node.attr("count_include_pad", 0)) == 1,
            },
        )

    def _global_pool(self, node: OnnxNode, op_name: str) -> None:
        value, shape = self.activation(node, 0)
        self._require_2d(node, shape)
        self.emit(
            node,
            op_name,
            [value],
            list(shape[:2]) + [1, 1],
            {
                "kernel_shape": list(shape[2:]),
                "strides": [1, 1],
                "pads": [0, 0, 0, 0],
            },
        )

    def convert_global_avg_pool_op(self, node: OnnxNode) -> None:
        self._global_pool(node, "tpu.pool_avg_2d")

    def convert_global_max_pool_op(self, node: OnnxNode) -> None:
        self._global_pool(node, "tpu.pool_max_2d")

    def convert_batchnorm_op(self, node: OnnxNode) -> None:
        if any(node.outputs[1:]) or int(node.attr("training_mode", 0)):
            raise UnsupportedOpError(
                f"{node.describe()}: training-mode BatchNormalization is not supported"
            )
        value, shape = self.activation(node, 0)
        if len(shape) < 2:
            raise ConversionError(f"{node.describe()}: input needs a channel axis")
        params = []
        for index, what in ((3, "mean"), (4, "var"), (1, "scale"), (2, "B")):
            data = self.constant(node, index, what)
            if data.size != shape[1]:
                raise ConversionError(
                    f"{node.describe()}: {what} has {data.size} values for {shape[1]} channels"
                )
            params.append(self.getOperand(node.inputs[index])[0])
        self.emit(
            node,
            "tpu.batch_norm",
            [value, *params],
            shape,
            {"epsilon": float(node.attr("epsilon", 1e-5))},
        )

    def convert_lrn_op(self, node: OnnxNode) -> None:
        value, shape = self.activation(node, 0)
        self.emit(
            node,
            "tpu.lrn",
            [value],
            shape,
            {
                "local_size": int(node.attr("size")),
                "alpha": float(node.attr("alpha", 1e-4)),
                "beta": float(node.attr("beta", 0.75)),
                "k": float(node.attr("bias", 1.0)),
            },
        )

    def _emit_normalize(self, node: OnnxNode, source: str, eps: float) -> None:
        value, shape = self.getOperand(source)[:2]
        if len(shape) < 2:
            raise UnsupportedOpError(f"{node.describe()}: L2 normalization needs a channel axis")
        scale = self.weight(f"{node.name}_scale", np.ones(shape[1], np.float32))
        self.emit(
            node,
            "tpu.normalize",
            [value, scale],
            shape,
            {
                "across_spatial": False,
                "channel_shared": False,
                "eps": float(eps),
            },
        )

    def convert_lp_normalization_op(self, node: OnnxNode) -> None:
        _, shape = self.activation(node, 0)
        axis = shp.normalize_axis(int(node.attr("axis", -1)), len(shape))
        if int(node.attr("p", 2)) != 2 or axis != 1:
            raise UnsupportedOpError(
                f"{node.describe()}: only p=2 over the channel axis (1) is supported, got "
                f"p={node.attr('p', 2)} axis={axis}"
            )
        self._emit_normalize(node, node.inputs[0], 0.0)

    # ------------------------------------------------------------------------------------
    # Activations and unary math
    # ------------------------------------------------------------------------------------

    def convert_relu_op(self, node: OnnxNode) -> None:
        self.emit_unary(node, "tpu.relu")

    def convert_sigmoid_op(self, node: OnnxNode) -> None:
        self.emit_unary(node, "tpu.sigmoid")

    def convert_tanh_op(self, node: OnnxNode) -> None:
        self.emit_unary(node, "tpu.tanh")

    def convert_sqrt_op(self, node: OnnxNode) -> None:
        self.emit_unary(node, "tpu.sqrt")

    def convert_reciprocal_op(self, node: OnnxNode) -> None:
        self.emit_unary(node, "tpu.reciprocal")

    def convert_exp_op(self, node: OnnxNode) -> None:
        self.emit_unary(node, "tpu.exp")

    def convert_mish_op(self, node: OnnxNode) -> None:
        self.emit_unary(node, "tpu.mish")

    def convert_hard_swish_op(self, node: OnnxNode) -> None:
        self.emit_unary(node, "tpu.hard_swish")

    def convert_hard_sigmoid_op(self, node: OnnxNode) -> None:
        self.emit_unary(
            node,
            "tpu.hard_sigmoid",
            {
                "alpha": float(node.attr("alpha", 0.2)),
                "beta": float(node.attr("beta", 0.5)),
            },
        )

    def convert_leaky_relu_op(self, node: OnnxNode) -> None:
        self.emit_unary(node, "tpu.leaky_relu", {"negative_slope": float(node.attr("alpha", 0.01))})

    def convert_clip_op(self, node: OnnxNode) -> None:
        if self.opset < 11:
            low = float(node.attr("min", -FLT_MAX))
            high = float(node.attr("max", FLT_MAX))
        else:
            low_value = self.optional_constant(node, 1, "min")
            high_value = self.optional_constant(node, 2, "max")
            low = -FLT_MAX if low_value is None else float(low_value.reshape(-1)[0])
            high = FLT_MAX if high_value is None else float(high_value.reshape(-1)[0])
        self.emit_unary(node, "tpu.clip", {"min": low, "max": high})

    def convert_prelu_op(self, node: OnnxNode) -> None:
        value, shape = self.activation(node, 0)
        slope = self.constant(node, 1, "slope")
        channels = shp.per_channel_size(slope.shape, shape)
        if channels is None:
            raise UnsupportedOpError(
                f"{node.describe()}: slope of shape {list(slope.shape)} is not per channel for "
                f"input {shape}"
            )
        values = np.broadcast_to(slope.reshape(-1), (shape[1],)).astype(np.float32)
        self.emit(node, "tpu.prelu", [value, self.weight(f"{node.name}_slope", values)], shape)

    def convert_pow_op(self, node: OnnxNode) -> None:
        if node.inputs[0] in self.tensors:
            raise UnsupportedOpError(f"{node.describe()}: a constant base is not supported")
        exponent = self.constant(node, 1, "exponent")
        if exponent.size != 1:
            raise UnsupportedOpError(
                f"{node.describe()}: only a scalar exponent is supported, got shape "
                f"{list(exponent.shape)}"
            )
        value, shape = self.activation(node, 0)
        out = shp.broadcast(shape, exponent.shape)
        if out != shape:
            raise UnsupportedOpError(f"{node.describe()}: the exponent broadcasts the input")
        self.emit(
            node,
            "tpu.power",
            [value],
            shape,
            {
                "power": float(exponent.reshape(-1)[0]),
                "scale": 1.0,
                "shift": 0.0,
            },
        )

    def convert_softmax_op(self, node: OnnxNode) -> None:
        value, shape = self.activation(node, 0)
        rank = len(shape)
        axis = shp.normalize_axis(int(node.attr("axis", -1 if self.opset >= 13 else 1)), rank)
        if self.opset >= 13 or axis == rank - 1:
            self.emit(node, "tpu.softmax", [value], shape, {"axis": axis})
            return
        # Before opset 13 Softmax works on the input flattened to 2-D at `axis`.
        flat = [int(np.prod(shape[:axis])), int(np.prod(shape[axis:]))]
        reshaped = self.emit(
            node, "tpu.reshape", [value], flat, name=f"{node.name}_flatten", register=False
        )
        soft = self.emit(
            node,
            "tpu.softmax",
            [reshaped],
            flat,
            {"axis": 1},
            name=f"{node.name}_softmax",
            register=False,
        )
        self.emit(node, "tpu.reshape", [soft], shape)

    def convert_argmax_op(self, node: OnnxNode) -> None:
        """ArgMax -> tpu.argmax; the indices are f32 (as vendor models store them)."""
        value, shape = self.activation(node, 0)
        if int(node.attr("select_last_index", 0)):
            raise ConversionError(
                f"{node.describe()}: select_last_index=1 is not supported (first maximum only)"
            )
        axis = shp.normalize_axis(int(node.attr("axis", 0)), len(shape))
        keepdims = int(node.attr("keepdims", 1)) == 1
        out = [1 if i == axis else d for i, d in enumerate(shape) if keepdims or i != axis]
        self.emit(node, "tpu.argmax", [value], out, {"axis": axis, "keepdims": keepdims})

    def convert_reduce_mean_op(self, node: OnnxNode) -> None:
        value, shape = self.activation(node, 0)
        keepdims = int(node.attr("keepdims", 1)) == 1
        axes = self._axes_input_or_attr(node, 18)
        if not axes:
            if int(node.attr("noop_with_empty_axes", 0)):
                self.alias(node, node.inputs[0])
                return
            axes = list(range(len(shape)))
        axes = sorted({shp.normalize_axis(a, len(shape)) for a in axes})
        out = [1 if i in axes else d for i, d in enumerate(shape) if keepdims or i not in axes]
        self.emit(node, "tpu.reduce_mean", [value], out, {"axes": axes, "keepdims": keepdims})

    def convert_depth_to_space_op(self, node: OnnxNode) -> None:
        value, shape = self.activation(node, 0)
        self._require_2d(node, shape)
        block = int(node.attr("blocksize"))
        if shape[1] % (block * block):
            raise ConversionError(
                f"{node.describe()}: channels {shape[1]} not divisible by {block}^2"
            )
        out = [shape[0], shape[1] // (block * block), shape[2] * block, shape[3] * block]
        self.emit(
            node,
            "tpu.pixel_shuffle",
            [value],
            out,
            {
                "upscale_factor": block,
                "mode": str(node.attr("mode", "DCR")),
            },
        )

    def convert_space_to_depth_op(self, node: OnnxNode) -> None:
        value, shape = self.activation(node, 0)
        self._require_2d(node, shape)
        block = int(node.attr("blocksize"))
        if shape[2] % block or shape[3] % block:
            raise ConversionError(f"{node.describe()}: H, W {shape[2:]} not divisible by {block}")
        out = [shape[0], shape[1] * block * block, shape[2] // block, shape[3] // block]
        self.emit(node, "tpu.reorg", [value], out, {"stride": block})

    # ------------------------------------------------------------------------------------
    # Element-wise arithmetic
    # ------------------------------------------------------------------------------------

    def _emit_affine(
        self,
        node: OnnxNode,
        value: Value,
        shape: list[int],
        mul: np.ndarray | None,
        add: np.ndarray | None,
        name: str | None = None,
    ) -> None:
        """out = value * mul + add with constant mul / add: a per-channel tpu.scale when the
        constants vary at most along the channel axis, else element-wise ops with weights."""
        layer = name or node.name
        consts = [c for c in (mul, add) if c is not None]
        out = shp.broadcast(shape, *[c.shape for c in consts])
        sizes = [shp.per_channel_size(c.shape, shape) for c in consts]
        if out == shape and all(s is not None for s in sizes):
            channels = shape[1]
            scale = (
                np.ones(channels, np.float32)
                if mul is None
                else np.broadcast_to(mul.astype(np.float32).reshape(-1), (channels,))
            )
            operands = [value, self.weight(f"{layer}_scale", scale)]
            if add is not None:
                bias = np.broadcast_to(add.astype(np.float32).reshape(-1), (channels,))
                operands.append(self.weight(f"{layer}_bias", bias))
            self.emit(node, "tpu.scale", operands, shape, name=layer)
            return
        current = value
        if mul is not None:
            current = self.emit(
                node,
                "tpu.eltwise_mul",
                [current, self.weight(f"{layer}_mul", mul)],
                shp.broadcast(shape, mul.shape),
                name=layer if add is None else f"{layer}_mul",
                register=add is None,
            )
        if add is not None:
            self.emit(
                node,
                "tpu.eltwise_add",
                [current, self.weight(f"{layer}_add", add)],
                out,
                name=layer,
            )

    def _binary_operands(self, node: OnnxNode) -> tuple[str, str, bool, bool]:
        if len(node.inputs) != 2:
            raise ConversionError(f"{node.describe()}: expects two inputs")
        a, b = node.inputs
        return a, b, a in self.tensors, b in self.tensors

    def _is_channel_broadcast(self, big: Sequence[int], small: Sequence[int]) -> bool:
        """small is [N or 1, C, 1, ..., 1] against big of the same rank (an SE-style gate)."""
        return (
            len(big) == len(small) >= 3
            and small[1] == big[1]
            and small[0] in (1, big[0])
            and all(d == 1 for d in small[2:])
            and list(small) != list(big)
        )

    def _emit_mul_activations(
        self,
        node: OnnxNode,
        a: tuple[Value, list[int]],
        b: tuple[Value, list[int]],
        name: str | None = None,
    ) -> None:
        (va, sa), (vb, sb) = a, b
        out = shp.broadcast(sa, sb)
        if self._is_channel_broadcast(sa, sb) and out == sa:
            self.emit(node, "tpu.broadcast_mul", [va, vb], out, {"axis": 1}, name=name)
        elif self._is_channel_broadcast(sb, sa) and out == sb:
            self.emit(node, "tpu.broadcast_mul", [vb, va], out, {"axis": 1}, name=name)
        else:
            self.emit(node, "tpu.eltwise_mul", [va, vb], out, name=name)

    def convert_add_op(self, node: OnnxNode) -> None:
        a, b, ca, cb = self._binary_operands(node)
        if ca or cb:
            x, c = (b, a) if ca else (a, b)
            value, shape = self.getOperand(x)[:2]
            self._emit_affine(node, value, shape, None, self.tensors[c])
            return
        (va, sa), (vb, sb) = self.activation(node, 0), self.activation(node, 1)
        self.emit(node, "tpu.eltwise_add", [va, vb], shp.broadcast(sa, sb))

    def convert_sub_op(self, node: OnnxNode) -> None:
        a, b, ca, cb = self._binary_operands(node)
        if cb:
            value, shape = self.activation(node, 0)
            self._emit_affine(node, value, shape, None, -self.tensors[b].astype(np.float32))
            return
        if ca:
            value, shape = self.activation(node, 1)
            self._emit_affine(node, value, shape, -np.ones((), np.float32), self.tensors[a])
            return
        (va, sa), (vb, sb) = self.activation(node, 0), self.activation(node, 1)
        self.emit(node, "tpu.eltwise_add", [va, vb], shp.broadcast(sa, sb), {"coeff": [1.0, -1.0]})

    def convert_mul_op(self, node: OnnxNode) -> None:
        if node.name in self.fused:
            pattern, source = self.fused[node.name]
            value, shape = self.getOperand(source)[:2]
            self.emit(node, pattern, [value], shape)
            return
        a, b, ca, cb = self._binary_operands(node)
        if ca or cb:
            x, c = (b, a) if ca else (a, b)
            value, shape = self.getOperand(x)[:2]
            self._emit_affine(node, value, shape, self.tensors[c], None)
            return
        self._emit_mul_activations(node, self.activation(node, 0), self.activation(node, 1))

    def convert_div_op(self, node: OnnxNode) -> None:
        if node.name in self.fused:
            pattern, source = self.fused[node.name]
            if pattern == "tpu.normalize":
                self._emit_normalize(node, source, self.normalize_eps[node.name])
            else:
                value, shape = self.getOperand(source)[:2]
                self.emit(node, pattern, [value], shape)
            return
        a, b, ca, cb = self._binary_operands(node)
        if cb:
            divisor = self.tensors[b].astype(np.float32)
            if np.any(divisor == 0):
                raise ConversionError(f"{node.describe()}: division by a constant containing 0")
            value, shape = self.activation(node, 0)
            self._emit_affine(node, value, shape, (1.0 / divisor).astype(np.float32), None)
            return
        value, shape = self.activation(node, 1)
        recip_name = f"{node.name}_reciprocal"
        numerator = self.tensors.get(a)
        if numerator is not None and numerator.size == 1 and float(numerator.reshape(-1)[0]) == 1:
            if shp.broadcast(shape, numerator.shape) == shape:
                self.emit(node, "tpu.reciprocal", [value], shape)
                return
        recip = self.emit(node, "tpu.reciprocal", [value], shape, name=recip_name, register=False)
        if numerator is not None:
            self._emit_affine(node, recip, shape, numerator, None)
            return
        self._emit_mul_activations(node, self.activation(node, 0), (recip, shape))

    def convert_neg_op(self, node: OnnxNode) -> None:
        value, shape = self.activation(node, 0)
        self._emit_affine(node, value, shape, -np.ones((), np.float32), None)

    def _variadic(self, node: OnnxNode, op_name: str, clip_key: str | None) -> None:
        constants = [n for n in node.inputs if n in self.tensors]
        activations = [
            self.activation(node, i) for i, n in enumerate(node.inputs) if n not in self.tensors
        ]
        out = shp.broadcast(*[s for _, s in activations])
        if clip_key is not None and len(activations) == 1 and len(constants) == 1:
            const = self.tensors[constants[0]]
            if const.size == 1:
                bound = float(const.reshape(-1)[0])
                attrs = {"min": -FLT_MAX, "max": FLT_MAX, clip_key: bound}
                self.emit(node, "tpu.clip", [activations[0][0]], out, attrs)
                return
        values = [v for v, _ in activations] + [self.getOperand(c)[0] for c in constants]
        out = shp.broadcast(out, *[self.tensors[c].shape for c in constants])
        if len(values) == 1:
            self.alias(node, node.inputs[0])
            return
        self.emit(node, op_name, values, out)

    def convert_max_op(self, node: OnnxNode) -> None:
        self._variadic(node, "tpu.eltwise_max", "min")

    def convert_min_op(self, node: OnnxNode) -> None:
        self._variadic(node, "tpu.eltwise_min", "max")

    def convert_sum_op(self, node: OnnxNode) -> None:
        self._variadic(node, "tpu.eltwise_add", None)

    # ------------------------------------------------------------------------------------
    # Matrix products
    # ------------------------------------------------------------------------------------

    def convert_gemm_op(self, node: OnnxNode) -> None:
        value, shape = self.activation(node, 0)
        if int(node.attr("transA", 0)):
            raise UnsupportedOpError(f"{node.describe()}: transA=1 is not supported")
        if len(shape) != 2:
            raise ConversionError(f"{node.describe()}: A must be 2-D, got {shape}")
        alpha, beta = float(node.attr("alpha", 1.0)), float(node.attr("beta", 1.0))
        filt = self.constant(node, 1, "B").astype(np.float32)
        filt = filt if int(node.attr("transB", 0)) else filt.T
        if filt.shape[1] != shape[1]:
            raise ConversionError(
                f"{node.describe()}: A {shape} and B {list(filt.shape)} do not multiply"
            )
        n = filt.shape[0]
        out = [shape[0], n]
        operands = [value, self.weight(f"{node.name}_filter", alpha * filt)]
        bias = self.optional_constant(node, 2, "C")
        if bias is not None and beta != 0.0:
            if shp.broadcast(out, bias.shape) != out or bias.size != n and bias.size != 1:
                raise UnsupportedOpError(
                    f"{node.describe()}: C of shape {list(bias.shape)} is not a bias per output"
                )
            values = beta * np.broadcast_to(bias.astype(np.float32).reshape(-1), (n,))
            operands.append(self.weight(f"{node.name}_bias", values))
        self.emit(node, "tpu.fully_connected", operands, out)

    def convert_matmul_op(self, node: OnnxNode) -> None:
        a, b = node.inputs
        (va, sa), (vb, sb) = self.activation(node, 0), self.activation(node, 1)
        if len(sa) < 2 or len(sb) < 2:
            raise UnsupportedOpError(
                f"{node.describe()}: 1-D MatMul operands ({sa} x {sb}) are not supported"
            )
        if sa[-1] != sb[-2]:
            raise ConversionError(f"{node.describe()}: shapes {sa} and {sb} do not multiply")
        if b in self.tensors and len(sb) == 2 and a not in self.tensors:
            filt = self.tensors[b].astype(np.float32).T
            rows = int(np.prod(sa[:-1]))
            out = sa[:-1] + [sb[1]]
            weight = self.weight(f"{node.name}_filter", filt)
            if len(sa) == 2:
                self.emit(node, "tpu.fully_connected", [va, weight], out)
                return
            flat = self.emit(
                node,
                "tpu.reshape",
                [va],
                [rows, sa[-1]],
                name=f"{node.name}_flatten",
                register=False,
            )
            fc = self.emit(
                node,
                "tpu.fully_connected",
                [flat, weight],
                [rows, sb[1]],
                name=f"{node.name}_fc",
                register=False,
            )
            self.emit(node, "tpu.reshape", [fc], out)
            return
        batch = shp.broadcast(sa[:-2], sb[:-2])
        self.emit(node, "tpu.matmul", [va, vb], batch + [sa[-2], sb[-1]])

    # ------------------------------------------------------------------------------------
    # Resizing
    # ------------------------------------------------------------------------------------

    def _resize_output(
        self,
        node: OnnxNode,
        shape: list[int],
        scales: np.ndarray | None,
        sizes: np.ndarray | None,
    ) -> list[int]:
        rank = len(shape)
        axes_attr = node.attr("axes")
        axes = (
            list(range(rank))
            if axes_attr is None
            else [shp.normalize_axis(int(a), rank) for a in axes_attr]
        )
        if sizes is not None and sizes.size:
            out = list(shape)
            for axis, size in zip(axes, ints(sizes), strict=False):
                out[axis] = size
            return out
        if scales is None or scales.size == 0:
            raise ConversionError(f"{node.describe()}: needs scales or sizes")
        out = list(shape)
        for axis, scale in zip(axes, np.asarray(scales, np.float32).reshape(-1), strict=False):
            out[axis] = int(math.floor(shape[axis] * float(scale) + 1e-6))
        return out

    def _emit_resize(
        self, node: OnnxNode, mode: str, coord: str, nearest_mode: str, out: list[int]
    ) -> None:
        value, shape = self.activation(node, 0)
        self._require_2d(node, shape)
        if out[:2] != shape[:2]:
            raise UnsupportedOpError(
                f"{node.describe()}: only H and W can be resized ({shape} -> {out})"
            )
        if mode == "nearest":
            factors = [out[2] / shape[2], out[3] / shape[3]]
            integral = all(f >= 1 and f == int(f) for f in factors)
            floor_like = (coord == "asymmetric" and nearest_mode == "floor") or (
                coord in ("half_pixel", "pytorch_half_pixel")
                and nearest_mode in ("round_prefer_floor", "round_prefer_ceil")
            )
            if integral and floor_like:
                self.emit(
                    node,
                    "tpu.upsample",
                    [value],
                    out,
                    {
                        "scale_h": int(factors[0]),
                        "scale_w": int(factors[1]),
                    },
                )
                return
            raise UnsupportedOpError(
                f"{node.describe()}: nearest resize {shape[2:]} -> {out[2:]} with "
                f"coordinate_transformation_mode={coord}, nearest_mode={nearest_mode} is not "
                "supported (only integer upscaling)"
            )
        if mode != "linear":
            raise UnsupportedOpError(f"{node.describe()}: resize mode '{mode}' is not supported")
        if coord not in ("half_pixel", "pytorch_half_pixel", "align_corners", "asymmetric"):
            raise UnsupportedOpError(
                f"{node.describe()}: coordinate_transformation_mode '{coord}' is not supported"
            )
        self.emit(
            node,
            "tpu.interp",
            [value],
            out,
            {
                "mode": "bilinear",
                "coordinate_transformation_mode": coord,
            },
        )

    def convert_resize_op(self, node: OnnxNode) -> None:
        if int(node.attr("antialias", 0)):
            raise UnsupportedOpError(f"{node.describe()}: antialias is not supported")
        if str(node.attr("keep_aspect_ratio_policy", "stretch")) != "stretch":
            raise UnsupportedOpError(
                f"{node.describe()}: keep_aspect_ratio_policy is not supported"
            )
        _, shape = self.activation(node, 0)
        if self.opset < 11:
            scales, sizes = self.constant(node, 1, "scales"), None
            coord = "asymmetric"
        else:
            scales = self.optional_constant(node, 2, "scales")
            sizes = self.optional_constant(node, 3, "sizes")
            coord = str(node.attr("coordinate_transformation_mode", "half_pixel"))
        out = self._resize_output(node, shape, scales, sizes)
        nearest_mode = str(node.attr("nearest_mode", "round_prefer_floor"))
        if self.opset < 11:
            nearest_mode = "floor"
        self._emit_resize(node, str(node.attr("mode", "nearest")), coord, nearest_mode, out)

    def convert_upsample_op(self, node: OnnxNode) -> None:
        _, shape = self.activation(node, 0)
        scales = node.attr("scales")
        scales = np.asarray(scales) if scales is not None else self.constant(node, 1, "scales")
        out = self._resize_output(node, shape, scales, None)
        self._emit_resize(node, str(node.attr("mode", "nearest")), "asymmetric", "floor", out)
