"""Layer kernels: output dequantisation, eltwise add/max/min/mul, lut, leaky_relu, prelu and concat
(tpuc/kernel/Layers.h) against the docs/quantization.md formulas, on the vendor simulator and
tpuc's engine."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from .kernel_harness import SIMS, Simulators
from .kernel_refs import f32_to_bf16, requant_qdm, shift_half_up
from .layer_harness import BIG_MEM, LayerProgram, rand_i8, rescale, run

SHAPES = [
    (1, 3, 5, 7),  # odd, not a multiple of the lanes
    (2, 64, 28, 28),  # dense: reshaped over the lanes
    (1, 40, 13, 300),  # wide rows
]


def shape_id(s: tuple[int, int, int, int]) -> str:
    return "x".join(str(v) for v in s)


@pytest.mark.parametrize("sim", SIMS)
@pytest.mark.parametrize("shape", SHAPES + [(1, 512, 7, 7)], ids=shape_id)
@pytest.mark.parametrize("budget", [0, 1024])
def test_dequant(sims: Simulators, sim: str, shape: tuple[int, int, int, int], budget: int) -> None:
    rng = np.random.default_rng(sum(shape) + budget)
    p = LayerProgram(rng, mem_size=BIG_MEM)
    x = rand_i8(rng, shape)
    thr = float(rng.uniform(0.05, 40.0))
    p.gtensor("x", shape, "int8", x, pad=(0, 0, 1 if budget else 0))
    n, c, h, w = shape
    out = p.gtensor("y", (n, c, h, 2 * w), "bf16", None, region=3)
    scale = f32_to_bf16(np.float32(thr) / np.float32(127))
    prod = x.astype(np.float32) * ((scale.astype(np.uint32) << 16).view(np.float32))
    hi = f32_to_bf16(prod)
    want = np.zeros((n, c, h, 2 * w), np.uint16)
    want[..., 1::2] = hi
    p(f"layer_dequant input=x output=3:{out.offset} threshold={thr!r} budget={budget} id=3")
    run(sims, sim, p, {"y": want})


def eltwise_case(
    rng: np.random.Generator,
    kind: str,
    k: int,
    shape: tuple[int, int, int, int],
    budget: int,
    relu: bool,
    strided: bool,
) -> tuple[LayerProgram, dict]:
    p = LayerProgram(rng)
    xs = [rand_i8(rng, shape) for _ in range(k)]
    for i, x in enumerate(xs):
        p.gtensor(f"x{i}", shape, "int8", x, region=i % 3, pad=(0, 5, 2) if strided else (0, 0, 0))
    p.gtensor("y", shape, "int8", None, region=4)
    if kind == "add":
        mult = [int(v) for v in rng.integers(-127, 128, k)]
        r = int(rng.integers(0, 9))
        # mul into a 16-bit accumulator, 16-bit saturating macs, the last mac shifts the exact
        # sum (exact for two inputs, the hardware's add width).
        acc = xs[0].astype(np.int64) * mult[0]
        for x, m in zip(xs[1:-1], mult[1:-1], strict=True):
            acc = np.clip(acc + x.astype(np.int64) * m, -(2**15), 2**15 - 1)
        y = shift_half_up(acc + xs[-1].astype(np.int64) * mult[-1] if k > 1 else acc, r)
        if relu:
            y = np.maximum(y, 0)
        want = np.clip(y, -128, 127)
    else:
        mult = [int(v) for v in rng.integers(1, 128, k)]
        r = int(rng.integers(0, 8))
        parts = [rescale(x, m, r) for x, m in zip(xs, mult, strict=True)]
        want = parts[0]
        for q in parts[1:]:
            want = np.maximum(want, q) if kind == "max" else np.minimum(want, q)
        if relu:
            want = np.maximum(want, 0)
    names = ",".join(f"x{i}" for i in range(k))
    m = ",".join(str(v) for v in mult)
    p(
        f"layer_eltwise kind={kind} inputs={names} output=y m={m} rshift={r} relu={int(relu)} "
        f"budget={budget} name=e1 id=4"
    )
    return p, {"y": want}


@pytest.mark.parametrize("sim", SIMS)
@pytest.mark.parametrize("kind", ["add", "max", "min"])
@pytest.mark.parametrize("k", [1, 2, 3])
@pytest.mark.parametrize("shape", SHAPES, ids=shape_id)
def test_eltwise(
    sims: Simulators, sim: str, kind: str, k: int, shape: tuple[int, int, int, int]
) -> None:
    seed = sum(shape) * 10 + k + len(kind)
    rng = np.random.default_rng(seed)
    budget = int(rng.choice([0, 2048]))
    p, want = eltwise_case(rng, kind, k, shape, budget, bool(seed % 2), bool(seed % 3 == 0))
    run(sims, sim, p, want)


@pytest.mark.parametrize("sim", SIMS)
@pytest.mark.parametrize("shape", SHAPES, ids=shape_id)
@pytest.mark.parametrize("bcast", ["same", "nc11", "1c11"])
def test_eltwise_mul(
    sims: Simulators, sim: str, shape: tuple[int, int, int, int], bcast: str
) -> None:
    rng = np.random.default_rng(sum(shape) + 77 + len(bcast))
    p = LayerProgram(rng)
    n, c = shape[:2]
    bshape = shape if bcast == "same" else (n if bcast == "nc11" else 1, c, 1, 1)
    a, b = rand_i8(rng, shape), rand_i8(rng, bshape)
    p.gtensor("a", shape, "int8", a)
    p.gtensor("b", bshape, "int8", b, region=1)
    p.gtensor("y", shape, "int8", None, region=2)
    m, r = int(rng.integers(1 << 30, 1 << 31)), int(rng.integers(4, 9))
    relu = bool(rng.random() < 0.5)
    want = requant_qdm(a.astype(np.int64) * b, m, r, relu, "int8")
    p(f"layer_eltwise_mul a=a b=b output=y m={m} rshift={r} relu={int(relu)} budget=1024")
    run(sims, sim, p, {"y": want})


@pytest.mark.parametrize("sim", SIMS)
@pytest.mark.parametrize("shape", SHAPES, ids=shape_id)
def test_lut(sims: Simulators, sim: str, shape: tuple[int, int, int, int]) -> None:
    rng = np.random.default_rng(sum(shape) + 5)
    p = LayerProgram(rng)
    x = rand_i8(rng, shape)
    table = rand_i8(rng, (256,))
    p.gtensor("x", shape, "int8", x, pad=(0, 16, 0))
    p.gtensor("y", shape, "int8", None, region=2)
    t = p.blob(table, region=1)
    p(f"layer_lut input=x output=y table={t} budget=2048")
    run(sims, sim, p, {"y": table[x.astype(np.uint8)]})


@pytest.mark.parametrize("sim", SIMS)
@pytest.mark.parametrize("shape", SHAPES, ids=shape_id)
def test_leaky_relu(sims: Simulators, sim: str, shape: tuple[int, int, int, int]) -> None:
    rng = np.random.default_rng(sum(shape) + 9)
    p = LayerProgram(rng)
    x = rand_i8(rng, shape)
    mp, rp = (1, 0) if shape[1] == 3 else (int(rng.integers(64, 128)), int(rng.integers(5, 8)))
    mn, rn = int(rng.integers(1, 128)), int(rng.integers(6, 10))
    p.gtensor("x", shape, "int8", x)
    p.gtensor("y", shape, "int8", None, region=2)
    want = np.where(x >= 0, rescale(x, mp, rp), rescale(x, mn, rn))
    p(f"layer_leaky_relu input=x output=y mpos={mp} rpos={rp} mneg={mn} rneg={rn} budget=1536")
    run(sims, sim, p, {"y": want})


@pytest.mark.parametrize("sim", SIMS)
@pytest.mark.parametrize("shape", SHAPES + [(2, 100, 9, 9)], ids=shape_id)
def test_prelu(sims: Simulators, sim: str, shape: tuple[int, int, int, int]) -> None:
    rng = np.random.default_rng(sum(shape) + 11)
    p = LayerProgram(rng)
    x = rand_i8(rng, shape)
    slope = rng.integers(-128, 128, shape[1]).astype(np.int8)
    mp, rp, rn = int(rng.integers(64, 128)), int(rng.integers(5, 8)), int(rng.integers(6, 10))
    p.gtensor("x", shape, "int8", x)
    p.gtensor("y", shape, "int8", None, region=2)
    s = p.blob(slope, region=1)
    neg = rescale(x.astype(np.int64) * slope.reshape(1, -1, 1, 1), 1, rn)
    want = np.where(x >= 0, rescale(x, mp, rp), neg)
    p(f"layer_prelu input=x output=y slope={s} mpos={mp} rpos={rp} rneg={rn} budget=2048")
    run(sims, sim, p, {"y": want})


@pytest.mark.parametrize("sim", SIMS)
@pytest.mark.parametrize("axis", [0, 1, 2, 3])
def test_concat(sims: Simulators, sim: str, axis: int) -> None:
    rng = np.random.default_rng(axis + 21)
    p = LayerProgram(rng)
    base = [2, 24, 10, 12]
    parts, ms, rs = [], [], []
    for i in range(3):
        s = list(base)
        s[axis] = int(rng.integers(1, 6)) * (1 if axis != 1 else 8)
        x = rand_i8(rng, tuple(s))
        parts.append(x)
        p.gtensor(f"x{i}", tuple(s), "int8", x, region=i)
        m, r = (1, 0) if i == 0 else (int(rng.integers(64, 128)), int(rng.integers(6, 8)))
        ms.append(m)
        rs.append(r)
    out_shape = list(base)
    out_shape[axis] = sum(x.shape[axis] for x in parts)
    p.gtensor("y", tuple(out_shape), "int8", None, region=4)
    relu = axis == 2
    scaled = [rescale(x, m, r) for x, m, r in zip(parts, ms, rs, strict=True)]
    want = np.concatenate(scaled, axis=axis)
    if relu:
        want = np.maximum(want, 0)
    p(
        f"layer_concat inputs=x0,x1,x2 output=y axis={axis} m={','.join(map(str, ms))} "
        f"rshifts={','.join(map(str, rs))} relu={int(relu)} budget=1024"
    )
    run(sims, sim, p, {"y": want})


CONFORMANCE = Path("/work/shared/conformance")


@pytest.mark.parametrize("sim", SIMS)
@pytest.mark.parametrize(
    "model,tensor", [("m01_conv_relu", "output_Relu"), ("r18_half_112", "output_Gemm")]
)
def test_dequant_vendor_outputs(sims: Simulators, sim: str, model: str, tensor: str) -> None:
    """The dequant layer reproduces the fp32 outputs of vendor models from their int8 results
    (vendor runner outputs of the conformance vectors)."""
    d = CONFORMANCE / model
    if not d.is_dir():
        pytest.skip(f"vendor conformance vectors not found at {d}")
    thr = None
    for line in (d / f"{model}_cali_table").read_text().splitlines():
        parts = line.split()
        if parts and parts[0] == tensor:
            thr = float(parts[1])
    assert thr is not None
    out = np.load(d / f"{model}_cv183x_int8_runner_out.npz")
    deq = out[tensor] / (np.float32(thr) / np.float32(127))
    q = np.round(deq).astype(np.int8)
    assert np.abs(deq - q).max() < 1e-3
    want = out[f"{tensor}_f32"].astype(np.float32)
    shape = tuple(q.shape) + (1,) * (4 - q.ndim)
    rng = np.random.default_rng(0)
    p = LayerProgram(rng)
    p.gtensor("x", shape, "int8", q.reshape(shape))
    n, c, h, w = shape
    y = p.gtensor("y", (n, c, h, 2 * w), "bf16", None, region=3)
    p(f"layer_dequant input=x output=3:{y.offset} threshold={thr!r}")
    bits = want.reshape(shape).view(np.uint32)
    pairs = np.stack([bits & 0xFFFF, bits >> 16], axis=-1).astype(np.uint16)
    run(sims, sim, p, {"y": pairs.reshape(n, c, h, 2 * w)})
