"""The SegNet-shaped Caffe model end to end: pooling masks, Upsample needing the UnPooling
custom op, and the guide's converter subclass mapping it with add_custom_op."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pytest
from caffe_util import op_names, require_caffe_frontend

require_caffe_frontend()

from tpuc.frontend import (  # noqa: E402
    CaffeConverter,
    TensorType,
    UnsupportedOpError,
    caffe_forward,
    compare_with_caffe,
)
from tpuc.frontend.caffe_models import CaffeNetBuilder, make_segnet  # noqa: E402
from tpuc.frontend.caffe_reference import pool2d, unpool, unpool_from_source  # noqa: E402


class SegnetConverter(CaffeConverter):
    """The guide's example: Upsample (with the pooling mask) becomes the custom op UnPooling."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.caffeop_factory["Upsample"] = self.convert_unpooling_op

    def convert_unpooling_op(self, layer: Any) -> None:
        op, input_shape, _ = self.getOperand(layer.bottom[0])
        mask_op, _, _ = self.getOperand(layer.bottom[1])
        output_shape = self.upsample_output_shape(layer, input_shape)
        param = {
            "scale": int(layer.upsample_param.scale),
            "unpool_h": output_shape[2],
            "unpool_w": output_shape[3],
            **self.pool_mask_info(layer.bottom[1]).as_param(),
        }
        new_op = self.mlir.add_custom_op(
            f"{layer.name}_{layer.type}",
            [op, mask_op],
            output_shape,
            operation_name="unpooling",
            do_quant=True,
            tpu=True,
            threshold_overwrite="backward",
            param=param,
        )
        self.addOperand(layer.top[0], new_op, output_shape, TensorType.ACTIVATION)


def unpooling(
    inputs: list[np.ndarray], params: dict[str, Any], shape: tuple[int, ...]
) -> np.ndarray:
    """The fp32 UnPooling: Caffe's argmax recomputed from the pooling input, then scattered."""
    return unpool_from_source(inputs[0], inputs[1], params, shape[2:])


