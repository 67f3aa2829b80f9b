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


# Not resolve(): a build tree links the sources into its package folder.
PACKAGE_DIR = Path(os.path.abspath(os.path.dirname(__file__)))


def cmake_dir() -> Path:
    """Folder of the CMake package of the custom-op SDK (find_package(tpuc CONFIG): pass it as
    -Dtpuc_DIR=...)."""
    path = PACKAGE_DIR / "lib" / "cmake" / "tpuc"
    if not (path / "tpucConfig.cmake").is_file():
        raise FileNotFoundError(f"the tpuc CMake package is not installed (looked in {path})")
    return path


def tpuc_config(argv: list[str] | None = None, prog: str = "tpuc-config") -> None:
    """Prints where things are: `tpuc-config --plugin` gives the mlir-opt plugin library,
    `--cmake-dir` the CMake package of the custom-op SDK (find_package(tpuc CONFIG))."""
    import argparse

    parser = argparse.ArgumentParser(prog=prog, description=tpuc_config.__doc__)
    parser.add_argument("--plugin", action="store_true", help="path of libTpuPlugin.so")
    parser.add_argument("--bin-dir", action="store_true", help="folder of the tpuc binaries")
    parser.add_argument(
        "--cmake-dir", action="store_true", help="folder of tpucConfig.cmake (cmake -Dtpuc_DIR=...)"
    )
    parser.add_argument(
        "--include-dir",
        action="store_true",
        help="folder of the SDK headers (cvi/CustomOp.h, tpuc/kernel/Context.h)",
    )
    parser.add_argument(
        "--sdk-lib",
        action="store_true",
        help="path of libtpuc_sdk.so (the kernel emitter plugins link)",
    )
    args = parser.parse_args(argv)
    try:
        if args.plugin:
            print(tool_path("libTpuPlugin.so"))
        elif args.bin_dir:
            print(BIN_DIR)
        elif args.cmake_dir:
            print(cmake_dir())
        elif args.include_dir:
            print(cmake_dir().parent.parent.parent / "include")
        elif args.sdk_lib:
            print(cmake_dir().parent.parent / "libtpuc_sdk.so")
        else:
            parser.print_help()
    except FileNotFoundError as error:
        sys.exit(f"error: {error}")
