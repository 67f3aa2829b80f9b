"""Caffe model files without Caffe: the NetParameter schema subset tpuc reads, a protobuf
wire-format reader/writer and a text-format (.prototxt) parser/printer, in pure Python.

The schema below is written from the public field numbers of Caffe's caffe.proto (BVLC Caffe,
plus the Permute layer of the SSD fork and the Upsample layer of SegNet-style forks). Reading
a binary .caffemodel skips fields the schema does not know; reading a .prototxt rejects unknown
fields of known messages (as Caffe does) but accepts unknown `*_param` blocks of a layer, so a
fork's layer still parses and the converter can name it. Packed float blobs are decoded with
numpy in one step.

    net = read_prototxt("segnet.prototxt")           # Message of type NetParameter
    weights = read_caffemodel("segnet.caffemodel")
    for layer in net.layer:
        print(layer.name, layer.type, list(layer.bottom), layer.convolution_param.num_output)
    write_caffemodel(weights, "copy.caffemodel"); write_prototxt(net, "copy.prototxt")

Errors are CaffeFormatError naming the file and the line:column (text) or byte offset and
field path (binary).
"""

from __future__ import annotations

import math
import struct
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np


class CaffeFormatError(ValueError):
    """A Caffe file cannot be read: the message names the file and the position."""


# ------------------------------------------------------------------------------------------
# Schema
# ------------------------------------------------------------------------------------------

OPTIONAL, REPEATED = "optional", "repeated"
VARINT_KINDS = {"int32", "int64", "uint32", "uint64", "bool", "enum"}
SCALAR_KINDS = VARINT_KINDS | {"float", "double"}


@dataclass(frozen=True)
class FieldDef:
    number: int
    name: str
    kind: str  # a scalar kind, "string", "bytes" or "message"
    label: str = OPTIONAL
    default: Any = None
    type_name: str = ""  # message or enum type
    packed: bool = False


@dataclass
class MessageDef:
    name: str
    fields: list[FieldDef]
    open_params: bool = False  # accepts unknown "*_param" blocks in text format
    by_name: dict[str, FieldDef] = field(default_factory=dict)
    by_number: dict[int, FieldDef] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self.by_name = {f.name: f for f in self.fields}
        self.by_number = {f.number: f for f in self.fields}


ENUMS: dict[str, dict[str, int]] = {
    "Phase": {"TRAIN": 0, "TEST": 1},
    "PoolMethod": {"MAX": 0, "AVE": 1, "STOCHASTIC": 2},
    "RoundMode": {"CEIL": 0, "FLOOR": 1},
    "EltwiseOp": {"PROD": 0, "SUM": 1, "MAX": 2},
    "Engine": {"DEFAULT": 0, "CAFFE": 1, "CUDNN": 2},
    "DimCheckMode": {"STRICT": 0, "PERMISSIVE": 1},
    "VarianceNorm": {"FAN_IN": 0, "FAN_OUT": 1, "AVERAGE": 2},
    "NormRegion": {"ACROSS_CHANNELS": 0, "WITHIN_CHANNEL": 1},
}


def _f(
    number: int,
    name: str,
    kind: str,
    label: str = OPTIONAL,
    default: Any = None,
    type_name: str = "",
    packed: bool = False,
) -> FieldDef:
    return FieldDef(number, name, kind, label, default, type_name, packed)


def _msg(number: int, name: str, type_name: str, label: str = OPTIONAL) -> FieldDef:
    return FieldDef(number, name, "message", label, None, type_name)


def _enum(number: int, name: str, type_name: str, default: int = 0) -> FieldDef:
    return FieldDef(number, name, "enum", OPTIONAL, default, type_name)


R = REPEATED
_ENGINE = _enum(1, "engine", "Engine")

