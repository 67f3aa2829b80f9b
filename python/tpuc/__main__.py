"""`python -m tpuc --cmake-dir` (and the other `tpuc-config` queries) without the console script."""

from __future__ import annotations

from ._tools import tpuc_config

if __name__ == "__main__":
    tpuc_config(prog="python -m tpuc")
