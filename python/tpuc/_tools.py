"""Console entry points: run the C++ tools installed inside the package."""

from __future__ import annotations

import os
import sys
from pathlib import Path

BIN_DIR = Path(__file__).resolve().parent / "_bin"


def tool_path(name: str) -> Path:
    """Path of an installed tpuc binary or library (tpuc-opt, model_runner, libTpuPlugin.so, ...)."""
    path = BIN_DIR / name
    if not path.exists():
        raise FileNotFoundError(f"tpuc tool '{name}' is not installed (looked in {BIN_DIR})")
    return path


def _exec(name: str) -> None:
    try:
        path = tool_path(name)
    except FileNotFoundError as error:
        sys.exit(f"error: {error}")
    os.execv(path, [str(path), *sys.argv[1:]])


def tpuc_opt() -> None:
    _exec("tpuc-opt")


def tpuc_translate() -> None:
    _exec("tpuc-translate")


def model_runner() -> None:
    _exec("model_runner")


def cvimodel() -> None:
    _exec("cvimodel")


def tpuc_interpreter() -> None:
    """The fp32 interpreter of tpu IR (also installed as mlir-tpu-interpreter)."""
    _exec("tpuc-interpreter")


def tpuc_config() -> None:
    """Prints where things are: `tpuc-config --plugin` gives the mlir-opt plugin library."""
    import argparse

    parser = argparse.ArgumentParser(prog="tpuc-config", description=tpuc_config.__doc__)
    parser.add_argument("--plugin", action="store_true", help="path of libTpuPlugin.so")
    parser.add_argument("--bin-dir", action="store_true", help="folder of the tpuc binaries")
    args = parser.parse_args()
    if args.plugin:
        print(tool_path("libTpuPlugin.so"))
    elif args.bin_dir:
        print(BIN_DIR)
    else:
        parser.print_help()