SCHEMA: dict[str, MessageDef] = {
    m.name: m
    for m in [
        MessageDef("BlobShape", [_f(1, "dim", "int64", R, packed=True)]),
        MessageDef(
            "BlobProto",
            [
                _msg(7, "shape", "BlobShape"),
                _f(5, "data", "float", R, packed=True),
                _f(6, "diff", "float", R, packed=True),
                _f(8, "double_data", "double", R, packed=True),
                _f(9, "double_diff", "double", R, packed=True),
                _f(1, "num", "int32", default=0),
                _f(2, "channels", "int32", default=0),
                _f(3, "height", "int32", default=0),
                _f(4, "width", "int32", default=0),
            ],
        ),
        MessageDef(
            "NetState",
            [
                _enum(1, "phase", "Phase", 1),
                _f(2, "level", "int32", default=0),
                _f(3, "stage", "string", R),
            ],
        ),
        MessageDef(
            "NetStateRule",
            [
                _enum(1, "phase", "Phase"),
                _f(2, "min_level", "int32"),
                _f(3, "max_level", "int32"),
                _f(4, "stage", "string", R),
                _f(5, "not_stage", "string", R),
            ],
        ),
        MessageDef(
            "ParamSpec",
            [
                _f(1, "name", "string", default=""),
                _f(2, "share_mode", "enum", default=0, type_name="DimCheckMode"),
                _f(3, "lr_mult", "float", default=1.0),
                _f(4, "decay_mult", "float", default=1.0),
            ],
        ),
        MessageDef(
            "FillerParameter",
            [
                _f(1, "type", "string", default="constant"),
                _f(2, "value", "float", default=0.0),
                _f(3, "min", "float", default=0.0),
                _f(4, "max", "float", default=1.0),
                _f(5, "mean", "float", default=0.0),
                _f(6, "std", "float", default=1.0),
                _f(7, "sparse", "int32", default=-1),
                _enum(8, "variance_norm", "VarianceNorm"),
            ],
        ),
        MessageDef(
            "NetParameter",
            [
                _f(1, "name", "string", default=""),
                _f(3, "input", "string", R),
                _msg(8, "input_shape", "BlobShape", R),
                _f(4, "input_dim", "int32", R),
                _f(5, "force_backward", "bool", default=False),
                _msg(6, "state", "NetState"),
                _f(7, "debug_info", "bool", default=False),
                _msg(100, "layer", "LayerParameter", R),
                _msg(2, "layers", "V1LayerParameter", R),
            ],
        ),
        # Only recognised, to reject the pre-2015 format with a clear message.
        MessageDef(
            "V1LayerParameter",
            [
                _f(4, "name", "string", default=""),
                _f(2, "bottom", "string", R),
                _f(3, "top", "string", R),
            ],
            open_params=True,
        ),
        MessageDef(
            "LayerParameter",
            [
                _f(1, "name", "string", default=""),
                _f(2, "type", "string", default=""),
                _f(3, "bottom", "string", R),
                _f(4, "top", "string", R),
                _enum(10, "phase", "Phase"),
                _f(5, "loss_weight", "float", R),
                _msg(6, "param", "ParamSpec", R),
                _msg(7, "blobs", "BlobProto", R),
                _f(11, "propagate_down", "bool", R),
                _msg(8, "include", "NetStateRule", R),
                _msg(9, "exclude", "NetStateRule", R),
                _msg(139, "batch_norm_param", "BatchNormParameter"),
                _msg(104, "concat_param", "ConcatParameter"),
                _msg(106, "convolution_param", "ConvolutionParameter"),
                _msg(108, "dropout_param", "DropoutParameter"),
                _msg(110, "eltwise_param", "EltwiseParameter"),
                _msg(135, "flatten_param", "FlattenParameter"),
                _msg(117, "inner_product_param", "InnerProductParameter"),
                _msg(143, "input_param", "InputParameter"),
                _msg(118, "lrn_param", "LRNParameter"),
                _msg(121, "pooling_param", "PoolingParameter"),
                _msg(131, "prelu_param", "PReLUParameter"),
                _msg(123, "relu_param", "ReLUParameter"),
                _msg(133, "reshape_param", "ReshapeParameter"),
                _msg(142, "scale_param", "ScaleParameter"),
                _msg(124, "sigmoid_param", "SigmoidParameter"),
                _msg(125, "softmax_param", "SoftmaxParameter"),
                _msg(127, "tanh_param", "TanHParameter"),
                _msg(202, "permute_param", "PermuteParameter"),  # SSD fork
                _msg(149, "upsample_param", "UpsampleParameter"),  # SegNet-style forks differ
            ],
            open_params=True,
        ),
        MessageDef(
            "BatchNormParameter",
            [
                _f(1, "use_global_stats", "bool"),
                _f(2, "moving_average_fraction", "float", default=0.999),
                _f(3, "eps", "float", default=1e-5),
            ],
        ),
        MessageDef(
            "ConcatParameter",
            [
                _f(2, "axis", "int32", default=1),
                _f(1, "concat_dim", "uint32", default=1),
            ],
        ),
        MessageDef(
            "ConvolutionParameter",
            [
                _f(1, "num_output", "uint32", default=0),
                _f(2, "bias_term", "bool", default=True),
                _f(3, "pad", "uint32", R),
                _f(4, "kernel_size", "uint32", R),
                _f(6, "stride", "uint32", R),
                _f(18, "dilation", "uint32", R),
                _f(9, "pad_h", "uint32", default=0),
                _f(10, "pad_w", "uint32", default=0),
                _f(11, "kernel_h", "uint32", default=0),
                _f(12, "kernel_w", "uint32", default=0),
                _f(13, "stride_h", "uint32", default=0),
                _f(14, "stride_w", "uint32", default=0),
                _f(5, "group", "uint32", default=1),
                _msg(7, "weight_filler", "FillerParameter"),
                _msg(8, "bias_filler", "FillerParameter"),
                _enum(15, "engine", "Engine"),
                _f(16, "axis", "int32", default=1),
                _f(17, "force_nd_im2col", "bool", default=False),
            ],
        ),
        MessageDef("DropoutParameter", [_f(1, "dropout_ratio", "float", default=0.5)]),
        MessageDef(
            "EltwiseParameter",
            [
                _enum(1, "operation", "EltwiseOp", 1),
                _f(2, "coeff", "float", R),
                _f(3, "stable_prod_grad", "bool", default=True),
            ],
        ),
        MessageDef(
            "FlattenParameter",
            [
                _f(1, "axis", "int32", default=1),
                _f(2, "end_axis", "int32", default=-1),
            ],
        ),
        MessageDef(
            "InnerProductParameter",
            [
                _f(1, "num_output", "uint32", default=0),
                _f(2, "bias_term", "bool", default=True),
                _msg(3, "weight_filler", "FillerParameter"),
                _msg(4, "bias_filler", "FillerParameter"),
                _f(5, "axis", "int32", default=1),
                _f(6, "transpose", "bool", default=False),
            ],
        ),
        MessageDef("InputParameter", [_msg(1, "shape", "BlobShape", R)]),
        MessageDef(
            "LRNParameter",
            [
                _f(1, "local_size", "uint32", default=5),
                _f(2, "alpha", "float", default=1.0),
                _f(3, "beta", "float", default=0.75),
                _enum(4, "norm_region", "NormRegion"),
                _f(5, "k", "float", default=1.0),
                _enum(6, "engine", "Engine"),
            ],
        ),
        MessageDef(
            "PoolingParameter",
            [
                _enum(1, "pool", "PoolMethod"),
                _f(4, "pad", "uint32", default=0),
                _f(9, "pad_h", "uint32", default=0),
                _f(10, "pad_w", "uint32", default=0),
                _f(2, "kernel_size", "uint32", default=0),
                _f(5, "kernel_h", "uint32", default=0),
                _f(6, "kernel_w", "uint32", default=0),
                _f(3, "stride", "uint32", default=1),
                _f(7, "stride_h", "uint32", default=0),
                _f(8, "stride_w", "uint32", default=0),
                _enum(11, "engine", "Engine"),
                _f(12, "global_pooling", "bool", default=False),
                _enum(13, "round_mode", "RoundMode"),
            ],
        ),
        MessageDef(
            "PReLUParameter",
            [
                _msg(1, "filler", "FillerParameter"),
                _f(2, "channel_shared", "bool", default=False),
            ],
        ),
        MessageDef(
            "ReLUParameter",
            [
                _f(1, "negative_slope", "float", default=0.0),
                _enum(2, "engine", "Engine"),
            ],
        ),
        MessageDef(
            "ReshapeParameter",
            [
                _msg(1, "shape", "BlobShape"),
                _f(2, "axis", "int32", default=0),
                _f(3, "num_axes", "int32", default=-1),
            ],
        ),
        MessageDef(
            "ScaleParameter",
            [
                _f(1, "axis", "int32", default=1),
                _f(2, "num_axes", "int32", default=1),
                _msg(3, "filler", "FillerParameter"),
                _f(4, "bias_term", "bool", default=False),
                _msg(5, "bias_filler", "FillerParameter"),
            ],
        ),
        MessageDef("SigmoidParameter", [_ENGINE]),
        MessageDef("SoftmaxParameter", [_ENGINE, _f(2, "axis", "int32", default=1)]),
        MessageDef("TanHParameter", [_ENGINE]),
        MessageDef("PermuteParameter", [_f(1, "order", "uint32", R)]),
        MessageDef(
            "UpsampleParameter",
            [
                _f(1, "scale", "uint32", default=2),
                _f(2, "scale_h", "uint32", default=0),
                _f(3, "scale_w", "uint32", default=0),
                _f(4, "pad_out_h", "bool", default=False),
                _f(5, "pad_out_w", "bool", default=False),
                _f(6, "upsample_h", "uint32", default=0),
                _f(7, "upsample_w", "uint32", default=0),
            ],
        ),
    ]
}


