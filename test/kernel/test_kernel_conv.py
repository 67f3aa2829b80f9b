"""Kernel emitter, convolution, depthwise convolution and pooling: random programs (load ifmap,
weights and quantisation parameters, compute, store) run on the vendor simulator and tpuc's engine
and checked against the arithmetic of cv183x-isa.md §5."""

from __future__ import annotations

import struct
from dataclasses import dataclass

import numpy as np
import pytest

from .kernel_harness import EU, LANES, SIMS, Program, Simulators, verify
from .kernel_refs import conv_acc, expand_input, out_extent, requant, requant_qdm, shift_half_up
from .kernel_refs import windows as window_view

SEEDS = range(12)


@dataclass
class Geom:
    n: int
    ic: int
    h: int
    w: int
    oc: int
    kh: int
    kw: int
    sh: int
    sw: int
    dh: int
    dw: int
    pads: tuple[int, int, int, int]  # top, bottom, left, right
    ins: tuple[int, int, int, int]  # ins_h, ins_w, last_h, last_w

    @property
    def out(self) -> tuple[int, int]:
        pt, pb, pl, pr = self.pads
        ih, iw, lh, lw = self.ins
        return (
            out_extent(self.h, pt, pb, ih, lh, self.kh, self.dh, self.sh),
            out_extent(self.w, pl, pr, iw, lw, self.kw, self.dw, self.sw),
        )

    def opts(self) -> str:
        pt, pb, pl, pr = self.pads
        ih, iw, lh, lw = self.ins
        return (
            f"kh={self.kh} kw={self.kw} sh={self.sh} sw={self.sw} dh={self.dh} dw={self.dw} "
            f"pt={pt} pb={pb} pl={pl} pr={pr} ih={ih} iw={iw} ilh={lh} ilw={lw}"
        )


def rand_geom(
    rng: np.random.Generator, depthwise: bool = False, dilation: bool = True, insertion: bool = True
) -> Geom:
    while True:
        ic = int(rng.integers(1, 41))
        g = Geom(
            n=int(rng.integers(1, 3)),
            ic=ic,
            h=int(rng.integers(1, 11)),
            w=int(rng.integers(1, 13)),
            oc=ic if depthwise else int(rng.integers(1, 41)),
            kh=int(rng.integers(1, 5)),
            kw=int(rng.integers(1, 5)),
            sh=int(rng.integers(1, 4)),
            sw=int(rng.integers(1, 4)),
            dh=int(rng.integers(1, 4)) if dilation else 1,
            dw=int(rng.integers(1, 4)) if dilation else 1,
            pads=tuple(int(x) for x in rng.integers(0, 4, 4)),  # type: ignore[arg-type]
            ins=(0, 0, 0, 0),
        )
        if insertion and rng.random() < 0.3:
            g.ins = tuple(int(x) for x in rng.integers(0, 3, 4))  # type: ignore[assignment]
        oh, ow = g.out
        if oh >= 1 and ow >= 1 and oh * ow <= 400:
            return g


