"""Data movement ops against onnxruntime: concat, reshape, permute, slice, crop, pad, upsample,
interp (ONNX Resize), pixel_shuffle (DepthToSpace), reorg (SpaceToDepth), shuffle_channel."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pytest
from conftest import Net, assert_close, f32, i64s, onnx_run, rand, run_net


def run_one(
    interp: Any,
    tmp_path: Path,
    op: str,
    xs: list[np.ndarray],
    shape: tuple[int, ...],
    attrs: str = "",
) -> np.ndarray:
    net = Net()
    ins = [net.input(f"x{i}", x.shape) for i, x in enumerate(xs)]
    y = net.op(op, ins, shape, attrs)
    return run_net(interp, net, [y], {f"x{i}": x for i, x in enumerate(xs)}, tmp_path)[0]


@pytest.mark.parametrize("axis", [0, 1, 3, -2])
def test_concat(interp: Any, tmp_path: Path, axis: int) -> None:
    base = [2, 3, 4, 5]
    xs = []
    for i, extra in enumerate((1, 2, 3)):
        shape = list(base)
        shape[axis] = extra
        xs.append(rand(shape, i))
    ref = onnx_run("Concat", xs, axis=axis)
    got = run_one(interp, tmp_path, "concat", xs, ref.shape, f"axis = {axis} : i64")
    assert_close(got, ref, rtol=0, atol=0)


def test_reshape(interp: Any, tmp_path: Path) -> None:
    x = rand((2, 3, 4, 5), 1)
    got = run_one(interp, tmp_path, "reshape", [x], (6, 20))
    assert_close(got, x.reshape(6, 20), rtol=0, atol=0)


@pytest.mark.parametrize("order", [(0, 2, 3, 1), (3, 2, 1, 0), (1, 0, 2, 3), (0, 1, 3, 2)])
def test_permute(interp: Any, tmp_path: Path, order: tuple[int, ...]) -> None:
    x = rand((2, 3, 4, 5), 2)
    ref = onnx_run("Transpose", [x], perm=list(order))
    got = run_one(interp, tmp_path, "permute", [x], ref.shape, f"order = {i64s(order)}")
    assert_close(got, ref, rtol=0, atol=0)


SLICES = {
    # name: (offsets, steps, result shape)
    "window": ((0, 1, 2, 1), (1, 1, 1, 1), (2, 2, 3, 3)),
    "strided": ((1, 0, 1, 0), (1, 2, 2, 3), (1, 2, 3, 3)),
    "every_other_channel": ((0, 1, 0, 0), (1, 2, 1, 1), (2, 2, 7, 8)),
}


@pytest.mark.parametrize("case", sorted(SLICES))
def test_slice(interp: Any, tmp_path: Path, case: str) -> None:
    offsets, steps, shape = SLICES[case]
    x = rand((2, 5, 7, 8), 3)
    index = tuple(slice(o, o + n * s, s) for o, s, n in zip(offsets, steps, shape, strict=True))
    got = run_one(
        interp, tmp_path, "slice", [x], shape, f"offsets = {i64s(offsets)}, steps = {i64s(steps)}"
    )
    assert_close(got, x[index], rtol=0, atol=0)


def test_slice_against_onnx(interp: Any, tmp_path: Path) -> None:
    x = rand((1, 6, 9, 10), 4)
    starts, ends, axes, steps = [1, 2, 0], [5, 9, 10], [1, 2, 3], [2, 3, 4]
    ref = onnx_run("Slice", [x, np.array(starts), np.array(ends), np.array(axes), np.array(steps)])
    got = run_one(
        interp,
        tmp_path,
        "slice",
        [x],
        ref.shape,
        f"offsets = {i64s((0, 1, 2, 0))}, steps = {i64s((1, 2, 3, 4))}",
    )
    assert_close(got, ref, rtol=0, atol=0)


def test_crop(interp: Any, tmp_path: Path) -> None:
    x = rand((2, 4, 9, 9), 5)
    got = run_one(interp, tmp_path, "crop", [x], (1, 3, 5, 4), f"offsets = {i64s((1, 1, 2, 3))}")
    assert_close(got, x[1:2, 1:4, 2:7, 3:7], rtol=0, atol=0)


@pytest.mark.parametrize("mode", ["constant", "reflect", "edge"])
@pytest.mark.parametrize("pads", [(0, 0, 1, 2, 0, 0, 2, 1), (0, 1, 0, 3, 1, 0, 2, 0)])
def test_pad(interp: Any, tmp_path: Path, mode: str, pads: tuple[int, ...]) -> None:
    x = rand((2, 3, 5, 6), 6)
    inputs: list[np.ndarray | None] = [x, np.array(pads, dtype=np.int64)]
    if mode == "constant":
        inputs.append(np.array(1.5, dtype=np.float32))
    ref = onnx_run("Pad", inputs, mode=mode)
    got = run_one(
        interp,
        tmp_path,
        "pad",
        [x],
        ref.shape,
        f'pads = {i64s(pads)}, const_val = {f32(1.5)}, mode = "{mode}"',
    )
    assert_close(got, ref, rtol=0, atol=0)


def test_upsample(interp: Any, tmp_path: Path) -> None:
    x = rand((2, 3, 4, 5), 7)
    ref = onnx_run(
        "Resize",
        [x, None, np.array([1, 1, 2, 3], dtype=np.float32)],
        mode="nearest",
        coordinate_transformation_mode="asymmetric",
        nearest_mode="floor",
    )
    got = run_one(
        interp, tmp_path, "upsample", [x], ref.shape, "scale_h = 2 : i64, scale_w = 3 : i64"
    )
    assert_close(got, ref, rtol=0, atol=0)


INTERP_MODES = ["half_pixel", "pytorch_half_pixel", "align_corners", "asymmetric"]
INTERP_SIZES = {"up": (11, 17), "down": (3, 4), "mixed": (9, 5), "one": (1, 7)}


@pytest.mark.parametrize("coordinates", INTERP_MODES)
@pytest.mark.parametrize("size", sorted(INTERP_SIZES))
@pytest.mark.parametrize("mode", ["bilinear", "nearest"])
def test_interp(interp: Any, tmp_path: Path, coordinates: str, size: str, mode: str) -> None:
    x = rand((1, 2, 6, 8), 8)
    oh, ow = INTERP_SIZES[size]
    ref = onnx_run(
        "Resize",
        [x, None, None, np.array([1, 2, oh, ow], dtype=np.int64)],
        opset=13,
        mode="linear" if mode == "bilinear" else "nearest",
        coordinate_transformation_mode=coordinates,
    )
    got = run_one(
        interp,
        tmp_path,
        "interp",
        [x],
        (1, 2, oh, ow),
        f'mode = "{mode}", coordinate_transformation_mode = "{coordinates}"',
    )
    assert_close(got, ref, rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("rounding", ["floor", "ceil", "round_prefer_ceil"])
def test_interp_nearest_mode_attribute(interp: Any, tmp_path: Path, rounding: str) -> None:
    x = rand((1, 1, 5, 7), 9)
    ref = onnx_run(
        "Resize",
        [x, None, None, np.array([1, 1, 8, 3], dtype=np.int64)],
        opset=13,
        mode="nearest",
        coordinate_transformation_mode="half_pixel",
        nearest_mode=rounding,
    )
    got = run_one(
        interp,
        tmp_path,
        "interp",
        [x],
        (1, 1, 8, 3),
        'mode = "nearest", coordinate_transformation_mode = "half_pixel", '
        f'nearest_mode = "{rounding}"',
    )
    assert_close(got, ref, rtol=0, atol=0)


@pytest.mark.parametrize("mode", ["DCR", "CRD"])
def test_pixel_shuffle(interp: Any, tmp_path: Path, mode: str) -> None:
    x = rand((2, 18, 3, 4), 10)
    ref = onnx_run("DepthToSpace", [x], blocksize=3, mode=mode)
    got = run_one(
        interp,
        tmp_path,
        "pixel_shuffle",
        [x],
        ref.shape,
        f'upscale_factor = 3 : i64, mode = "{mode}"',
    )
    assert_close(got, ref, rtol=0, atol=0)


def test_reorg(interp: Any, tmp_path: Path) -> None:
    x = rand((2, 3, 6, 8), 11)
    ref = onnx_run("SpaceToDepth", [x], blocksize=2)
    got = run_one(interp, tmp_path, "reorg", [x], ref.shape, "stride = 2 : i64")
    assert_close(got, ref, rtol=0, atol=0)


def test_shuffle_channel(interp: Any, tmp_path: Path) -> None:
    x = rand((2, 12, 3, 5), 12)
    got = run_one(interp, tmp_path, "shuffle_channel", [x], x.shape, "group = 3 : i64")
    ref = x.reshape(2, 3, 4, 3, 5).transpose(0, 2, 1, 3, 4).reshape(x.shape)
    assert_close(got, ref, rtol=0, atol=0)