# ------------------------------------------------------------------------------------------
# Messages
# ------------------------------------------------------------------------------------------


class Message:
    """A decoded message: fields by attribute (defaults when absent; an absent sub-message reads
    as an empty one), `has(name)` for presence, repeated fields as lists (float blobs as float32
    numpy arrays). Unknown `*_param` blocks of a text-format layer are kept in `extra_params`."""

    __slots__ = ("_def", "_values", "extra_params")

    def __init__(self, type_name: str, /, **values: Any) -> None:
        object.__setattr__(self, "_def", SCHEMA[type_name])
        object.__setattr__(self, "_values", {})
        object.__setattr__(self, "extra_params", {})
        for key, value in values.items():
            setattr(self, key, value)

    @property
    def type_name(self) -> str:
        return self._def.name

    def field_def(self, name: str) -> FieldDef:
        fdef = self._def.by_name.get(name)
        if fdef is None:
            raise AttributeError(f"{self._def.name} has no field '{name}'")
        return fdef

    def __getattr__(self, name: str) -> Any:
        if name.startswith("_"):
            raise AttributeError(name)
        fdef = self.field_def(name)
        values = self._values
        if name in values:
            return values[name]
        if fdef.label == REPEATED:
            if fdef.kind in ("float", "double"):
                values[name] = np.zeros(0, np.float32 if fdef.kind == "float" else np.float64)
            else:
                values[name] = []
            return values[name]
        if fdef.kind == "message":
            return Message(fdef.type_name)
        if fdef.default is not None:
            return fdef.default
        return _zero(fdef.kind)

    def __setattr__(self, name: str, value: Any) -> None:
        fdef = self.field_def(name)
        if fdef.label == REPEATED:
            if fdef.kind in ("float", "double"):
                value = np.asarray(value, dtype=np.float32 if fdef.kind == "float" else np.float64)
                value = value.reshape(-1)
            else:
                value = list(value)
        self._values[name] = value

    def has(self, name: str) -> bool:
        """Presence of an optional field (repeated: non-empty)."""
        self.field_def(name)
        value = self._values.get(name)
        if value is None:
            return False
        if self._def.by_name[name].label == REPEATED:
            return len(value) > 0
        return True

    HasField = has  # the protobuf spelling

    def add(self, field_name: str, **values: Any) -> Message:
        """Appends a new sub-message to repeated field `field_name` and returns it."""
        fdef = self.field_def(field_name)
        if fdef.kind != "message" or fdef.label != REPEATED:
            raise AttributeError(f"{self._def.name}.{field_name} is not a repeated message field")
        child = Message(fdef.type_name, **values)
        getattr(self, field_name).append(child)
        return child

    def mutable(self, name: str) -> Message:
        """The sub-message `name`, created (and so present) when absent."""
        fdef = self.field_def(name)
        if fdef.kind != "message" or fdef.label == REPEATED:
            raise AttributeError(f"{self._def.name}.{name} is not a singular message field")
        if name not in self._values:
            self._values[name] = Message(fdef.type_name)
        return self._values[name]

    def present_fields(self) -> Iterator[tuple[FieldDef, Any]]:
        """(field, value) of every present field, in schema order."""
        for fdef in self._def.fields:
            if self.has(fdef.name):
                yield fdef, self._values[fdef.name]

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Message) or other._def is not self._def:
            return NotImplemented
        mine = dict(self.present_fields())
        theirs = dict(other.present_fields())
        if mine.keys() != theirs.keys():
            return False
        for fdef, value in mine.items():
            other_value = theirs[fdef]
            if isinstance(value, np.ndarray):
                if not np.array_equal(value, other_value, equal_nan=True):
                    return False
            elif value != other_value:
                return False
        return self.extra_params == other.extra_params

    __hash__ = None  # type: ignore[assignment]

    def __repr__(self) -> str:
        return f"{self._def.name}({format_text(self, indent=0).strip()!r})"


