"""Fixtures of the frontend tests."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest


@pytest.fixture
def convert(tmp_path: Path) -> Any:
    """convert(model, **kwargs) -> OnnxConverter after run(), files in tmp_path."""
    from tpuc.frontend import OnnxConverter

    def run(model: Any, name: str = "case", **kwargs: Any) -> Any:
        converter = OnnxConverter(name, model, tmp_path / f"{name}.mlir", **kwargs)
        converter.run()
        return converter

    return run
