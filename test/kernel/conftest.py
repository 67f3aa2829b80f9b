"""Fixtures of the kernel-emitter tests: the simulators (vendor + tpuc engine), the emitter tool."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from .kernel_harness import Simulators, find_tool


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
