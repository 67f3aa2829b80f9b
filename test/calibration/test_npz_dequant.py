"""cvi_npz_tool compare --dequant: INT8 dumps (int8 codes + thresholds) against fp32 dumps."""

from __future__ import annotations

import csv
import math
from pathlib import Path

import numpy as np
import pytest

pytest.importorskip("tpuc.tools", reason="tpuc is not installed")

from tpuc.tools import cvi_npz_tool  # noqa: E402
from tpuc.tools.npz_compare import (  # noqa: E402
    NOT_SIMILAR,
    SIMILAR,
    compare_tensor,
    int8_code_problem,
    int8_dump_thresholds,
    int8_stats,
)

RNG = np.random.default_rng(11)


def quantize(x: np.ndarray, threshold: float) -> np.ndarray:
    return np.clip(np.round(x * 127.0 / threshold), -128, 127).astype(np.int8)


def layers() -> dict[str, tuple[np.ndarray, float]]:
    """fp32 tensors of a small net and their thresholds (one tensor saturates); the same on
    every call."""
    rng = np.random.default_rng(5)
    conv = rng.normal(0.0, 1.0, (1, 8, 6, 6)).astype(np.float32)
    relu = np.maximum(conv, 0)
    fc = rng.normal(0.0, 3.0, (1, 10)).astype(np.float32)
    return {"conv": (conv, 4.0), "relu": (relu, 4.0), "fc": (fc, 2.0)}


def write_dumps(folder: Path) -> tuple[Path, Path, dict[str, float]]:
    """An fp32 dump with every tensor and the INT8 dump as the interpreter writes it: int8
    arrays with a float32 `<name>_scale` (threshold / 127), the input and output in fp32."""
    data = RNG.normal(0.0, 1.0, (1, 3, 6, 6)).astype(np.float32)
    fp32 = {"data": data} | {name: x for name, (x, _) in layers().items()}
    fp32["fc_dequant"] = fp32["fc"]
    int8: dict[str, np.ndarray] = {"data": data}
    thresholds = {}
    for name, (_x, threshold) in layers().items():
        int8[name] = quantize(fp32[name], threshold)
        int8[f"{name}_scale"] = np.float32(threshold / 127.0)
        thresholds[name] = threshold
    int8["fc_dequant"] = int8["fc"].astype(np.float32) * np.float32(2.0 / 127.0)
    np.savez(folder / "fp32.npz", **fp32)
    np.savez(folder / "int8.npz", **int8)
    return folder / "int8.npz", folder / "fp32.npz", thresholds


def test_int8_code_problem() -> None:
    assert int8_code_problem(np.array([-128, 0, 127], np.int8)) is None
    assert int8_code_problem(np.array([-128.0, 3.0, 127.0], np.float32)) is None
    assert "exceed the int8 range" in int8_code_problem(np.array([0.0, 300.0]))
    assert "not integers" in int8_code_problem(np.array([0.5, 1.0]))
    assert "inf or nan" in int8_code_problem(np.array([np.nan]))
    assert "not numeric" in int8_code_problem(np.array(["a"]))


def test_int8_stats() -> None:
    stats = int8_stats(np.array([-128, 127, 0, 0, 5, 5, 5, 6], np.int8))
    assert stats == {"saturated": 0.25, "zeros": 0.25, "levels": 5.0}


def test_dequantized_uniform_signal_has_the_int8_sqnr() -> None:
    # A uniform signal over [-T, T] quantized with step T / 127: SQNR = 10 log10(4 * 127^2).
    threshold = 3.0
    x = RNG.uniform(-threshold, threshold, 200_000)
    result = compare_tensor("t", quantize(x, threshold), x, threshold=threshold, dequant=True)
    assert result.metrics is not None and result.verdict == SIMILAR
    assert result.metrics.sqnr_db == pytest.approx(10 * math.log10(4 * 127**2), abs=0.2)
    assert result.stats["int8_saturated"] < 0.005 and result.stats["int8_levels"] == 255
    # A threshold off by 2x makes the dequantized tensor twice too large: cosine still 1, the
    # euclidean similarity and SQNR show the error.
    wrong = compare_tensor("t", quantize(x, threshold), x, threshold=2 * threshold, dequant=True)
    assert wrong.metrics is not None and wrong.metrics.cosine > 0.999
    assert wrong.metrics.sqnr_db < 1.0 and wrong.verdict == NOT_SIMILAR


def test_dequant_refuses_what_is_not_int8_codes() -> None:
    x = RNG.normal(0.0, 1.0, 64)
    wide = compare_tensor("conv", x * 1000, x, threshold=4.0, dequant=True)
    assert wide.verdict == NOT_SIMILAR and "not int8 codes" in wide.note
    assert "exceed the int8 range" in wide.note
    missing = compare_tensor("conv", quantize(x, 4.0), x, threshold=None, dequant=True)
    assert missing.verdict == NOT_SIMILAR and "without a positive threshold" in missing.note


def test_dump_thresholds_come_from_the_scale_entries(tmp_path: Path) -> None:
    target, reference, thresholds = write_dumps(tmp_path)
    with np.load(target) as a, np.load(reference) as b:
        found, scales = int8_dump_thresholds(dict(a), dict(b))
    assert found == pytest.approx(thresholds, rel=1e-6)
    assert scales == {"conv_scale", "relu_scale", "fc_scale"}
    # A layer really named `<name>_scale` pushes the scale entry to `<name>_scale_`.
    a = {"x": np.zeros(4, np.int8), "x_scale": np.ones(4, np.float32), "x_scale_": np.float32(0.5)}
    found, scales = int8_dump_thresholds(a, {"x_scale": np.ones(4, np.float32)})
    assert found == {"x": 0.5 * 127} and scales == {"x_scale_"}