def _zero(kind: str) -> Any:
    if kind == "bool":
        return False
    if kind in ("float", "double"):
        return 0.0
    if kind in ("string",):
        return ""
    if kind == "bytes":
        return b""
    return 0


# ------------------------------------------------------------------------------------------
# Binary wire format
# ------------------------------------------------------------------------------------------

WIRE_VARINT, WIRE_FIXED64, WIRE_LEN, WIRE_FIXED32 = 0, 1, 2, 5
_WIRE_NAMES = {
    0: "varint",
    1: "fixed64",
    2: "length-delimited",
    3: "start-group",
    4: "end-group",
    5: "fixed32",
}


def _expected_wire(fdef: FieldDef) -> int:
    if fdef.kind in VARINT_KINDS:
        return WIRE_VARINT
    if fdef.kind == "float":
        return WIRE_FIXED32
    if fdef.kind == "double":
        return WIRE_FIXED64
    return WIRE_LEN


class _Reader:
    def __init__(self, data: bytes, source: str) -> None:
        self.data = memoryview(data)
        self.source = source

    def fail(self, pos: int, what: str) -> CaffeFormatError:
        return CaffeFormatError(f"{self.source}: byte {pos}: {what}")

    def varint(self, pos: int, end: int, path: str) -> tuple[int, int]:
        result, shift, start = 0, 0, pos
        data = self.data
        while True:
            if pos >= end:
                raise self.fail(start, f"{path}: truncated varint")
            byte = data[pos]
            pos += 1
            result |= (byte & 0x7F) << shift
            if not byte & 0x80:
                return result, pos
            shift += 7
            if shift >= 70:
                raise self.fail(start, f"{path}: varint longer than 10 bytes")

    def message(self, type_name: str, pos: int, end: int, path: str) -> Message:
        mdef = SCHEMA[type_name]
        msg = Message(type_name)
        values = msg._values
        while pos < end:
            key_pos = pos
            key, pos = self.varint(pos, end, path)
            number, wire = key >> 3, key & 7
            if number == 0:
                raise self.fail(key_pos, f"{path}: field number 0")
            fdef = mdef.by_number.get(number)
            where = f"{path}.{fdef.name}" if fdef else f"{path}.<field {number}>"
            if wire == WIRE_VARINT:
                value, pos = self.varint(pos, end, where)
                payload = None
            elif wire == WIRE_FIXED64:
                if pos + 8 > end:
                    raise self.fail(pos, f"{where}: truncated fixed64")
                payload, pos = (pos, pos + 8), pos + 8
            elif wire == WIRE_FIXED32:
                if pos + 4 > end:
                    raise self.fail(pos, f"{where}: truncated fixed32")
                payload, pos = (pos, pos + 4), pos + 4
            elif wire == WIRE_LEN:
                length, pos = self.varint(pos, end, where)
                if pos + length > end:
                    raise self.fail(
                        pos,
                        f"{where}: length {length} runs past the end of its message "
                        f"({end - pos} bytes left)",
                    )
                payload, pos = (pos, pos + length), pos + length
            else:
                raise self.fail(
                    key_pos,
                    f"{where}: unsupported wire type {wire} ({_WIRE_NAMES.get(wire, 'invalid')})",
                )
            if fdef is None:
                continue  # unknown field: skipped
            expected = _expected_wire(fdef)
            packed = wire == WIRE_LEN and fdef.label == REPEATED and fdef.kind in SCALAR_KINDS
            if wire != expected and not packed:
                raise self.fail(
                    key_pos,
                    f"{where} (field {number}) has wire type {_WIRE_NAMES[wire]}, "
                    f"expected {_WIRE_NAMES[expected]}",
                )
            if packed:
                assert payload is not None
                items = self.packed(fdef, payload[0], payload[1], where)
                if fdef.kind in ("float", "double"):
                    old = values.get(fdef.name)
                    values[fdef.name] = items if old is None else np.concatenate([old, items])
                else:
                    values.setdefault(fdef.name, []).extend(items)
                continue
            if wire == WIRE_VARINT:
                item: Any = _varint_value(fdef.kind, value)
            elif fdef.kind == "float":
                assert payload is not None
                item = struct.unpack_from("<f", self.data, payload[0])[0]
            elif fdef.kind == "double":
                assert payload is not None
                item = struct.unpack_from("<d", self.data, payload[0])[0]
            else:
                assert payload is not None
                start, stop = payload
                if fdef.kind == "message":
                    item = self.message(fdef.type_name, start, stop, where)
                elif fdef.kind == "string":
                    try:
                        item = bytes(self.data[start:stop]).decode("utf-8")
                    except UnicodeDecodeError:
                        raise self.fail(start, f"{where}: string is not UTF-8") from None
                else:
                    item = bytes(self.data[start:stop])
            if fdef.label == REPEATED:
                if fdef.kind in ("float", "double"):
                    dtype = np.float32 if fdef.kind == "float" else np.float64
                    old = values.get(fdef.name)
                    one = np.asarray([item], dtype)
                    values[fdef.name] = one if old is None else np.concatenate([old, one])
                else:
                    values.setdefault(fdef.name, []).append(item)
            else:
                values[fdef.name] = item
        return msg

    def packed(self, fdef: FieldDef, start: int, end: int, path: str) -> Any:
        if fdef.kind in ("float", "double"):
            size = 4 if fdef.kind == "float" else 8
            if (end - start) % size:
                raise self.fail(
                    start,
                    f"{path}: packed {fdef.kind}s of {end - start} bytes (not a multiple "
                    f"of {size})",
                )
            dtype = "<f4" if size == 4 else "<f8"
            return np.frombuffer(self.data[start:end], dtype=dtype).astype(
                np.float32 if size == 4 else np.float64
            )
        items = []
        pos = start
        while pos < end:
            value, pos = self.varint(pos, end, path)
            items.append(_varint_value(fdef.kind, value))
        return items


