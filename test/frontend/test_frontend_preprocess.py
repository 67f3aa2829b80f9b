"""Input preprocessing: applying it to images, recording it on tpu.input, reading it back, and the
run_onnx_inference command line that uses it."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pytest
from frontend_util import layer_ops, require_frontend

require_frontend()

import onnx  # noqa: E402
from frontend_cases import make_model, node  # noqa: E402
from tpuc.frontend import Preprocess, preprocess_of  # noqa: E402
from tpuc.frontend.preprocess import center_crop, resize_bilinear  # noqa: E402
from tpuc.tools import run_onnx_inference as cli  # noqa: E402

IMAGENET = Preprocess(
    mean=(0.485, 0.456, 0.406),
    std=(0.229, 0.224, 0.225),
    raw_scale=1.0,
    resize=(20, 26),
    crop=(16, 16),
)


def image(height: int = 24, width: int = 32) -> np.ndarray:
    rng = np.random.default_rng(3)
    return rng.integers(0, 256, size=(height, width, 3), dtype=np.uint8)


def test_apply_matches_the_definition() -> None:
    img = image()
    x = IMAGENET.apply(img)
    assert x.shape == (1, 3, 16, 16) and x.dtype == np.float32
    # Resize to 20 x 26, then the centre 16 x 16.
    resized = resize_bilinear(img.astype(np.float32), (20, 26))
    cropped = center_crop(resized, (16, 16))
    mean = np.array([0.485, 0.456, 0.406]).reshape(3, 1, 1)
    std = np.array([0.229, 0.224, 0.225]).reshape(3, 1, 1)
    expected = (np.transpose(cropped, (2, 0, 1)) / 255.0 - mean) / std
    np.testing.assert_allclose(x[0], expected, rtol=1e-5, atol=1e-5)


def test_channel_order_and_scale() -> None:
    img = image(4, 4)
    bgr = Preprocess(mean=(10, 20, 30), scale=(0.5,), channel_order="bgr").apply(img, batch=False)
    expected = (
        img[:, :, ::-1].transpose(2, 0, 1).astype(np.float64)
        - np.array([10, 20, 30]).reshape(3, 1, 1)
    ) * 0.5
    np.testing.assert_allclose(bgr, expected, rtol=1e-6)
    gray = Preprocess(mean=(0,), channel_order="gray").apply(img)
    assert gray.shape == (1, 1, 4, 4)
    scaled = Preprocess(mean=(1.0,), scale=(2.0,), raw_scale=1.0, input_scale=3.0).apply(img)
    np.testing.assert_allclose(scaled[0], (img.transpose(2, 0, 1) / 255.0 - 1.0) * 6.0, rtol=1e-5)


def test_letterbox_keeps_aspect_ratio() -> None:
    img = np.full((10, 20, 3), 255, np.uint8)
    x = Preprocess(resize=(20, 20), keep_aspect_ratio=True, raw_scale=1.0).apply(img)
    # 10 x 20 scales to 10 x 20 inside 20 x 20: rows 5..14 are the image, the rest is padding.
    assert x.shape == (1, 3, 20, 20)
    assert np.all(x[0, :, 5:15, :] == 1.0) and np.all(x[0, :, :5, :] == 0.0)
    assert np.all(x[0, :, 15:, :] == 0.0)


def test_resize_is_identity_at_same_size_and_interpolates() -> None:
    img = image(6, 6).astype(np.float32)
    np.testing.assert_array_equal(resize_bilinear(img, (6, 6)), img)
    ramp = np.arange(4, dtype=np.float32).reshape(1, 4, 1)
    doubled = resize_bilinear(ramp, (1, 8))[0, :, 0]
    np.testing.assert_allclose(doubled, [0, 0.25, 0.75, 1.25, 1.75, 2.25, 2.75, 3])


def test_dict_round_trip_gives_the_same_tensor() -> None:
    again = Preprocess.from_dict(IMAGENET.to_dict(), input_shape=[1, 3, 16, 16])
    np.testing.assert_allclose(again.apply(image()), IMAGENET.apply(image()), rtol=1e-5, atol=1e-6)


def test_invalid_preprocess() -> None:
    with pytest.raises(ValueError, match="channel_order"):
        Preprocess(channel_order="rgba")
    with pytest.raises(ValueError, match="resize must be a positive shorter side"):
        Preprocess(resize=(0, 3))
    with pytest.raises(ValueError, match="unknown field"):
        Preprocess.from_dict({"cropping": [1, 1]})
    with pytest.raises(ValueError, match="std must be non-zero"):
        Preprocess(std=(1, 0, 1))
    with pytest.raises(ValueError, match="either std or scale"):
        Preprocess(std=(1,), scale=(1,))
    with pytest.raises(ValueError, match="needs 1 or 3 values"):
        Preprocess(mean=(1, 2)).apply(image())
    with pytest.raises(ValueError, match="larger than the image"):
        Preprocess(crop=(100, 100)).apply(image())


def conv_model() -> onnx.ModelProto:
    w = np.random.default_rng(0).uniform(-1, 1, (4, 3, 3, 3)).astype(np.float32)
    return make_model(
        [node("Conv", ["data", "w"], ["y"])], {"data": [1, 3, 16, 16]}, ["y"], {"w": w}
    )


def test_recorded_on_tpu_input_and_read_back(convert: Any) -> None:
    converter = convert(conv_model(), preprocess=IMAGENET)
    inp = next(op for op in layer_ops(converter.module) if op.op == "tpu.input")
    assert "preprocess" in inp.attrs and 'channel_order = "rgb"' in inp.attrs["preprocess"]
    assert "resize = array<i64: 20, 26>" in inp.attrs["preprocess"]
    for source in (converter.module, converter.mlir_file):
        found = preprocess_of(source)
        assert list(found) == ["data"]
        np.testing.assert_allclose(
            found["data"].apply(image()), IMAGENET.apply(image()), rtol=1e-5, atol=1e-6
        )


def test_run_onnx_inference_cli(convert: Any, tmp_path: Path) -> None:
    model = conv_model()
    convert(model, preprocess=IMAGENET)
    onnx_path = tmp_path / "m.onnx"
    onnx.save(model, onnx_path)
    inputs = tmp_path / "in.npz"
    x = np.random.default_rng(1).standard_normal((1, 3, 16, 16)).astype(np.float32)
    np.savez(inputs, data=x)
    out, dump = tmp_path / "out.npz", tmp_path / "all.npz"
    assert (
        cli.main(
            [
                "--model_def",
                str(onnx_path),
                "--input_file",
                str(inputs),
                "--output_file",
                str(out),
                "--dump_tensor",
                str(dump),
            ]
        )
        == 0
    )
    with np.load(dump) as all_tensors, np.load(out) as outputs:
        assert sorted(all_tensors.files) == ["data", "y"] and outputs.files == ["y"]
        np.testing.assert_array_equal(all_tensors["data"], x)
    assert cli.main(["--model", str(onnx_path), "--input", str(tmp_path / "none.npz")]) == 1


def test_run_onnx_inference_cli_image(convert: Any, tmp_path: Path) -> None:
    """An image input goes through the preprocessing recorded on the converted model."""
    image_lib = pytest.importorskip("PIL.Image", reason="reading images needs Pillow")
    model = conv_model()
    converter = convert(model, preprocess=IMAGENET)
    onnx_path = tmp_path / "m.onnx"
    onnx.save(model, onnx_path)
    out = tmp_path / "out.npz"
    img_path = tmp_path / "img.png"
    image_lib.fromarray(image()).save(img_path)
    fed = tmp_path / "fed.npz"
    assert (
        cli.main(
            [
                "--model",
                str(onnx_path),
                "--input",
                str(img_path),
                "--mlir",
                str(converter.mlir_file),
                "--save_input",
                str(fed),
                "--output",
                str(out),
            ]
        )
        == 0
    )
    with np.load(fed) as data:
        np.testing.assert_allclose(data["data"], IMAGENET.apply(image()), rtol=1e-5, atol=1e-6)
