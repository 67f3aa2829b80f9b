"""The worked example of docs/kernel-api.md (LeakyRelu, runtime/kernel/examples/LeakyRelu.h) and
the API checks, both built without exceptions and RTTI (tpuc-kernel-example)."""

from __future__ import annotations

import json
import subprocess
import tempfile
from pathlib import Path

import numpy as np
import pytest

from .kernel_harness import SIMS, Program, Simulators, find_tool, verify
from .kernel_refs import requant


@pytest.fixture(scope="module")
def example() -> Path:
    exe = find_tool("tpuc-kernel-example")
    if exe is None:
        pytest.skip("tpuc-kernel-example not built (set TPUC_BIN_DIR or install tpuc)")
    return exe


def test_api_checks(example: Path) -> None:
    r = subprocess.run([str(example), "api-checks"], capture_output=True, text=True, timeout=60)
    lines = r.stdout.splitlines()
    assert r.returncode == 0, r.stdout + r.stderr
    assert len(lines) >= 12 and all(line.startswith("ok ") for line in lines), r.stdout


def leaky_relu_ref(x: np.ndarray, pm: int, pr: int, nm: int, nr: int) -> np.ndarray:
    x = x.astype(np.int64)
    return np.where(x >= 0, requant(x * pm, pr, False, "int8"), requant(x * nm, nr, False, "int8"))


@pytest.mark.parametrize("sim", SIMS)
@pytest.mark.parametrize("seed", range(6))
def test_leaky_relu(sims: Simulators, example: Path, sim: str, seed: int) -> None:
    rng = np.random.default_rng(seed)
    p = Program(rng)
    count = int(rng.choice([1, 300, 512, 513, 16384 + 77, 40000])) if seed else 70000
    pm, pr = int(rng.integers(1, 128)), int(rng.integers(0, 8))
    nm, nr = int(rng.integers(1, 128)), int(rng.integers(3, 10))
    x = rng.integers(-128, 128, count)
    src = p.gtensor("x", (1, 1, 1, count), "int8", x.reshape(1, 1, 1, count), region=3)
    dst = p.gtensor("y", (1, 1, 1, count), "int8", region=4)
    stats = {}
    for serial in (False, True):
        with tempfile.TemporaryDirectory() as d:
            out = Path(d, "leaky.cmdbuf")
            args = [
                str(example),
                "leaky-relu",
                str(count),
                str(pm),
                str(pr),
                str(nm),
                str(nr),
                str(src.region),
                str(src.offset),
                str(dst.region),
                str(dst.offset),
                "-o",
                str(out),
            ] + (["--serial"] if serial else [])
            r = subprocess.run(args, capture_output=True, text=True, timeout=60)
            assert r.returncode == 0, r.stderr
            stats[serial] = json.loads(r.stdout)
            verify(sims, sim, p, {"y": leaky_relu_ref(x, pm, pr, nm, nr)}, cmdbuf=out.read_bytes())
    tiles = stats[False]["tdma"] // 2
    assert stats[False]["tiu"] == 5 * tiles and stats[True]["tiu"] == 5 * tiles


def test_leaky_relu_overlap(sims: Simulators, example: Path) -> None:
    """The prefetching loop hides the arithmetic behind the transfers in the cycle model."""
    if not sims.has_engine():
        pytest.skip("tpuc engine not available")
    p = Program(np.random.default_rng(0))
    count = 100000
    src = p.gtensor("x", (1, 1, 1, count), "int8", region=3)
    dst = p.gtensor("y", (1, 1, 1, count), "int8", region=4)
    cycles = {}
    for serial in (False, True):
        with tempfile.TemporaryDirectory() as d:
            out = Path(d, "leaky.cmdbuf")
            args = [
                str(example),
                "leaky-relu",
                str(count),
                "5",
                "2",
                "3",
                "4",
                str(src.region),
                str(src.offset),
                str(dst.region),
                str(dst.offset),
                "-o",
                str(out),
            ]
            r = subprocess.run(
                args + (["--serial"] if serial else []), capture_output=True, text=True, timeout=60
            )
            assert r.returncode == 0, r.stderr
            try:
                _, prof = sims.run_engine(out.read_bytes(), p.mem, p.base_regs, profile=True)
            except RuntimeError as e:
                pytest.skip(f"tpuc engine: {e}")
            assert prof is not None
            cycles[serial] = prof
    auto, serial_prof = cycles[False], cycles[True]
    busy = auto["tiu_busy_cycles"] + auto["tdma_busy_cycles"]
    assert serial_prof["total_cycles"] == busy
    # At least half of the arithmetic overlaps the transfers.
    assert busy - auto["total_cycles"] >= auto["tiu_busy_cycles"] // 2