@pytest.fixture(scope="module")
def segnet(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    return make_segnet(tmp_path_factory.mktemp("segnet"))


def test_generator_is_deterministic(tmp_path: Path, segnet: tuple[Path, Path]) -> None:
    prototxt, caffemodel = make_segnet(tmp_path)
    assert prototxt.read_text() == segnet[0].read_text()
    assert caffemodel.read_bytes() == segnet[1].read_bytes()
    other = make_segnet(tmp_path / "other", seed=1)[1]
    assert other.read_bytes() != caffemodel.read_bytes()
    text = prototxt.read_text()
    for needle in (
        'type: "Upsample"',
        'top: "pool1_mask"',
        'bottom: "pool2_mask"',
        "upsample_h: 11",
        'type: "BatchNorm"',
        'type: "Softmax"',
    ):
        assert needle in text


def test_reference_masks_follow_caffe(segnet: tuple[Path, Path]) -> None:
    x = np.random.default_rng(3).normal(size=(1, 3, 22, 30)).astype(np.float32)
    result = caffe_forward(*segnet, {"data": x})
    pool = result.layers["pool1"]
    assert len(pool) == 2 and pool[1].shape == (1, 8, 11, 15)
    source = result.layers["conv1_2_relu"][0]
    flat = source.reshape(1, 8, -1)
    picked = np.take_along_axis(flat, pool[1].astype(np.int64).reshape(1, 8, -1), 2)
    np.testing.assert_array_equal(picked.reshape(pool[0].shape), pool[0])
    assert result.blobs["prob"].shape == (1, 5, 22, 30)
    np.testing.assert_allclose(result.blobs["prob"].sum(axis=1), 1.0, rtol=1e-5)


def test_argmax_ties_take_the_first_position() -> None:
    x = np.zeros((1, 1, 3, 4), np.float32)
    x[0, 0, 0, 3] = x[0, 0, 1, 2] = 5.0  # a tie in the second window
    top, mask = pool2d(x, 0, [2, 2], [2, 2], [0, 0], True)
    assert mask[0, 0].tolist() == [[0.0, 3.0], [8.0, 10.0]]
    assert top[0, 0].tolist() == [[0.0, 5.0], [0.0, 0.0]]
    y = np.arange(1, 5, dtype=np.float32).reshape(1, 1, 2, 2)
    expected = np.zeros((1, 1, 3, 4), np.float32)
    expected[0, 0, 0, 0], expected[0, 0, 0, 3], expected[0, 0, 2, 0], expected[0, 0, 2, 2] = (
        y.ravel()
    )
    np.testing.assert_array_equal(unpool(y, mask, [3, 4]), expected)
    params = {
        "kernel_h": 2,
        "kernel_w": 2,
        "stride_h": 2,
        "stride_w": 2,
        "pad_h": 0,
        "pad_w": 0,
        "ceil_mode": 1,
    }
    np.testing.assert_array_equal(unpool_from_source(y, x, params, [3, 4]), expected)
    with pytest.raises(ValueError, match="mask index out of"):
        unpool(y, mask, [2, 2])


def test_upsample_with_mask_needs_the_unpooling_custom_op(
    segnet: tuple[Path, Path], tmp_path: Path
) -> None:
    with pytest.raises(UnsupportedOpError) as info:
        CaffeConverter("segnet", *segnet, tmp_path / "s.mlir").run()
    message = str(info.value)
    assert "layer 'upsample2' (Upsample)" in message and str(segnet[0]) in message
    assert "argmax mask of Pooling 'pool2'" in message
    assert "UnPooling" in message and "add_custom_op" in message


def test_segnet_with_unpooling_custom_op_end_to_end(
    segnet: tuple[Path, Path], tmp_path: Path
) -> None:
    converter = SegnetConverter("segnet", *segnet, tmp_path / "segnet.mlir")
    module = converter.run()
    text = (tmp_path / "segnet.mlir").read_text()
    assert op_names(module).count("tpu.custom_op") == 2
    assert 'operation_name = "unpooling"' in text
    assert 'name = "upsample1_Upsample"' in text
    assert (tmp_path / "segnet_weights.npz").exists()
    assert converter.output_names == ["prob"]
    info = converter.pool_mask_info("pool1_mask")
    assert (info.layer, info.source, info.kernel, info.stride) == (
        "pool1",
        "conv1_2",
        (2, 2),
        (2, 2),
    )
    # the mask operand is the pooling's input activation
    assert converter.getOperand("pool1_mask")[1] == [1, 8, 22, 30]
    x = np.random.default_rng(5).normal(size=(1, 3, 22, 30)).astype(np.float32)
    report = compare_with_caffe(converter, {"data": x}, custom_ops={"unpooling": unpooling})
    assert report.passed
    compared = [r.name for r in report.results]
    for layer in ("conv1_1_bn", "pool1", "upsample2", "upsample1", "conv_classifier", "prob"):
        assert layer in compared
    from tpuc import interpreter

    ours = interpreter.run(
        str(converter.mlir_file), {"data": x}, dump_all=True, custom_ops={"unpooling": unpooling}
    )
    reference = caffe_forward(*segnet, {"data": x}).by_layer()
    for layer in ("pool2", "upsample2", "upsample1", "prob"):
        key = layer if layer in ours else f"{layer}_Upsample"
        np.testing.assert_allclose(ours[key], reference[layer], rtol=1e-4, atol=1e-5)


def test_mask_consumed_by_another_layer_is_an_error(tmp_path: Path) -> None:
    net = CaffeNetBuilder("m", {"data": [1, 2, 4, 4]})
    net.layer(
        "pool",
        "Pooling",
        ["data"],
        ["pool", "mask"],
        pooling_param={"pool": "MAX", "kernel_size": 2, "stride": 2},
    )
    net.layer("relu", "ReLU", ["mask"], ["relu"])
    net.layer("sum", "Eltwise", ["pool", "pool"], ["sum"])
    prototxt, caffemodel = net.save(tmp_path / "m.prototxt", tmp_path / "m.caffemodel")
    with pytest.raises(UnsupportedOpError, match="'mask' is the argmax mask of Pooling 'pool'"):
        CaffeConverter("m", prototxt, caffemodel, tmp_path / "m.mlir").run()


CONVERTER_SOURCE = """
from tpuc.frontend import CaffeConverter, TensorType


class UnpoolingConverter(CaffeConverter):
    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.caffeop_factory["Upsample"] = self.convert_unpooling_op

    def convert_unpooling_op(self, layer):
        op, shape, _ = self.getOperand(layer.bottom[0])
        mask_op, _, _ = self.getOperand(layer.bottom[1])
        out = self.upsample_output_shape(layer, shape)
        new_op = self.CVI.add_custom_op(
            f"{layer.name}_{layer.type}", [op, mask_op], out, operation_name="unpooling",
            param={"scale": 2, "unpool_h": out[2], "unpool_w": out[3]})
        self.addOperand(layer.top[0], new_op, out, TensorType.ACTIVATION)
"""


def test_cli_with_a_caffe_converter_subclass_and_preprocess(
    segnet: tuple[Path, Path], tmp_path: Path
) -> None:
    from tpuc.frontend import preprocess_of
    from tpuc.tools.model_convert import main

    source = tmp_path / "my_converter.py"
    source.write_text(CONVERTER_SOURCE)
    mlir = tmp_path / "cli.mlir"
    common = ["--model_type", "caffe", "--model_def", str(segnet[0]), "--model_name", "seg"]
    args = [*common, "--model_data", str(segnet[1]), "--mlir_file_path", str(mlir)]
    assert main(args) == 1  # Upsample with a mask needs the subclass
    extra = ["--mean", "0.5,0.5,0.5", "--std", "0.25,0.25,0.25", "--raw_scale", "1.0"]
    assert main([*args, "--converter", f"{source}:UnpoolingConverter", *extra]) == 0
    text = mlir.read_text()
    assert text.count('operation_name = "unpooling"') == 2
    pre = preprocess_of(str(mlir))["data"]
    assert list(pre.mean) == [0.5, 0.5, 0.5] and list(pre.std) == [0.25, 0.25, 0.25]
    assert main([*args, "--converter", "tpuc.frontend:OnnxConverter"]) == 1


def test_generator_command(tmp_path: Path) -> None:
    from tpuc.frontend.caffe_models import main

    assert main([str(tmp_path), "--name", "seg", "--input_shape", "1,3,16,16"]) == 0
    assert "dim: 16" in (tmp_path / "seg.prototxt").read_text()
    assert (tmp_path / "seg.caffemodel").stat().st_size > 1000


def test_reference_command(segnet: tuple[Path, Path], tmp_path: Path) -> None:
    from tpuc.frontend.caffe_reference import main

    x = np.random.default_rng(0).normal(size=(1, 3, 22, 30)).astype(np.float32)
    np.savez(tmp_path / "in.npz", data=x)
    out, dump = tmp_path / "out.npz", tmp_path / "all.npz"
    args = ["--model_def", str(segnet[0]), "--pretrained", str(segnet[1])]
    assert (
        main(
            [
                *args,
                "--input_file",
                str(tmp_path / "in.npz"),
                "--output_file",
                str(out),
                "--dump_blobs",
                str(dump),
            ]
        )
        == 0
    )
    expected = caffe_forward(*segnet, {"data": x})
    with np.load(out) as data:
        assert data.files == ["prob"]
        np.testing.assert_array_equal(data["prob"], expected.blobs["prob"])
    with np.load(dump) as data:
        assert "conv1_1_bn" in data.files and "upsample1" in data.files
