"""Runs the lit regression suite (test/lit) as part of the pytest run."""

import subprocess
import sys
from pathlib import Path

LIT_DIR = Path(__file__).parent / "lit"


def test_lit_suite() -> None:
    result = subprocess.run(
        [sys.executable, "-c", "from lit.main import main; main()", "-sv", str(LIT_DIR)],
        capture_output=True,
        text=True,
    )
    print(result.stdout[-20000:])
    print(result.stderr[-5000:])
    assert result.returncode == 0, "lit suite failed (see output above)"
