"""Fixtures of the kernel-emitter tests: the simulators (vendor + tpuc engine), the emitter tool."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

# vendor_sim.py (test/runtime) runs command buffers on the vendor simulator.
sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "runtime"))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from kernel_harness import Simulators, find_tool  # noqa: E402


@pytest.fixture(scope="session")
def sims() -> Iterator[Simulators]:
    if find_tool("tpuc-kernel-emit") is None:
        pytest.skip("tpuc-kernel-emit not built (set TPUC_BIN_DIR or install tpuc)")
    s = Simulators()
    yield s
    s.close()


@pytest.fixture(scope="session")
def emitter() -> Path:
    exe = find_tool("tpuc-kernel-emit")
    if exe is None:
        pytest.skip("tpuc-kernel-emit not built (set TPUC_BIN_DIR or install tpuc)")
    return exe

