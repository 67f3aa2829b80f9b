"""Program-level behaviour: relu / clip folded into the producing op, buffer reuse across runs,
concurrent runs of one program, and the dump of every tensor."""

from __future__ import annotations

import threading
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from conftest import Net, assert_close, f32, i64s, rand


def conv_clip_net(clip: str, second_use: bool = False, do_relu: bool = False) -> tuple[Net, Any]:
    net = Net()
    x = net.input("x", (1, 3, 8, 8))
    w = net.weight("w", rand((6, 3, 3, 3), 1, 0.5))
    b = net.weight("b", rand((6,), 2))
    conv = net.op(
        "conv_2d",
        [x, w, b],
        (1, 6, 8, 8),
        f"strides = {i64s((1, 1))}, pads = {i64s((1, 1, 1, 1))}, "
        f"dilations = {i64s((1, 1))}, do_relu = {str(do_relu).lower()}",
        name="conv",
    )
    op, _, attrs = clip.partition(":")
    act = net.op(op, [conv], (1, 6, 8, 8), attrs, name="act")
    if second_use:
        act = net.op("eltwise_add", [act, conv], (1, 6, 8, 8), name="sum")
    return net, act


def reference(x: np.ndarray, net: Net) -> np.ndarray:
    w, b = net.weights["w"], net.weights["b"]
    padded = np.pad(x, ((0, 0), (0, 0), (1, 1), (1, 1)))
    out = np.zeros((1, 6, 8, 8), np.float64)
    for ky in range(3):
        for kx in range(3):
            out += np.einsum(
                "oc,nchw->nohw", w[:, :, ky, kx], padded[:, :, ky : ky + 8, kx : kx + 8]
            )
    return (out + b.reshape(1, 6, 1, 1)).astype(np.float32)


CLAMPS = {
    "relu": ("relu", lambda y: np.maximum(y, 0)),
    "relu6": (f"clip:min = {f32(0)}, max = {f32(6)}", lambda y: np.clip(y, 0, 6)),
    "clip_negative": (f"clip:min = {f32(-1)}, max = {f32(0.5)}", lambda y: np.clip(y, -1, 0.5)),
}


@pytest.mark.parametrize("clamp", sorted(CLAMPS))
@pytest.mark.parametrize("do_relu", [False, True])
def test_clamp_after_conv(interp: Any, tmp_path: Path, clamp: str, do_relu: bool) -> None:
    text, expected = CLAMPS[clamp]
    net, y = conv_clip_net(text, do_relu=do_relu)
    path = net.save(tmp_path, [y])
    x = rand((1, 3, 8, 8), 3, 2.0)
    conv = reference(x, net)
    if do_relu:
        conv = np.maximum(conv, 0)
    fused = interp.run(path, {"x": x})["act"]
    everything = interp.run(path, {"x": x}, dump_all=True)
    assert_close(fused, expected(conv), rtol=1e-4, atol=1e-4)
    assert_close(everything["act"], fused, rtol=0, atol=0)
    assert_close(everything["conv"], conv, rtol=1e-4, atol=1e-4)


def test_disjoint_clamps_are_not_merged(interp: Any, tmp_path: Path) -> None:
    """do_relu then clip(-5, -1): every value ends at -1 (the clamps cannot merge into one)."""
    net, y = conv_clip_net(f"clip:min = {f32(-5)}, max = {f32(-1)}", do_relu=True)
    out = interp.run(net.save(tmp_path, [y]), {"x": rand((1, 3, 8, 8), 4)})["act"]
    np.testing.assert_array_equal(out, np.full((1, 6, 8, 8), -1.0, np.float32))


def test_clamp_of_a_value_used_twice(interp: Any, tmp_path: Path) -> None:
    net, y = conv_clip_net("relu", second_use=True)
    x = rand((1, 3, 8, 8), 5, 2.0)
    out = interp.run(net.save(tmp_path, [y]), {"x": x})["sum"]
    conv = reference(x, net)
    assert_close(out, np.maximum(conv, 0) + conv, rtol=1e-4, atol=1e-4)


@pytest.mark.parametrize("op", ["fully_connected", "matmul"])
def test_clamp_after_matrix_products(interp: Any, tmp_path: Path, op: str) -> None:
    x, w = rand((4, 10), 6, 2.0), rand((10, 7), 7)
    net = Net()
    xin = net.input("x", x.shape)
    if op == "fully_connected":
        y = net.op(op, [xin, net.weight("w", np.ascontiguousarray(w.T))], (4, 7), name="y")
    else:
        y = net.op(op, [xin, net.input("w", w.shape)], (4, 7), name="y")
    z = net.op("clip", [y], (4, 7), f"min = {f32(-0.5)}, max = {f32(1.0)}", name="z")
    out = interp.run(net.save(tmp_path, [z]), {"x": x, "w": w})["z"]
    assert_close(out, np.clip(x @ w, -0.5, 1.0), rtol=1e-5, atol=1e-5)


def test_results_survive_later_runs(interp: Any, tmp_path: Path) -> None:
    net, y = conv_clip_net("relu")
    program = interp.compile(net.save(tmp_path, [y]))
    x1, x2 = rand((1, 3, 8, 8), 8), rand((1, 3, 8, 8), 9)
    first = program.run({"x": x1})["act"]
    kept = first.copy()
    for _ in range(3):
        second = program.run({"x": x2})["act"]
    np.testing.assert_array_equal(first, kept)
    assert_close(second, np.maximum(reference(x2, net), 0), rtol=1e-4, atol=1e-4)


def test_concurrent_runs_of_one_program(interp: Any, tmp_path: Path) -> None:
    net, y = conv_clip_net(f"clip:min = {f32(0)}, max = {f32(6)}")
    program = interp.compile(net.save(tmp_path, [y]))
    inputs = [rand((1, 3, 8, 8), 10 + i, 2.0) for i in range(4)]
    expected = [np.clip(reference(x, net), 0, 6) for x in inputs]
    errors: list[str] = []

    def worker(index: int) -> None:
        for _ in range(20):
            out = program.run({"x": inputs[index]})["act"]
            if not np.allclose(out, expected[index], rtol=1e-4, atol=1e-4):
                errors.append(f"thread {index} got a wrong result")

    threads = [threading.Thread(target=worker, args=(i,)) for i in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert not errors, errors


def test_dump_all_returns_every_op_once(interp: Any, tmp_path: Path) -> None:
    net, y = conv_clip_net("relu", second_use=True)
    everything = interp.run(net.save(tmp_path, [y]), {"x": rand((1, 3, 8, 8), 20)}, dump_all=True)
    assert sorted(everything) == ["act", "conv", "sum", "x"]
