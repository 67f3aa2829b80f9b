"""Fixtures of the calibration tests."""

from __future__ import annotations

from typing import Any

import pytest


@pytest.fixture(scope="session")
def ir() -> Any:
    """The MLIR bindings (tpuc.ir); tests that parse modules skip without a built package."""
    return pytest.importorskip(
        "tpuc.ir", reason="tpuc's MLIR bindings are not built (put python_packages on PYTHONPATH)"
    )
