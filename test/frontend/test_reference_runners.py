"""The reference runners of the custom-op guide: run_caffe_segmentation (numpy Caffe forward,
every blob dumped, per-pixel classes) and run_onnx_detector_yolo (onnxruntime, every tensor
dumped, YOLO boxes decoded), through their command lines."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from frontend_util import require_frontend

require_frontend()

import onnx  # noqa: E402
from onnx import TensorProto, helper, numpy_helper  # noqa: E402
from tpuc.frontend.caffe_models import CaffeNetBuilder  # noqa: E402
from tpuc.tools import run_caffe_segmentation as seg  # noqa: E402
from tpuc.tools import run_onnx_detector_yolo as yolo  # noqa: E402


@pytest.mark.parametrize("module", ["run_caffe_segmentation", "run_onnx_detector_yolo"])
def test_help(module: str) -> None:
    result = subprocess.run(
        [sys.executable, "-m", f"tpuc.tools.{module}", "--help"], capture_output=True, text=True
    )
    assert result.returncode == 0
    assert "--dump_blobs" in result.stdout and "--input_file" in result.stdout


# -- run_caffe_segmentation -------------------------------------------------------------------


def segmentation_net(tmp_path: Path) -> tuple[Path, Path, np.ndarray, np.ndarray]:
    """data [1, 3, 6, 8] -> 1x1 convolution to 4 classes (+ bias) -> ReLU -> Softmax."""
    rng = np.random.default_rng(5)
    w = rng.normal(size=(4, 3, 1, 1)).astype(np.float32)
    b = rng.normal(size=4).astype(np.float32)
    net = CaffeNetBuilder("seg", {"data": [1, 3, 6, 8]})
    net.layer("score", "Convolution", ["data"], ["score"], [w, b],
              convolution_param={"num_output": 4, "kernel_size": [1]})  # fmt: skip
    net.layer("relu", "ReLU", ["score"], ["score"])
    net.layer("prob", "Softmax", ["score"], ["prob"])
    prototxt, caffemodel = net.save(tmp_path / "seg.prototxt", tmp_path / "seg.caffemodel")
    return prototxt, caffemodel, w, b


def test_segmentation_npz_dumps_every_layer(tmp_path: Path) -> None:
    prototxt, caffemodel, w, b = segmentation_net(tmp_path)
    x = np.random.default_rng(1).normal(size=(1, 3, 6, 8)).astype(np.float32)
    np.savez(tmp_path / "in.npz", data=x)
    argv = [
        "--model_def",
        str(prototxt),
        "--pretrained_model",
        str(caffemodel),
        "--input_file",
        str(tmp_path / "in.npz"),
        "--dump_blobs",
        str(tmp_path / "all.npz"),
        "--output",
        str(tmp_path / "out.npz"),
        "--draw_image",
        str(tmp_path / "cls.png"),
    ]
    assert seg.main(argv) == 0
    # Each layer's own output by layer name, also through the in-place ReLU.
    score = np.einsum("oc,nchw->nohw", w[:, :, 0, 0], x) + b.reshape(1, 4, 1, 1)
    relu = np.maximum(score, 0)
    prob = np.exp(relu) / np.exp(relu).sum(axis=1, keepdims=True)
    with np.load(tmp_path / "all.npz") as dump:
        assert sorted(dump.files) == ["data", "prob", "relu", "score"]
        np.testing.assert_allclose(dump["score"], score, rtol=1e-5, atol=1e-5)
        np.testing.assert_allclose(dump["relu"], relu, rtol=1e-5, atol=1e-5)
        np.testing.assert_allclose(dump["prob"], prob, rtol=1e-5, atol=1e-6)
    with np.load(tmp_path / "out.npz") as out:
        assert out.files == ["prob"]
    from PIL import Image

    drawn = np.asarray(Image.open(tmp_path / "cls.png"))
    np.testing.assert_array_equal(drawn, np.argmax(prob[0], axis=0))


def test_segmentation_image_with_colours(tmp_path: Path) -> None:
    from PIL import Image

    prototxt, caffemodel, _, _ = segmentation_net(tmp_path)
    pixels = np.random.default_rng(2).integers(0, 256, (12, 16, 3), dtype=np.uint8)
    Image.fromarray(pixels).save(tmp_path / "img.png")
    lut = np.array([[[255, 0, 0], [0, 255, 0], [0, 0, 255], [9, 9, 9]]], np.uint8)
    Image.fromarray(lut).save(tmp_path / "lut.png")
    argv = [
        "--model_def",
        str(prototxt),
        "--pretrained_model",
        str(caffemodel),
        "--input_file",
        str(tmp_path / "img.png"),
        "--net_input_dims",
        "6,8",
        "--mean",
        "104,117,123",
        "--batch_size",
        "2",
        "--dump_blobs",
        str(tmp_path / "all.npz"),
        "--colours",
        str(tmp_path / "lut.png"),
        "--draw_image",
        str(tmp_path / "seg.png"),
    ]
    assert seg.main(argv) == 0
    from tpuc.frontend.preprocess import Preprocess

    expected_in = Preprocess(mean=(104, 117, 123), channel_order="bgr", resize=(6, 8)).apply(
        tmp_path / "img.png"
    )
    with np.load(tmp_path / "all.npz") as dump:
        assert dump["data"].shape == (2, 3, 6, 8)
        np.testing.assert_array_equal(dump["data"][1], expected_in[0])
        classes = np.argmax(dump["prob"][0], axis=0)
    drawn = np.asarray(Image.open(tmp_path / "seg.png").convert("RGB"))
    np.testing.assert_array_equal(drawn, lut[0][classes])


def test_segmentation_errors(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert seg.main(["--model_def", str(tmp_path / "nope.prototxt"),
                     "--input_file", str(tmp_path / "in.npz")]) == 1  # fmt: skip
    assert "nope.prototxt' does not exist" in capsys.readouterr().err
    bad = tmp_path / "bad.prototxt"
    bad.write_text("layer { name: 'x' type: \n")
    np.savez(tmp_path / "in.npz", data=np.zeros((1, 3, 2, 2), np.float32))
    assert seg.main(["--model_def", str(bad), "--input_file", str(tmp_path / "in.npz")]) == 1
    assert capsys.readouterr().err.startswith("error: ")


# -- run_onnx_detector_yolo -------------------------------------------------------------------

BOX = 10.0  # raw logit making sigmoid ~ 1


def yolo_model(path: Path, classes: int = 1) -> None:
    """Two heads of a 1-class YOLOv3-tiny-shaped detector on an 8 x 8 input: max pools to 2 x 2
    and 1 x 1, then 1x1 convolutions with zero weights, so the heads are their biases. In the
    2 x 2 head anchor 0 has a confident class-0 box centred on every cell (tx = ty = tw = th = 0);
    everything else is -BOX."""
    channels = 3 * (5 + classes)
    bias1 = np.full(channels, -BOX, np.float32)
    bias1[0:4] = 0.0
    bias1[4] = BOX
    bias1[5] = BOX
    bias2 = np.full(channels, -BOX, np.float32)
    zeros = np.zeros((channels, 3, 1, 1), np.float32)
    nodes = [
        helper.make_node("MaxPool", ["x"], ["p1"], kernel_shape=[4, 4], strides=[4, 4]),
        helper.make_node("Conv", ["p1", "w", "b1"], ["head1"]),
        helper.make_node("MaxPool", ["x"], ["p2"], kernel_shape=[8, 8], strides=[8, 8]),
        helper.make_node("Conv", ["p2", "w", "b2"], ["head2"]),
    ]
    graph = helper.make_graph(
        nodes,
        "yolo",
        [helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, 3, 8, 8])],
        [helper.make_tensor_value_info("head1", TensorProto.FLOAT, [1, channels, 2, 2]),
         helper.make_tensor_value_info("head2", TensorProto.FLOAT, [1, channels, 1, 1])],
        [numpy_helper.from_array(zeros, "w"), numpy_helper.from_array(bias1, "b1"),
         numpy_helper.from_array(bias2, "b2")],
    )  # fmt: skip
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 13)])
    onnx.save(model, path)


def sigmoid(x: float) -> float:
    return 1.0 / (1.0 + np.exp(-x))


# IoU of horizontal neighbours 84/196, of vertical ones 100/180, of diagonal ones 60/220.
@pytest.mark.parametrize("nms, centres", [(0.6, [(2, 2), (6, 2), (2, 6), (6, 6)]),
                                          (0.5, [(2, 2), (6, 2)]),
                                          (0.4, [(2, 2), (6, 6)])])  # fmt: skip
def test_yolo_decodes_and_dumps(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], nms: float, centres: list[tuple[int, int]]
) -> None:
    yolo_model(tmp_path / "y.onnx")
    x = np.random.default_rng(3).normal(size=(1, 3, 8, 8)).astype(np.float32)
    np.savez(tmp_path / "in.npz", x=x)
    (tmp_path / "labels.txt").write_text("dog\n")
    argv = [
        "--model_def",
        str(tmp_path / "y.onnx"),
        "--input_file",
        str(tmp_path / "in.npz"),
        "--tiny",
        "--obj_threshold",
        "0.3",
        "--nms_threshold",
        str(nms),
        "--label_file",
        str(tmp_path / "labels.txt"),
        "--dump_blobs",
        str(tmp_path / "all.npz"),
        "--output",
        str(tmp_path / "out.npz"),
    ]
    assert yolo.main(argv) == 0
    with np.load(tmp_path / "all.npz") as dump:
        assert {"x", "p1", "p2", "head1", "head2"} <= set(dump.files)
        np.testing.assert_array_equal(dump["x"], x)
    with np.load(tmp_path / "out.npz") as out:
        detections = out["detections"]
    # Anchor 0 of the finer head is YOLOv3-tiny's smallest, 10 x 14; a cell is 4 pixels.
    expected = np.array(
        [[0, 0, sigmoid(BOX) ** 2, cx - 5, cy - 7, cx + 5, cy + 7] for cx, cy in centres],
        np.float32,
    )
    np.testing.assert_allclose(detections, expected, rtol=1e-6, atol=1e-4)
    printed = capsys.readouterr().out
    assert f"{len(centres)} detection(s)" in printed and "dog: 1.000" in printed


def test_yolo_image_boxes_in_image_pixels(tmp_path: Path) -> None:
    from PIL import Image

    yolo_model(tmp_path / "y.onnx")
    Image.fromarray(np.full((4, 8, 3), 128, np.uint8)).save(tmp_path / "img.png")
    argv = [
        "--model_def",
        str(tmp_path / "y.onnx"),
        "--input_file",
        str(tmp_path / "img.png"),
        "--net_input_dims",
        "8,8",
        "--tiny",
        "--nms_threshold",
        "0.5",
        "--output",
        str(tmp_path / "out.npz"),
        "--draw_image",
        str(tmp_path / "drawn.png"),
    ]
    assert yolo.main(argv) == 0
    with np.load(tmp_path / "out.npz") as out:
        detections = out["detections"]
    # The 4 x 8 image is letterboxed into rows 2..5 of the 8 x 8 input: x unchanged, y - 2,
    # everything clipped to the image.
    first = detections[0]
    np.testing.assert_allclose(first[3:], [0, 0, 7, 4], atol=1e-4)
    assert Image.open(tmp_path / "drawn.png").size == (8, 4)


def test_yolo_errors(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert yolo.main(["--model_def", str(tmp_path / "nope.onnx"),
                      "--input_file", str(tmp_path / "in.npz")]) == 1  # fmt: skip
    assert "nope.onnx' does not exist" in capsys.readouterr().err
    (tmp_path / "bad.onnx").write_bytes(b"not a model")
    np.savez(tmp_path / "in.npz", x=np.zeros((1, 3, 8, 8), np.float32))
    assert yolo.main(["--model_def", str(tmp_path / "bad.onnx"),
                      "--input_file", str(tmp_path / "in.npz")]) == 1  # fmt: skip
    assert capsys.readouterr().err.startswith("error: ")
    # Not a raw YOLO head: a clear error, no boxes.
    yolo_model(tmp_path / "y.onnx")
    assert yolo.main(["--model_def", str(tmp_path / "y.onnx"), "--input_file",
                      str(tmp_path / "in.npz"), "--anchors", "1,2,3"]) == 1  # fmt: skip
    assert "need 12 anchor values" in capsys.readouterr().err
