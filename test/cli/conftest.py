"""Fixtures of the `tpuc` command tests: the tiny model, its calibration inputs, one small
compilation shared by the tests, the vendor cvimodel of the conformance vectors."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from cli_helpers import R18, calibration_folder, tiny_onnx

pytest.importorskip("onnx")
pytest.importorskip("onnxruntime")
cli = pytest.importorskip("tpuc.cli", reason="tpuc is not installed")


@pytest.fixture(scope="session")
def tiny_model(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tiny_onnx(tmp_path_factory.mktemp("model") / "tiny.onnx")


@pytest.fixture(scope="session")
def tiny_calibration(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return calibration_folder(tmp_path_factory.mktemp("cali"))


@pytest.fixture(scope="session")
def tiny_compile(
    tmp_path_factory: pytest.TempPathFactory, tiny_model: Path, tiny_calibration: Path
) -> tuple[Any, Any]:
    """(CompileResult, the StageUnavailable that stopped it or None) of the tiny model."""
    workdir = tmp_path_factory.mktemp("work") / "tiny_work"
    try:
        return cli.compile(tiny_model, tiny_calibration, workdir=workdir), None
    except cli.StageUnavailable as stop:
        return stop.result, stop


@pytest.fixture
def r18() -> Path:
    if not R18.is_dir():
        pytest.skip(f"vendor conformance vectors not found at {R18}")
    return R18
