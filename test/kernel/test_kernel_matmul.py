"""Kernel emitter, matrix multiplication: per-tensor (rshift, int16 bias), 32-bit multiplier
(int32 bias), 16-bit results, accumulation into the result and 32-bit partial sums; run on the
vendor simulator and tpuc's engine and checked against cv183x-isa.md §5."""

from __future__ import annotations

import numpy as np
import pytest

from .kernel_harness import SIMS, Program, Simulators, verify
from .kernel_refs import requant, requant_qdm, sat, shift_half_up

SEEDS = range(12)


def bias_planes(bias: np.ndarray, planes: int) -> np.ndarray:
    """(planes, N) uint8: byte k of every bias in row k (the local bias-matrix layout)."""
    raw = bias.astype(np.int16 if planes == 2 else np.int32).view(np.uint8)
    return raw.reshape(-1, planes).T.copy()


def setup(
    rng: np.random.Generator, p: Program, m: int, k: int, n: int, lt: str
) -> tuple[np.ndarray, np.ndarray]:
    lo, hi = (-128, 128) if lt == "int8" else (0, 256)
    left = rng.integers(lo, hi, (m, k))
    right = rng.integers(-128, 128, (k, n))
    p.gmatrix("g_l", m, k, lt, left, pad=int(rng.integers(0, 4)))
    p.gmatrix("g_r", k, n, "int8", right, region=1, pad=int(rng.integers(0, 4)))
    p(f"matrix l {m} {k} {lt}")
    p(f"matrix r {k} {n} int8")
    p("load_matrix l g_l")
    p("load_matrix r g_r")
    return left.astype(np.int64), right.astype(np.int64)


def dims(rng: np.random.Generator) -> tuple[int, int, int]:
    return int(rng.integers(1, 24)), int(rng.integers(1, 700)), int(rng.integers(1, 120))


@pytest.mark.parametrize("sim", SIMS)
@pytest.mark.parametrize("seed", SEEDS)
@pytest.mark.parametrize("mode", ["tensor", "multiplier"])
def test_matmul(sims: Simulators, sim: str, seed: int, mode: str) -> None:
    rng = np.random.default_rng(seed * 11 + len(mode))
    p = Program(rng)
    m, k, n = dims(rng)
    lt = ["int8", "uint8"][seed % 2]
    left, right = setup(rng, p, m, k, n, lt)
    acc = left @ right
    relu = int(rng.integers(0, 2))
    opts = f"relu={relu}"
    if rng.random() < 0.7:
        planes = 2 if mode == "tensor" else 4
        bias = rng.integers(-30000, 30000, n) if planes == 2 else rng.integers(-(10**6), 10**6, n)
        p.gmatrix("g_b", planes, n, "uint8", bias_planes(bias, planes), region=1)
        p(f"matrix b {planes} {n} int8")
        p("load_matrix b g_b")
        opts += " bias=b"
        acc = acc + bias
    if mode == "tensor":
        rshift = int(rng.integers(0, 14))
        opts += f" rshift={rshift}"
        ref = requant(acc, rshift, bool(relu), "int8")
    else:
        mult, rshift = int(rng.integers(1 << 30, (1 << 31) - 1)), int(rng.integers(0, 10))
        opts += f" m={mult} rshift={rshift}"
        ref = requant_qdm(acc, mult, rshift, bool(relu), "int8")
    p(f"matrix y {m} {n} int8")
    p(f"matmul res=y left=l right=r {opts}")
    p.gmatrix("g_y", m, n, "int8")
    p("store_matrix g_y y")
    verify(sims, sim, p, {"g_y": ref})


@pytest.mark.parametrize("sim", SIMS)
@pytest.mark.parametrize("seed", SEEDS)
def test_matmul_int16_accumulate(sims: Simulators, sim: str, seed: int) -> None:
    """A 16-bit result, then a second product accumulated into it: res = sat16(round(((res <<
    lshift) + left x right) >> rshift))."""
    rng = np.random.default_rng(seed + 300)
    p = Program(rng)
    m, k, n = dims(rng)
    k = min(k, 60)
    left, right = setup(rng, p, m, k, n, "int8")
    r1 = int(rng.integers(0, 4))
    p(f"matrix y {m} {n} int16")
    p(f"matmul res=y left=l right=r rshift={r1}")
    first = sat(shift_half_up(left @ right, r1), "int16")
    lshift, r2 = int(rng.integers(0, 4)), int(rng.integers(0, 6))
    p(f"matmul res=y left=l right=r add=1 lshift={lshift} rshift={r2}")
    second = sat(shift_half_up((first << lshift) + left @ right, r2), "int16")
    p("mplanes yp y")
    p.gmatrix("g_y", 2 * m, n, "uint8")
    p("store_matrix g_y yp")
    raw = second.astype(np.int16).view(np.uint8).reshape(m, n, 2)
    verify(sims, sim, p, {"g_y": np.concatenate([raw[:, :, 0], raw[:, :, 1]])})


@pytest.mark.parametrize("sim", SIMS)
@pytest.mark.parametrize("seed", SEEDS)
def test_matmul_partial_sums(sims: Simulators, sim: str, seed: int) -> None:
    """K split in passes: write the 32-bit partial sum, accumulate, then the final requantising
    pass (per tensor with an int16 bias, or with a multiplier)."""
    rng = np.random.default_rng(seed + 500)
    p = Program(rng)
    m, k, n = dims(rng)
    k = max(k, 3)
    cuts = sorted(int(x) for x in rng.choice(np.arange(1, k), 2, replace=False))
    bounds = [(0, cuts[0]), (cuts[0], cuts[1]), (cuts[1], k)]
    left = rng.integers(-128, 128, (m, k))
    right = rng.integers(-128, 128, (k, n))
    for i, (k0, k1) in enumerate(bounds):
        p.gmatrix(f"g_l{i}", m, k1 - k0, "int8", left[:, k0:k1])
        p.gmatrix(f"g_r{i}", k1 - k0, n, "int8", right[k0:k1], region=1)
        p(f"matrix l{i} {m} {k1 - k0} int8")
        p(f"matrix r{i} {k1 - k0} {n} int8")
        p(f"load_matrix l{i} g_l{i}")
        p(f"load_matrix r{i} g_r{i}")
    acc = left @ right
    multiplier = seed % 2 == 1
    planes = 4 if multiplier else 2
    bias = rng.integers(-30000, 30000, n)
    p.gmatrix("g_b", planes, n, "uint8", bias_planes(bias, planes), region=1)
    p(f"matrix b {planes} {n} int8")
    p("load_matrix b g_b")
    acc = acc + bias
    relu = int(rng.integers(0, 2))
    p(f"matrix ps {4 * m} {n} int8")
    p("matmul res=ps left=l0 right=r0 psum=write")
    p("matmul res=ps left=l1 right=r1 psum=acc")
    if multiplier:
        mult, rshift = int(rng.integers(1 << 30, (1 << 31) - 1)), int(rng.integers(0, 10))
        p(f"matmul res=ps left=l2 right=r2 bias=b psum=final m={mult} rshift={rshift} relu={relu}")
        ref = requant_qdm(acc, mult, rshift, bool(relu), "int8")
    else:
        rshift = int(rng.integers(0, 14))
        p(f"matmul res=ps left=l2 right=r2 bias=b psum=final rshift={rshift} relu={relu}")
        ref = requant(acc, rshift, bool(relu), "int8")
    p(f"rows y ps 0 {m}")
    p.gmatrix("g_y", m, n, "int8")
    p("store_matrix g_y y")
    verify(sims, sim, p, {"g_y": ref})
