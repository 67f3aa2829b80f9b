"""`python -m tpuc`: with a `tpuc-config` query (`--cmake-dir`, `--include-dir`, `--sdk-lib`,
`--plugin`, `--bin-dir`) prints that path, as `tpuc-config` does; otherwise it is the `tpuc`
command (compile / run / report)."""

from __future__ import annotations

import sys

CONFIG_FLAGS = ("--cmake-dir", "--include-dir", "--sdk-lib", "--plugin", "--bin-dir")

if __name__ == "__main__":
    if len(sys.argv) > 1 and sys.argv[1] in CONFIG_FLAGS:
        from ._tools import tpuc_config

        tpuc_config(prog="python -m tpuc")
    else:
        from .cli import console_main

        console_main()
