"""Fixtures of the custom-op plugin tests: the SDK's CMake package, the example plugin
(examples/custom_ops) built out of tree once per test session, and the tpuc tools. Helpers are in
plugin_helpers.py."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

from .plugin_helpers import EXAMPLE_DIR, Plugin, cmake_build, run, tool_fixture, tpuc_package_dir


@pytest.fixture(scope="session")
def interpreter_cli() -> Path:
    return tool_fixture("tpuc-interpreter")


@pytest.fixture(scope="session")
def opt_cli() -> Path:
    return tool_fixture("tpuc-opt")


@pytest.fixture(scope="session")
def cmake_dir() -> Path:
    """`python -m tpuc --cmake-dir` of the tpuc that this Python imports."""
    if tpuc_package_dir() is None:
        pytest.skip("tpuc is not installed")
    result = run(sys.executable, "-m", "tpuc", "--cmake-dir")
    if result.returncode != 0:
        pytest.skip(f"the tpuc CMake package is not available: {result.stderr.strip()}")
    return Path(result.stdout.strip())


@pytest.fixture(scope="session")
def plugin(cmake_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> Plugin:
    build = tmp_path_factory.mktemp("custom_ops_build")
    cmake_build(EXAMPLE_DIR, build, cmake_dir)
    built = Plugin(build)
    assert built.library.is_file() and built.runtime.is_file()
    return built
