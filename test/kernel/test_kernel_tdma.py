"""Kernel emitter, TDMA operations: each case is a small program (load, move, store) with random
data run on the vendor simulator and on tpuc's engine, checked against numpy."""

from __future__ import annotations

import numpy as np
import pytest

from .kernel_harness import NP_TYPES, SIMS, Program, Simulators, verify
from .kernel_refs import bf16_to_int8, f32_to_bf16, random_bf16

SEEDS = range(8)


def rand_shape(
    rng: np.random.Generator, max_n: int = 3, max_c: int = 70, max_h: int = 6, max_w: int = 20
) -> tuple[int, int, int, int]:
    return (
        int(rng.integers(1, max_n + 1)),
        int(rng.integers(1, max_c + 1)),
        int(rng.integers(1, max_h + 1)),
        int(rng.integers(1, max_w + 1)),
    )


def rand_data(rng: np.random.Generator, shape: tuple[int, ...], dtype: str) -> np.ndarray:
    if dtype == "bf16":
        return random_bf16(rng, shape, -100.0, 100.0)
    info = np.iinfo(NP_TYPES[dtype])
    return rng.integers(info.min, info.max + 1, shape).astype(NP_TYPES[dtype])


def rand_pad(rng: np.random.Generator) -> tuple[int, int, int]:
    return tuple(int(x) for x in rng.integers(0, 4, 3))  # type: ignore[return-value]


def shape_str(s: tuple[int, ...]) -> str:
    return " ".join(str(v) for v in s)


@pytest.mark.parametrize("sim", SIMS)
@pytest.mark.parametrize("seed", SEEDS)
@pytest.mark.parametrize("dtype", ["int8", "uint8", "bf16", "int16"])
def test_tensor_copies(sims: Simulators, sim: str, seed: int, dtype: str) -> None:
    """G2L, L2L, L2G (whole tensor and a channel slice starting on another lane) and G2G."""
    rng = np.random.default_rng(seed)
    p = Program(rng)
    shape = rand_shape(rng)
    x = rand_data(rng, shape, dtype)
    p.gtensor("gin", shape, dtype, x, region=int(rng.integers(0, 8)), pad=rand_pad(rng))
    p.gtensor("gout", shape, dtype, pad=rand_pad(rng), region=int(rng.integers(0, 8)))
    p.gtensor("gcopy", shape, dtype, pad=rand_pad(rng), region=int(rng.integers(0, 8)))
    eu = int(rng.integers(0, 2))
    p(f"alloc x {shape_str(shape)} {dtype} eu={eu}")
    p(f"alloc y {shape_str(shape)} {dtype}")
    p("load x gin")
    p("copy y x")
    p("store gout y")
    p("copy gcopy gin")
    c0 = int(rng.integers(0, shape[1]))
    cnt = int(rng.integers(1, shape[1] - c0 + 1))
    sub = (shape[0], cnt, shape[2], shape[3])
    p.gtensor("gslice", sub, dtype, region=int(rng.integers(0, 8)))
    p(f"slice ys y {c0} {cnt}")
    p("store gslice ys")
    verify(sims, sim, p, {"gout": x, "gcopy": x, "gslice": x[:, c0 : c0 + cnt]})


@pytest.mark.parametrize("sim", SIMS)
@pytest.mark.parametrize("seed", SEEDS)
def test_int8_bf16_conversion(sims: Simulators, sim: str, seed: int) -> None:
    """8-bit -> bf16 on load (exact) and bf16 -> 8-bit on store and local copy (nearest even or
    toward zero, saturating)."""
    rng = np.random.default_rng(seed)
    p = Program(rng)
    shape = rand_shape(rng, max_c=40)
    t8 = "int8" if seed % 2 == 0 else "uint8"
    x8 = rand_data(rng, shape, t8)
    xb = random_bf16(rng, shape, -300.0, 300.0)
    # Exact ties and small values exercise the rounding mode.
    ties = f32_to_bf16(np.array([0.5, 1.5, 2.5, -0.5, -1.5, -2.5, 127.5, -128.5], np.float32))
    xb.reshape(-1)[: ties.size] = ties[: min(ties.size, xb.size)]
    p.gtensor("g8", shape, t8, x8)
    p.gtensor("gb", shape, "bf16", xb)
    p.gtensor("o_b", shape, "bf16")
    p.gtensor("o_even", shape, t8)
    p.gtensor("o_zero", shape, t8)
    s = shape_str(shape)
    p(f"alloc a {s} bf16")
    p(f"alloc b {s} bf16")
    p(f"alloc c {s} {t8}")
    p("load a g8")  # int8 -> bf16
    p("store o_b a")
    p("load b gb")
    p("copy c b round=even")  # bf16 -> 8-bit, local to local
    p("store o_even c")
    p("store o_zero b round=zero")  # bf16 -> 8-bit on the way out
    signed = t8 == "int8"
    verify(
        sims,
        sim,
        p,
        {
            "o_b": f32_to_bf16(x8.astype(np.float32)),
            "o_even": bf16_to_int8(xb, signed, False),
            "o_zero": bf16_to_int8(xb, signed, True),
        },
    )


