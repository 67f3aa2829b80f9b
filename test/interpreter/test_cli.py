"""The tpuc-interpreter command line: outputs, all-tensor dumps and error exits."""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from conftest import Net, assert_close, f32, i64s, rand


def find_interpreter() -> Path | None:
    """$TPUC_BIN_DIR, PATH, the installed package's _bin, then the build tree's dialect/tools."""
    env = os.environ.get("TPUC_BIN_DIR")
    if env and (Path(env) / "tpuc-interpreter").is_file():
        return Path(env) / "tpuc-interpreter"
    try:
        import tpuc
    except ImportError:
        return None
    package = Path(tpuc.__file__).absolute().parent
    for candidate in (
        package / "_bin" / "tpuc-interpreter",
        package.parent.parent / "dialect" / "tools" / "tpuc-interpreter",
    ):
        if candidate.is_file():
            return candidate
    found = shutil.which("tpuc-interpreter")
    return Path(found) if found else None


@pytest.fixture(scope="module")
def cli() -> Path:
    path = find_interpreter()
    if path is None:
        pytest.skip("tpuc-interpreter is not built (set TPUC_BIN_DIR or put it on PATH)")
    return path


def small_net(tmp_path: Path) -> tuple[Path, np.ndarray]:
    net = Net()
    x = net.input("data", (1, 3, 6, 6))
    w = net.weight("w", rand((4, 3, 3, 3), 1, 0.3))
    conv = net.op(
        "conv_2d",
        [x, w],
        (1, 4, 6, 6),
        f"strides = {i64s((1, 1))}, pads = {i64s((1, 1, 1, 1))}, "
        f"dilations = {i64s((1, 1))}, do_relu = true",
        name="conv",
    )
    pool = net.op(
        "pool_max_2d",
        [conv],
        (1, 4, 3, 3),
        f"kernel_shape = {i64s((2, 2))}, strides = {i64s((2, 2))}, pads = {i64s((0, 0, 0, 0))}",
        name="pool",
    )
    out = net.op("leaky_relu", [pool], (1, 4, 3, 3), f"negative_slope = {f32(0.1)}", name="out")
    return net.save(tmp_path, [out]), rand((1, 3, 6, 6), 2)


def run_cli(cli: Path, *args: Any) -> subprocess.CompletedProcess[str]:
    return subprocess.run([str(cli), *map(str, args)], capture_output=True, text=True, timeout=120)


def test_cli_matches_python_api(interp: Any, cli: Path, tmp_path: Path) -> None:
    mlir, x = small_net(tmp_path)
    np.savez(tmp_path / "in.npz", data=x)
    result = run_cli(
        cli,
        mlir,
        "--tensor-in",
        tmp_path / "in.npz",
        "--tensor-out",
        tmp_path / "out.npz",
        f"--dump-all-tensor={tmp_path / 'all.npz'}",
    )
    assert result.returncode == 0, result.stderr
    out, everything = np.load(tmp_path / "out.npz"), np.load(tmp_path / "all.npz")
    assert list(out.keys()) == ["out"]
    assert sorted(everything.keys()) == ["conv", "data", "out", "pool"]
    reference = interp.run(mlir, {"data": x}, dump_all=True)
    for name in everything.keys():
        assert_close(everything[name], reference[name], rtol=0, atol=0)
    assert_close(out["out"], reference["out"], rtol=0, atol=0)


def test_cli_weight_file_flag(cli: Path, tmp_path: Path) -> None:
    mlir, x = small_net(tmp_path)
    np.savez(tmp_path / "in.npz", data=x)
    (tmp_path / "weights.npz").rename(tmp_path / "moved.npz")
    args = [mlir, "--tensor-in", tmp_path / "in.npz", "--tensor-out", tmp_path / "out.npz"]
    failed = run_cli(cli, *args)
    assert failed.returncode != 0 and "cannot read the weight file" in failed.stderr
    assert run_cli(cli, *args, "--weight-file", tmp_path / "moved.npz").returncode == 0


def test_cli_bad_input_npz(cli: Path, tmp_path: Path) -> None:
    mlir, _ = small_net(tmp_path)
    (tmp_path / "in.npz").write_bytes(b"PK\x03\x04 truncated")
    result = run_cli(
        cli, mlir, "--tensor-in", tmp_path / "in.npz", "--tensor-out", tmp_path / "out.npz"
    )
    assert result.returncode != 0
    assert "cannot read --tensor-in" in result.stderr
    assert not (tmp_path / "out.npz").exists()


def test_cli_missing_input_array(cli: Path, tmp_path: Path) -> None:
    mlir, x = small_net(tmp_path)
    np.savez(tmp_path / "in.npz", a=x, b=x)
    result = run_cli(
        cli, mlir, "--tensor-in", tmp_path / "in.npz", "--tensor-out", tmp_path / "out.npz"
    )
    assert result.returncode != 0 and "missing input 'data'" in result.stderr


def test_cli_unknown_plugin(cli: Path, tmp_path: Path) -> None:
    mlir, x = small_net(tmp_path)
    np.savez(tmp_path / "in.npz", data=x)
    result = run_cli(
        cli,
        mlir,
        "--tensor-in",
        tmp_path / "in.npz",
        "--custom-op-plugin",
        tmp_path / "libCustomOpPlugin.so",
    )
    assert result.returncode != 0 and "cannot load custom-op plugin" in result.stderr
