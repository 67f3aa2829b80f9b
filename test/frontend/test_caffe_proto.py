"""The Caffe file readers: protobuf wire format and text format, round trips and errors."""

from __future__ import annotations

import struct
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from caffe_util import require_caffe_frontend

require_caffe_frontend()

from tpuc.frontend.caffe_proto import (  # noqa: E402
    CaffeFormatError,
    Message,
    blob_array,
    decode,
    encode,
    format_text,
    make_blob,
    parse_text,
    read_caffemodel,
    read_prototxt,
    write_caffemodel,
    write_prototxt,
)

NET_TEXT = r"""
# a comment
name: "round \"trip\""
input: "data"
input_shape { dim: 1 dim: 3 dim: 9 dim: 9 }
layer {
  name: "conv1"  type: "Convolution"  bottom: "data"  top: "conv1"
  param { lr_mult: 1 } param { lr_mult: 2 decay_mult: 0 }
  convolution_param {
    num_output: 4 kernel_h: 3 kernel_w: 1 pad_h: 1 stride: [2] dilation: 1 group: 1
    weight_filler { type: "msra" } bias_term: false
  }
  include { phase: TEST }
}
layer < name: "relu1" type: "ReLU" bottom: "conv1" top: "conv1"
        relu_param: < negative_slope: 0.1 > >
layer {
  name: "pool1" type: "Pooling" bottom: "conv1" top: "pool1" top: "mask1"
  pooling_param { pool: MAX kernel_size: 2 stride: 2 round_mode: 1 }
}
layer {
  name: "sum" type: "Eltwise" bottom: "pool1" bottom: "pool1" top: "sum"
  eltwise_param { operation: SUM coeff: [1, -0.5] }
}
layer { name: "flat" type: "Flatten" bottom: "sum" top: "flat" flatten_param { axis: -3 } }
"""


def test_text_parse_values() -> None:
    net = parse_text(NET_TEXT, source="net.prototxt")
    assert net.name == 'round "trip"'
    assert list(net.input) == ["data"]
    assert list(net.input_shape[0].dim) == [1, 3, 9, 9]
    conv = net.layer[0]
    p = conv.convolution_param
    assert (p.num_output, p.kernel_h, p.kernel_w, p.pad_h, list(p.stride)) == (4, 3, 1, 1, [2])
    assert p.bias_term is False and p.has("bias_term") and not p.has("pad_w")
    assert p.pad_w == 0 and p.group == 1 and p.weight_filler.type == "msra"
    assert [s.lr_mult for s in conv.param] == [1.0, 2.0] and conv.param[1].decay_mult == 0.0
    assert conv.include[0].phase == 1
    assert net.layer[1].relu_param.negative_slope == pytest.approx(0.1)
    pool = net.layer[2].pooling_param
    assert (pool.pool, pool.kernel_size, pool.round_mode) == (0, 2, 1)
    assert list(net.layer[2].top) == ["pool1", "mask1"]
    assert net.layer[3].eltwise_param.coeff.tolist() == [1.0, -0.5]
    assert net.layer[4].flatten_param.axis == -3
    # defaults of absent fields and sub-messages
    assert net.layer[4].flatten_param.end_axis == -1
    assert net.layer[1].convolution_param.group == 1
    assert not net.layer[1].has("convolution_param")


def test_text_round_trip(tmp_path: Path) -> None:
    net = parse_text(NET_TEXT)
    again = parse_text(format_text(net))
    assert again == net
    write_prototxt(net, tmp_path / "n.prototxt")
    assert read_prototxt(tmp_path / "n.prototxt") == net
    changed = parse_text(NET_TEXT.replace("num_output: 4", "num_output: 5"))
    assert changed != net


def test_binary_round_trip_with_blobs(tmp_path: Path) -> None:
    net = parse_text(NET_TEXT)
    rng = np.random.default_rng(0)
    weights = rng.normal(size=(4, 3, 3, 1)).astype(np.float32)
    net.layer[0].blobs = [make_blob(weights)]
    net.layer[4].flatten_param.axis = -3  # negative int32: a 10-byte varint
    write_caffemodel(net, tmp_path / "n.caffemodel")
    back = read_caffemodel(tmp_path / "n.caffemodel")
    assert back == net
    np.testing.assert_array_equal(blob_array(back.layer[0].blobs[0]), weights)
    assert back.layer[4].flatten_param.axis == -3
    assert encode(back) == encode(net)