def _varint_value(kind: str, value: int) -> Any:
    if kind == "bool":
        return value != 0
    if kind in ("int32", "int64", "enum"):
        value &= (1 << 64) - 1
        return value - (1 << 64) if value >= 1 << 63 else value
    if kind == "uint32":
        return value & 0xFFFFFFFF
    return value


def decode(data: bytes, type_name: str = "NetParameter", source: str = "<bytes>") -> Message:
    """Parses binary protobuf `data` as message `type_name`."""
    return _Reader(data, source).message(type_name, 0, len(data), type_name)


def _put_varint(out: bytearray, value: int) -> None:
    value &= (1 << 64) - 1
    while True:
        byte = value & 0x7F
        value >>= 7
        if value:
            out.append(byte | 0x80)
        else:
            out.append(byte)
            return


def _put_key(out: bytearray, number: int, wire: int) -> None:
    _put_varint(out, (number << 3) | wire)


def _scalar_varint(kind: str, value: Any) -> int:
    if kind == "bool":
        return 1 if value else 0
    return int(value)


def encode(msg: Message) -> bytes:
    """Serializes `msg` (repeated numeric fields marked packed in Caffe's schema are packed)."""
    out = bytearray()
    for fdef, value in msg.present_fields():
        items = value if fdef.label == REPEATED else [value]
        if fdef.label == REPEATED and fdef.packed:
            if fdef.kind in ("float", "double"):
                payload = np.asarray(items, "<f4" if fdef.kind == "float" else "<f8").tobytes()
            else:
                buffer = bytearray()
                for item in items:
                    _put_varint(buffer, _scalar_varint(fdef.kind, item))
                payload = bytes(buffer)
            _put_key(out, fdef.number, WIRE_LEN)
            _put_varint(out, len(payload))
            out += payload
            continue
        for item in items:
            if fdef.kind in VARINT_KINDS:
                _put_key(out, fdef.number, WIRE_VARINT)
                _put_varint(out, _scalar_varint(fdef.kind, item))
            elif fdef.kind == "float":
                _put_key(out, fdef.number, WIRE_FIXED32)
                out += struct.pack("<f", float(item))
            elif fdef.kind == "double":
                _put_key(out, fdef.number, WIRE_FIXED64)
                out += struct.pack("<d", float(item))
            else:
                if fdef.kind == "message":
                    payload = encode(item)
                elif fdef.kind == "string":
                    payload = str(item).encode("utf-8")
                else:
                    payload = bytes(item)
                _put_key(out, fdef.number, WIRE_LEN)
                _put_varint(out, len(payload))
                out += payload
    return bytes(out)