def test_compare_dequant_from_the_dump(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    target, reference, _ = write_dumps(tmp_path)
    out_csv = tmp_path / "stat.csv"
    code = cvi_npz_tool.main(
        [
            "compare",
            str(target),
            str(reference),
            "--dequant",
            "--stats_int8_tensor",
            "-v",
            "--tolerance=0.9,0.9,0.5",
            "--save",
            str(out_csv),
        ]  # fmt: skip
    )
    out = capsys.readouterr().out
    assert code == 0, out
    assert "3 of 5 compared tensors dequantized from int8 codes" in out
    assert "int8 (threshold 4): saturated" in out and "distinct codes" in out
    assert "mean similarity: cos" in out and "PASSED" in out
    # The scale entries are neither compared nor reported as missing from the reference.
    assert "_scale" not in out.replace("--", "")
    rows = {row["name"]: row for row in csv.DictReader(out_csv.open())}
    assert set(rows) == {"data", "conv", "relu", "fc", "fc_dequant"}
    assert float(rows["conv"]["threshold"]) == pytest.approx(4.0)
    assert float(rows["conv"]["cosine"]) > 0.999 and float(rows["conv"]["sqnr_db"]) > 30
    assert rows["data"]["verdict"] == "EQUAL" and rows["data"]["threshold"] == ""
    # fc saturates: N(0, 3) with threshold 2.
    assert float(rows["fc"]["int8_saturated"]) > 0.2
    assert float(rows["fc"]["cosine"]) < float(rows["conv"]["cosine"])
    # Without --dequant the int8 codes are compared raw (no threshold known) and fail.
    assert cvi_npz_tool.main(["compare", str(target), str(reference)]) == 1
    capsys.readouterr()


def test_compare_dequant_with_op_info(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    fp32 = {name: x for name, (x, _) in layers().items()}
    # Codes stored as float32 (no scale entries): the op_info thresholds dequantize them.
    codes = {name: quantize(x, t).astype(np.float32) for name, (x, t) in layers().items()}
    np.savez(tmp_path / "fp32.npz", **fp32)
    np.savez(tmp_path / "int8.npz", **codes)
    op_info = tmp_path / "op_info_int8.csv"
    op_info.write_text("conv,-1,INT8,4.0\nrelu,-1,INT8,4.0\nfc,-1,INT8,2.0\n")
    args = ["compare", str(tmp_path / "int8.npz"), str(tmp_path / "fp32.npz"),
            "--op_info", str(op_info), "--tolerance=0.9,0.9,0.5"]  # fmt: skip
    assert cvi_npz_tool.main(args + ["--dequant"]) == 0
    assert "3 of 3 compared tensors dequantized" in capsys.readouterr().out
    # A tensor of an INT8 layer holding something else than codes is reported, not compared.
    codes["relu"] = fp32["relu"] * 100
    np.savez(tmp_path / "int8.npz", **codes)
    assert cvi_npz_tool.main(args + ["--dequant"]) == 1
    out = capsys.readouterr().out
    assert "[relu" in out and "not int8 codes" in out and "FAILED" in out
    # A layer the op_info keeps in fp32 is compared as it is.
    op_info.write_text("conv,-1,INT8,4.0\nrelu,-1,NONE,4.0\nfc,-1,INT8,2.0\n")
    codes["relu"] = fp32["relu"]
    np.savez(tmp_path / "int8.npz", **codes)
    assert cvi_npz_tool.main(args + ["--dequant", "-v"]) == 0
    assert "2 of 3 compared tensors dequantized" in capsys.readouterr().out


def test_compare_dequant_with_calibration_table(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    data = RNG.normal(0.0, 1.0, 32).astype(np.float32)
    conv = RNG.normal(0.0, 1.0, 32).astype(np.float32)
    np.savez(tmp_path / "fp32.npz", data=data, conv=conv)
    np.savez(tmp_path / "int8.npz", data=data, conv=quantize(conv, 3.0).astype(np.float32))
    table = tmp_path / "table"
    table.write_text("# op_name threshold min max\ndata 2.5 -2.5 2.5\nconv 3.0 -3.0 3.0\n")
    args = ["compare", str(tmp_path / "int8.npz"), str(tmp_path / "fp32.npz"), "--dequant",
            "--calibration_table", str(table), "--tolerance=0.99,0.99,0.9"]  # fmt: skip
    assert cvi_npz_tool.main(args) == 0
    # data holds fp32 values (not codes): only conv is dequantized.
    assert "1 of 2 compared tensors dequantized" in capsys.readouterr().out
    table.write_text("conv -3.0\n")
    assert cvi_npz_tool.main(args) == 2
    assert "--calibration_table" in capsys.readouterr().err


def test_compare_dequant_usage_errors(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    x = RNG.normal(0.0, 1.0, 16).astype(np.float32)
    np.savez(tmp_path / "a.npz", conv=quantize(x, 3.0).astype(np.float32))
    np.savez(tmp_path / "b.npz", conv=x)
    a, b = str(tmp_path / "a.npz"), str(tmp_path / "b.npz")
    assert cvi_npz_tool.main(["compare", a, b, "--dequant"]) == 2
    assert "records no int8 scale" in capsys.readouterr().err
    assert cvi_npz_tool.main(["compare", a, b, "--stats_int8_tensor"]) == 2
    assert "go with --dequant" in capsys.readouterr().err