@pytest.mark.parametrize("sim", SIMS)
@pytest.mark.parametrize("seed", SEEDS)
def test_matrix_transfers(sims: Simulators, sim: str, seed: int) -> None:
    """Matrix load/store and the row/column transposing load."""
    rng = np.random.default_rng(seed)
    p = Program(rng)
    dtype = ["int8", "uint8", "bf16"][seed % 3]
    rows, cols = int(rng.integers(1, 40)), int(rng.integers(1, 700 if dtype != "bf16" else 300))
    a = rand_data(rng, (rows, cols), dtype)
    p.gmatrix("ga", rows, cols, dtype, a, pad=int(rng.integers(0, 5)))
    p.gmatrix("gout", rows, cols, dtype, pad=int(rng.integers(0, 5)))
    p(f"matrix m {rows} {cols} {dtype}")
    p("load_matrix m ga")
    p("store_matrix gout m")
    expected = {"gout": a}
    if dtype != "bf16":
        p.gmatrix("gt", cols, rows, dtype)
        p(f"matrix t {cols} {rows} {dtype}")
        p("load_matrix_t t ga")
        p("store_matrix gt t")
        expected["gt"] = a.T
    verify(sims, sim, p, expected)


@pytest.mark.parametrize("sim", SIMS)
@pytest.mark.parametrize("seed", SEEDS)
def test_transposes(sims: Simulators, sim: str, seed: int) -> None:
    """N/C transposing load and store, C/W transposing store."""
    rng = np.random.default_rng(seed)
    p = Program(rng)
    dtype = ["int8", "uint8", "bf16"][seed % 3]
    n, c, h, w = rand_shape(rng, max_n=6, max_c=40, max_h=4, max_w=12)
    x = rand_data(rng, (n, c, h, w), dtype)
    p.gtensor("gx", (n, c, h, w), dtype, x, pad=rand_pad(rng))
    p.gtensor("g_nc_load", (c, n, h, w), dtype)
    p.gtensor("g_nc_store", (c, n, h, w), dtype)
    p(f"alloc t {c} {n} {h} {w} {dtype}")
    p(f"alloc x {n} {c} {h} {w} {dtype}")
    p("load_nc t gx")
    p("store g_nc_load t")
    p("load x gx")
    p("store_nc g_nc_store x")
    expected = {"g_nc_load": x.transpose(1, 0, 2, 3), "g_nc_store": x.transpose(1, 0, 2, 3)}
    if dtype != "bf16":
        p.gtensor("g_cw", (n, w, h, c), dtype)
        p("store_cw g_cw x")
        expected["g_cw"] = x.transpose(0, 3, 2, 1)
    verify(sims, sim, p, expected)


@pytest.mark.parametrize("sim", SIMS)
@pytest.mark.parametrize("seed", SEEDS)
def test_hwc_load(sims: Simulators, sim: str, seed: int) -> None:
    """HWC-packed images with 3 or 4 channels loaded as planar CHW."""
    rng = np.random.default_rng(seed)
    p = Program(rng)
    c = 3 + seed % 2
    n, h, w = int(rng.integers(1, 3)), int(rng.integers(1, 9)), int(rng.integers(1, 30))
    img = rng.integers(0, 256, (n, h, w, c)).astype(np.uint8)
    p.gtensor("gimg", (n, h, w, c), "uint8", img)
    d = p.globals["gimg"]
    p.gtensor("gout", (n, c, h, w), "uint8")
    p(f"alloc x {n} {c} {h} {w} uint8")
    p(f"load_hwc x {d.region} {d.offset} nstride={d.strides[0]}")
    p("store gout x")
    verify(sims, sim, p, {"gout": img.transpose(0, 3, 1, 2)})


@pytest.mark.parametrize("sim", SIMS)
@pytest.mark.parametrize("seed", SEEDS)
def test_fill_and_general_copy(sims: Simulators, sim: str, seed: int) -> None:
    """Constant fills of local and global tensors of every type; flat general copy."""
    rng = np.random.default_rng(seed)
    p = Program(rng)
    shape = rand_shape(rng, max_c=40)
    s = shape_str(shape)
    expected: dict[str, np.ndarray] = {}
    for dtype, value in (
        ("int8", int(rng.integers(-128, 128))),
        ("uint8", int(rng.integers(0, 256))),
        ("int16", int(rng.integers(-32768, 32768))),
    ):
        p.gtensor(f"l_{dtype}", shape, dtype, pad=rand_pad(rng))
        p.gtensor(f"g_{dtype}", shape, dtype, pad=rand_pad(rng))
        p(f"alloc t_{dtype} {s} {dtype}")
        p(f"fill t_{dtype} {value}")
        p(f"store l_{dtype} t_{dtype}")
        p(f"fill g_{dtype} {value}")
        full = np.full(shape, value, NP_TYPES[dtype])
        expected[f"l_{dtype}"] = full
        expected[f"g_{dtype}"] = full
    fv = float(rng.uniform(-50, 50))
    p.gtensor("l_bf16", shape, "bf16")
    p.gtensor("g_bf16", shape, "bf16")
    p(f"alloc t_bf16 {s} bf16")
    p(f"fill_bf16 t_bf16 {fv!r}")
    p("store l_bf16 t_bf16")
    p(f"fill_bf16 g_bf16 {fv!r}")
    bf = np.full(shape, f32_to_bf16(np.array([fv], np.float32))[0], np.uint16)
    expected["l_bf16"] = expected["g_bf16"] = bf
    nbytes = int(rng.integers(1, 5000))
    raw = rng.integers(0, 256, nbytes).astype(np.uint8)
    src = p.gtensor("raw", (1, 1, 1, nbytes), "uint8", raw, region=1)
    dst = p.gtensor("raw_copy", (1, 1, 1, nbytes), "uint8", region=5)
    p(f"copy_bytes {dst.region} {dst.offset} {src.region} {src.offset} {nbytes}")
    expected["raw_copy"] = raw.reshape(1, 1, 1, nbytes)
    verify(sims, sim, p, expected)