def default_strides(shape: tuple[int, int, int, int]) -> tuple[int, int, int, int]:
    n, c, h, w = shape
    cs = (h * w + EU - 1) // EU * EU
    return cs * ((c + LANES - 1) // LANES), cs, w, 1


class Quant:
    """Random quantisation of a conv/depthwise: per tensor (rshift, optional int16 bias) or per
    channel (9-byte records with a bias, 5-byte without)."""

    def __init__(self, rng: np.random.Generator, oc: int, mode: str):
        self.mode = mode
        self.oc = oc
        self.rshift = 0
        self.bias16 = self.bias32 = self.mult = self.shift = None
        if mode == "tensor":
            self.rshift = int(rng.integers(0, 14))
            if rng.random() < 0.6:
                self.bias16 = rng.integers(-30000, 30000, oc).astype(np.int16)
        else:
            self.mult = rng.integers(1 << 30, (1 << 31) - 1, oc)
            self.shift = rng.integers(0, 12, oc)
            if mode == "channel_bias":
                self.bias32 = rng.integers(-40000, 40000, oc)

    def declare(self, p: Program) -> str:
        """Loads the parameters; returns the conv options naming them."""
        oc = self.oc
        if self.mode == "tensor":
            out = f"rshift={self.rshift}"
            if self.bias16 is not None:
                p.gtensor(
                    "g_bias", (1, oc, 1, 1), "int16", self.bias16.reshape(1, oc, 1, 1), region=1
                )
                p(f"conv_bias bias {oc}")
                p("load bias g_bias")
                out += " bias=bias"
            return out
        with_bias = self.bias32 is not None
        recs = b"".join(
            (struct.pack("<i", int(self.bias32[i])) if with_bias else b"")
            + struct.pack("<IB", int(self.mult[i]), int(self.shift[i]))
            for i in range(oc)
        )
        size = 9 if with_bias else 5
        raw = np.frombuffer(recs, np.uint8).reshape(1, oc, 1, size)
        p.gtensor("g_params", (1, oc, 1, size), "uint8", raw, region=1)
        p(f"chan_params params {oc} {int(with_bias)}")
        p("load params g_params")
        return "params=params"

    def apply(self, acc: np.ndarray, relu: bool, out: str) -> np.ndarray:
        shape = (1, self.oc, 1, 1)
        if self.mode == "tensor":
            if self.bias16 is not None:
                acc = acc + self.bias16.astype(np.int64).reshape(shape)
            return requant(acc, self.rshift, relu, out)
        if self.bias32 is not None:
            acc = acc + self.bias32.astype(np.int64).reshape(shape)
        return requant_qdm(acc, self.mult.reshape(shape), self.shift.reshape(shape), relu, out)


def conv_weights(rng: np.random.Generator, g: Geom, wtype: str) -> tuple[np.ndarray, np.ndarray]:
    lo, hi = (-128, 128) if wtype == "int8" else (0, 256)
    wt = rng.integers(lo, hi, (g.oc, g.ic, g.kh, g.kw))
    # Local layout: one output channel per lane, bytes [ky][kx][ic].
    packed = wt.transpose(0, 2, 3, 1).reshape(1, g.oc, 1, g.kh * g.kw * g.ic)
    return wt, packed


@pytest.mark.parametrize("sim", SIMS)
@pytest.mark.parametrize("seed", SEEDS)
@pytest.mark.parametrize("mode", ["tensor", "channel_bias", "channel"])
def test_conv(sims: Simulators, sim: str, seed: int, mode: str) -> None:
    rng = np.random.default_rng(seed * 7 + len(mode))
    p = Program(rng)
    g = rand_geom(rng)
    oh, ow = g.out
    xt = ["int8", "uint8"][seed % 2]
    wtype = "int8" if seed % 3 else "uint8"
    q = Quant(rng, g.oc, mode)
    # The result is signed exactly when an operand (ifmap, weight, bias) is.
    has_bias = q.bias16 is not None or q.bias32 is not None
    out = "int8" if "int8" in (xt, wtype) or has_bias else "uint8"
    relu = int(rng.integers(0, 2)) if out == "int8" else 0
    lo, hi = (-128, 128) if xt == "int8" else (0, 256)
    x = rng.integers(lo, hi, (g.n, g.ic, g.h, g.w))
    wt, packed = conv_weights(rng, g, wtype)
    pad_value = int(rng.integers(lo, hi)) if rng.random() < 0.3 else 0
    p.gtensor("g_x", (g.n, g.ic, g.h, g.w), xt, x)
    p.gtensor("g_w", packed.shape, wtype, packed, region=1)
    p.gtensor("g_y", (g.n, g.oc, oh, ow), out)
    p(f"alloc x {g.n} {g.ic} {g.h} {g.w} {xt}")
    p(f"conv_weight w {g.ic} {g.oc} {g.kh} {g.kw} dtype={wtype}")
    if rng.random() < 0.5:
        p(f"alloc y {g.n} {g.oc} {oh} {ow} {out}")
    else:  # explicit result strides (n stride a multiple of 16)
        cs = oh * ow + int(rng.integers(0, 5))
        ns = (cs * ((g.oc + LANES - 1) // LANES) + 15) // 16 * 16
        p(f"alloc y {g.n} {g.oc} {oh} {ow} {out} strides={ns},{cs},{ow},1")
    p("load x g_x")
    p("load w g_w")
    qopts = q.declare(p)
    p(f"conv ofmap=y ifmap=x weight=w {g.opts()} pad={pad_value} relu={relu} {qopts}")
    p("store g_y y")
    acc = conv_acc(x, wt, (g.sh, g.sw), (g.dh, g.dw), g.pads, g.ins, pad_value, oh, ow)
    verify(sims, sim, p, {"g_y": q.apply(acc, bool(relu), out)})


@pytest.mark.parametrize("sim", SIMS)
@pytest.mark.parametrize("seed", SEEDS)
def test_conv_partial_sums(sims: Simulators, sim: str, seed: int) -> None:
    """Input channels split in two passes: a 32-bit partial-sum write, then the final pass that
    adds it and requantises (per tensor with bias, or per channel)."""
    rng = np.random.default_rng(seed + 100)
    p = Program(rng)
    g = rand_geom(rng, dilation=False)
    g.ic = max(g.ic, 2)
    oh, ow = g.out
    x = rng.integers(-128, 128, (g.n, g.ic, g.h, g.w))
    wt, _ = conv_weights(rng, g, "int8")
    split = int(rng.integers(1, g.ic))
    mode = "tensor" if seed % 2 == 0 else "channel_bias"
    q = Quant(rng, g.oc, mode)
    relu = int(rng.integers(0, 2))
    for part, (c0, c1) in enumerate(((0, split), (split, g.ic))):
        xs = x[:, c0:c1]
        ws = wt[:, c0:c1].transpose(0, 2, 3, 1).reshape(1, g.oc, 1, -1)
        p.gtensor(f"g_x{part}", xs.shape, "int8", xs)
        p.gtensor(f"g_w{part}", ws.shape, "int8", ws, region=1)
        p(f"alloc x{part} {g.n} {c1 - c0} {g.h} {g.w} int8")
        p(f"conv_weight w{part} {c1 - c0} {g.oc} {g.kh} {g.kw}")
        p(f"load x{part} g_x{part}")
        p(f"load w{part} g_w{part}")
    qopts = q.declare(p)
    p(f"psum ps {g.n} {g.oc} {oh} {ow}")
    p(f"conv ofmap=ps ifmap=x0 weight=w0 {g.opts()} psum=write")
    p(f"conv ofmap=ps ifmap=x1 weight=w1 {g.opts()} psum=final relu={relu} {qopts}")
    ns, cs, hs, ws_ = default_strides((g.n, g.oc, oh, ow))
    p(f"view y ps {g.n} {g.oc} {oh} {ow} int8 {ns},{cs},{hs},{ws_}")
    p.gtensor("g_y", (g.n, g.oc, oh, ow), "int8")
    p("store g_y y")
    acc = conv_acc(x, wt, (g.sh, g.sw), (1, 1), g.pads, g.ins, 0, oh, ow)
    verify(sims, sim, p, {"g_y": q.apply(acc, bool(relu), "int8")})


@pytest.mark.parametrize("sim", SIMS)
@pytest.mark.parametrize("seed", SEEDS)
@pytest.mark.parametrize("mode", ["tensor", "channel_bias"])
def test_depthwise(sims: Simulators, sim: str, seed: int, mode: str) -> None:
    rng = np.random.default_rng(seed * 5 + len(mode))
    p = Program(rng)
    g = rand_geom(rng, depthwise=True)
    oh, ow = g.out
    xt = ["int8", "uint8"][seed % 2]
    lo, hi = (-128, 128) if xt == "int8" else (0, 256)
    x = rng.integers(lo, hi, (g.n, g.ic, g.h, g.w))
    wt = rng.integers(-128, 128, (g.ic, g.kh, g.kw))
    q = Quant(rng, g.ic, mode)
    relu = int(rng.integers(0, 2))
    pad_value = int(rng.integers(lo, hi)) if rng.random() < 0.3 else 0
    p.gtensor("g_x", x.shape, xt, x)
    p.gtensor("g_w", (1, g.ic, g.kh, g.kw), "int8", wt.reshape(1, g.ic, g.kh, g.kw), region=1)
    p.gtensor("g_y", (g.n, g.ic, oh, ow), "int8")
    p(f"alloc x {g.n} {g.ic} {g.h} {g.w} {xt}")
    p(f"dw_weight w {g.ic} {g.kh} {g.kw}")
    p(f"alloc y {g.n} {g.ic} {oh} {ow} int8")
    p("load x g_x")
    p("load w g_w")
    qopts = q.declare(p)
    p(f"depthwise ofmap=y ifmap=x weight=w {g.opts()} pad={pad_value} relu={relu} {qopts}")
    p("store g_y y")
    xp = expand_input(x, g.pads, g.ins, pad_value)
    win = window_view(xp, g.kh, g.kw, g.sh, g.sw, g.dh, g.dw, oh, ow)
    acc = np.einsum("nchwyx,cyx->nchw", win, wt.astype(np.int64))
    verify(sims, sim, p, {"g_y": q.apply(acc, bool(relu), "int8")})


@pytest.mark.parametrize("sim", SIMS)
@pytest.mark.parametrize("seed", SEEDS)
@pytest.mark.parametrize("kind", ["max", "avg", "min"])
def test_pool(sims: Simulators, sim: str, seed: int, kind: str) -> None:
    rng = np.random.default_rng(seed * 3 + len(kind))
    p = Program(rng)
    # Zero insertion is supported by average pooling only.
    g = rand_geom(rng, depthwise=True, dilation=False, insertion=kind == "avg")
    oh, ow = g.out
    t = ["int8", "uint8"][seed % 2]
    lo, hi = (-128, 128) if t == "int8" else (0, 256)
    x = rng.integers(lo, hi, (g.n, g.ic, g.h, g.w))
    p.gtensor("g_x", x.shape, t, x)
    p.gtensor("g_y", (g.n, g.ic, oh, ow), t)
    p(f"alloc x {g.n} {g.ic} {g.h} {g.w} {t}")
    p(f"alloc y {g.n} {g.ic} {oh} {ow} {t}")
    p("load x g_x")
    opts = g.opts().replace(f" dh={g.dh} dw={g.dw}", "")
    if kind == "avg":
        mult, rshift = int(rng.integers(0, 256)), int(rng.integers(0, 14))
        pad_value = int(rng.integers(lo, hi)) if rng.random() < 0.5 else 0
        p(f"avg_pool ofmap=y ifmap=x {opts} mult={mult} rshift={rshift} pad={pad_value}")
        win = window_view(
            expand_input(x, g.pads, g.ins, pad_value), g.kh, g.kw, g.sh, g.sw, 1, 1, oh, ow
        )
        ref = requant(win.sum(axis=(4, 5)) * mult, rshift, False, t)
    else:
        neutral = lo if kind == "max" else hi - 1
        p(f"{kind}_pool ofmap=y ifmap=x {opts}")
        win = window_view(
            expand_input(x, g.pads, g.ins, neutral), g.kh, g.kw, g.sh, g.sw, 1, 1, oh, ow
        )
        ref = win.max(axis=(4, 5)) if kind == "max" else win.min(axis=(4, 5))
    p("store g_y y")
    expected = {"g_y": ref}
    if kind == "min":  # the input is restored after the pooling
        p.gtensor("g_x_after", x.shape, t)
        p("store g_x_after x")
        expected["g_x_after"] = x
    verify(sims, sim, p, expected)


def test_shift_reference() -> None:
    assert list(shift_half_up(np.array([5, -5, 6, -6, 7]), 1)) == [3, -2, 3, -3, 4]
