"""Layer kernels: max/average/global-average pooling, fully_connected and matmul
(tpuc/kernel/Layers.h) against the docs/quantization.md formulas, on the vendor simulator and
tpuc's engine."""

from __future__ import annotations

import numpy as np
import pytest

from .kernel_harness import SIMS, Simulators
from .kernel_refs import (
    bf16_to_f32,
    conv_acc,
    expand_input,
    f32_to_bf16,
    requant_qdm,
    shift_half_up,
    windows,
)
from .layer_harness import (
    BIG_MEM,
    LAYER_MEM,
    LayerProgram,
    chan_param_records,
    pack_conv_filter,
    rand_i8,
    rshift_out,
    run,
)

POOLS = {
    "max_3x3_s2": ((1, 64, 56, 56), "max", (3, 3), (2, 2), (1, 1, 1, 1), 0),
    "max_2x2_tiled": ((2, 70, 30, 31), "max", (2, 2), (2, 2), (0, 0, 0, 1), 2048),
    "avg_3x3_pad": ((1, 40, 17, 19), "avg", (3, 3), (1, 1), (1, 1, 1, 1), 1024),
    "avg_2x2": ((2, 33, 8, 8), "avg", (2, 2), (2, 2), (0, 0, 0, 0), 0),
    "global_avg_7": ((2, 512, 7, 7), "avg", (7, 7), (1, 1), (0, 0, 0, 0), 0),
    "global_avg_56": ((1, 64, 56, 56), "avg", (56, 56), (1, 1), (0, 0, 0, 0), 0),
    "global_avg_tiled": ((3, 200, 9, 9), "avg", (9, 9), (1, 1), (0, 0, 0, 0), 512),
}


@pytest.mark.parametrize("sim", SIMS)
@pytest.mark.parametrize("name", list(POOLS))
def test_pool(sims: Simulators, sim: str, name: str) -> None:
    shape, kind, (kh, kw), (sh, sw), pads, budget = POOLS[name]
    rng = np.random.default_rng(len(name))
    p = LayerProgram(rng)
    x = rand_i8(rng, shape)
    n, c, h, w = shape
    pt, pb, pl, pr = pads
    oh = (h + pt + pb - kh) // sh + 1
    ow = (w + pl + pr - kw) // sw + 1
    relu = "tiled" in name
    p.gtensor("x", shape, "int8", x, pad=(0, 0, 1))
    p.gtensor("y", (n, c, oh, ow), "int8", None, region=2)
    fill = -128 if kind == "max" else 0
    win = windows(expand_input(x, pads, (0, 0, 0, 0), fill), kh, kw, sh, sw, 1, 1, oh, ow)
    if kind == "max":
        want = win.max(axis=(4, 5))
        if relu:
            want = np.maximum(want, 0)
        extra = ""
    else:
        # (m, r) of f = 1 / (kh * kw) with the docs/quantization.md int8 pair rule.
        f = 1.0 / (kh * kw)
        r = max(rr for rr in range(32) if f * 2**rr <= 127)
        m = int(f * 2**r)
        y = shift_half_up(win.astype(np.int64).sum(axis=(4, 5)) * m, r)
        if relu:
            y = np.maximum(y, 0)
        want = np.clip(y, -128, 127)
        extra = f"m={m} rshift={r}"
    p(f"layer_pool kind={kind} input=x output=y kh={kh} kw={kw} sh={sh} sw={sw} "
      f"pt={pt} pb={pb} pl={pl} pr={pr} relu={int(relu)} budget={budget} {extra} name={name}")
    run(sims, sim, p, {"y": want})


FCS = {
    # M, K, N, qdm, bias, transposed filter, budget
    "fc_1x512x1000": (1, 512, 1000, True, True, False, 0),
    "fc_4x2048x100": (4, 2048, 100, True, True, False, 0),
    "fc_k_split": (3, 1500, 70, True, True, False, 2048),
    "fc_n_tiled": (2, 256, 700, True, False, True, 1024),
    "fc_rshift": (5, 300, 40, False, True, False, 0),
    "fc_rshift_k_split": (2, 900, 50, False, True, True, 1024),
}


@pytest.mark.parametrize("sim", SIMS)
@pytest.mark.parametrize("name", list(FCS))
def test_fully_connected(sims: Simulators, sim: str, name: str) -> None:
    m_, k_, n_, qdm, has_bias, transposed, budget = FCS[name]
    rng = np.random.default_rng(len(name) + 100)
    p = LayerProgram(rng, mem_size=BIG_MEM if n_ * k_ > 400_000 else LAYER_MEM)
    x = rand_i8(rng, (m_, k_))
    w = rand_i8(rng, (n_, k_))
    acc = x.astype(np.int64) @ w.astype(np.int64).T
    spread = max(1.0, float(np.std(acc)))
    p.gmatrix("x", m_, k_, "int8", x, pad=3)
    p.gmatrix("y", m_, n_, "int8", None, region=2)
    fil = p.blob(np.ascontiguousarray(w.T) if transposed else w, region=1)
    relu = bool(rng.random() < 0.5)
    opts = f"input=x output=y filter={fil} transposed={int(transposed)} relu={int(relu)}"
    if qdm:
        bias = rng.integers(-4 * int(spread), 4 * int(spread) + 1, n_).astype(np.int32)
        mult = int(rng.integers(1 << 30, 1 << 31))
        r = max(0, int(np.round(np.log2(spread / 48))))
        total = acc + (bias if has_bias else 0)
        want = requant_qdm(total, mult, r, relu, "int8")
        opts += f" qdm=1 m={mult} rshift={r}"
        planes = bias.astype("<i4").view(np.uint8).reshape(n_, 4).T.copy()
    else:
        bias = rng.integers(-3000, 3001, n_).astype(np.int16)
        r = max(0, int(np.round(np.log2(spread / 64))))
        want = rshift_out(acc + (bias.astype(np.int64) if has_bias else 0), r, relu)
        opts += f" qdm=0 rshift={r}"
        planes = bias.astype("<i2").view(np.uint8).reshape(n_, 2).T.copy()
    if has_bias:
        opts += f" bias={p.blob(planes, region=1)}"
    p(f"layer_fc {opts} budget={budget} name={name}")
    run(sims, sim, p, {"y": want})