def test_wire_encoding_matches_the_protobuf_spec() -> None:
    shape = Message("BlobShape", dim=[1, 300])
    # field 1, wire type 2 (packed), 3 bytes: varints 1 and 300 (0xAC 0x02)
    assert encode(shape) == b"\x0a\x03\x01\xac\x02"
    relu = Message("ReLUParameter", negative_slope=0.5)
    assert encode(relu) == b"\x0d" + struct.pack("<f", 0.5)
    layer = Message("LayerParameter", name="a", bottom=["x", "y"])
    assert encode(layer) == b"\x0a\x01a\x1a\x01x\x1a\x01y"
    concat = Message("ConcatParameter", axis=-1)
    assert encode(concat) == b"\x10" + b"\xff" * 9 + b"\x01"


def test_decode_accepts_unpacked_repeats_and_skips_unknown_fields() -> None:
    data = (
        b"\x08\x01\x08\x03"  # dim 1, dim 3 (not packed)
        b"\x10\x05"  # unknown varint field 2
        b"\x1a\x02hi"  # unknown length-delimited field 3
        b"\x25\x00\x00\x80\x3f"  # unknown fixed32 field 4
        b"\x29" + b"\x00" * 8  # unknown fixed64 field 5
    )
    assert list(decode(data, "BlobShape").dim) == [1, 3]
    blob = decode(b"\x2d" + struct.pack("<f", 2.5) + b"\x2d" + struct.pack("<f", -1), "BlobProto")
    assert blob.data.tolist() == [2.5, -1.0]
    legacy = decode(
        b"\x08\x01\x10\x02\x18\x01\x20\x01\x2a\x08" + np.float32([3, 4]).tobytes(), "BlobProto"
    )
    assert blob_array(legacy).shape == (1, 2, 1, 1)


@pytest.mark.parametrize(
    ("text", "where", "what"),
    [
        (
            'layer { name: "a" convolution_param { kernal_size: 3 } }',
            "1:39",
            "ConvolutionParameter has no field 'kernal_size'",
        ),
        ("layer { name: 3 }", "1:15", "layer.name: expected a quoted string"),
        ('layer {\n  name: "a"\n', "3:1", "missing '}'"),
        ("input_dim: 1.5", "1:12", "input_dim: expected an integer"),
        ("layer { pooling_param { pool: MIN } }", "1:31", "'MIN' is not a PoolMethod value"),
        ('name: "abc', "1:7", "unterminated string"),
        ("layer { convolution_param { num_output: -1 } }", "1:41", "out of range for uint32"),
        ('name: "a" name: "b"', "1:11", "non-repeated field given twice"),
        ('layer { name: "a" } }', "1:21", "expected a field name"),
    ],
)
def test_text_errors_name_file_and_position(text: str, where: str, what: str) -> None:
    with pytest.raises(CaffeFormatError) as info:
        parse_text(text, source="bad.prototxt")
    message = str(info.value)
    assert message.startswith(f"bad.prototxt:{where}:"), message
    assert what in message


def test_unknown_layer_param_blocks_parse() -> None:
    net = parse_text(
        'layer { name: "d" type: "DetectionOutput" detection_output_param '
        "{ num_classes: 21 nms_param { nms_threshold: 0.45 } code: [1, 2] } }"
    )
    extra = net.layer[0].extra_params["detection_output_param"][0]
    assert extra["num_classes"] == ["21"] and extra["code"] == ["1", "2"]
    assert extra["nms_param"][0]["nms_threshold"] == ["0.45"]
    assert parse_text(format_text(net)) == net


def _good_model() -> bytes:
    net = parse_text(NET_TEXT)
    net.layer[0].blobs = [make_blob(np.ones((4, 3, 3, 1), np.float32))]
    return encode(net)


def test_binary_errors_name_file_offset_and_field(tmp_path: Path) -> None:
    data = _good_model()
    path = tmp_path / "cut.caffemodel"
    path.write_bytes(data[:-7])
    with pytest.raises(CaffeFormatError, match=r"cut\.caffemodel: byte \d+: NetParameter\.layer"):
        read_caffemodel(path)
    # layer.name (field 1) given as a varint instead of a string
    with pytest.raises(CaffeFormatError) as info:
        decode(b"\xa2\x06\x02\x08\x01", source="w.caffemodel")
    assert str(info.value) == (
        "w.caffemodel: byte 3: NetParameter.layer.name (field 1) has wire type varint, "
        "expected length-delimited"
    )
    with pytest.raises(CaffeFormatError, match="packed floats of 3 bytes"):
        decode(b"\x2a\x03abc", "BlobProto", source="x")
    with pytest.raises(CaffeFormatError, match="byte 0: BlobProto: truncated varint"):
        decode(b"\x80", "BlobProto", source="x")
    with pytest.raises(CaffeFormatError, match="wire type 3"):
        decode(b"\x0b", "BlobProto", source="x")
    with pytest.raises(CaffeFormatError, match="no such file"):
        read_caffemodel(tmp_path / "missing.caffemodel")


