"""Kernel emitter, bf16 convolution, depthwise convolution, pooling and matrix multiplication: the
engine must reproduce the vendor simulator byte for byte; against numpy the results are checked
within the rounding of bf16 operands and an fp32 accumulator (the vendor's accumulation order and
rounding inside the TIU are not documented)."""

from __future__ import annotations

import numpy as np
import pytest

from .kernel_harness import SIMS, Program, Simulators, verify
from .kernel_refs import bf16_to_f32, expand_input, f32_to_bf16, random_bf16
from .kernel_refs import windows as window_view
from .test_kernel_conv import Geom, rand_geom

SEEDS = range(10)


def split_fp32(bias: np.ndarray) -> np.ndarray:
    """fp32 biases as the two bf16 rows of a bias tensor: high halves, then low halves."""
    bits = bias.astype(np.float32).view(np.uint32)
    return np.stack([(bits >> 16).astype(np.uint16), (bits & 0xFFFF).astype(np.uint16)])


def assert_close(got_bits: np.ndarray, ref: np.ndarray, magnitude: np.ndarray) -> None:
    """bf16 results within one bf16 rounding of the exact value plus fp32 accumulation error
    relative to the magnitude of the summed terms."""
    got = bf16_to_f32(got_bits).astype(np.float64)
    tol = 2.0**-7 * np.abs(ref) + 2.0**-16 * magnitude + 1e-30
    bad = np.abs(got - ref) > tol
    assert not bad.any(), (
        f"{int(bad.sum())} of {bad.size} results off, e.g. got {got[bad][:4]} want {ref[bad][:4]}"
    )


def run(sims: Simulators, sim: str, p: Program, outputs: list[str]) -> dict[str, np.ndarray]:
    mem, _ = verify(sims, sim, p, {})
    return {name: p.read(mem, name) for name in outputs}


def opts(g: Geom, dilation: bool = True) -> str:
    s = g.opts()
    return s if dilation else s.replace(f" dh={g.dh} dw={g.dw}", "")


@pytest.mark.parametrize("sim", SIMS)
@pytest.mark.parametrize("seed", SEEDS)
@pytest.mark.parametrize("kind", ["conv", "depthwise"])
def test_bf16_conv(sims: Simulators, sim: str, seed: int, kind: str) -> None:
    rng = np.random.default_rng(seed * 13 + len(kind))
    p = Program(rng)
    g = rand_geom(rng, depthwise=kind == "depthwise")
    oh, ow = g.out
    x = random_bf16(rng, (g.n, g.ic, g.h, g.w), -2.0, 2.0)
    wshape = (g.oc, g.ic, g.kh, g.kw) if kind == "conv" else (g.ic, g.kh, g.kw)
    wt = random_bf16(rng, wshape, -1.0, 1.0)
    relu = int(rng.integers(0, 2))
    bias = rng.uniform(-4, 4, g.oc).astype(np.float32) if rng.random() < 0.6 else None
    p.gtensor("g_x", x.shape, "bf16", x)
    p.gtensor("g_y", (g.n, g.oc, oh, ow), "bf16")
    p(f"alloc x {g.n} {g.ic} {g.h} {g.w} bf16")
    p(f"alloc y {g.n} {g.oc} {oh} {ow} bf16")
    if kind == "conv":
        packed = wt.transpose(0, 2, 3, 1).reshape(1, g.oc, 1, -1)
        p.gtensor("g_w", packed.shape, "bf16", packed, region=1)
        p(f"conv_weight w {g.ic} {g.oc} {g.kh} {g.kw} dtype=bf16")
    else:
        p.gtensor("g_w", (1, g.ic, g.kh, g.kw), "bf16", wt.reshape(1, g.ic, g.kh, g.kw), region=1)
        p(f"dw_weight w {g.ic} {g.kh} {g.kw} dtype=bf16")
    p("load x g_x")
    p("load w g_w")
    line = f"{kind} ofmap=y ifmap=x weight=w {opts(g)} relu={relu}"
    if bias is not None:
        p.gtensor("g_b", (2, g.oc, 1, 1), "bf16", split_fp32(bias).reshape(2, g.oc, 1, 1), region=1)
        p(f"conv_bias b {g.oc} dtype=bf16")
        p("load b g_b")
        line += " bias=b"
    p(line)
    p("store g_y y")
    got = run(sims, sim, p, ["g_y"])["g_y"]
    xf = bf16_to_f32(x).astype(np.float64)
    win = window_view(
        expand_input(xf, g.pads, g.ins, 0), g.kh, g.kw, g.sh, g.sw, g.dh, g.dw, oh, ow
    )
    wf = bf16_to_f32(wt).astype(np.float64)
    eq = "nchwyx,ocyx->nohw" if kind == "conv" else "nchwyx,cyx->nchw"
    ref = np.einsum(eq, win, wf)
    mag = np.einsum(eq, np.abs(win), np.abs(wf))
    if bias is not None:
        ref = ref + bias.astype(np.float64).reshape(1, -1, 1, 1)
        mag = mag + np.abs(bias).reshape(1, -1, 1, 1)
    if relu:
        ref = np.maximum(ref, 0)
    assert_close(got, ref, mag)