# ------------------------------------------------------------------------------------------
# Text format
# ------------------------------------------------------------------------------------------


@dataclass
class _Token:
    kind: str  # "ident", "number", "string", "punct", "eof"
    text: str
    line: int
    col: int
    value: Any = None


_PUNCT = set("{}[]:,;<>")


def _tokenize(text: str, source: str) -> list[_Token]:
    tokens: list[_Token] = []
    i, line, line_start = 0, 1, 0
    n = len(text)
    while i < n:
        ch = text[i]
        col = i - line_start + 1
        if ch == "\n":
            line += 1
            line_start = i + 1
            i += 1
        elif ch in " \t\r\f\v":
            i += 1
        elif ch == "#":
            while i < n and text[i] != "\n":
                i += 1
        elif ch in _PUNCT:
            tokens.append(_Token("punct", ch, line, col))
            i += 1
        elif ch in "\"'":
            j = i + 1
            chars: list[str] = []
            while True:
                if j >= n or text[j] == "\n":
                    raise CaffeFormatError(f"{source}:{line}:{col}: unterminated string")
                c = text[j]
                if c == ch:
                    break
                if c == "\\":
                    j += 1
                    if j >= n:
                        raise CaffeFormatError(f"{source}:{line}:{col}: unterminated string")
                    esc = text[j]
                    mapping = {
                        "n": "\n",
                        "t": "\t",
                        "r": "\r",
                        "\\": "\\",
                        "'": "'",
                        '"': '"',
                        "0": "\0",
                    }
                    if esc not in mapping:
                        raise CaffeFormatError(
                            f"{source}:{line}:{j - line_start + 1}: unknown escape '\\{esc}'"
                        )
                    chars.append(mapping[esc])
                else:
                    chars.append(c)
                j += 1
            value = "".join(chars)
            if tokens and tokens[-1].kind == "string":  # adjacent strings concatenate
                tokens[-1].value += value
            else:
                tokens.append(_Token("string", text[i : j + 1], line, col, value))
            i = j + 1
        elif ch.isalnum() or ch in "_-+.":
            j = i
            while j < n and (text[j].isalnum() or text[j] in "_-+."):
                j += 1
            word = text[i:j]
            kind = "number" if (word[0].isdigit() or word[0] in "-+.") else "ident"
            tokens.append(_Token(kind, word, line, col))
            i = j
        else:
            raise CaffeFormatError(f"{source}:{line}:{col}: unexpected character {ch!r}")
    tokens.append(_Token("eof", "", line, i - line_start + 1))
    return tokens


