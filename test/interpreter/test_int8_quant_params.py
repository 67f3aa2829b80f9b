"""The conv_2d weights and bias of --tpu-quant, quantized from the channel's QDM pair in float32
with ties to even as the vendor toolchain does (docs/quantization.md): a bias whose scaled value
is exactly k + 0.5 in float32 (the case that changed one output code of r18_half_112 when the
bias was rounded in double, half away from zero) rounds to the even neighbour."""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

import numpy as np
import pytest
from conftest import Net, i64s
from test_int8_conformance import _tool

TI, TO = 1.1147560, 0.5504219  # the thresholds around r18_half_112's layers.0/c2 conv


def quantize(tmp_path: Path, w: np.ndarray, b: np.ndarray) -> tuple[dict[str, np.ndarray], str]:
    net = Net()
    x = net.input("x", (1, w.shape[1], 3, 3))
    quant_in = f"quant = {{threshold_max = {TI!r} : f64}}"
    net.lines[-1] = net.lines[-1].replace('{name = "x"}', f'{{name = "x", {quant_in}}}')
    y = net.op(
        "conv_2d",
        [x, net.weight("w", w), net.weight("b", b)],
        (1, w.shape[0], 3, 3),
        f"strides = {i64s((1, 1))}, pads = {i64s((1, 1, 1, 1))}, "
        f"dilations = {i64s((1, 1))}, quant = {{threshold_max = {TO!r} : f64}}",
        name="conv",
    )
    path = net.save(tmp_path, [y])
    out = tmp_path / "int8.mlir"
    proc = subprocess.run(
        [str(_tool("tpuc-opt")), str(path), "--tpu-quant", "-o", str(out)],
        capture_output=True,
        text=True,
        timeout=120,
        cwd=tmp_path,
    )
    assert proc.returncode == 0, proc.stderr
    weights = dict(np.load(tmp_path / "weights_int8.npz"))
    return weights, out.read_text()


def qdm_pair(ir: str) -> tuple[np.ndarray, np.ndarray]:
    found = re.search(r"multiplier = array<i64: ([0-9, ]+)>.*rshift = array<i64: ([0-9, ]+)>", ir)
    assert found, ir
    return (
        np.array([int(v) for v in found.group(1).split(",")]),
        np.array([int(v) for v in found.group(2).split(",")]),
    )


def factor(scale: np.float32, m: int, r: int) -> np.float32:
    return np.float32(float(scale) * 2.0 ** (31 + r) / m)


def round_half_even(x: np.ndarray) -> np.ndarray:
    return np.rint(x).astype(np.int64)  # numpy rounds half to even


def test_weights_and_bias_come_from_the_qdm_pair(tmp_path: Path) -> None:
    rng = np.random.default_rng(5)
    w = (rng.standard_normal((4, 3, 3, 3)) * 0.2).astype(np.float32)
    b = (rng.standard_normal(4) * 0.2).astype(np.float32)
    weights, ir = quantize(tmp_path / "first", w, b)
    m, r = qdm_pair(ir)
    fw = [factor(np.float32(TI) / np.float32(TO), int(m[c]), int(r[c])) for c in range(4)]
    fb = [factor(np.float32(127.0) / np.float32(TO), int(m[c]), int(r[c])) for c in range(4)]
    wq = np.stack([np.clip(round_half_even(w[c] * fw[c]), -128, 127) for c in range(4)])
    np.testing.assert_array_equal(weights["conv_quant_filter"], wq)
    np.testing.assert_array_equal(
        weights["conv_quant_bias"], [round_half_even(b[c] * fb[c]) for c in range(4)]
    )

    # Biases landing exactly on k + 0.5 in float32 with k even: ties go to k (half away from
    # zero would give k + 1).
    ties = []
    for c in range(4):
        for k in range(1000, 100000, 2):
            candidate = np.float32((k + 0.5) / float(fb[c]))
            if np.float32(candidate * fb[c]) == np.float32(k + 0.5):
                ties.append(candidate)
                break
        else:
            pytest.fail(f"no float32 bias ties for channel {c}")
    b_ties = np.array(ties, np.float32)
    weights, ir = quantize(tmp_path / "ties", w, b_ties)
    assert (qdm_pair(ir)[0] == m).all()
    expected = [round_half_even(b_ties[c] * fb[c]) for c in range(4)]
    assert all(float(b_ties[c] * fb[c]) == int(expected[c]) + 0.5 for c in range(4))
    np.testing.assert_array_equal(weights["conv_quant_bias"], expected)
    records = weights["conv_quant_chan_param"]
    np.testing.assert_array_equal(records[:, 0:4].copy().view("<i4")[:, 0], expected)
