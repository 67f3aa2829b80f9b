"""Caffe (.prototxt + .caffemodel) -> fp32 `tpu` dialect.

One method per Caffe layer type, dispatched through the overridable dict `caffeop_factory`
(the vendor name). A model-specific converter adds or replaces handlers in a subclass, as in
the custom-op guide's SegNet example::

    class SegnetConverter(CaffeConverter):
        def __init__(self, *args, **kwargs):
            super().__init__(*args, **kwargs)
            self.caffeop_factory["Upsample"] = self.convert_unpooling_op

        def convert_unpooling_op(self, layer):
            op, shape, _ = self.getOperand(layer.bottom[0])
            mask_op, _, _ = self.getOperand(layer.bottom[1])
            out = self.upsample_output_shape(layer, shape)
            new_op = self.mlir.add_custom_op(
                f"{layer.name}_{layer.type}", [op, mask_op], out, operation_name="unpooling",
                param={"scale": ..., "unpool_h": out[2], "unpool_w": out[3]})
            self.addOperand(layer.top[0], new_op, out, TensorType.ACTIVATION)

Ops are named after their Caffe layer (in-place layers such as ReLU, BatchNorm and Scale share
one blob name, so layer names are what a layer-by-layer comparison pairs: see
caffe_reference.compare_with_caffe). Inputs are named after their blobs.

The argmax mask of a two-top max Pooling (SegNet) has no built-in tpu op. Its blob stands for
the pooling's *input* activation (getOperand of the mask gives that value and shape) and
`pool_mask_info(mask_blob)` gives the pooling geometry, so an unpooling custom op receives the
tensor it recomputes Caffe's argmax from (the first maximum of each window, in raster order).
An Upsample layer that consumes a mask has no built-in equivalent and raises
UnsupportedOpError until a subclass maps it to a custom op.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from ..ir import Context, Location, Module, Operation, OpView, Value
from . import shapes as shp
from .caffe_proto import CaffeFormatError, Message, blob_array, read_caffemodel, read_prototxt
from .mlir_importer import MLIRBuildError, MLIRImporter, as_value
from .onnx_converter import ConversionError, TensorType, UnsupportedOpError
from .preprocess import Preprocess

Operand = tuple[Value, list[int], TensorType]
PHASE_TEST = 1


class CaffeLayer:
    """A Caffe layer for the handlers: `name`, `type`, `bottom`, `top` (lists of blob names),
    `blobs` (float32 arrays from the .caffemodel, matched by layer name) and every
    `<kind>_param` of the LayerParameter as an attribute (`layer.convolution_param.group`)."""

    def __init__(self, proto: Message, index: int, blobs: list[np.ndarray], source: str) -> None:
        self.proto = proto
        self.index = index
        self.name: str = proto.name or f"{proto.type}_{index}"
        self.type: str = proto.type
        self.bottom: list[str] = list(proto.bottom)
        self.top: list[str] = list(proto.top)
        self.blobs = blobs
        self.source = source

    def __getattr__(self, name: str) -> Any:
        if name.startswith("_") or name == "proto":
            raise AttributeError(name)
        return getattr(self.proto, name)

    def has_param(self, name: str) -> bool:
        return self.proto.has(name)

    def describe(self) -> str:
        return f"layer '{self.name}' ({self.type}) in '{self.source}'"


@dataclass(frozen=True)
class PoolMask:
    """The argmax mask top of a max Pooling: the pooling input `source` (blob name) of
    `input_shape`, pooled by `kernel`, `stride`, `pad` ([h, w] each) with Caffe's rounding
    (`ceil_mode`, the default CEIL) to `pooled_shape`."""

    layer: str
    source: str
    input_shape: tuple[int, ...]
    pooled_shape: tuple[int, ...]
    kernel: tuple[int, int]
    stride: tuple[int, int]
    pad: tuple[int, int]
    ceil_mode: bool = True

    def as_param(self) -> dict[str, int]:
        """The geometry as custom-op parameters."""
        return {
            "kernel_h": self.kernel[0],
            "kernel_w": self.kernel[1],
            "stride_h": self.stride[0],
            "stride_w": self.stride[1],
            "pad_h": self.pad[0],
            "pad_w": self.pad[1],
            "ceil_mode": int(self.ceil_mode),
        }


@dataclass
class CaffeNet:
    """A parsed Caffe model: the text net, the binary weights (or None) and the TEST-phase
    layers with their weight blobs (matched by layer name, as Caffe does)."""

    prototxt: Path
    caffemodel: Path | None
    net: Message
    weights: Message | None
    layers: list[CaffeLayer]

    def declared_inputs(self) -> dict[str, list[int] | None]:
        """Input blob -> declared shape (None when undeclared): input + input_shape or
        input_dim, and Input layers."""
        net = self.net
        declared: dict[str, list[int] | None] = {}
        names = list(net.input)
        if net.input_shape:
            if len(net.input_shape) != len(names):
                raise ConversionError(
                    f"'{self.prototxt}': {len(names)} inputs but {len(net.input_shape)} "
                    "input_shape entries"
                )
            for name, shape in zip(names, net.input_shape, strict=True):
                declared[name] = [int(d) for d in shape.dim]
        elif net.input_dim:
            if len(net.input_dim) != 4 * len(names):
                raise ConversionError(
                    f"'{self.prototxt}': input_dim has {len(net.input_dim)} values for "
                    f"{len(names)} inputs (4 per input expected)"
                )
            for i, name in enumerate(names):
                declared[name] = [int(d) for d in net.input_dim[4 * i : 4 * i + 4]]
        else:
            for name in names:
                declared[name] = None
        for layer in self.layers:
            if layer.type in DATA_LAYERS:
                raise UnsupportedOpError(
                    f"{layer.describe()}: data layers read training data; replace it with an "
                    "Input layer (or input + input_shape) to convert the net for inference"
                )
            if layer.type != "Input":
                continue
            shapes = layer.input_param.shape
            if shapes and len(shapes) not in (1, len(layer.top)):
                raise ConversionError(
                    f"{layer.describe()}: {len(shapes)} shapes for {len(layer.top)} tops"
                )
            for i, top in enumerate(layer.top):
                if shapes:
                    declared[top] = [int(d) for d in shapes[i if len(shapes) > 1 else 0].dim]
                else:
                    declared[top] = None
        return declared

    def outputs(self) -> list[str]:
        """Caffe's net outputs: blobs produced and not consumed by a later layer."""
        inputs = set(self.declared_inputs())
        available: dict[str, None] = {}
        for layer in self.layers:
            for bottom in layer.bottom:
                available.pop(bottom, None)
            for top in layer.top:
                if top not in inputs:
                    available[top] = None
        return list(available)