@pytest.mark.parametrize("sim", SIMS)
@pytest.mark.parametrize("seed", SEEDS)
@pytest.mark.parametrize("kind", ["max", "avg", "min"])
def test_bf16_pool(sims: Simulators, sim: str, seed: int, kind: str) -> None:
    rng = np.random.default_rng(seed * 17 + len(kind))
    p = Program(rng)
    g = rand_geom(rng, depthwise=True, dilation=False, insertion=kind == "avg")
    oh, ow = g.out
    x = random_bf16(rng, (g.n, g.ic, g.h, g.w), -8.0, 8.0)
    p.gtensor("g_x", x.shape, "bf16", x)
    p.gtensor("g_y", (g.n, g.ic, oh, ow), "bf16")
    p(f"alloc x {g.n} {g.ic} {g.h} {g.w} bf16")
    p(f"alloc y {g.n} {g.ic} {oh} {ow} bf16")
    p("load x g_x")
    xf = bf16_to_f32(x).astype(np.float64)
    outputs = ["g_y"]
    if kind == "avg":
        p(f"avg_pool ofmap=y ifmap=x {opts(g, False)}")
        scale = float(bf16_to_f32(f32_to_bf16(np.array([1.0 / (g.kh * g.kw)], np.float32)))[0])
        win = window_view(expand_input(xf, g.pads, g.ins, 0), g.kh, g.kw, g.sh, g.sw, 1, 1, oh, ow)
        ref = win.sum(axis=(4, 5)) * scale
        mag = np.abs(win).sum(axis=(4, 5)) * scale
    else:
        p(f"{kind}_pool ofmap=y ifmap=x {opts(g, False)}")
        # Padding: the most negative finite bf16 (the TIU reads infinities as NaN).
        lowest = float(bf16_to_f32(np.array([0xFF7F], np.uint16))[0])
        fill = lowest if kind == "max" else -lowest
        win = window_view(expand_input(xf, g.pads, g.ins, 0), g.kh, g.kw, g.sh, g.sw, 1, 1, oh, ow)
        padded = window_view(
            expand_input(np.zeros_like(xf), g.pads, g.ins, 1), g.kh, g.kw, g.sh, g.sw, 1, 1, oh, ow
        ).astype(bool)
        win = np.where(padded, fill, win)
        ref = win.max(axis=(4, 5)) if kind == "max" else win.min(axis=(4, 5))
        mag = np.zeros_like(ref)
        if kind == "min":
            p.gtensor("g_x_after", x.shape, "bf16")
            p("store g_x_after x")
            outputs.append("g_x_after")
    p("store g_y y")
    got = run(sims, sim, p, outputs)
    if kind == "min":
        assert np.array_equal(got["g_x_after"], x)
    if kind == "avg":
        assert_close(got["g_y"], ref, mag)
    else:  # max and min select an input value: exact
        assert np.array_equal(bf16_to_f32(got["g_y"]).astype(np.float64), ref)


@pytest.mark.parametrize("sim", SIMS)
@pytest.mark.parametrize("seed", SEEDS)
def test_bf16_matmul(sims: Simulators, sim: str, seed: int) -> None:
    rng = np.random.default_rng(seed + 2000)
    p = Program(rng)
    m, k, n = int(rng.integers(1, 20)), int(rng.integers(1, 300)), int(rng.integers(1, 80))
    left = random_bf16(rng, (m, k), -2.0, 2.0)
    right = random_bf16(rng, (k, n), -1.0, 1.0)
    relu = int(rng.integers(0, 2))
    p.gmatrix("g_l", m, k, "bf16", left)
    p.gmatrix("g_r", k, n, "bf16", right, region=1)
    p.gmatrix("g_y", m, n, "bf16")
    p(f"matrix l {m} {k} bf16")
    p(f"matrix r {k} {n} bf16")
    p(f"matrix y {m} {n} bf16")
    p("load_matrix l g_l")
    p("load_matrix r g_r")
    lf, rf = bf16_to_f32(left).astype(np.float64), bf16_to_f32(right).astype(np.float64)
    ref, mag = lf @ rf, np.abs(lf) @ np.abs(rf)
    line = f"matmul res=y left=l right=r relu={relu}"
    if rng.random() < 0.6:
        bias = rng.uniform(-4, 4, n).astype(np.float32)
        p.gmatrix("g_b", 2, n, "bf16", split_fp32(bias), region=1)
        p(f"matrix b 2 {n} bf16")
        p("load_matrix b g_b")
        line += " bias=b"
        ref, mag = ref + bias, mag + np.abs(bias)
    p(line)
    p("store_matrix g_y y")
    if relu:
        ref = np.maximum(ref, 0)
    got = run(sims, sim, p, ["g_y"])["g_y"].reshape(m, n)
    assert_close(got, ref, mag)