@pytest.mark.parametrize("sim", SIMS)
def test_matmul_batched(sims: Simulators, sim: str) -> None:
    rng = np.random.default_rng(5)
    p = LayerProgram(rng)
    b, m_, k_, n_ = 3, 20, 64, 48
    a = rand_i8(rng, (b, m_, k_))
    c = rand_i8(rng, (b, k_, n_))
    p.gtensor("a", (1, b * m_, 1, k_), "int8", a.reshape(1, b * m_, 1, k_))
    p.gtensor("c", (1, b * k_, 1, n_), "int8", c.reshape(1, b * k_, 1, n_), region=1)
    p.gtensor("y", (1, b * m_, 1, n_), "int8", None, region=2)
    ga, gc, gy = p.globals["a"], p.globals["c"], p.globals["y"]
    p(f"gmatrix am 0 {ga.offset} {m_} {k_} int8")
    p(f"gmatrix cm 1 {gc.offset} {k_} {n_} int8")
    p(f"gmatrix ym 2 {gy.offset} {m_} {n_} int8")
    mult, r = int(rng.integers(1 << 30, 1 << 31)), 8
    acc = np.einsum("bmk,bkn->bmn", a.astype(np.int64), c.astype(np.int64))
    want = requant_qdm(acc, mult, r, True, "int8")
    p(f"layer_matmul left=am right=cm output=ym batch={b} lbs={m_ * k_} rbs={k_ * n_} "
      f"obs={m_ * n_} m={mult} rshift={r} relu=1 budget=1024")
    run(sims, sim, p, {"y": want.reshape(1, b * m_, 1, n_)})


@pytest.mark.parametrize("sim", SIMS)
def test_layer_chain(sims: Simulators, sim: str) -> None:
    """Several layers emitted back to back into one command buffer (each frees its local memory;
    the next layer reads what the previous one stored): conv -> max pool -> global average pool
    -> fully_connected -> dequant."""
    rng = np.random.default_rng(42)
    p = LayerProgram(rng)
    x = rand_i8(rng, (1, 8, 12, 12))
    w = rand_i8(rng, (24, 8, 3, 3))
    p.gtensor("x", x.shape, "int8", x)
    p.gtensor("c", (1, 24, 12, 12), "int8", None, region=2)
    p.gtensor("m", (1, 24, 6, 6), "int8", None, region=2)
    p.gtensor("g", (1, 24, 1, 1), "int8", None, region=2)
    fil = p.blob(pack_conv_filter(w), region=1)
    acc = conv_acc(x, w, (1, 1), (1, 1), (1, 1, 1, 1), (0, 0, 0, 0), 0, 12, 12)
    mult = rng.integers(1 << 30, 1 << 31, 24)
    rsh = np.full(24, 9)
    rec = p.blob(chan_param_records(None, mult, rsh), region=1)
    c = requant_qdm(acc, mult.reshape(1, -1, 1, 1), rsh.reshape(1, -1, 1, 1), True, "int8")
    p(f"layer_conv2d input=x output=c filter={fil} kh=3 kw=3 pt=1 pb=1 pl=1 pr=1 "
      f"chan_param={rec} chan_bias=0 relu=1 id=1 budget=2048")
    m = c.reshape(1, 24, 6, 2, 6, 2).max(axis=(3, 5))
    p("layer_pool kind=max input=c output=m kh=2 kw=2 sh=2 sw=2 id=2")
    gm, gr = 113, 12  # the int8 pair of 1 / 36
    g = np.clip(shift_half_up(m.astype(np.int64).sum(axis=(2, 3)) * gm, gr), -128, 127)
    p(f"layer_pool kind=avg input=m output=g kh=6 kw=6 m={gm} rshift={gr} id=3")
    p(f"gmatrix gv 2 {p.globals['g'].offset} 1 24 int8")
    p.gmatrix("f", 1, 10, "int8", None, region=3)
    fw = rand_i8(rng, (10, 24))
    fm, fr = 1 << 30, 6
    f = requant_qdm(g.reshape(1, 24) @ fw.T.astype(np.int64), fm, fr, False, "int8")
    p(f"layer_fc input=gv output=f filter={p.blob(fw, region=1)} m={fm} rshift={fr} id=4")
    p(f"global fv 3 {p.globals['f'].offset} 1 10 1 1 int8")  # f seen as a tensor
    y = p.gtensor("y", (1, 10, 1, 2), "bf16", None, region=5)
    p(f"layer_dequant input=fv output=5:{y.offset} threshold=4.0 id=5")
    scale = f32_to_bf16(np.float32(4.0) / np.float32(127))
    hi = f32_to_bf16(f.astype(np.float32).reshape(-1) * bf16_to_f32(scale))
    want_y = np.zeros((1, 10, 1, 2), np.uint16)
    want_y[0, :, 0, 1] = hi
    run(sims, sim, p, {"c": c, "m": m, "g": g.reshape(1, 24, 1, 1), "f": f, "y": want_y})
