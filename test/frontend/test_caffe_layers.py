"""Each Caffe layer type: converted, run with the fp32 interpreter and compared with the numpy
reference (caffe_reference), plus the converter's errors."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from caffe_util import convert_and_compare, op_names, require_caffe_frontend

require_caffe_frontend()

from tpuc.frontend import CaffeConverter, ConversionError, UnsupportedOpError  # noqa: E402
from tpuc.frontend.caffe_models import CaffeNetBuilder  # noqa: E402

RNG = np.random.default_rng(42)


def normal(*shape: int) -> np.ndarray:
    return RNG.normal(size=shape).astype(np.float32)


def one_layer(
    type_: str,
    shape: list[int],
    blobs: list[np.ndarray] | None = None,
    tops: int = 1,
    bottoms: int = 1,
    **params: Any,
) -> CaffeNetBuilder:
    inputs = {f"in{i}": shape for i in range(bottoms)}
    net = CaffeNetBuilder("case", inputs)
    top = ["out"] + [f"out{i}" for i in range(1, tops)]
    net.layer("layer", type_, list(inputs), top, blobs or [], **params)
    return net


CASES: dict[str, Callable[[], CaffeNetBuilder]] = {
    "conv_group_dilation": lambda: one_layer(
        "Convolution",
        [1, 4, 11, 10],
        [normal(6, 2, 3, 3), normal(6)],
        convolution_param={
            "num_output": 6,
            "kernel_size": [3],
            "pad": [2],
            "dilation": [2],
            "group": 2,
        },
    ),
    "conv_hw_forms_no_bias": lambda: one_layer(
        "Convolution",
        [2, 3, 9, 12],
        [normal(5, 3, 3, 2)],
        convolution_param={
            "num_output": 5,
            "kernel_h": 3,
            "kernel_w": 2,
            "pad_h": 1,
            "pad_w": 0,
            "stride_h": 2,
            "stride_w": 3,
            "bias_term": False,
        },
    ),
    "conv_two_kernel_values": lambda: one_layer(
        "Convolution",
        [1, 2, 8, 8],
        [normal(3, 2, 1, 3), normal(3)],
        convolution_param={"num_output": 3, "kernel_size": [1, 3], "stride": [1, 2], "pad": [0, 1]},
    ),
    "depthwise_conv": lambda: one_layer(
        "Convolution",
        [1, 4, 7, 7],
        [normal(4, 1, 3, 3), normal(4)],
        convolution_param={"num_output": 4, "kernel_size": [3], "group": 4, "stride": [2]},
    ),
    "deconv": lambda: one_layer(
        "Deconvolution",
        [1, 4, 5, 6],
        [normal(4, 3, 4, 4), normal(3)],
        convolution_param={"num_output": 3, "kernel_size": [4], "stride": [2], "pad": [1]},
    ),
    "deconv_group": lambda: one_layer(
        "Deconvolution",
        [1, 4, 5, 5],
        [normal(4, 1, 3, 3)],
        convolution_param={
            "num_output": 2,
            "kernel_size": [3],
            "stride": [2],
            "group": 2,
            "bias_term": False,
        },
    ),
    "batchnorm": lambda: one_layer(
        "BatchNorm",
        [2, 3, 4, 5],
        [normal(3) * 5, np.abs(normal(3)) * 5 + 1, np.array([5.0], np.float32)],
        batch_norm_param={"eps": 1e-3},
    ),
    "batchnorm_zero_factor": lambda: one_layer(
        "BatchNorm", [1, 3, 4, 4], [normal(3), np.ones(3, np.float32), np.zeros(1, np.float32)]
    ),
    "scale_bias": lambda: one_layer(
        "Scale", [1, 3, 4, 5], [normal(3), normal(3)], scale_param={"bias_term": True}
    ),
    "scale_scalar": lambda: one_layer(
        "Scale", [1, 3, 4, 5], [np.array([1.5], np.float32)], scale_param={"num_axes": 0}
    ),
    "relu": lambda: one_layer("ReLU", [1, 3, 4, 5]),
    "relu_leaky": lambda: one_layer("ReLU", [1, 3, 4, 5], relu_param={"negative_slope": 0.2}),
    "prelu": lambda: one_layer("PReLU", [1, 3, 4, 5], [normal(3)]),
    "prelu_shared": lambda: one_layer(
        "PReLU", [1, 3, 4, 5], [np.array([0.3], np.float32)], prelu_param={"channel_shared": True}
    ),
    "pool_max_ceil": lambda: one_layer(
        "Pooling", [1, 3, 7, 9], pooling_param={"pool": "MAX", "kernel_size": 3, "stride": 2}
    ),
    "pool_max_pad_ceil": lambda: one_layer(
        "Pooling",
        [1, 2, 8, 8],
        pooling_param={"pool": "MAX", "kernel_size": 3, "stride": 2, "pad": 1},
    ),
    "pool_ave_pad_ceil": lambda: one_layer(
        "Pooling",
        [1, 2, 8, 9],
        pooling_param={"pool": "AVE", "kernel_size": 3, "stride": 2, "pad": 1},
    ),
    "pool_ave_hw_floor": lambda: one_layer(
        "Pooling",
        [1, 2, 9, 10],
        pooling_param={
            "pool": "AVE",
            "kernel_h": 3,
            "kernel_w": 2,
            "stride_h": 2,
            "stride_w": 3,
            "round_mode": "FLOOR",
        },
    ),
    "pool_global_ave": lambda: one_layer(
        "Pooling", [2, 3, 5, 6], pooling_param={"pool": "AVE", "global_pooling": True}
    ),
    "pool_global_max": lambda: one_layer(
        "Pooling", [1, 3, 5, 6], pooling_param={"pool": "MAX", "global_pooling": True}
    ),
    "inner_product_4d": lambda: one_layer(
        "InnerProduct",
        [2, 3, 2, 2],
        [normal(5, 12), normal(5)],
        inner_product_param={"num_output": 5},
    ),
    "inner_product_transpose": lambda: one_layer(
        "InnerProduct",
        [3, 6],
        [normal(6, 4)],
        inner_product_param={"num_output": 4, "transpose": True, "bias_term": False},
    ),
    "inner_product_axis2": lambda: one_layer(
        "InnerProduct",
        [2, 3, 4],
        [normal(5, 4), normal(5)],
        inner_product_param={"num_output": 5, "axis": 2},
    ),
    "eltwise_sum_coeff": lambda: one_layer(
        "Eltwise",
        [1, 3, 4, 4],
        bottoms=3,
        eltwise_param={"operation": "SUM", "coeff": [1.0, -2.0, 0.5]},
    ),
    "eltwise_sum": lambda: one_layer("Eltwise", [1, 3, 4, 4], bottoms=2),
    "eltwise_prod": lambda: one_layer(
        "Eltwise", [1, 3, 4, 4], bottoms=2, eltwise_param={"operation": "PROD"}
    ),
    "eltwise_max": lambda: one_layer(
        "Eltwise", [1, 3, 4, 4], bottoms=2, eltwise_param={"operation": "MAX"}
    ),
    "concat": lambda: one_layer("Concat", [1, 3, 4, 4], bottoms=2),
    "concat_axis_neg": lambda: one_layer(
        "Concat", [1, 3, 4, 4], bottoms=2, concat_param={"axis": -1}
    ),
    "softmax": lambda: one_layer("Softmax", [2, 5, 3, 3]),
    "softmax_axis": lambda: one_layer("Softmax", [2, 5, 3, 3], softmax_param={"axis": 3}),
    "sigmoid": lambda: one_layer("Sigmoid", [1, 3, 4, 5]),
    "tanh": lambda: one_layer("TanH", [1, 3, 4, 5]),
    "flatten": lambda: one_layer("Flatten", [2, 3, 4, 5]),
    "flatten_axes": lambda: one_layer(
        "Flatten", [2, 3, 4, 5], flatten_param={"axis": 2, "end_axis": 3}
    ),
    "reshape": lambda: one_layer(
        "Reshape", [2, 3, 4, 5], reshape_param={"shape": {"dim": [0, -1, 10]}}
    ),
    "reshape_axis": lambda: one_layer(
        "Reshape", [2, 6, 4, 5], reshape_param={"shape": {"dim": [2, 3]}, "axis": 1, "num_axes": 1}
    ),
    "permute": lambda: one_layer("Permute", [1, 3, 4, 5], permute_param={"order": [0, 2, 3, 1]}),
    "upsample_nearest": lambda: one_layer("Upsample", [1, 3, 4, 5], upsample_param={"scale": 2}),
    "lrn": lambda: one_layer(
        "LRN", [1, 6, 4, 4], lrn_param={"local_size": 3, "alpha": 0.5, "beta": 0.75, "k": 2.0}
    ),
}


@pytest.mark.parametrize("case", sorted(CASES))
def test_layer_matches_reference(case: str, tmp_path: Path) -> None:
    convert_and_compare(CASES[case](), tmp_path)


def test_input_layer_dropout_and_in_place_chain(tmp_path: Path) -> None:
    net = CaffeNetBuilder("chain", {})
    net.net.input = []
    net.net.input_shape = []
    net.layer("data", "Input", [], ["data"], input_param={"shape": [{"dim": [1, 3, 6, 6]}]})
    net.layer(
        "conv",
        "Convolution",
        ["data"],
        ["conv"],
        [normal(4, 3, 3, 3), normal(4)],
        convolution_param={"num_output": 4, "kernel_size": [3], "pad": [1]},
    )
    net.layer(
        "bn",
        "BatchNorm",
        ["conv"],
        ["conv"],
        [normal(4), np.ones(4, np.float32) * 2, np.ones(1, np.float32)],
    )
    net.layer(
        "scale",
        "Scale",
        ["conv"],
        ["conv"],
        [normal(4), normal(4)],
        scale_param={"bias_term": True},
    )
    net.layer("relu", "ReLU", ["conv"], ["conv"])
    net.layer("drop", "Dropout", ["conv"], ["conv"], dropout_param={"dropout_ratio": 0.3})
    net.layer("train_only", "Dropout", ["conv"], ["conv"], include=[{"phase": "TRAIN"}])
    net.layer(
        "pool",
        "Pooling",
        ["conv"],
        ["pool"],
        pooling_param={"pool": "MAX", "kernel_size": 2, "stride": 2},
    )
    converter, ours, _ = convert_and_compare(net, tmp_path, {"data": normal(1, 3, 6, 6)})
    assert converter.output_names == ["pool"]
    assert "train_only" not in [layer.name for layer in converter.layers]
    ops = op_names(converter.module)
    for op in (
        "tpu.input",
        "tpu.conv_2d",
        "tpu.batch_norm",
        "tpu.scale",
        "tpu.relu",
        "tpu.pool_max_2d",
    ):
        assert op in ops


def test_cli_accepts_caffe(tmp_path: Path) -> None:
    from tpuc.tools.model_convert import main

    net = CASES["conv_group_dilation"]()
    prototxt, caffemodel = net.save(tmp_path / "m.prototxt", tmp_path / "m.caffemodel")
    mlir = tmp_path / "m.mlir"
    assert (
        main(
            [
                "--model_type",
                "caffe",
                "--model_def",
                str(prototxt),
                "--model_data",
                str(caffemodel),
                "--model_name",
                "m",
                "--mlir_file_path",
                str(mlir),
            ]
        )
        == 0
    )
    assert "tpu.conv_2d" in mlir.read_text()
    assert (tmp_path / "m_weights.npz").exists()


# -- errors -------------------------------------------------------------------------------


def convert(net: CaffeNetBuilder, tmp_path: Path, with_model: bool = True) -> CaffeConverter:
    prototxt, caffemodel = net.save(tmp_path / "e.prototxt", tmp_path / "e.caffemodel")
    converter = CaffeConverter(
        "e", prototxt, caffemodel if with_model else None, tmp_path / "e.mlir"
    )
    converter.run()
    return converter


def test_unsupported_layer_names_layer_type_and_file(tmp_path: Path) -> None:
    net = one_layer("ROIPooling", [1, 3, 4, 4])
    with pytest.raises(UnsupportedOpError) as info:
        convert(net, tmp_path)
    message = str(info.value)
    assert "layer 'layer' (ROIPooling)" in message
    assert str(tmp_path / "e.prototxt") in message
    assert "caffeop_factory['ROIPooling']" in message


def test_missing_weights_name_the_caffemodel(tmp_path: Path) -> None:
    net = one_layer(
        "Convolution", [1, 3, 4, 4], convolution_param={"num_output": 2, "kernel_size": [3]}
    )
    with pytest.raises(ConversionError, match=r"weight blob 0 \(filter\) is missing from"):
        convert(net, tmp_path)
    with pytest.raises(ConversionError, match="no caffemodel given"):
        convert(net, tmp_path, with_model=False)


@pytest.mark.parametrize(
    ("type_", "blobs", "params", "match"),
    [
        (
            "Convolution",
            [np.zeros((2, 3, 3, 3), np.float32)],
            {"convolution_param": {"num_output": 4, "kernel_size": [3], "bias_term": False}},
            "does not hold",
        ),
        (
            "Convolution",
            [np.zeros((2, 3, 3, 3), np.float32)],
            {"convolution_param": {"num_output": 2, "kernel_size": [3], "group": 2}},
            "group 2 does not divide",
        ),
        ("Pooling", [], {"pooling_param": {"pool": "STOCHASTIC", "kernel_size": 2}}, "STOCHASTIC"),
        (
            "BatchNorm",
            [np.zeros(3, np.float32)] * 2 + [np.ones(1, np.float32)],
            {"batch_norm_param": {"use_global_stats": False}},
            "use_global_stats",
        ),
        ("Reshape", [], {"reshape_param": {"shape": {"dim": [7, -1]}}}, "cannot reshape"),
        (
            "Pooling",
            [],
            {"pooling_param": {"pool": "MAX", "kernel_size": 1, "stride": 2}},
            "wholly outside the input",
        ),
        (
            "Upsample",
            [],
            {"upsample_param": {"scale": 2, "upsample_h": 7, "upsample_w": 8}},
            "not a whole multiple",
        ),
    ],
)
def test_layer_errors(
    type_: str, blobs: list[np.ndarray], params: dict[str, Any], match: str, tmp_path: Path
) -> None:
    with pytest.raises(ConversionError, match=match) as info:
        convert(one_layer(type_, [1, 3, 4, 4], blobs, **params), tmp_path)
    assert "layer 'layer'" in str(info.value)


def test_malformed_prototxt_is_a_conversion_error(tmp_path: Path) -> None:
    bad = tmp_path / "bad.prototxt"
    bad.write_text('name: "x"\nlayer {\n  nmae: "conv"\n}\n')
    with pytest.raises(ConversionError, match=r"bad\.prototxt:3:3: .*has no field 'nmae'"):
        CaffeConverter("x", bad, None, tmp_path / "x.mlir")


def test_v1_layers_are_rejected(tmp_path: Path) -> None:
    old = tmp_path / "old.prototxt"
    old.write_text('name: "x"\nlayers { name: "conv" type: CONVOLUTION }\n')
    with pytest.raises(UnsupportedOpError, match="V1 'layers' format"):
        CaffeConverter("x", old, None, tmp_path / "x.mlir")


def test_input_shapes_override_and_errors(tmp_path: Path) -> None:
    net = one_layer("ReLU", [1, 3, 4, 4])
    prototxt, caffemodel = net.save(tmp_path / "r.prototxt", tmp_path / "r.caffemodel")
    converter = CaffeConverter(
        "r", prototxt, caffemodel, tmp_path / "r.mlir", input_shapes={"in0": [2, 3, 5, 5]}
    )
    converter.run()
    assert "tensor<2x3x5x5xf32>" in (tmp_path / "r.mlir").read_text()
    with pytest.raises(ConversionError, match="unknown inputs"):
        CaffeConverter(
            "r", prototxt, caffemodel, tmp_path / "r.mlir", input_shapes={"x": [1]}
        ).run()


@pytest.mark.parametrize(
    ("gate_shape", "axis", "op"),
    [
        ([1, 4], 0, "tpu.broadcast_mul"),
        ([4], 1, "tpu.broadcast_mul"),
        ([1, 4, 3, 3], 0, "tpu.eltwise_mul"),
        ([4, 3, 3], 1, "tpu.eltwise_mul"),
    ],
)
def test_scale_by_a_second_bottom(
    gate_shape: list[int], axis: int, op: str, tmp_path: Path
) -> None:
    net = CaffeNetBuilder("se", {"x": [1, 4, 3, 3], "gate": gate_shape})
    net.layer("scale", "Scale", ["x", "gate"], ["out"], scale_param={"axis": axis})
    converter, _, _ = convert_and_compare(net, tmp_path)
    assert op in op_names(converter.module)


def test_scale_bottom_must_match_caffe_shapes(tmp_path: Path) -> None:
    net = CaffeNetBuilder("se", {"x": [1, 4, 3, 3], "gate": [1, 4, 1, 1]})
    net.layer("scale", "Scale", ["x", "gate"], ["out"], scale_param={"axis": 0})
    with pytest.raises(ConversionError, match=r"does not match the input \[1, 4, 3, 3\]"):
        convert(net, tmp_path)