DATA_LAYERS = (
    "Data",
    "ImageData",
    "MemoryData",
    "HDF5Data",
    "DummyData",
    "WindowData",
    "VideoData",
    "AnnotatedData",
)


def _in_test_phase(layer: Message) -> bool:
    def matches(rule: Message) -> bool:
        return not rule.has("phase") or rule.phase == PHASE_TEST

    if layer.include and not any(matches(r) for r in layer.include):
        return False
    return not any(r.has("phase") and matches(r) for r in layer.exclude)


def load_caffe_net(prototxt: str | Path, caffemodel: str | Path | None) -> CaffeNet:
    """Parses the .prototxt (and the .caffemodel when given); ConversionError naming the file
    and position when one cannot be read."""
    prototxt = Path(prototxt)
    caffemodel = None if caffemodel is None else Path(caffemodel)
    try:
        net = read_prototxt(prototxt)
        weights = None if caffemodel is None else read_caffemodel(caffemodel)
    except CaffeFormatError as error:
        raise ConversionError(str(error)) from None
    if net.has("layers"):
        raise UnsupportedOpError(
            f"'{prototxt}' uses the V1 'layers' format; upgrade it to 'layer' "
            "(Caffe's upgrade_net_proto_text tool)"
        )
    if weights is not None and weights.has("layers") and not weights.has("layer"):
        raise UnsupportedOpError(
            f"'{caffemodel}' uses the V1 'layers' format; upgrade it with Caffe's "
            "upgrade_net_proto_binary tool"
        )
    blobs: dict[str, list[np.ndarray]] = {}
    for layer in [] if weights is None else weights.layer:
        if not layer.blobs:
            continue
        arrays = []
        for i, blob in enumerate(layer.blobs):
            try:
                arrays.append(blob_array(blob))
            except CaffeFormatError as error:
                raise ConversionError(
                    f"'{caffemodel}': layer '{layer.name}' blob {i}: {error}"
                ) from None
        blobs[layer.name] = arrays
    layers = [
        CaffeLayer(proto, index, blobs.get(proto.name, []), str(prototxt))
        for index, proto in enumerate(net.layer)
        if _in_test_phase(proto)
    ]
    seen: set[str] = set()
    for layer in layers:
        if layer.name in seen:
            raise ConversionError(f"'{prototxt}': two layers are named '{layer.name}'")
        seen.add(layer.name)
    return CaffeNet(prototxt, caffemodel, net, weights, layers)


Handler = Callable[[CaffeLayer], None]


def _hw(p: Message, both: str, h: str, w: str, default: int | None, what: str) -> list[int]:
    """[h, w] of a Caffe window parameter: `<x>_h`/`<x>_w`, else the (repeated or single)
    `<x>` field, else `default`."""
    if p.has(h) or p.has(w):
        if not (p.has(h) and p.has(w)):
            raise ConversionError(f"{what}: {h} and {w} must be given together")
        return [int(getattr(p, h)), int(getattr(p, w))]
    value = getattr(p, both)
    values = list(value) if isinstance(value, list) else ([value] if p.has(both) else [])
    if not values:
        if default is None:
            raise ConversionError(f"{what}: {both} (or {h} and {w}) is required")
        return [default, default]
    if len(values) == 1:
        return [int(values[0])] * 2
    if len(values) == 2:
        return [int(v) for v in values]
    raise UnsupportedOpError(f"{what}: {len(values)} values of {both}; only 2-D is supported")