class _TextParser:
    def __init__(self, text: str, source: str) -> None:
        self.source = source
        self.tokens = _tokenize(text, source)
        self.pos = 0

    def peek(self) -> _Token:
        return self.tokens[self.pos]

    def next(self) -> _Token:
        token = self.tokens[self.pos]
        self.pos += 1
        return token

    def fail(self, token: _Token, what: str) -> CaffeFormatError:
        return CaffeFormatError(f"{self.source}:{token.line}:{token.col}: {what}")

    def accept(self, text: str) -> bool:
        token = self.peek()
        if token.kind == "punct" and token.text == text:
            self.pos += 1
            return True
        return False

    def message(self, type_name: str, closing: str | None, path: str) -> Message:
        msg = Message(type_name)
        mdef = SCHEMA[type_name]
        while True:
            token = self.peek()
            if closing is None and token.kind == "eof":
                return msg
            if closing is not None and token.kind == "punct" and token.text == closing:
                self.pos += 1
                return msg
            if token.kind == "eof":
                raise self.fail(token, f"{path}: missing '{closing}' at the end of the file")
            if token.kind != "ident":
                raise self.fail(token, f"{path}: expected a field name, got '{token.text}'")
            self.pos += 1
            name = token.text
            fdef = mdef.by_name.get(name)
            if fdef is None:
                if mdef.open_params and (name.endswith("_param") or type_name.startswith("V1")):
                    msg.extra_params.setdefault(name, []).append(self.schemaless(token, path))
                    self.accept(",") or self.accept(";")
                    continue
                raise self.fail(token, f"{path}: {type_name} has no field '{name}'")
            where = f"{path}.{name}"
            if fdef.kind == "message":
                self.accept(":")
                items = self.list_or_one(self.sub_message, fdef, where)
            else:
                colon = self.next()
                if colon.kind != "punct" or colon.text != ":":
                    raise self.fail(colon, f"{where}: expected ':' after the field name")
                items = self.list_or_one(self.scalar, fdef, where)
            if fdef.label == REPEATED:
                current = getattr(msg, name)
                if isinstance(current, np.ndarray):
                    setattr(msg, name, np.concatenate([current, np.asarray(items, current.dtype)]))
                else:
                    current.extend(items)
            else:
                if len(items) != 1:
                    raise self.fail(token, f"{where}: a list given to a non-repeated field")
                if msg.has(name):
                    raise self.fail(token, f"{where}: non-repeated field given twice")
                setattr(msg, name, items[0])
            self.accept(",") or self.accept(";")

    def list_or_one(self, parse_one: Any, fdef: FieldDef, where: str) -> list[Any]:
        token = self.peek()
        if token.kind == "punct" and token.text == "[":
            if fdef.label != REPEATED:
                raise self.fail(token, f"{where}: a list given to a non-repeated field")
            self.pos += 1
            items = []
            if self.accept("]"):
                return items
            while True:
                items.append(parse_one(fdef, where))
                if self.accept("]"):
                    return items
                if not self.accept(","):
                    raise self.fail(self.peek(), f"{where}: expected ',' or ']' in the list")
        return [parse_one(fdef, where)]

    def sub_message(self, fdef: FieldDef, where: str) -> Message:
        token = self.next()
        if token.kind == "punct" and token.text in "{<":
            return self.message(fdef.type_name, "}" if token.text == "{" else ">", where)
        raise self.fail(token, f"{where}: expected '{{' to open a {fdef.type_name}")

    def scalar(self, fdef: FieldDef, where: str) -> Any:
        token = self.next()
        kind = fdef.kind
        if kind in ("string", "bytes"):
            if token.kind != "string":
                raise self.fail(token, f"{where}: expected a quoted string, got '{token.text}'")
            return token.value if kind == "string" else token.value.encode("utf-8")
        if kind == "bool":
            if token.text in ("true", "True", "t", "1"):
                return True
            if token.text in ("false", "False", "f", "0"):
                return False
            raise self.fail(token, f"{where}: expected true or false, got '{token.text}'")
        if kind == "enum":
            names = ENUMS[fdef.type_name]
            if token.kind == "ident":
                if token.text not in names:
                    raise self.fail(
                        token,
                        f"{where}: '{token.text}' is not a {fdef.type_name} value "
                        f"({', '.join(names)})",
                    )
                return names[token.text]
            if token.kind == "number":
                try:
                    number = int(token.text, 0)
                except ValueError:
                    raise self.fail(token, f"{where}: bad enum number '{token.text}'") from None
                if number not in names.values():
                    raise self.fail(token, f"{where}: {number} is not a {fdef.type_name} value")
                return number
            raise self.fail(token, f"{where}: expected a {fdef.type_name} value")
        if kind in ("float", "double"):
            text = token.text.lower()
            if token.kind == "ident" and text in ("inf", "infinity", "nan"):
                return math.inf if text != "nan" else math.nan
            if token.kind != "number":
                raise self.fail(token, f"{where}: expected a number, got '{token.text}'")
            try:
                number = (
                    float(text.rstrip("f")) if not text.startswith("0x") else float(int(text, 16))
                )
                return float(np.float32(number)) if kind == "float" else number
            except ValueError:
                if text in ("-inf", "-infinity"):
                    return -math.inf
                raise self.fail(token, f"{where}: bad number '{token.text}'") from None
        # integers
        if token.kind != "number":
            raise self.fail(token, f"{where}: expected an integer, got '{token.text}'")
        try:
            value = int(token.text, 0)
        except ValueError:
            raise self.fail(token, f"{where}: expected an integer, got '{token.text}'") from None
        bits = 32 if kind.endswith("32") else 64
        low = 0 if kind.startswith("uint") else -(1 << (bits - 1))
        high = (1 << bits) - 1 if kind.startswith("uint") else (1 << (bits - 1)) - 1
        if not low <= value <= high:
            raise self.fail(token, f"{where}: {value} is out of range for {kind}")
        return value

    def schemaless(self, name_token: _Token, path: str) -> Any:
        """An unknown *_param block (or a field of a V1 layer), kept as nested dicts of lists of
        raw token texts."""
        self.accept(":")
        token = self.next()
        if token.kind in ("number", "ident", "string"):
            return token.value if token.kind == "string" else token.text
        if not (token.kind == "punct" and token.text in "{<"):
            raise self.fail(token, f"{path}.{name_token.text}: expected '{{'")
        closing = "}" if token.text == "{" else ">"
        result: dict[str, list[Any]] = {}
        while not self.accept(closing):
            key = self.next()
            if key.kind == "eof":
                raise self.fail(key, f"{path}.{name_token.text}: missing '{closing}'")
            if key.kind != "ident":
                raise self.fail(key, f"{path}.{name_token.text}: expected a field name")
            if (
                self.peek().kind == "punct"
                and self.peek().text in "{<"
                or (self.peek().text == ":" and self.tokens[self.pos + 1].text in "{<")
            ):
                result.setdefault(key.text, []).append(self.schemaless(key, path))
            else:
                if not self.accept(":"):
                    raise self.fail(self.peek(), f"{path}.{key.text}: expected ':'")
                bracket = self.accept("[")
                while True:
                    value = self.next()
                    if value.kind not in ("number", "ident", "string"):
                        raise self.fail(value, f"{path}.{key.text}: expected a value")
                    result.setdefault(key.text, []).append(
                        value.value if value.kind == "string" else value.text
                    )
                    if not bracket or self.accept("]"):
                        break
                    if not self.accept(","):
                        raise self.fail(self.peek(), f"{path}.{key.text}: expected ',' or ']'")
            self.accept(",") or self.accept(";")
        return result


