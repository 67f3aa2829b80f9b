"""Kernel emitter, TIU element-wise operations (int8, int16 and bf16): random programs that load the
operands, compute and store the result, run on the vendor simulator and tpuc's engine and checked
against the arithmetic of cv183x-isa.md §5."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pytest

from .kernel_harness import LANES, NP_TYPES, SIMS, Program, Simulators, verify
from .kernel_refs import (
    bf16_to_f32,
    f32_to_bf16,
    random_bf16,
    requant,
    requant_qdm,
    sat,
    shift_half_up,
)

SEEDS = range(10)


@dataclass
class Local:
    name: str
    shape: tuple[int, int, int, int]
    dtype: str


class Case:
    """A program whose operands live in local tensors with random layouts: all operands of one
    operation are channel slices starting at the same channel of larger tensors (so they may start
    on any lane) or whole tensors, with default or random explicit strides."""

    def __init__(self, seed: int, max_c: int = 70, max_w: int = 20):
        self.rng = np.random.default_rng(seed)
        self.p = Program(self.rng)
        r = self.rng
        self.shape = (
            int(r.integers(1, 3)),
            int(r.integers(1, max_c + 1)),
            int(r.integers(1, 5)),
            int(r.integers(1, max_w + 1)),
        )
        self.extra_c = int(r.integers(0, 40)) if r.random() < 0.5 else 0
        self.expected: dict[str, np.ndarray] = {}

    def alloc(self, name: str, dtype: str) -> Local:
        n, c, h, w = self.shape
        full_c = c + self.extra_c
        es = 2 if dtype == "bf16" else 1
        if self.rng.random() < 0.5:
            self.p(f"alloc {name}_all {n} {full_c} {h} {w} {dtype}")
        else:
            hs = w * es + es * int(self.rng.integers(0, 3))
            cs = h * hs + es * int(self.rng.integers(0, 3))
            ns = cs * ((full_c + LANES - 1) // LANES) + 16 * int(self.rng.integers(0, 2))
            self.p(f"alloc {name}_all {n} {full_c} {h} {w} {dtype} strides={ns},{cs},{hs},{es}")
        self.p(f"slice {name} {name}_all {self.extra_c} {c}")
        return Local(name, self.shape, dtype)

    def input(
        self,
        name: str,
        dtype: str,
        data: np.ndarray | None = None,
        lo: int | None = None,
        hi: int | None = None,
    ) -> np.ndarray:
        if data is None:
            if dtype == "bf16":
                data = random_bf16(self.rng, self.shape, -40.0, 40.0)
            else:
                info = np.iinfo(NP_TYPES[dtype])
                data = self.rng.integers(
                    info.min if lo is None else lo, (info.max if hi is None else hi) + 1, self.shape
                )
                data = data.astype(NP_TYPES[dtype])
        self.p.gtensor(f"g_{name}", self.shape, dtype, data, region=int(self.rng.integers(0, 8)))
        self.alloc(name, dtype)
        self.p(f"load {name} g_{name}")
        return data

    def output(self, name: str, dtype: str, expected: np.ndarray) -> None:
        self.p.gtensor(f"g_{name}", self.shape, dtype, region=int(self.rng.integers(0, 8)))
        self.p(f"store g_{name} {name}")
        self.expected[f"g_{name}"] = expected

    def run(self, sims: Simulators, sim: str) -> None:
        verify(sims, sim, self.p, self.expected)


def i64(x: np.ndarray) -> np.ndarray:
    return np.asarray(x).astype(np.int64)


def const_for(rng: np.random.Generator, dtype: str) -> int:
    return int(rng.integers(-128, 128)) if dtype == "int8" else int(rng.integers(0, 256))


@pytest.mark.parametrize("sim", SIMS)
@pytest.mark.parametrize("seed", SEEDS)
def test_mul(sims: Simulators, sim: str, seed: int) -> None:
    k = Case(seed)
    r = k.rng
    ta = ["int8", "uint8"][seed % 2]
    a = k.input("a", ta)
    if r.random() < 0.3:
        bv = const_for(r, ta)
        b, bop, tb = np.int64(bv), f"#{bv}", ta
    else:
        tb = ["int8", "uint8"][(seed // 2) % 2]
        b = k.input("b", tb)
        bop = "b"
    # The result is signed exactly when an operand is.
    tr = ["int8", "int16"][seed % 2] if "int8" in (ta, tb) else "uint8"
    rshift = int(r.integers(0, 4 if tr == "int16" else 11))
    relu = int(r.integers(0, 2)) if tr == "int8" else 0  # ReLU needs a signed 8-bit result
    k.alloc("y", tr)
    k.p(f"mul y a {bop} rshift={rshift} relu={relu}")
    k.output("y", tr, requant(i64(a) * i64(b), rshift, bool(relu), tr))
    k.run(sims, sim)


@pytest.mark.parametrize("sim", SIMS)
@pytest.mark.parametrize("seed", SEEDS)
def test_mul_qm(sims: Simulators, sim: str, seed: int) -> None:
    k = Case(seed)
    r = k.rng
    ta = ["int8", "uint8"][seed % 2]
    tr = ta
    a = k.input("a", ta)
    b = k.input("b", ta)
    m = int(r.integers(1 << 30, (1 << 31) - 1))
    rshift = int(r.integers(0, 9))
    relu = int(r.integers(0, 2)) if tr == "int8" else 0
    k.alloc("y", tr)
    k.p(f"mul_qm y a b m={m} rshift={rshift} relu={relu}")
    k.output("y", tr, requant_qdm(i64(a) * i64(b), m, rshift, bool(relu), tr))
    k.run(sims, sim)


@pytest.mark.parametrize("sim", SIMS)
@pytest.mark.parametrize("seed", SEEDS)
def test_mac(sims: Simulators, sim: str, seed: int) -> None:
    """acc = sat(round(((acc << lshift) + a * b) >> rshift)), 16-bit or 8-bit result."""
    k = Case(seed)
    r = k.rng
    ta = ["int8", "uint8"][seed % 2]
    acc = k.input("acc", "int16", lo=-2000, hi=2000)
    a = k.input("a", ta)
    # The 16-bit accumulator is signed, so an operand must be signed.
    if r.random() < 0.3 and ta == "int8":
        bv = const_for(r, ta)
        b, bop = np.int64(bv), f"#{bv}"
    else:
        b = k.input("b", "int8")
        bop = "b"
    lshift, rshift = int(r.integers(0, 9)), int(r.integers(0, 11))
    int8 = int(r.integers(0, 2))
    relu = int(r.integers(0, 2)) if int8 else 0
    k.p(f"mac acc a {bop} lshift={lshift} rshift={rshift} relu={relu} int8={int8}")
    y = shift_half_up((i64(acc) << lshift) + i64(a) * i64(b), rshift)
    if relu:
        y = np.maximum(y, 0)
    if int8:
        # The 8-bit result lands in the low-byte plane: view it as an int8 tensor.
        k.p("retype acc8 acc int8")
        k.output("acc8", "int8", sat(y, "int8"))
    else:
        k.output("acc", "int16", sat(y, "int16"))
    k.run(sims, sim)


@pytest.mark.parametrize("sim", SIMS)
@pytest.mark.parametrize("seed", SEEDS)
def test_add_sub(sims: Simulators, sim: str, seed: int) -> None:
    """16-bit operands (two byte planes), 8-bit or 16-bit results, optional 16-bit constant."""
    k = Case(seed)
    r = k.rng
    a = k.input("a", "int16")
    b = k.input("b", "int16")
    t_add = ["int8", "int16"][seed % 2]
    t_sub = ["int8", "int16"][seed % 2]
    rs_add, rs_sub = int(r.integers(0, 10)), int(r.integers(0, 10))
    relu = int(r.integers(0, 2)) if t_add == "int8" else 0
    k.alloc("s", t_add)
    k.alloc("d", t_sub)
    k.p(f"add s a b rshift={rs_add} relu={relu}")
    k.p(f"sub d a b rshift={rs_sub}")
    k.output("s", t_add, requant(i64(a) + i64(b), rs_add, bool(relu), t_add))
    k.output("d", t_sub, requant(i64(a) - i64(b), rs_sub, False, t_sub))
    cv = int(r.integers(-32768, 32768))
    k.alloc("sc", "int16")
    k.p(f"add sc a #{cv} rshift=1")
    k.output("sc", "int16", requant(i64(a) + cv, 1, False, "int16"))
    k.run(sims, sim)


@pytest.mark.parametrize("sim", SIMS)
@pytest.mark.parametrize("seed", SEEDS)
def test_max_min_bitwise_copy(sims: Simulators, sim: str, seed: int) -> None:
    k = Case(seed)
    r = k.rng
    t = ["int8", "uint8"][seed % 2]
    a = k.input("a", t)
    b = k.input("b", t)
    cv = const_for(r, t)
    ops = {
        "max": np.maximum,
        "min": np.minimum,
        "and": np.bitwise_and,
        "or": np.bitwise_or,
        "xor": np.bitwise_xor,
    }
    for name, fn in ops.items():
        for kind, bop, bv in (("t", "b", b), ("c", f"#{cv}", np.array(cv))):
            out = f"{name}_{kind}"
            k.alloc(out, t)
            k.p(f"{name} {out} a {bop}")
            if name in ("and", "or", "xor"):
                ref = fn(i64(a) & 0xFF, i64(bv) & 0xFF).astype(np.uint8).view(NP_TYPES[t])
            else:
                ref = fn(i64(a), i64(bv))
            k.output(out, t, ref)
    k.alloc("cp", t)
    k.p("copy_tiu cp a")
    k.output("cp", t, a)
    a16 = k.input("a16", "int16")
    b16 = k.input("b16", "int16")
    for name in ("and", "or", "xor"):
        k.alloc(f"{name}16", "int16")
        k.p(f"{name} {name}16 a16 b16")
        k.output(f"{name}16", "int16", ops[name](a16, b16))
    k.run(sims, sim)


@pytest.mark.parametrize("sim", SIMS)
@pytest.mark.parametrize("seed", SEEDS)
def test_ge(sims: Simulators, sim: str, seed: int) -> None:
    """a >= b as 0/1 (composed of max, xor, min, xor)."""
    k = Case(seed)
    r = k.rng
    t = ["int8", "uint8"][seed % 2]
    a = k.input("a", t)
    b = k.input("b", t)
    b_eq = np.where(r.random(k.shape) < 0.3, a, b).astype(a.dtype)  # many ties
    k.input("b2", t, b_eq)
    cv = const_for(r, t)
    k.alloc("g1", t)
    k.alloc("g2", "uint8")
    k.alloc("g3", t)
    k.p("ge g1 a b")
    k.p("ge g2 a b2")
    k.p(f"ge g3 a #{cv}")
    k.output("g1", t, (i64(a) >= i64(b)).astype(np.int64))
    k.output("g2", "uint8", (i64(a) >= i64(b_eq)).astype(np.int64))
    k.output("g3", t, (i64(a) >= cv).astype(np.int64))
    k.run(sims, sim)


@pytest.mark.parametrize("sim", SIMS)
@pytest.mark.parametrize("seed", SEEDS)
def test_arith_shift(sims: Simulators, sim: str, seed: int) -> None:
    """int16 values shifted left (positive amounts, 16-bit wrap) or right (negative, floor)."""
    k = Case(seed)
    a = k.input("a", "int16")
    bits = k.input("bits", "int8", lo=-16, hi=16)
    k.alloc("y", "int16")
    k.p("shift y a bits")
    av, bv = i64(a), i64(bits)
    ref = np.where(bv >= 0, av << np.maximum(bv, 0), av >> np.maximum(-bv, 0))
    k.output("y", "int16", ref.astype(np.int16))
    k.run(sims, sim)


@pytest.mark.parametrize("sim", SIMS)
@pytest.mark.parametrize("seed", SEEDS)
def test_lookup(sims: Simulators, sim: str, seed: int) -> None:
    """8-bit lookup with a different 256-entry table on every lane."""
    rng = np.random.default_rng(seed)
    p = Program(rng)
    n, c, h, w = (
        int(rng.integers(1, 3)),
        int(rng.integers(1, 80)),
        int(rng.integers(1, 5)),
        int(rng.integers(1, 20)),
    )
    t = ["int8", "uint8"][seed % 2]
    x = rng.integers(0, 256, (n, c, h, w)).astype(np.uint8).view(NP_TYPES[t])
    tables = rng.integers(0, 256, (LANES, 256)).astype(np.uint8)
    p.gtensor("gx", (n, c, h, w), t, x)
    if seed % 3 == 0:
        # One table replicated on every lane by a load with channel stride 0.
        tables[:] = tables[0]
        d = p.gtensor("gt0", (1, 1, 16, 16), "uint8", tables[:1].reshape(1, 1, 16, 16), region=1)
        p(f"global gt {d.region} {d.offset} 1 {LANES} 16 16 uint8 strides=256,0,16")
    else:
        p.gtensor("gt", (1, LANES, 16, 16), "uint8", tables.reshape(1, LANES, 16, 16), region=1)
    p.gtensor("gy", (n, c, h, w), "uint8")
    p(f"alloc x {n} {c} {h} {w} {t}")
    p(f"alloc y {n} {c} {h} {w} uint8")
    p("lut_table tab")
    p("load x gx")
    p("load tab gt")
    p("lookup y x tab")
    p("store gy y")
    idx = x.view(np.uint8).astype(np.int64)
    lane = np.arange(c) % LANES
    ref = tables[lane[None, :, None, None], idx]
    verify(sims, sim, p, {"gy": ref})


@pytest.mark.parametrize("sim", SIMS)
@pytest.mark.parametrize("seed", SEEDS)
def test_bf16_eltwise(sims: Simulators, sim: str, seed: int) -> None:
    """bf16 mul, mac, add, sub, max, min, copy (tensor and constant operands); results are the
    fp32 results rounded to nearest even."""
    k = Case(seed, max_w=16)
    r = k.rng
    a = k.input("a", "bf16")
    b = k.input("b", "bf16")
    acc = k.input("acc", "bf16")
    fa, fb, fc = bf16_to_f32(a), bf16_to_f32(b), bf16_to_f32(acc)
    cf = float(bf16_to_f32(f32_to_bf16(np.array([r.uniform(-4, 4)], np.float32)))[0])
    cop = f"#f{cf!r}"
    cases = {
        "mul": ("mul {o} a b", fa * fb),
        "mulc": (f"mul {{o}} a {cop}", fa * cf),
        "add": ("add {o} a b", fa + fb),
        "addc": (f"add {{o}} a {cop}", fa + cf),
        "sub": ("sub {o} a b", fa - fb),
        "max": ("max {o} a b", np.maximum(fa, fb)),
        "minc": (f"min {{o}} a {cop}", np.minimum(fa, cf)),
        "relu_mul": ("mul {o} a b relu=1", np.maximum(fa * fb, 0)),
        "cp": ("copy_tiu {o} a", fa),
    }
    for name, (line, ref) in cases.items():
        k.alloc(name, "bf16")
        k.p(line.format(o=name))
        k.output(name, "bf16", f32_to_bf16(ref))
    k.p("mac acc a b")
    k.output("acc", "bf16", f32_to_bf16(fa * fb + fc))
    k.run(sims, sim)
