"""Kernel emitter, command ids and wait ids (cv183x-isa.md §4): dependency-driven waits let loads,
computes and stores of independent tiles overlap; they must compute the same bytes as the serial
scheme, on the vendor simulator (which runs the two engines concurrently and honours the ids) and
on tpuc's engine (whose cycle model measures the overlap)."""

from __future__ import annotations

import numpy as np
import pytest

from .kernel_harness import (
    SIMS,
    TDMA_FIELDS,
    TIU_FIELDS,
    Program,
    Simulators,
    emit,
    unpack,
    verify,
    walk_cmdbuf,
)
from .kernel_refs import requant


def waits(cmdbuf: bytes) -> list[tuple[str, int, int]]:
    """(engine, own id, waited id) per command in stream order."""
    out = []
    for _off, eng, words in walk_cmdbuf(cmdbuf):
        if eng == 0:
            f = unpack(TIU_FIELDS, words)
            out.append(("tiu", f["cmd_id_tpu"], f["cmd_id_gdma"]))
        else:
            f = unpack(TDMA_FIELDS, words)
            out.append(("tdma", f["cmd_id"], f["wait_id_tpu"]))
    return out


def tiled_program(seed: int, tiles: int) -> tuple[Program, dict[str, np.ndarray]]:
    """Double-buffered element-wise multiply: the loads of tile i + 1 are issued before the
    multiply and store of tile i."""
    rng = np.random.default_rng(seed)
    p = Program(rng)
    shape = (4, 32, 1, 16)
    expected = {}
    for i in range(tiles):
        a = rng.integers(-128, 128, shape)
        b = rng.integers(-128, 128, shape)
        p.gtensor(f"ga{i}", shape, "int8", a)
        p.gtensor(f"gb{i}", shape, "int8", b, region=1)
        p.gtensor(f"gy{i}", shape, "int8", region=3)
        expected[f"gy{i}"] = requant(a * b, 5, False, "int8")
    for j in range(2):
        for t in "aby":
            p(f"alloc {t}{j} 4 32 1 16 int8")
    p("load a0 ga0")
    p("load b0 gb0")
    for i in range(tiles):
        j = i % 2
        if i + 1 < tiles:
            p(f"load a{1 - j} ga{i + 1}")
            p(f"load b{1 - j} gb{i + 1}")
        p(f"mul y{j} a{j} b{j} rshift=5")
        p(f"store gy{i} y{j}")
    return p, expected


@pytest.mark.parametrize("sim", SIMS)
@pytest.mark.parametrize("seed", range(4))
def test_overlap_same_bytes_as_serial(sims: Simulators, sim: str, seed: int) -> None:
    p, expected = tiled_program(seed, tiles=6)
    out_auto, _ = verify(sims, sim, p, expected)
    out_serial, _ = verify(sims, sim, p, expected, serial=True)
    assert np.array_equal(out_auto, out_serial)
    auto, serial = waits(p.emit()[0]), waits(p.emit(serial=True)[0])
    assert [c[:2] for c in auto] == [c[:2] for c in serial]
    # Every command waits for no later a command than in serial mode, most for earlier ones.
    assert all(a[2] <= s[2] for a, s in zip(auto, serial, strict=True))
    relaxed = sum(a[2] < s[2] for a, s in zip(auto, serial, strict=True))
    assert relaxed >= 6, f"only {relaxed} commands wait less than in serial mode"


def test_overlap_cycles(sims: Simulators) -> None:
    """The engine's cycle model: with dependency waits the multiplies hide behind the transfers."""
    if not sims.has_engine():
        pytest.skip("tpuc engine not available")
    p, _ = tiled_program(0, tiles=8)
    cycles = {}
    for mode, serial in (("auto", False), ("serial", True)):
        cmdbuf, _ = p.emit(serial)
        try:
            _, prof = sims.run_engine(cmdbuf, p.mem, p.base_regs, profile=True)
        except RuntimeError as e:
            pytest.skip(f"tpuc engine: {e}")
        assert prof is not None
        cycles[mode] = prof
    auto, serial = cycles["auto"], cycles["serial"]
    assert auto["tiu_busy_cycles"] == serial["tiu_busy_cycles"]
    assert auto["total_cycles"] < serial["total_cycles"]
    # Serial mode never overlaps the engines; here the TDMA stream is the critical path.
    assert serial["total_cycles"] == serial["tiu_busy_cycles"] + serial["tdma_busy_cycles"]
    assert auto["total_cycles"] < auto["tiu_busy_cycles"] + auto["tdma_busy_cycles"]


def test_dependency_waits_exact() -> None:
    """Each command waits for the last command of the other engine it conflicts with."""
    script = """
global ga 0 0 1 32 1 16 int8
global gb 0 1024 1 32 1 16 int8
global gc 0 2048 1 32 1 16 int8
global gy 0 4096 1 32 1 16 int8
alloc a 1 32 1 16 int8
alloc b 1 32 1 16 int8
alloc c 1 32 1 16 int8
alloc y 1 32 1 16 int8
alloc z 1 32 1 16 int8
load a ga
load b gb
load c gc
mul y a a
mul z b b
store gy y
load a gc
max y c c
store gy z
"""
    cmdbuf, stats = emit(script)
    assert waits(cmdbuf) == [
        ("tdma", 1, 0),  # load a
        ("tdma", 2, 0),  # load b
        ("tdma", 3, 0),  # load c
        ("tiu", 1, 1),  # mul y a a: needs load a only
        ("tiu", 2, 2),  # mul z b b: needs load b
        ("tdma", 4, 1),  # store y: written by TIU 1
        ("tdma", 5, 1),  # load a again: TIU 1 must have read a (already implied)
        ("tiu", 3, 4),  # max y c c: store 4 must have read y (c was loaded by 3 < 4)
        ("tdma", 6, 2),  # store z: written by TIU 2
    ]
    assert stats["sync_points"] == 5  # TIU 1, 2, 3 and TDMA 4, 6 wait for something new
    serial, _ = emit(script, serial=True)
    assert [w[2] for w in waits(serial)] == [0, 0, 0, 3, 3, 2, 2, 5, 3]


def test_fence() -> None:
    script = """
global ga 0 0 1 32 1 16 int8
alloc a 1 32 1 16 int8
alloc b 1 32 1 16 int8
alloc y 1 32 1 16 int8
load a ga
fence
mul y b b
load b ga
"""
    cmdbuf, _ = emit(script)
    assert waits(cmdbuf) == [("tdma", 1, 0), ("tiu", 1, 1), ("tdma", 2, 1)]