def parse_text(text: str, type_name: str = "NetParameter", source: str = "<text>") -> Message:
    """Parses protobuf text format `text` as message `type_name`."""
    return _TextParser(text, source).message(type_name, None, type_name)


def _format_scalar(fdef: FieldDef, value: Any) -> str:
    if fdef.kind == "string":
        escaped = str(value).replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")
        return f'"{escaped}"'
    if fdef.kind == "bytes":
        return '"' + value.decode("utf-8", "backslashreplace").replace('"', '\\"') + '"'
    if fdef.kind == "bool":
        return "true" if value else "false"
    if fdef.kind == "enum":
        for name, number in ENUMS[fdef.type_name].items():
            if number == value:
                return name
        return str(int(value))
    if fdef.kind in ("float", "double"):
        value = float(value)
        if math.isnan(value):
            return "nan"
        if math.isinf(value):
            return "inf" if value > 0 else "-inf"
        if fdef.kind == "float":
            return str(np.float32(value))
        return repr(value)
    return str(int(value))


def _format_schemaless(name: str, block: dict[str, list[Any]], pad: str) -> list[str]:
    lines = [f"{pad}{name} {{"]
    for key, values in block.items():
        for value in values:
            if isinstance(value, dict):
                lines += _format_schemaless(key, value, pad + "  ")
            else:
                lines.append(f"{pad}  {key}: {value}")
    lines.append(f"{pad}}}")
    return lines


def format_text(msg: Message, indent: int = 0, skip: Sequence[str] = ()) -> str:
    """Text format of `msg` (fields in schema order; `skip` names top-level fields to leave
    out, e.g. blobs)."""
    pad = "  " * indent
    lines: list[str] = []
    for fdef, value in msg.present_fields():
        if fdef.name in skip:
            continue
        items = value if fdef.label == REPEATED else [value]
        for item in items:
            if fdef.kind == "message":
                lines.append(f"{pad}{fdef.name} {{")
                inner = format_text(item, indent + 1)
                if inner:
                    lines.append(inner)
                lines.append(f"{pad}}}")
            else:
                lines.append(f"{pad}{fdef.name}: {_format_scalar(fdef, item)}")
    for name, blocks in msg.extra_params.items():
        for block in blocks:
            if isinstance(block, dict):
                lines += _format_schemaless(name, block, pad)
            else:
                lines.append(f"{pad}{name}: {block}")
    return "\n".join(lines)


# ------------------------------------------------------------------------------------------
# Files
# ------------------------------------------------------------------------------------------


def read_prototxt(path: str | Path) -> Message:
    """A .prototxt file as a NetParameter."""
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise CaffeFormatError(f"{path}: no such file") from None
    except UnicodeDecodeError as error:
        raise CaffeFormatError(f"{path}: not a UTF-8 text file ({error})") from None
    return parse_text(text, "NetParameter", str(path))


def read_caffemodel(path: str | Path) -> Message:
    """A binary .caffemodel file as a NetParameter."""
    path = Path(path)
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        raise CaffeFormatError(f"{path}: no such file") from None
    return decode(data, "NetParameter", str(path))


def write_prototxt(net: Message, path: str | Path, *, with_blobs: bool = False) -> None:
    """Writes `net` in text format; blobs are left out unless `with_blobs`."""
    text = format_text(net)
    if not with_blobs:
        copy = Message(net.type_name)
        for fdef, value in net.present_fields():
            setattr(copy, fdef.name, value)
        layers = []
        for layer in net.layer:
            stripped = Message("LayerParameter")
            for fdef, value in layer.present_fields():
                if fdef.name != "blobs":
                    setattr(stripped, fdef.name, value)
            stripped.extra_params.update(layer.extra_params)
            layers.append(stripped)
        if layers:
            copy.layer = layers
        text = format_text(copy)
    Path(path).write_text(text + "\n", encoding="utf-8")


def write_caffemodel(net: Message, path: str | Path) -> None:
    Path(path).write_bytes(encode(net))


def blob_array(blob: Message) -> np.ndarray:
    """A BlobProto as a float32 array of its shape (`shape`, or legacy num/channels/height/
    width); double data is converted."""
    data = blob.data if blob.has("data") else np.asarray(blob.double_data, np.float32)
    data = np.asarray(data, np.float32)
    if blob.has("shape"):
        shape = [int(d) for d in blob.shape.dim]
    elif any(blob.has(k) for k in ("num", "channels", "height", "width")):
        shape = [blob.num, blob.channels, blob.height, blob.width]
    else:
        shape = [data.size]
    if int(np.prod(shape)) != data.size:
        raise CaffeFormatError(
            f"blob of shape {shape} holds {data.size} values, expected {int(np.prod(shape))}"
        )
    return data.reshape(shape)


def make_blob(array: np.ndarray) -> Message:
    """A BlobProto holding `array` (float32) with its shape."""
    array = np.asarray(array, np.float32)
    blob = Message("BlobProto")
    blob.mutable("shape").dim = [int(d) for d in array.shape]
    blob.data = array.reshape(-1)
    return blob
