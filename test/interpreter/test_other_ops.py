"""lrn, lrn_part, normalize, softmax, reduce_mean, preprocess, quant, lut and detection_output."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pytest
from conftest import Net, assert_close, f32, f32s, i64s, onnx_run, rand, run_net


def run_one(
    interp: Any,
    tmp_path: Path,
    op: str,
    x: np.ndarray,
    shape: tuple[int, ...],
    attrs: str = "",
    weights: tuple[tuple[str, np.ndarray], ...] = (),
) -> np.ndarray:
    net = Net()
    ins = [net.input("x", x.shape)] + [net.weight(n, w) for n, w in weights]
    y = net.op(op, ins, shape, attrs)
    return run_net(interp, net, [y], {"x": x}, tmp_path)[0]


@pytest.mark.parametrize("size", [1, 3, 5])
def test_lrn(interp: Any, tmp_path: Path, size: int) -> None:
    x = rand((2, 7, 4, 5), 1, 2.0)
    ref = onnx_run("LRN", [x], size=size, alpha=1e-2, beta=0.75, bias=2.0)
    got = run_one(
        interp,
        tmp_path,
        "lrn",
        x,
        x.shape,
        f"local_size = {size} : i64, alpha = {f32(1e-2)}, beta = {f32(0.75)}, k = {f32(2.0)}",
    )
    assert_close(got, ref, rtol=1e-5, atol=1e-6)


def test_lrn_parts_compose_to_lrn(interp: Any, tmp_path: Path) -> None:
    x = rand((1, 6, 3, 4), 2, 2.0)
    common = f"local_size = 5 : i64, alpha = {f32(1e-2)}, beta = {f32(0.75)}, k = {f32(1.5)}"
    net = Net()
    xin = net.input("x", x.shape)
    sq = net.op("lrn_part", [xin], x.shape, f"part = 1 : i64, {common}", name="sq")
    window = net.op("lrn_part", [sq], x.shape, f"part = 2 : i64, {common}", name="sum")
    power = net.op("lrn_part", [window], x.shape, f"part = 3 : i64, {common}", name="power")
    y = net.op("eltwise_mul", [xin, power], x.shape, name="lrn")
    got_sq, got_sum, got = run_net(interp, net, [sq, window, y], {"x": x}, tmp_path)
    assert_close(got_sq, x * x, rtol=1e-6, atol=0)
    padded = np.pad(x * x, ((0, 0), (2, 2), (0, 0), (0, 0)))
    assert_close(got_sum, sum(padded[:, i : i + 6] for i in range(5)), rtol=1e-5, atol=1e-6)
    ref = onnx_run("LRN", [x], size=5, alpha=1e-2, beta=0.75, bias=1.5)
    assert_close(got, ref, rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("across_spatial", [False, True])
@pytest.mark.parametrize("channel_shared", [False, True])
def test_normalize(interp: Any, tmp_path: Path, across_spatial: bool, channel_shared: bool) -> None:
    x = rand((2, 4, 3, 5), 3)
    scale = rand((1,) if channel_shared else (4,), 4) + 2
    got = run_one(
        interp,
        tmp_path,
        "normalize",
        x,
        x.shape,
        f"across_spatial = {str(across_spatial).lower()}, "
        f"channel_shared = {str(channel_shared).lower()}, eps = {f32(1e-6)}",
        (("scale", scale),),
    )
    axes = (1, 2, 3) if across_spatial else (1,)
    norm = np.sqrt((x.astype(np.float64) ** 2).sum(axis=axes, keepdims=True) + 1e-6)
    ref = x / norm * (scale[0] if channel_shared else scale.reshape(1, 4, 1, 1))
    assert_close(got, ref.astype(np.float32), rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("axis", [1, -1, 2, 0])
def test_softmax(interp: Any, tmp_path: Path, axis: int) -> None:
    x = rand((3, 4, 5, 6), 5, 4.0)
    ref = onnx_run("Softmax", [x], opset=13, axis=axis)
    got = run_one(interp, tmp_path, "softmax", x, x.shape, f"axis = {axis} : i64")
    assert_close(got, ref, rtol=1e-5, atol=1e-7)


@pytest.mark.parametrize("axes", [(2, 3), (1,), (0, 3), (-1,)])
@pytest.mark.parametrize("keepdims", [True, False])
def test_reduce_mean(interp: Any, tmp_path: Path, axes: tuple[int, ...], keepdims: bool) -> None:
    x = rand((2, 3, 4, 5), 6)
    ref = onnx_run("ReduceMean", [x], opset=17, axes=list(axes), keepdims=int(keepdims))
    got = run_one(
        interp,
        tmp_path,
        "reduce_mean",
        x,
        ref.shape,
        f"axes = {i64s(axes)}, keepdims = {str(keepdims).lower()}",
    )
    assert_close(got, ref, rtol=1e-5, atol=1e-6)


def test_preprocess(interp: Any, tmp_path: Path) -> None:
    x = np.random.default_rng(7).uniform(0, 255, (2, 3, 4, 5)).astype(np.float32)
    order, mean, scale = (2, 1, 0), (123.675, 116.28, 103.53), (0.0171, 0.0175, 0.0174)
    got = run_one(
        interp,
        tmp_path,
        "preprocess",
        x,
        x.shape,
        f"channel_order = {i64s(order)}, mean = {f32s(mean)}, scale = {f32s(scale)}",
    )
    ref = (x[:, list(order)] - np.float32(mean).reshape(1, 3, 1, 1)) * np.float32(scale).reshape(
        1, 3, 1, 1
    )
    assert_close(got, ref, rtol=1e-6, atol=1e-5)


def test_quant_fp32_to_int8_rounds_half_away_and_saturates(interp: Any, tmp_path: Path) -> None:
    x = np.array([[0.25, -0.25, 0.75, -0.75, 1.25, 100.0, -100.0, 0.1]], dtype=np.float32)
    net = Net()
    q = net.op(
        "quant",
        [net.input("x", x.shape)],
        x.shape,
        f'from = "NONE", to = "INT8", scale = {f32(2.0)}',
        name="q",
        element="i8",
    )
    (got,) = run_net(interp, net, [q], {"x": x}, tmp_path)
    np.testing.assert_array_equal(got, [[1, -1, 2, -2, 3, 127, -128, 0]])


def test_quant_round_trip_with_zero_point(interp: Any, tmp_path: Path) -> None:
    x = rand((1, 3, 4, 4), 8, 2.0)
    scale, zp = 40.0, 10
    net = Net()
    q = net.op(
        "quant",
        [net.input("x", x.shape)],
        x.shape,
        f'from = "NONE", to = "UINT8", scale = {f32(scale)}, zero_point = {zp} : i64',
        name="q",
        element="ui8",
    )
    back = net.op(
        "quant",
        [q],
        x.shape,
        f'from = "UINT8", to = "NONE", scale = {f32(scale)}, zero_point = {zp} : i64',
        name="back",
    )
    got_q, got_back = run_net(interp, net, [q, back], {"x": x}, tmp_path)
    expected = np.clip(np.sign(x * scale) * np.floor(np.abs(x * scale) + 0.5) + zp, 0, 255)
    np.testing.assert_array_equal(got_q, expected)
    assert_close(got_back, ((expected - zp) / scale).astype(np.float32), rtol=1e-6, atol=1e-7)


def test_quant_to_bf16_rounds_to_nearest_even(interp: Any, tmp_path: Path) -> None:
    bits = np.array([0x3F808000, 0x3F818000, 0x3F80C000, 0x3F807FFF], dtype=np.uint32)
    x = bits.view(np.float32).reshape(1, 4)
    net = Net()
    q = net.op(
        "quant",
        [net.input("x", x.shape)],
        x.shape,
        f'from = "NONE", to = "BF16", scale = {f32(1.0)}',
        name="q",
        element="bf16",
    )
    (got,) = run_net(interp, net, [q], {"x": x}, tmp_path)
    expected = np.array([0x3F800000, 0x3F820000, 0x3F810000, 0x3F800000], dtype=np.uint32)
    np.testing.assert_array_equal(got.view(np.uint32).ravel(), expected)


@pytest.mark.parametrize("element", ["i8", "ui8"])
def test_lut(interp: Any, tmp_path: Path, element: str) -> None:
    rng = np.random.default_rng(9)
    low, high = (-128, 128) if element == "i8" else (0, 256)
    x = rng.integers(low, high, (1, 4, 8, 8)).astype(np.float32)
    table = rng.integers(-128, 128, 256).astype(np.float32)
    net = Net()
    y = net.op(
        "lut",
        [net.input("x", x.shape, element), net.weight("table", table, "i8")],
        x.shape,
        name="lut",
        element="i8",
    )
    (got,) = run_net(interp, net, [y], {"x": x}, tmp_path)
    np.testing.assert_array_equal(got, table[x.astype(np.int64) & 0xFF])


# ===------------------------------------------------------------------------===#
# detection_output, against an independent numpy rendering of Caffe's DetectionOutput
# ===------------------------------------------------------------------------===#


def iou(a: np.ndarray, b: np.ndarray) -> float:
    if b[0] > a[2] or b[2] < a[0] or b[1] > a[3] or b[3] < a[1]:
        return 0.0
    iw = min(a[2], b[2]) - max(a[0], b[0])
    ih = min(a[3], b[3]) - max(a[1], b[1])
    inter = iw * ih
    area = lambda r: max(r[2] - r[0], 0) * max(r[3] - r[1], 0)  # noqa: E731
    return float(inter / (area(a) + area(b) - inter))


def reference_detection(
    loc: np.ndarray,
    conf: np.ndarray,
    prior: np.ndarray,
    num_classes: int,
    background: int,
    nms: float,
    top_k: int,
    keep_top_k: int,
    threshold: float,
    rows: int,
) -> np.ndarray:
    num = loc.shape[0]
    priors = prior.reshape(2, -1, 4)
    boxes_p, var = priors[0], priors[1]
    out = []
    for i in range(num):
        l = loc[i].reshape(-1, 4)  # noqa: E741
        pw, ph = boxes_p[:, 2] - boxes_p[:, 0], boxes_p[:, 3] - boxes_p[:, 1]
        cx = var[:, 0] * l[:, 0] * pw + (boxes_p[:, 0] + boxes_p[:, 2]) / 2
        cy = var[:, 1] * l[:, 1] * ph + (boxes_p[:, 1] + boxes_p[:, 3]) / 2
        w, h = np.exp(var[:, 2] * l[:, 2]) * pw, np.exp(var[:, 3] * l[:, 3]) * ph
        boxes = np.stack([cx - w / 2, cy - h / 2, cx + w / 2, cy + h / 2], axis=1)
        scores = conf[i].reshape(-1, num_classes)
        kept: dict[int, list[int]] = {}
        for c in range(num_classes):
            if c == background:
                continue
            cand = [k for k in np.argsort(-scores[:, c], kind="stable") if scores[k, c] > threshold]
            cand = cand[:top_k]
            keep: list[int] = []
            for k in cand:
                if all(iou(boxes[k], boxes[j]) <= nms for j in keep):
                    keep.append(int(k))
            kept[c] = keep
        total = sum(len(v) for v in kept.values())
        if total > keep_top_k:
            pairs = sorted(
                ((scores[k, c], c, k) for c, v in kept.items() for k in v), key=lambda t: -t[0]
            )[:keep_top_k]
            kept = {}
            for _, c, k in pairs:
                kept.setdefault(c, []).append(k)
        for c in sorted(kept):
            for k in kept[c]:
                out.append([i, c, scores[k, c], *boxes[k]])
    result = np.full((rows, 7), -1.0, dtype=np.float32)
    if out:
        result[: min(rows, len(out))] = np.array(out, dtype=np.float32)[:rows]
    return result.reshape(1, 1, rows, 7)


@pytest.mark.parametrize("keep_top_k", [5, 40])
def test_detection_output(interp: Any, tmp_path: Path, keep_top_k: int) -> None:
    rng = np.random.default_rng(10)
    num, priors, classes = 2, 30, 4
    centers = rng.uniform(0.1, 0.9, (priors, 2))
    sizes = rng.uniform(0.05, 0.4, (priors, 2))
    boxes = np.concatenate([centers - sizes / 2, centers + sizes / 2], axis=1)
    variances = np.tile([0.1, 0.1, 0.2, 0.2], (priors, 1))
    prior = (
        np.stack([boxes.ravel(), variances.ravel()]).reshape(1, 2, priors * 4).astype(np.float32)
    )
    loc = (rng.standard_normal((num, priors * 4)) * 0.5).astype(np.float32)
    logits = rng.standard_normal((num, priors, classes)) * 2
    conf = (
        (np.exp(logits) / np.exp(logits).sum(-1, keepdims=True)).reshape(num, -1).astype(np.float32)
    )
    rows = 50
    net = Net()
    ins = [net.input("loc", loc.shape), net.input("conf", conf.shape), net.weight("prior", prior)]
    y = net.op(
        "detection_output",
        ins,
        (1, 1, rows, 7),
        f"num_classes = {classes} : i64, background_label_id = 0 : i64, "
        f"nms_threshold = {f32(0.45)}, top_k = 10 : i64, keep_top_k = {keep_top_k} : i64,"
        f' confidence_threshold = {f32(0.2)}, code_type = "CENTER_SIZE"',
    )
    (got,) = run_net(interp, net, [y], {"loc": loc, "conf": conf}, tmp_path)
    ref = reference_detection(loc, conf, prior, classes, 0, 0.45, 10, keep_top_k, 0.2, rows)
    assert (got[0, 0, :, 0] >= 0).sum() == (ref[0, 0, :, 0] >= 0).sum() > 0
    assert_close(got, ref, rtol=1e-5, atol=1e-6)
