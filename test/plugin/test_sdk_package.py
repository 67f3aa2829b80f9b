"""The SDK's CMake package: found through tpuc-config / python -m tpuc, used out of tree by the
example plugin's CMakeLists.txt; what the built libraries export; the aarch64 toolchain file."""

from __future__ import annotations

import ctypes
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from .plugin_helpers import EXAMPLE_DIR, Plugin, cmake_build, run


def test_python_m_tpuc_prints_the_cmake_dir(cmake_dir: Path) -> None:
    assert (cmake_dir / "tpucConfig.cmake").is_file()
    assert (cmake_dir / "tpucConfigVersion.cmake").is_file()
    assert (cmake_dir / "aarch64-linux-gnu.cmake").is_file()
    include = cmake_dir.parent.parent.parent / "include"
    for header in (
        "cvi/CustomOp.h",
        "cvi/OpParam.h",
        "cvi/runtime/CpuFunction.h",
        "tpuc/kernel/Context.h",
        "tpuc/Arith.h",
    ):
        assert (include / header).is_file(), header
    result = run(sys.executable, "-m", "tpuc", "--include-dir", check=True)
    assert Path(result.stdout.strip()) == include


def test_tpuc_config_agrees(cmake_dir: Path, capsys: pytest.CaptureFixture[str]) -> None:
    from tpuc._tools import tpuc_config

    tpuc_config(["--cmake-dir"])
    assert Path(capsys.readouterr().out.strip()) == cmake_dir
    tpuc_config(["--sdk-lib"])
    assert Path(capsys.readouterr().out.strip()) == cmake_dir.parent.parent / "libtpuc_sdk.so"
    # The console script, when it belongs to the tpuc imported here (an installed one).
    import tpuc

    script = Path(sys.executable).parent / "tpuc-config"
    if not script.is_file() or not Path(tpuc.__file__).is_relative_to(sys.prefix):
        return
    result = run(script, "--cmake-dir", check=True)
    assert Path(result.stdout.strip()) == cmake_dir


def test_example_cmakelists_is_short() -> None:
    lines = [
        line
        for line in (EXAMPLE_DIR / "CMakeLists.txt").read_text().splitlines()
        if line.strip() and not line.lstrip().startswith("#")
    ]
    assert len(lines) <= 12
    assert any("find_package(tpuc CONFIG" in line for line in lines)


def test_plugin_exports_the_factories(plugin: Plugin) -> None:
    library = ctypes.CDLL(str(plugin.library))
    for op in ("leaky_relu", "mysoftmax"):
        assert hasattr(library, f"CustomOp{op}Create")
        version = getattr(library, f"CustomOp{op}AbiVersion")
        version.restype = ctypes.c_int
        assert version() == 2  # CVI_CUSTOM_OP_ABI_VERSION
    assert not hasattr(library, "CustomOproi_alignCreate")


def test_plugin_links_the_sdk_library(plugin: Plugin) -> None:
    if shutil.which("readelf") is None:
        pytest.skip("readelf is not installed")
    dynamic = run("readelf", "-d", plugin.library, check=True).stdout
    assert "libtpuc_sdk.so" in dynamic
    # The Context methods codeGenInt8 calls come from libtpuc_sdk.so.
    symbols = run("readelf", "--dyn-syms", "-W", plugin.library, check=True).stdout
    assert "_ZN4tpuc6kernel7Context" in symbols


def test_runtime_library_exports_the_cpu_functions(plugin: Plugin) -> None:
    library = ctypes.CDLL(str(plugin.runtime))
    count = ctypes.c_int.in_dll(library, "customOpRuntimeFuncsNum")
    assert count.value == 1
    assert hasattr(library, "customOpRuntimeFuncs")


def elf_machine(path: Path) -> int:
    header = path.read_bytes()[:20]
    assert header[:4] == b"\x7fELF"
    return int.from_bytes(header[18:20], "little")


def test_runtime_library_for_aarch64(cmake_dir: Path, tmp_path: Path) -> None:
    if shutil.which("aarch64-linux-gnu-g++") is None:
        pytest.skip("aarch64-linux-gnu-g++ is not installed (apt install g++-aarch64-linux-gnu)")
    build = tmp_path / "arm64"
    cmake_build(
        EXAMPLE_DIR,
        build,
        cmake_dir,
        f"-DCMAKE_TOOLCHAIN_FILE={cmake_dir / 'aarch64-linux-gnu.cmake'}",
    )
    library = build / "libCustomOpRuntime_arm64.so"
    assert library.is_file()
    assert elf_machine(library) == 0xB7
    assert not (build / "libCustomOpPlugin.so").exists()


def test_toolchain_file_reports_a_missing_compiler(cmake_dir: Path, tmp_path: Path) -> None:
    if shutil.which("cmake") is None:
        pytest.skip("cmake is not installed")
    result = subprocess.run(
        [
            "cmake",
            "-S",
            str(EXAMPLE_DIR),
            "-B",
            str(tmp_path / "b"),
            f"-Dtpuc_DIR={cmake_dir}",
            f"-DCMAKE_TOOLCHAIN_FILE={cmake_dir / 'aarch64-linux-gnu.cmake'}",
        ],
        capture_output=True,
        text=True,
        timeout=300,
        env={"PATH": "/usr/bin:/bin", "TPUC_AARCH64_PREFIX": "no-such-cross-"},
    )
    assert result.returncode != 0
    assert "no-such-cross-g++ not found" in result.stderr
