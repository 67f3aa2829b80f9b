"""cvi_npz_tool (compare / extract / dump / rename, HTML plot) and the similarity metrics."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pytest

pytest.importorskip("tpuc.tools", reason="tpuc is not installed")

from tpuc.tools import cvi_npz_tool  # noqa: E402
from tpuc.tools.npz_compare import (  # noqa: E402
    CLOSE,
    EQUAL,
    NOT_SIMILAR,
    SIMILAR,
    compare_tensor,
    read_op_info,
    similarity,
)

RNG = np.random.default_rng(7)


def save(path: Path, **arrays: np.ndarray) -> Path:
    np.savez(path, **arrays)
    return path


def test_metrics_match_their_definitions() -> None:
    a = np.array([1.0, 2.0, 3.0, 4.0])
    b = np.array([1.0, 2.0, 3.0, 5.0])
    m = similarity(a, b)
    assert m.cosine == pytest.approx(a @ b / np.linalg.norm(a) / np.linalg.norm(b))
    assert m.correlation == pytest.approx(np.corrcoef(a, b)[0, 1])
    assert m.euclidean == pytest.approx(1 - np.linalg.norm(a - b) / np.linalg.norm((a + b) / 2))
    assert m.sqnr_db == pytest.approx(10 * math.log10(np.sum(b * b) / np.sum((a - b) ** 2)))
    same = similarity(a, a)
    assert (same.cosine, same.euclidean, same.sqnr_db) == (pytest.approx(1.0), 1.0, math.inf)


def test_verdicts() -> None:
    x = RNG.standard_normal(1000).astype(np.float32)
    assert compare_tensor("t", x, x.copy()).verdict == EQUAL
    assert compare_tensor("t", x, x * (1 + 1e-7)).verdict == CLOSE
    assert compare_tensor("t", x, x + 0.01 * RNG.standard_normal(1000)).verdict == SIMILAR
    assert compare_tensor("t", x, RNG.standard_normal(1000)).verdict == NOT_SIMILAR
    mismatch = compare_tensor("t", x, x[:10])
    assert mismatch.verdict == NOT_SIMILAR and "element counts differ" in mismatch.note
    nan = compare_tensor("t", np.array([np.nan, 1.0]), np.array([0.0, 1.0]))
    assert nan.verdict == NOT_SIMILAR and "nan" in nan.note
    # Constant tensors: correlation is defined through equality.
    assert compare_tensor("t", np.ones(4), np.ones(4) * 2).verdict == NOT_SIMILAR


def test_compare_cli_exit_codes(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    x = RNG.standard_normal((2, 8)).astype(np.float32)
    y = RNG.standard_normal((3,)).astype(np.float32)
    ref = save(tmp_path / "ref.npz", x=x, y=y, only_ref=y)
    good = save(tmp_path / "good.npz", x=x + 1e-3, y=y, only_here=y)
    bad = save(tmp_path / "bad.npz", x=-x, y=y)
    assert cvi_npz_tool.main(["compare", str(good), str(ref), "-vv"]) == 0
    out = capsys.readouterr().out
    assert "2 compared: 1 equal, 0 close, 1 similar, 0 not similar" in out
    assert "only in first: only_here" in out and "only in second: only_ref" in out
    assert "PASSED" in out and "min similarity: cos" in out
    assert cvi_npz_tool.main(["compare", str(bad), str(ref)]) == 1
    out = capsys.readouterr().out
    assert "[x" in out and NOT_SIMILAR in out and "FAILED" in out
    # Tolerances are what decide SIMILAR.
    assert cvi_npz_tool.main(["compare", str(bad), str(ref), "--tolerance=-1,-1,-10"]) == 0
    capsys.readouterr()
    assert cvi_npz_tool.main(["compare", str(bad), str(ref), "--excepts", "x"]) == 0
    capsys.readouterr()
    # Usage errors exit 2 with a message.
    assert cvi_npz_tool.main(["compare", str(good), str(ref), "--tolerance=0.9,0.9"]) == 2
    assert cvi_npz_tool.main(["compare", str(good), str(tmp_path / "none.npz")]) == 2
    other = save(tmp_path / "other.npz", z=x)
    assert cvi_npz_tool.main(["compare", str(other), str(ref)]) == 2
    assert "no tensor name in common" in capsys.readouterr().err


def test_compare_with_op_info_dequantizes_int8(tmp_path: Path) -> None:
    fp32 = RNG.uniform(-4, 4, 256).astype(np.float32)
    threshold = 4.0
    int8 = np.clip(np.round(fp32 * 127 / threshold), -128, 127).astype(np.int8)
    ref = save(tmp_path / "fp32.npz", conv=fp32, relu=np.maximum(fp32, 0))
    q = save(tmp_path / "int8.npz", conv=int8, relu=np.maximum(fp32, 0))
    op_info = tmp_path / "op_info.csv"
    op_info.write_text(f"conv,0,INT8,{threshold}\nrelu,1,NONE,0.0\nmissing,2,INT8,1.0\n")
    assert [i.name for i in read_op_info(op_info)] == ["conv", "relu", "missing"]
    save_csv = tmp_path / "result.csv"
    code = cvi_npz_tool.main(
        [
            "compare",
            str(q),
            str(ref),
            "--op_info",
            str(op_info),
            "--tolerance=0.999,0.999,0.98",
            "--save",
            str(save_csv),
        ]
    )
    assert code == 0
    rows = save_csv.read_text().splitlines()
    assert rows[0].startswith("name,verdict") and rows[1].startswith("conv,SIMILAR")
    # Without the threshold the int8 values are compared raw and are far off.
    assert cvi_npz_tool.main(["compare", str(q), str(ref), "--tolerance=0.999,0.999,0.98"]) == 1
    bad = tmp_path / "bad.csv"
    bad.write_text("conv,notanint,INT8,1\n")
    assert cvi_npz_tool.main(["compare", str(q), str(ref), "--op_info", str(bad)]) == 2


def test_plot_is_self_contained_html(tmp_path: Path) -> None:
    names = {f"layer{i}": RNG.standard_normal(64).astype(np.float32) for i in range(5)}
    ref = save(tmp_path / "ref.npz", **names)
    noisy = {k: v + 0.05 * i * RNG.standard_normal(64) for i, (k, v) in enumerate(names.items())}
    target = save(tmp_path / "t.npz", **noisy)
    html = tmp_path / "plot.html"
    cvi_npz_tool.main(["compare", str(target), str(ref), "--plot", str(html)])
    text = html.read_text()
    assert text.startswith("<!DOCTYPE html>") and "<svg" in text and "<polyline" in text
    assert "<script" not in text and "src=" not in text and "<link" not in text
    for name in names:
        assert name in text


def test_extract_dump_rename(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    src = save(
        tmp_path / "all.npz",
        input=np.arange(6, dtype=np.float32).reshape(2, 3),
        conv=np.zeros(4, np.float32),
    )
    out = tmp_path / "in.npz"
    assert cvi_npz_tool.main(["extract", str(src), str(out), "input"]) == 0
    with np.load(out) as data:
        assert data.files == ["input"]
    assert cvi_npz_tool.main(["extract", str(src), str(out), "nope"]) == 2
    capsys.readouterr()
    assert cvi_npz_tool.main(["dump", str(src)]) == 0
    assert "input: shape [2, 3] dtype float32" in capsys.readouterr().out
    assert cvi_npz_tool.main(["dump", str(src), "input"]) == 0
    assert "max 5" in capsys.readouterr().out
    assert cvi_npz_tool.main(["rename", str(src), "conv", "conv1"]) == 0
    with np.load(src) as data:
        assert sorted(data.files) == ["conv1", "input"]
    assert cvi_npz_tool.main(["rename", str(src), "conv", "x"]) == 2
    assert cvi_npz_tool.main(["rename", str(src), "conv1", "input"]) == 2