def caffe_pooled_size(
    size: int, kernel: int, stride: int, pad: int, ceil: bool, any_pad: bool
) -> int:
    """Caffe's pooled output size (PoolingLayer::Reshape)."""
    span = size + 2 * pad - kernel
    out = (math.ceil(span / stride) if ceil else span // stride) + 1
    if any_pad and (out - 1) * stride >= size + pad:
        out -= 1
    return out


class CaffeConverter:
    """Converts a Caffe model (`prototxt`, `caffemodel`) to a `tpu` dialect module `mlir_file`
    plus its weights `<model_name>_weights.npz` (next to the .mlir unless `weight_file`).

    caffemodel may be None for nets whose layers have no weights. input_shapes overrides the
    declared input shapes (a list in input order or a dict by blob name); preprocess is a
    Preprocess (single input) or a dict input name -> Preprocess, as for OnnxConverter.
    """

    def __init__(
        self,
        model_name: str,
        prototxt: str | Path,
        caffemodel: str | Path | None,
        mlir_file: str | Path,
        input_shapes: Sequence[Sequence[int]] | Mapping[str, Sequence[int]] | None = None,
        preprocess: Preprocess | Mapping[str, Preprocess] | None = None,
        weight_file: str | Path | None = None,
    ) -> None:
        if not model_name:
            raise ConversionError("model_name must not be empty")
        self.model_name = model_name
        self.prototxt = Path(prototxt)
        self.caffemodel = None if caffemodel is None else Path(caffemodel)
        self.caffe_net = load_caffe_net(self.prototxt, self.caffemodel)
        self.net = self.caffe_net.net
        self.layers: list[CaffeLayer] = self.caffe_net.layers
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
        self.valueMap: dict[str, Operand] = {}  # noqa: N815 (vendor spelling)
        self.tensors: dict[str, np.ndarray] = {}
        self.pool_masks: dict[str, PoolMask] = {}
        self.input_names: list[str] = []
        self.output_names: list[str] = []
        self.caffeop_factory: dict[str, Handler] = {
            "BatchNorm": self.convert_batchnorm_op,
            "Concat": self.convert_concat_op,
            "Convolution": self.convert_convolution_op,
            "Deconvolution": self.convert_deconvolution_op,
            "Dropout": self.convert_dropout_op,
            "Eltwise": self.convert_eltwise_op,
            "Flatten": self.convert_flatten_op,
            "InnerProduct": self.convert_inner_product_op,
            "Input": self.convert_input_op,
            "LRN": self.convert_lrn_op,
            "Permute": self.convert_permute_op,
            "Pooling": self.convert_pooling_op,
            "PReLU": self.convert_prelu_op,
            "ReLU": self.convert_relu_op,
            "Reshape": self.convert_reshape_op,
            "Scale": self.convert_scale_op,
            "Sigmoid": self.convert_sigmoid_op,
            "Softmax": self.convert_softmax_op,
            "TanH": self.convert_tanh_op,
            "Upsample": self.convert_upsample_op,
        }

    # ------------------------------------------------------------------------------------
    # Driver
    # ------------------------------------------------------------------------------------

    @property
    def CVI(self) -> MLIRImporter:  # noqa: N802 (vendor spelling)
        return self._importer()

    def run(self) -> Module:
        """Converts, verifies and writes the .mlir and weight files; returns the module."""
        with self.ctx, Location.unknown():
            input_shapes = self._resolve_input_shapes()
            self.mlir = MLIRImporter(
                self.model_name, input_shapes, input_preprocess=self._preprocess_dicts(input_shapes)
            )
            for name, value in self.mlir.input_values.items():
                self.addOperand(name, value, list(input_shapes[name]), TensorType.ACTIVATION)
            for layer in self.layers:
                self.convert_layer(layer)
            self.output_names = self.caffe_net.outputs()
            if not self.output_names:
                raise ConversionError(f"'{self.prototxt}': the net has no output blob")
            self.mlir.set_outputs([self._output_value(name) for name in self.output_names])
            self.mlir.remove_dead_ops()
            try:
                self.mlir.verify()
            except MLIRBuildError as error:
                raise ConversionError(str(error)) from None
            self.mlir.write(self.mlir_file, self.weight_file)
            self.module = self.mlir.module
        return self.module

    def convert_layer(self, layer: CaffeLayer) -> None:
        for bottom in layer.bottom:
            if bottom not in self.valueMap:
                raise ConversionError(
                    f"{layer.describe()}: bottom '{bottom}' is not produced by an earlier layer "
                    "or declared as an input"
                )
        handler = self.caffeop_factory.get(layer.type)
        if handler is None:
            raise UnsupportedOpError(
                f"{layer.describe()}: Caffe layer type '{layer.type}' is not supported. Add it "
                "as a custom op: subclass CaffeConverter, register a handler with "
                f"self.caffeop_factory['{layer.type}'] = self.convert_my_op, and in it call "
                "self.mlir.add_custom_op(...) and self.addOperand(...)"
            )
        try:
            handler(layer)
        except ConversionError as error:
            message = str(error)
            if layer.describe() not in message:
                raise type(error)(f"{layer.describe()}: {message}") from None
            raise
        except (MLIRBuildError, ValueError, KeyError, IndexError, TypeError) as error:
            raise ConversionError(f"{layer.describe()}: {error}") from error
        for top in layer.top:
            if top not in self.valueMap:
                raise ConversionError(f"{layer.describe()}: the handler did not define top '{top}'")

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
        """Records the MLIR value of blob `op_name` (an in-place layer overwrites it)."""
        self.valueMap[op_name] = (as_value(op), [int(d) for d in shape], tensor_type)
        self.pool_masks.pop(op_name, None)  # a blob written again is no longer a mask

    def getOperand(self, op_name: str) -> Operand:  # noqa: N802
        """(value, shape, TensorType) of a blob, or of a constant added with addTensor."""
        if op_name in self.valueMap:
            return self.valueMap[op_name]
        if op_name in self.tensors:
            data = self.tensors[op_name]
            value = self._importer().add_weight(op_name, data)
            self.valueMap[op_name] = (value, list(data.shape), TensorType.TENSOR)
            return self.valueMap[op_name]
        raise ConversionError(f"blob '{op_name}' is not defined")

    def addTensor(self, op_name: str, data: np.ndarray) -> None:  # noqa: N802
        self.tensors[op_name] = np.asarray(data)

    def getTensor(self, op_name: str) -> np.ndarray:  # noqa: N802
        if op_name not in self.tensors:
            raise ConversionError(f"tensor '{op_name}' is not a constant")
        return self.tensors[op_name]

    def isTensor(self, op_name: str) -> bool:  # noqa: N802
        return op_name in self.tensors

    def pool_mask_info(self, mask_blob: str) -> PoolMask:
        """The pooling behind an argmax mask blob (ConversionError when it is not one)."""
        if mask_blob not in self.pool_masks:
            raise ConversionError(f"blob '{mask_blob}' is not the mask top of a max Pooling")
        return self.pool_masks[mask_blob]

    # ------------------------------------------------------------------------------------
    # Helpers for handlers
    # ------------------------------------------------------------------------------------

    def _importer(self) -> MLIRImporter:
        if self.mlir is None:
            raise ConversionError("the MLIR importer exists only while run() converts")
        return self.mlir

    def activation(self, layer: CaffeLayer, index: int = 0) -> tuple[Value, list[int]]:
        if index >= len(layer.bottom):
            raise ConversionError(f"{layer.describe()}: bottom {index} is missing")
        name = layer.bottom[index]
        if name in self.pool_masks:
            raise UnsupportedOpError(
                f"{layer.describe()}: bottom '{name}' is the argmax mask of Pooling "
                f"'{self.pool_masks[name].layer}'; only an unpooling custom op can consume it"
            )
        value, shape, _ = self.getOperand(name)
        return value, shape

    def weight(self, name: str, data: np.ndarray) -> Value:
        return self._importer().add_weight(name, data)

    def blob(self, layer: CaffeLayer, index: int, what: str, size: int | None = None) -> np.ndarray:
        """Blob `index` of the layer's weights; with `size`, it must hold that many values."""
        if index >= len(layer.blobs):
            source = self.caffemodel or "(no caffemodel given)"
            raise ConversionError(
                f"{layer.describe()}: weight blob {index} ({what}) is missing from '{source}' "
                f"(the layer has {len(layer.blobs)} blobs there)"
            )
        data = layer.blobs[index]
        if size is not None and data.size != size:
            raise ConversionError(
                f"{layer.describe()}: {what} blob has {data.size} values "
                f"(shape {list(data.shape)}), expected {size}"
            )
        return data

    def emit(
        self,
        layer: CaffeLayer,
        op_name: str,
        operands: Sequence[Value],
        shape: Sequence[int],
        attrs: Mapping[str, Any] | None = None,
        *,
        name: str | None = None,
        top: str | None = None,
    ) -> Value:
        """Builds `op_name` named `name` (default: the layer name) and records it as blob `top`
        (default: the layer's first top; "" records nothing)."""
        value = self._importer().add_op(
            op_name, operands, shape, name=name or layer.name, attrs=attrs, loc=layer.name
        )
        target = layer.top[0] if top is None else top
        if target:
            self.addOperand(target, value, shape, TensorType.ACTIVATION)
        return value

    def emit_unary(
        self, layer: CaffeLayer, op_name: str, attrs: Mapping[str, Any] | None = None
    ) -> None:
        value, shape = self.activation(layer)
        self.emit(layer, op_name, [value], shape, attrs)

    def _require_4d(self, layer: CaffeLayer, shape: Sequence[int]) -> None:
        if len(shape) != 4:
            raise UnsupportedOpError(
                f"{layer.describe()}: only 4-D (NCHW) blobs are supported, got {list(shape)}"
            )

    def _axis(self, layer: CaffeLayer, axis: int, rank: int) -> int:
        try:
            return shp.normalize_axis(int(axis), rank)
        except ValueError as error:
            raise ConversionError(f"{layer.describe()}: {error}") from None

    # ------------------------------------------------------------------------------------
    # Net-level preparation
    # ------------------------------------------------------------------------------------

    def _resolve_input_shapes(self) -> dict[str, list[int]]:
        declared = self.caffe_net.declared_inputs()
        if not declared:
            raise ConversionError(
                f"'{self.prototxt}': the net declares no input (input/input_shape or an Input "
                "layer)"
            )
        self.input_names = list(declared)
        given = self.input_shapes_arg
        overrides: dict[str, Sequence[int]] = {}
        if isinstance(given, Mapping):
            unknown = set(given) - set(declared)
            if unknown:
                raise ConversionError(
                    f"input_shapes names unknown inputs {sorted(unknown)}; the net's inputs are "
                    f"{list(declared)}"
                )
            overrides = dict(given)
        elif given is not None:
            if len(given) != len(declared):
                raise ConversionError(
                    f"input_shapes has {len(given)} shapes but the net has {len(declared)} "
                    f"inputs {list(declared)}"
                )
            overrides = dict(zip(declared, given, strict=True))
        result = {}
        for name, shape in declared.items():
            chosen = overrides.get(name, shape)
            if chosen is None:
                raise ConversionError(f"input '{name}' has no shape; pass input_shapes")
            chosen = [int(d) for d in chosen]
            if not chosen or any(d <= 0 for d in chosen):
                raise ConversionError(f"input '{name}': shape {chosen} must be positive")
            result[name] = chosen
        return result

    def _preprocess_dicts(self, input_shapes: Mapping[str, Sequence[int]]) -> dict[str, Any]:
        given = self.preprocess_arg
        if given is None:
            return {}
        if isinstance(given, Preprocess):
            if len(input_shapes) != 1:
                raise ConversionError(
                    "preprocess given as one Preprocess but the net has inputs "
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
            if isinstance(pre.resize, tuple) and any(
                r < c for r, c in zip(pre.resize, shape[2:], strict=True)
            ):
                raise ConversionError(
                    f"preprocess of input '{name}': resize {list(pre.resize)} is smaller than the "
                    f"input size {list(shape[2:])} it is cropped to"
                )
            result[name] = pre.to_dict()
        return result

    def _output_value(self, blob: str) -> Value:
        if blob in self.pool_masks:
            raise UnsupportedOpError(
                f"'{self.prototxt}': the argmax mask '{blob}' of Pooling "
                f"'{self.pool_masks[blob].layer}' is a net output; only an unpooling custom op "
                "can consume it"
            )
        return self.getOperand(blob)[0]

    # ------------------------------------------------------------------------------------
    # Layers
    # ------------------------------------------------------------------------------------

    def convert_input_op(self, layer: CaffeLayer) -> None:
        """Input tops are the function's arguments (created in run())."""

    def _conv_geometry(self, layer: CaffeLayer, p: Message) -> tuple[list[int], ...]:
        what = layer.describe()
        if p.axis != 1:
            raise UnsupportedOpError(f"{what}: axis {p.axis} (only 1, NCHW, is supported)")
        kernel = _hw(p, "kernel_size", "kernel_h", "kernel_w", None, what)
        stride = _hw(p, "stride", "stride_h", "stride_w", 1, what)
        pad = _hw(p, "pad", "pad_h", "pad_w", 0, what)
        dilation = [int(d) for d in p.dilation] or [1]
        if len(dilation) == 1:
            dilation = dilation * 2
        if len(dilation) != 2:
            raise UnsupportedOpError(f"{what}: {len(dilation)} dilation values")
        if min(kernel + stride + dilation) <= 0:
            raise ConversionError(
                f"{what}: kernel {kernel}, stride {stride} and dilation {dilation} must be positive"
            )
        return kernel, stride, pad, dilation

    def convert_convolution_op(self, layer: CaffeLayer) -> None:
        value, shape = self.activation(layer)
        self._require_4d(layer, shape)
        p = layer.convolution_param
        kernel, stride, pad, dilation = self._conv_geometry(layer, p)
        group = int(p.group)
        channels, num_output = shape[1], int(p.num_output)
        if group <= 0 or channels % group or num_output % group:
            raise ConversionError(
                f"{layer.describe()}: group {group} does not divide the {channels} input and "
                f"{num_output} output channels"
            )
        filt = self.blob(layer, 0, "filter")
        expected = [num_output, channels // group, kernel[0], kernel[1]]
        if filt.size != int(np.prod(expected)):
            raise ConversionError(
                f"{layer.describe()}: filter blob of shape {list(filt.shape)} does not hold "
                f"{expected}"
            )
        operands = [value, self.weight(f"{layer.name}_0", filt.reshape(expected))]
        if p.bias_term:
            bias = self.blob(layer, 1, "bias", num_output)
            operands.append(self.weight(f"{layer.name}_1", bias.reshape(-1)))
        out = [shape[0], num_output] + [
            (shape[2 + i] + 2 * pad[i] - (dilation[i] * (kernel[i] - 1) + 1)) // stride[i] + 1
            for i in range(2)
        ]
        if min(out) <= 0:
            raise ConversionError(f"{layer.describe()}: the kernel exceeds the padded input")
        self.emit(
            layer,
            "tpu.conv_2d",
            operands,
            out,
            {
                "strides": stride,
                "pads": [pad[0], pad[1], pad[0], pad[1]],
                "dilations": dilation,
                "group": group,
            },
        )

    def convert_deconvolution_op(self, layer: CaffeLayer) -> None:
        value, shape = self.activation(layer)
        self._require_4d(layer, shape)
        p = layer.convolution_param
        kernel, stride, pad, dilation = self._conv_geometry(layer, p)
        group = int(p.group)
        channels, num_output = shape[1], int(p.num_output)
        if group <= 0 or channels % group or num_output % group:
            raise ConversionError(
                f"{layer.describe()}: group {group} does not divide the {channels} input and "
                f"{num_output} output channels"
            )
        filt = self.blob(layer, 0, "filter")
        expected = [channels, num_output // group, kernel[0], kernel[1]]
        if filt.size != int(np.prod(expected)):
            raise ConversionError(
                f"{layer.describe()}: filter blob of shape {list(filt.shape)} does not hold "
                f"{expected}"
            )
        operands = [value, self.weight(f"{layer.name}_0", filt.reshape(expected))]
        if p.bias_term:
            bias = self.blob(layer, 1, "bias", num_output)
            operands.append(self.weight(f"{layer.name}_1", bias.reshape(-1)))
        out = [shape[0], num_output] + [
            (shape[2 + i] - 1) * stride[i] - 2 * pad[i] + dilation[i] * (kernel[i] - 1) + 1
            for i in range(2)
        ]
        if min(out) <= 0:
            raise ConversionError(f"{layer.describe()}: the padding exceeds the output")
        self.emit(
            layer,
            "tpu.deconv_2d",
            operands,
            out,
            {
                "strides": stride,
                "pads": [pad[0], pad[1], pad[0], pad[1]],
                "dilations": dilation,
                "output_padding": [0, 0],
                "group": group,
            },
        )

    def convert_batchnorm_op(self, layer: CaffeLayer) -> None:
        value, shape = self.activation(layer)
        p = layer.batch_norm_param
        if p.has("use_global_stats") and not p.use_global_stats:
            raise UnsupportedOpError(
                f"{layer.describe()}: use_global_stats: false (batch statistics) is not "
                "supported for inference"
            )
        if len(shape) < 2:
            raise ConversionError(f"{layer.describe()}: the input needs a channel axis")
        channels = shape[1]
        mean = self.blob(layer, 0, "mean", channels).reshape(-1)
        var = self.blob(layer, 1, "variance", channels).reshape(-1)
        factor = float(self.blob(layer, 2, "moving average factor", 1).reshape(-1)[0])
        factor = 0.0 if factor == 0 else 1.0 / factor
        operands = [
            value,
            self.weight(f"{layer.name}_mean", (mean * factor).astype(np.float32)),
            self.weight(f"{layer.name}_variance", (var * factor).astype(np.float32)),
            self.weight(f"{layer.name}_scale", np.ones(channels, np.float32)),
            self.weight(f"{layer.name}_bias", np.zeros(channels, np.float32)),
        ]
        self.emit(layer, "tpu.batch_norm", operands, shape, {"epsilon": float(p.eps)})

    def convert_scale_op(self, layer: CaffeLayer) -> None:
        value, shape = self.activation(layer)
        p = layer.scale_param
        axis = self._axis(layer, p.axis, len(shape))
        if len(layer.bottom) == 2:
            self._scale_by_bottom(layer, value, shape, axis)
            return
        if len(shape) < 2 or axis != 1:
            raise UnsupportedOpError(
                f"{layer.describe()}: only a scale along axis 1 (channels) is supported, got "
                f"axis {p.axis} for shape {shape}"
            )
        channels = shape[1]
        if p.num_axes not in (0, 1) and not (p.num_axes == -1 and len(shape) == 2):
            raise UnsupportedOpError(
                f"{layer.describe()}: num_axes {p.num_axes}; only per-channel (1) or scalar (0) "
                "scales are supported"
            )
        scale = self.blob(layer, 0, "scale").reshape(-1)
        if scale.size not in (1, channels):
            raise ConversionError(
                f"{layer.describe()}: scale blob has {scale.size} values for {channels} channels"
            )
        operands = [value, self.weight(f"{layer.name}_0", np.broadcast_to(scale, (channels,)))]
        if p.bias_term:
            bias = self.blob(layer, 1, "bias").reshape(-1)
            if bias.size != scale.size:
                raise ConversionError(
                    f"{layer.describe()}: bias blob has {bias.size} values, scale {scale.size}"
                )
            operands.append(self.weight(f"{layer.name}_1", np.broadcast_to(bias, (channels,))))
        self.emit(layer, "tpu.scale", operands, shape)

    def _scale_by_bottom(
        self, layer: CaffeLayer, value: Value, shape: list[int], axis: int
    ) -> None:
        """Scale with a second bottom: its shape equals the input's dims from `axis` on (Caffe's
        rule); it broadcasts over the rest."""
        gate, gate_shape = self.activation(layer, 1)
        if layer.scale_param.bias_term:
            raise UnsupportedOpError(
                f"{layer.describe()}: a scale bottom with bias_term is not supported"
            )
        if list(shape[axis : axis + len(gate_shape)]) != list(gate_shape):
            raise ConversionError(
                f"{layer.describe()}: scale bottom of shape {gate_shape} does not match the "
                f"input {shape} from axis {axis}"
            )
        full = [1] * axis + list(gate_shape) + [1] * (len(shape) - axis - len(gate_shape))
        if full == list(shape):
            self.emit(layer, "tpu.eltwise_mul", [value, gate], shape)
            return
        if len(shape) < 2 or any(d != 1 for i, d in enumerate(full) if i > 1) or full[1] == 1:
            raise UnsupportedOpError(
                f"{layer.describe()}: a scale bottom of shape {gate_shape} at axis {axis} "
                f"broadcasts over {shape} beyond the channels; only per-channel scales are "
                "supported"
            )
        if full != list(gate_shape):
            gate = self.emit(layer, "tpu.reshape", [gate], full, name=f"{layer.name}_gate", top="")
        self.emit(layer, "tpu.broadcast_mul", [value, gate], shape, {"axis": 1})

    def convert_relu_op(self, layer: CaffeLayer) -> None:
        slope = float(layer.relu_param.negative_slope)
        if slope == 0.0:
            self.emit_unary(layer, "tpu.relu")
        else:
            self.emit_unary(layer, "tpu.leaky_relu", {"negative_slope": slope})

    def convert_prelu_op(self, layer: CaffeLayer) -> None:
        value, shape = self.activation(layer)
        if len(shape) < 2:
            raise ConversionError(f"{layer.describe()}: the input needs a channel axis")
        channels = shape[1]
        slope = self.blob(layer, 0, "slope").reshape(-1)
        shared = bool(layer.prelu_param.channel_shared)
        if slope.size != (1 if shared else channels):
            raise ConversionError(
                f"{layer.describe()}: slope blob has {slope.size} values, expected "
                f"{1 if shared else channels}"
            )
        weight = self.weight(f"{layer.name}_0", np.broadcast_to(slope, (channels,)))
        self.emit(layer, "tpu.prelu", [value, weight], shape)

    def convert_sigmoid_op(self, layer: CaffeLayer) -> None:
        self.emit_unary(layer, "tpu.sigmoid")

    def convert_tanh_op(self, layer: CaffeLayer) -> None:
        self.emit_unary(layer, "tpu.tanh")

    def convert_dropout_op(self, layer: CaffeLayer) -> None:
        """Identity at inference (Caffe scales during training)."""
        value, shape = self.activation(layer)
        kind = self.valueMap[layer.bottom[0]][2]
        if layer.top[0] == layer.bottom[0]:
            return
        self.addOperand(layer.top[0], value, shape, kind)

    def _pool_geometry(self, layer: CaffeLayer, shape: Sequence[int]) -> tuple[Any, ...]:
        p = layer.pooling_param
        what = layer.describe()
        if p.global_pooling:
            if p.has("kernel_size") or p.has("kernel_h"):
                raise ConversionError(f"{what}: global_pooling with a kernel size")
            kernel = [shape[2], shape[3]]
            stride = [1, 1]
            pad = _hw(p, "pad", "pad_h", "pad_w", 0, what)
            if pad != [0, 0]:
                raise ConversionError(f"{what}: global_pooling with padding")
        else:
            kernel = _hw(p, "kernel_size", "kernel_h", "kernel_w", None, what)
            stride = _hw(p, "stride", "stride_h", "stride_w", 1, what)
            pad = _hw(p, "pad", "pad_h", "pad_w", 0, what)
        if min(kernel + stride) <= 0:
            raise ConversionError(f"{what}: kernel {kernel} and stride {stride} must be positive")
        if pad[0] >= kernel[0] or pad[1] >= kernel[1]:
            raise ConversionError(f"{what}: pad {pad} must be smaller than the kernel {kernel}")
        ceil = p.round_mode == 0
        any_pad = pad != [0, 0]
        out = [
            caffe_pooled_size(shape[2 + i], kernel[i], stride[i], pad[i], ceil, any_pad)
            for i in range(2)
        ]
        floor_out = [
            shp.window_output(shape[2 + i], pad[i], pad[i], kernel[i], stride[i]) for i in range(2)
        ]
        if out == floor_out:
            ceil_mode = False
        else:
            ceil_out = [
                shp.window_output(shape[2 + i], pad[i], pad[i], kernel[i], stride[i], True)
                for i in range(2)
            ]
            if ceil_out != out:
                raise UnsupportedOpError(
                    f"{what}: Caffe's pooled size {out} (kernel {kernel}, stride {stride}, pad "
                    f"{pad}, input {list(shape[2:])}) has windows wholly outside the input"
                )
            ceil_mode = True
        return kernel, stride, pad, ceil_mode, [shape[0], shape[1], *out]

    def convert_pooling_op(self, layer: CaffeLayer) -> None:
        value, shape = self.activation(layer)
        self._require_4d(layer, shape)
        p = layer.pooling_param
        if p.pool not in (0, 1):
            raise UnsupportedOpError(
                f"{layer.describe()}: pooling method {p.pool} (STOCHASTIC) is not supported"
            )
        kernel, stride, pad, ceil_mode, out = self._pool_geometry(layer, shape)
        attrs: dict[str, Any] = {
            "kernel_shape": kernel,
            "strides": stride,
            "pads": [pad[0], pad[1], pad[0], pad[1]],
            "ceil_mode": ceil_mode,
        }
        if p.pool == 1:
            attrs["count_include_pad"] = True
            if len(layer.top) > 1:
                raise ConversionError(f"{layer.describe()}: average pooling has no mask top")
        self.emit(
            layer, "tpu.pool_max_2d" if p.pool == 0 else "tpu.pool_avg_2d", [value], out, attrs
        )
        if len(layer.top) > 1:
            if len(layer.top) > 2:
                raise ConversionError(f"{layer.describe()}: {len(layer.top)} tops (at most 2)")
            mask = layer.top[1]
            self.addOperand(mask, value, shape, TensorType.ACTIVATION)
            self.pool_masks[mask] = PoolMask(
                layer.name,
                layer.bottom[0],
                tuple(shape),
                tuple(out),
                (kernel[0], kernel[1]),
                (stride[0], stride[1]),
                (pad[0], pad[1]),
                p.round_mode == 0,
            )

    def convert_lrn_op(self, layer: CaffeLayer) -> None:
        p = layer.lrn_param
        if p.norm_region != 0:
            raise UnsupportedOpError(f"{layer.describe()}: WITHIN_CHANNEL LRN is not supported")
        value, shape = self.activation(layer)
        self._require_4d(layer, shape)
        self.emit(
            layer,
            "tpu.lrn",
            [value],
            shape,
            {
                "local_size": int(p.local_size),
                "alpha": float(p.alpha),
                "beta": float(p.beta),
                "k": float(p.k),
            },
        )

    def convert_inner_product_op(self, layer: CaffeLayer) -> None:
        value, shape = self.activation(layer)
        p = layer.inner_product_param
        axis = self._axis(layer, p.axis, len(shape))
        rows, depth = int(np.prod(shape[:axis])), int(np.prod(shape[axis:]))
        num_output = int(p.num_output)
        filt = self.blob(layer, 0, "weight", num_output * depth).reshape(
            (depth, num_output) if p.transpose else (num_output, depth)
        )
        if p.transpose:
            filt = filt.T
        operands = [self.weight(f"{layer.name}_0", filt)]
        if p.bias_term:
            operands.append(
                self.weight(f"{layer.name}_1", self.blob(layer, 1, "bias", num_output).reshape(-1))
            )
        out = list(shape[:axis]) + [num_output]
        if len(shape) != 2:
            value = self.emit(
                layer, "tpu.reshape", [value], [rows, depth], name=f"{layer.name}_flatten", top=""
            )
        if out == [rows, num_output]:
            self.emit(layer, "tpu.fully_connected", [value, *operands], out)
            return
        fc = self.emit(
            layer,
            "tpu.fully_connected",
            [value, *operands],
            [rows, num_output],
            name=f"{layer.name}_fc",
            top="",
        )
        self.emit(layer, "tpu.reshape", [fc], out)

    def convert_eltwise_op(self, layer: CaffeLayer) -> None:
        operands = [self.activation(layer, i) for i in range(len(layer.bottom))]
        if len(operands) < 2:
            raise ConversionError(f"{layer.describe()}: needs two or more bottoms")
        shape = operands[0][1]
        if any(s != shape for _, s in operands):
            raise ConversionError(
                f"{layer.describe()}: bottoms of shapes {[s for _, s in operands]} differ"
            )
        p = layer.eltwise_param
        values = [v for v, _ in operands]
        coeff = [float(c) for c in p.coeff]
        if coeff and (p.operation != 1 or len(coeff) != len(values)):
            raise ConversionError(
                f"{layer.describe()}: coeff needs the SUM operation and one value per bottom"
            )
        if p.operation == 1:
            attrs = {"coeff": coeff} if coeff and any(c != 1.0 for c in coeff) else {}
            self.emit(layer, "tpu.eltwise_add", values, shape, attrs)
        elif p.operation == 0:
            self.emit(layer, "tpu.eltwise_mul", values, shape)
        elif p.operation == 2:
            self.emit(layer, "tpu.eltwise_max", values, shape)
        else:
            raise UnsupportedOpError(f"{layer.describe()}: operation {p.operation}")

    def convert_concat_op(self, layer: CaffeLayer) -> None:
        operands = [self.activation(layer, i) for i in range(len(layer.bottom))]
        p = layer.concat_param
        rank = len(operands[0][1])
        raw = p.concat_dim if p.has("concat_dim") and not p.has("axis") else p.axis
        axis = self._axis(layer, raw, rank)
        out = list(operands[0][1])
        for _, shape in operands[1:]:
            if len(shape) != rank or any(
                a != b for i, (a, b) in enumerate(zip(shape, out, strict=True)) if i != axis
            ):
                raise ConversionError(
                    f"{layer.describe()}: shapes {[s for _, s in operands]} do not concatenate "
                    f"along axis {axis}"
                )
            out[axis] += shape[axis]
        if len(operands) == 1:
            self.emit(layer, "tpu.reshape", [operands[0][0]], out)
            return
        self.emit(layer, "tpu.concat", [v for v, _ in operands], out, {"axis": axis})

    def convert_softmax_op(self, layer: CaffeLayer) -> None:
        value, shape = self.activation(layer)
        axis = self._axis(layer, layer.softmax_param.axis, len(shape))
        self.emit(layer, "tpu.softmax", [value], shape, {"axis": axis})

    def convert_flatten_op(self, layer: CaffeLayer) -> None:
        value, shape = self.activation(layer)
        p = layer.flatten_param
        start = self._axis(layer, p.axis, len(shape))
        end = self._axis(layer, p.end_axis, len(shape))
        if end < start:
            raise ConversionError(f"{layer.describe()}: end_axis {p.end_axis} before axis {p.axis}")
        out = list(shape[:start]) + [int(np.prod(shape[start : end + 1]))] + list(shape[end + 1 :])
        self.emit(layer, "tpu.reshape", [value], out)

    def convert_reshape_op(self, layer: CaffeLayer) -> None:
        value, shape = self.activation(layer)
        out = caffe_reshape(shape, layer.reshape_param, layer.describe())
        self.emit(layer, "tpu.reshape", [value], out)

    def convert_permute_op(self, layer: CaffeLayer) -> None:
        value, shape = self.activation(layer)
        order = caffe_permute_order(
            [int(o) for o in layer.permute_param.order], len(shape), layer.describe()
        )
        self.emit(layer, "tpu.permute", [value], [shape[o] for o in order], {"order": order})

    def upsample_output_shape(self, layer: CaffeLayer, shape: Sequence[int]) -> list[int]:
        """[N, C, H', W'] of a SegNet Upsample layer: upsample_h/w, else H * scale (minus one
        with pad_out)."""
        size, _ = caffe_upsample_size(layer.upsample_param, shape, layer.describe())
        return [shape[0], shape[1], size[0], size[1]]

    def convert_upsample_op(self, layer: CaffeLayer) -> None:
        value, shape = self.activation(layer)
        self._require_4d(layer, shape)
        if len(layer.bottom) > 1:
            mask = layer.bottom[1]
            origin = (
                f" (the argmax mask of Pooling '{self.pool_masks[mask].layer}')"
                if mask in self.pool_masks
                else ""
            )
            raise UnsupportedOpError(
                f"{layer.describe()}: unpooling with mask '{mask}'{origin} has no built-in tpu "
                "op; it needs the custom op UnPooling: subclass CaffeConverter, set "
                "self.caffeop_factory['Upsample'] to a handler that calls "
                "self.mlir.add_custom_op(..., operation_name='unpooling', ...) on "
                "getOperand(layer.bottom[0]) and getOperand(layer.bottom[1]) (the pooling's "
                "input; its geometry is pool_mask_info(layer.bottom[1])), then addOperand"
            )
        size, scale = caffe_upsample_size(layer.upsample_param, shape, layer.describe())
        if size != [shape[2] * scale[0], shape[3] * scale[1]]:
            raise UnsupportedOpError(
                f"{layer.describe()}: nearest upsampling of {list(shape[2:])} by {scale} to "
                f"{size} (not a whole multiple) is not supported"
            )
        self.emit(
            layer,
            "tpu.upsample",
            [value],
            [shape[0], shape[1], *size],
            {"scale_h": scale[0], "scale_w": scale[1]},
        )


def caffe_reshape(shape: Sequence[int], p: Message, what: str) -> list[int]:
    """Caffe ReshapeLayer: dims of `p.shape` replace axes [axis, axis + num_axes) of `shape`;
    0 copies the input dim, -1 is inferred."""
    rank = len(shape)
    axis = p.axis + rank + 1 if p.axis < 0 else p.axis
    if not 0 <= axis <= rank:
        raise ConversionError(f"{what}: axis {p.axis} out of range for {list(shape)}")
    num_axes = rank - axis if p.num_axes == -1 else p.num_axes
    if num_axes < 0 or axis + num_axes > rank:
        raise ConversionError(f"{what}: num_axes {p.num_axes} out of range for {list(shape)}")
    dims = [int(d) for d in p.shape.dim]
    middle = []
    for i, d in enumerate(dims):
        if d == 0:
            if axis + i >= rank:
                raise ConversionError(f"{what}: dim 0 at {i} copies no input axis")
            middle.append(shape[axis + i])
        else:
            middle.append(d)
    out = list(shape[:axis]) + middle + list(shape[axis + num_axes :])
    if out.count(-1) > 1:
        raise ConversionError(f"{what}: more than one -1 in {dims}")
    total = int(np.prod(shape))
    if -1 in out:
        known = int(np.prod([d for d in out if d != -1]))
        if known == 0 or total % known:
            raise ConversionError(f"{what}: cannot reshape {list(shape)} to {dims}")
        out[out.index(-1)] = total // known
    if int(np.prod(out)) != total or any(d <= 0 for d in out):
        raise ConversionError(f"{what}: cannot reshape {list(shape)} to {out}")
    return out


def caffe_permute_order(order: list[int], rank: int, what: str) -> list[int]:
    """SSD's Permute: the given order, then the remaining axes in increasing order."""
    if len(set(order)) != len(order) or any(not 0 <= o < rank for o in order):
        raise ConversionError(f"{what}: order {order} is not a permutation of {rank} axes")
    return order + [a for a in range(rank) if a not in order]


def caffe_upsample_size(p: Message, shape: Sequence[int], what: str) -> tuple[list[int], list[int]]:
    """([H', W'], [scale_h, scale_w]) of a SegNet Upsample layer."""
    if p.has("scale_h") or p.has("scale_w"):
        scale = [int(p.scale_h), int(p.scale_w)]
    else:
        scale = [int(p.scale), int(p.scale)]
    if min(scale) <= 0:
        raise ConversionError(f"{what}: upsample scale {scale} must be positive")
    if p.has("upsample_h") or p.has("upsample_w"):
        if not (p.has("upsample_h") and p.has("upsample_w")):
            raise ConversionError(f"{what}: upsample_h and upsample_w must be given together")
        size = [int(p.upsample_h), int(p.upsample_w)]
        if any(s <= 0 for s in size):
            raise ConversionError(f"{what}: upsample size {size} must be positive")
    else:
        size = [
            shape[2] * scale[0] - int(bool(p.pad_out_h)),
            shape[3] * scale[1] - int(bool(p.pad_out_w)),
        ]
    return size, scale