def test_blob_shape_mismatch() -> None:
    blob = make_blob(np.zeros((2, 3), np.float32))
    blob.mutable("shape").dim = [4, 3]
    with pytest.raises(CaffeFormatError, match=r"blob of shape \[4, 3\] holds 6 values"):
        blob_array(blob)


def _protobuf_classes() -> dict[str, Any]:
    """Message classes of the same Caffe subset built with the protobuf package from
    descriptors written here, as an independent implementation of the wire format."""
    descriptor_pb2 = pytest.importorskip("google.protobuf.descriptor_pb2")
    from google.protobuf import descriptor_pool, message_factory

    fdp = descriptor_pb2.FieldDescriptorProto
    file = descriptor_pb2.FileDescriptorProto(name="caffe_subset.proto", package="t")
    file.syntax = "proto2"

    def message(name: str, fields: list[tuple[Any, ...]]) -> None:
        msg = file.message_type.add(name=name)
        for number, field_name, kind, label, *rest in fields:
            field = msg.field.add(name=field_name, number=number, type=kind, label=label)
            if rest and rest[0] == "packed":
                field.options.packed = True
            elif rest:
                field.type_name = f".t.{rest[0]}"

    opt, rep = fdp.LABEL_OPTIONAL, fdp.LABEL_REPEATED
    message("BlobShape", [(1, "dim", fdp.TYPE_INT64, rep, "packed")])
    message(
        "BlobProto",
        [
            (7, "shape", fdp.TYPE_MESSAGE, opt, "BlobShape"),
            (5, "data", fdp.TYPE_FLOAT, rep, "packed"),
            (1, "num", fdp.TYPE_INT32, opt),
        ],
    )
    message(
        "ConvolutionParameter",
        [
            (1, "num_output", fdp.TYPE_UINT32, opt),
            (2, "bias_term", fdp.TYPE_BOOL, opt),
            (3, "pad", fdp.TYPE_UINT32, rep),
            (4, "kernel_size", fdp.TYPE_UINT32, rep),
            (16, "axis", fdp.TYPE_INT32, opt),
        ],
    )
    message("ReLUParameter", [(1, "negative_slope", fdp.TYPE_FLOAT, opt)])
    message(
        "LayerParameter",
        [
            (1, "name", fdp.TYPE_STRING, opt),
            (2, "type", fdp.TYPE_STRING, opt),
            (3, "bottom", fdp.TYPE_STRING, rep),
            (4, "top", fdp.TYPE_STRING, rep),
            (7, "blobs", fdp.TYPE_MESSAGE, rep, "BlobProto"),
            (106, "convolution_param", fdp.TYPE_MESSAGE, opt, "ConvolutionParameter"),
            (123, "relu_param", fdp.TYPE_MESSAGE, opt, "ReLUParameter"),
        ],
    )
    message(
        "NetParameter",
        [
            (1, "name", fdp.TYPE_STRING, opt),
            (100, "layer", fdp.TYPE_MESSAGE, rep, "LayerParameter"),
        ],
    )
    pool = descriptor_pool.DescriptorPool()
    pool.Add(file)
    return {
        name: message_factory.GetMessageClass(pool.FindMessageTypeByName(f"t.{name}"))
        for name in ("NetParameter",)
    }


def test_wire_format_agrees_with_the_protobuf_package() -> None:
    net_class = _protobuf_classes()["NetParameter"]
    weights = np.random.default_rng(1).normal(size=(2, 3, 1, 1)).astype(np.float32)
    ours = parse_text(
        'name: "x" layer { name: "c" type: "Convolution" bottom: "a" top: "b" '
        "convolution_param { num_output: 2 bias_term: false pad: [1, 2] kernel_size: 1 "
        "axis: -1 } } "
        'layer { name: "r" type: "ReLU" bottom: "b" top: "b" relu_param { negative_slope: 0.25 } }'
    )
    ours.layer[0].blobs = [make_blob(weights)]
    theirs = net_class.FromString(encode(ours))
    conv = theirs.layer[0]
    assert (theirs.name, conv.name, list(conv.bottom), list(conv.top)) == ("x", "c", ["a"], ["b"])
    p = conv.convolution_param
    assert (p.num_output, p.bias_term, list(p.pad), list(p.kernel_size), p.axis) == (
        2,
        False,
        [1, 2],
        [1],
        -1,
    )
    assert list(conv.blobs[0].shape.dim) == [2, 3, 1, 1]
    np.testing.assert_array_equal(np.asarray(conv.blobs[0].data, np.float32), weights.ravel())
    assert theirs.layer[1].relu_param.negative_slope == 0.25
    # and back: protobuf's serialization read by ours
    again = decode(theirs.SerializeToString(), source="protobuf")
    assert again == ours
