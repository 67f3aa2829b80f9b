"""gen_data_list.py and run_calibration.py command lines: deterministic lists, exit codes and
messages on bad input."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

pytest.importorskip("tpuc.calibration", reason="tpuc is not installed")

from tpuc.tools import gen_data_list, run_calibration  # noqa: E402


def make_folder(root: Path, names: list[str]) -> Path:
    for name in names:
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(b"x")
    return root


IMAGES = ["cat/b.jpg", "cat/a.JPG", "dog/c.png", "d.bmp", "e.npz", "notes.txt", "f.jpeg", "g.png"]


def test_lists_are_sorted_then_seeded_and_independent_of_creation_order(tmp_path: Path) -> None:
    first = make_folder(tmp_path / "one", IMAGES)
    second = make_folder(tmp_path / "two", list(reversed(IMAGES)))
    files = gen_data_list.collect_files(first)
    assert [p.relative_to(first).as_posix() for p in files] == [
        "cat/a.JPG", "cat/b.jpg", "d.bmp", "dog/c.png", "f.jpeg", "g.png",
    ]  # fmt: skip
    out1, out2 = tmp_path / "l1.txt", tmp_path / "l2.txt"
    assert gen_data_list.main([str(first), "4", str(out1), "--seed", "5"]) == 0
    assert gen_data_list.main([str(second), "4", str(out2), "--seed", "5"]) == 0
    lines1 = out1.read_text().splitlines()
    lines2 = out2.read_text().splitlines()
    assert len(lines1) == 4 and len(set(lines1)) == 4
    assert all(Path(line).is_absolute() and Path(line).is_file() for line in lines1)
    assert [Path(p).relative_to(first) for p in lines1] == [
        Path(p).relative_to(second) for p in lines2
    ]
    order = np.random.default_rng(5).permutation(len(files))[:4]
    assert lines1 == [str(files[i].resolve()) for i in order]


def test_seed_changes_the_pick_and_count_caps_at_available(tmp_path: Path) -> None:
    folder = make_folder(tmp_path / "imgs", [f"{i:03d}.jpg" for i in range(50)])
    picks = set()
    for seed in range(3):
        out = tmp_path / f"s{seed}.txt"
        gen_data_list.main([str(folder), "10", str(out), "--seed", str(seed)])
        picks.add(tuple(out.read_text().splitlines()))
    assert len(picks) == 3
    out = tmp_path / "all.txt"
    assert gen_data_list.main([str(folder), "1000", str(out)]) == 0
    assert sorted(out.read_text().splitlines()) == sorted(
        str((folder / f"{i:03d}.jpg").resolve()) for i in range(50)
    )
    only_npy = tmp_path / "npy.txt"
    np.save(folder / "x.npy", np.zeros(1))
    assert gen_data_list.main([str(folder), "5", str(only_npy), "--ext", ".npy"]) == 0
    assert only_npy.read_text().splitlines() == [str((folder / "x.npy").resolve())]


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["{missing}", "3", "{out}"], "is not a folder"),
        (["{empty}", "3", "{out}"], "no input files"),
        (["{imgs}", "0", "{out}"], "count must be positive"),
        (["{imgs}", "3", "{nodir}/out.txt"], "cannot write"),
    ],
)
def test_gen_data_list_errors(tmp_path: Path, capsys, args: list[str], message: str) -> None:  # noqa: ANN001
    (tmp_path / "empty").mkdir()
    make_folder(tmp_path / "imgs", ["a.jpg"])
    values = {
        "missing": tmp_path / "missing",
        "empty": tmp_path / "empty",
        "imgs": tmp_path / "imgs",
        "out": tmp_path / "out.txt",
        "nodir": tmp_path / "no" / "such",
    }
    assert gen_data_list.main([a.format(**values) for a in args]) == 1
    assert message in capsys.readouterr().err


def test_run_calibration_reports_errors(tmp_path: Path, capsys) -> None:  # noqa: ANN001
    table = tmp_path / "table"
    code = run_calibration.main(
        [str(tmp_path / "m.mlir"), str(tmp_path / "none.txt"), "--calibration_table", str(table)]
    )
    assert code == 1
    assert "cannot read data list" in capsys.readouterr().err
    listing = tmp_path / "list.txt"
    listing.write_text("a.npy\n")
    code = run_calibration.main(
        [str(tmp_path / "m.mlir"), str(listing), "--calibration_table", str(table)]
    )
    assert code == 1
    assert "cannot read model" in capsys.readouterr().err
    assert not table.exists()


def test_run_calibration_rejects_unknown_methods_and_needs_a_table() -> None:
    with pytest.raises(SystemExit) as exit_info:
        run_calibration.build_parser().parse_args(["m", "l", "--calibration_table", "t",
                                                   "--method", "mse"])  # fmt: skip
    assert exit_info.value.code == 2
    with pytest.raises(SystemExit):
        run_calibration.build_parser().parse_args(["m", "l"])
    args = run_calibration.build_parser().parse_args(
        ["m.mlir", "l.txt", "--calibration_table", "t", "--input_num=100",
         "--custom_op_plugin", "libCustomOpPlugin.so"]
    )  # fmt: skip
    assert args.input_num == 100 and args.custom_op_plugin == ["libCustomOpPlugin.so"]
    assert args.method == "kl" and args.jobs == 1 and args.seed is None


def test_tools_run_as_modules(tmp_path: Path) -> None:
    make_folder(tmp_path / "imgs", ["a.jpg", "b.png"])
    out = tmp_path / "list.txt"
    result = subprocess.run(
        [sys.executable, "-m", "tpuc.tools.gen_data_list", str(tmp_path / "imgs"), "2", str(out)],
        capture_output=True,
        text=True,
    )
    assert result.returncode == 0, result.stderr
    assert "wrote 2 path(s)" in result.stdout
    result = subprocess.run(
        [sys.executable, "-m", "tpuc.tools.run_calibration", "--help"],
        capture_output=True,
        text=True,
    )
    assert result.returncode == 0 and "--calibration_table" in result.stdout


def test_plain_progress_without_tqdm(monkeypatch, capsys) -> None:  # noqa: ANN001
    from tpuc.calibration.calibrator import _Progress

    monkeypatch.setitem(sys.modules, "tqdm", None)
    bar = _Progress(8, "pass 1/2", True)
    for _ in range(8):
        bar.update(1)
    bar.close()
    lines = capsys.readouterr().out.splitlines()
    assert lines == ["pass 1/2: 8 input(s)", "pass 1/2: 2/8", "pass 1/2: 4/8", "pass 1/2: 6/8",
                     "pass 1/2: 8/8"]  # fmt: skip
    silent = _Progress(8, "quiet", False)
    silent.update(8)
    assert capsys.readouterr().out == ""


@pytest.mark.parametrize(
    ("options", "message"),
    [
        ({"method": "mse"}, "unknown calibration method 'mse'"),
        ({"method": "percentile", "percentile": 0.0}, r"percentile must be in \(0, 100\]"),
        ({"histogram_bins": 64}, r"histogram_bins must be in \[128, 16384\], got 64"),
        ({"histogram_bins": 1 << 20}, "histogram_bins must be in"),
        ({"jobs": 0}, "jobs must be at least 1"),
    ],
)
def test_calibrate_rejects_bad_options(tmp_path: Path, options: dict, message: str) -> None:
    from tpuc.calibration import CalibrationError, calibrate

    with pytest.raises(CalibrationError, match=message):
        calibrate(tmp_path / "m.mlir", [np.zeros(3)], **options)
