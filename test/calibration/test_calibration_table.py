"""Calibration table format: writing, reading both row forms, round trips, merge policies and
clear file:line errors on malformed tables."""

from __future__ import annotations

from pathlib import Path

import pytest

pytest.importorskip("tpuc.calibration", reason="tpuc is not installed")

from tpuc.calibration.table import CalibrationTable, CalibrationTableError, TableEntry  # noqa: E402

VENDOR_STYLE = """\
###
# file: resnet18_fp32.mlir
# generated time: 2021-03-01 10:00:00
# histogram number: 2048
# sample number: 100
###
# op_name    threshold    min    max
input 2.64 -2.1179039478302 2.64
conv1/Conv_output_0 11.3287 -19.45 18.2
relu1  5.5   0.0  9.0
"""


def sample_table() -> CalibrationTable:
    return CalibrationTable(
        [
            ("input", TableEntry(2.640000104904175, -2.1179039478302, 2.640000104904175)),
            ("/conv1/Conv_output_0", TableEntry(11.328699111938477, -19.45, 18.2)),
            ("prob", TableEntry(0.987654321)),
        ],
        {"file": "model.mlir", "histogram number": "2048", "sample number": "3"},
    )


def test_write_produces_the_vendor_layout(tmp_path: Path) -> None:
    path = tmp_path / "table"
    sample_table().write(path)
    lines = path.read_text().splitlines()
    assert lines[0] == "###"
    assert lines[1] == "# file: model.mlir"
    assert lines[2].startswith("# generated time: ")
    assert lines[3:5] == ["# histogram number: 2048", "# sample number: 3"]
    assert lines[5] == "###"
    assert lines[6] == "# op_name threshold min max"
    assert lines[7].split() == [
        "input",
        "2.640000104904175",
        "-2.1179039478302",
        "2.640000104904175",
    ]
    assert lines[9].split() == ["prob", "0.987654321"]


def test_round_trip_is_exact(tmp_path: Path) -> None:
    table = sample_table()
    path = tmp_path / "table"
    table.write(path)
    again = CalibrationTable.read(path)
    assert again == table
    assert list(again) == list(table)
    assert again["prob"].min is None and again["prob"].max is None
    assert again.metadata["sample number"] == "3"
    assert again.threshold("/conv1/Conv_output_0") == 11.328699111938477


def test_reads_vendor_tables_with_both_row_forms() -> None:
    text = VENDOR_STYLE + "# a comment between rows\n\nprob 1.0\n"
    table = CalibrationTable.from_text(text, "t.txt")
    assert list(table) == ["input", "conv1/Conv_output_0", "relu1", "prob"]
    assert table["relu1"] == TableEntry(5.5, 0.0, 9.0)
    assert table["prob"] == TableEntry(1.0)
    assert table.metadata["histogram number"] == "2048"
    assert table.metadata["file"] == "resnet18_fp32.mlir"
    with pytest.raises(KeyError, match="'nope' is not in the calibration table"):
        table.threshold("nope")


@pytest.mark.parametrize(
    ("row", "message"),
    [
        ("conv1 1.0 2.0", "t.txt:11: expected 'name threshold' or 'name threshold min max', got 3"),
        ("conv1", "t.txt:11: expected .* got 1 field"),
        ("conv1 1 2 3 4", "t.txt:11: .*got 5 field"),
        ("conv1 abc", "t.txt:11: threshold 'abc' is not a number"),
        ("conv1 1.0 x 2.0", "t.txt:11: min 'x' is not a number"),
        ("conv1 nan", "t.txt:11: threshold 'nan' is not finite"),
        ("conv1 inf 0 1", "t.txt:11: threshold 'inf' is not finite"),
        ("conv1 -1.5", "t.txt:11: threshold -1.5 of 'conv1' is not positive"),
        ("conv1 0 0 0", "t.txt:11: threshold 0 of 'conv1' is not positive"),
        ("conv1 1.0 3.0 2.0", "t.txt:11: min 3.0 > max 2.0"),
        ("input 3.0", "t.txt:11: duplicate tensor 'input' \\(first at line 8\\)"),
    ],
)
def test_malformed_rows_name_file_and_line(row: str, message: str) -> None:
    text = VENDOR_STYLE.replace("relu1  5.5   0.0  9.0\n", "relu1 5.5 0.0 9.0\n" + row + "\n")
    with pytest.raises(CalibrationTableError, match=message):
        CalibrationTable.from_text(text, "t.txt")


def test_read_reports_the_path(tmp_path: Path) -> None:
    path = tmp_path / "bad_table"
    path.write_text("# op_name threshold min max\nconv1 1.0 oops 2.0\n")
    with pytest.raises(CalibrationTableError, match=f"{path}:2: min 'oops'"):
        CalibrationTable.read(path)
    binary = tmp_path / "binary"
    binary.write_bytes(b"\xff\xfe\x00garbage")
    with pytest.raises(CalibrationTableError, match="not a text file"):
        CalibrationTable.read(binary)
    with pytest.raises(FileNotFoundError):
        CalibrationTable.read(tmp_path / "missing")


@pytest.mark.parametrize("name", ["has space", "", "tab\tname", "#hidden"])
def test_unwritable_names_are_rejected(name: str) -> None:
    with pytest.raises(CalibrationTableError):
        CalibrationTable([(name, TableEntry(1.0))])


def test_bad_entries_are_rejected() -> None:
    with pytest.raises(CalibrationTableError, match="not positive"):
        CalibrationTable([("a", TableEntry(-1.0))])
    with pytest.raises(CalibrationTableError, match="not positive"):
        CalibrationTable([("a", TableEntry(0.0))])
    with pytest.raises(CalibrationTableError, match="non-finite"):
        CalibrationTable([("a", TableEntry(float("nan")))])
    with pytest.raises(CalibrationTableError, match="both min and max"):
        CalibrationTable([("a", TableEntry(1.0, 0.0, None))])
    with pytest.raises(CalibrationTableError, match="duplicate"):
        CalibrationTable([("a", TableEntry(1.0)), ("a", TableEntry(2.0))])


def test_merge_policies() -> None:
    base = CalibrationTable([("a", TableEntry(1.0, -1.0, 1.0)), ("b", TableEntry(2.0, 0.0, 2.0))])
    other = CalibrationTable([("b", TableEntry(3.0, -0.5, 1.5)), ("c", TableEntry(4.0))])
    replaced = base.merge(other)
    assert list(replaced) == ["a", "b", "c"]
    assert replaced["b"] == TableEntry(3.0, -0.5, 1.5)
    assert base.merge(other, "keep")["b"] == TableEntry(2.0, 0.0, 2.0)
    assert base.merge(other, "max")["b"] == TableEntry(3.0, -0.5, 2.0)
    assert base.merge(other, "max")["c"] == TableEntry(4.0)
    with pytest.raises(CalibrationTableError, match="'b' differs"):
        base.merge(other, "error")
    assert base.merge(base, "error") == base
    with pytest.raises(ValueError, match="unknown merge policy"):
        base.merge(other, "average")
    # The inputs are unchanged.
    assert list(base) == ["a", "b"] and base["b"].threshold == 2.0


def test_completeness_check_lists_missing_tensors() -> None:
    table = sample_table()
    assert table.missing(["input", "x", "prob", "y"]) == ["x", "y"]
    table.check_complete(["input", "prob"])
    with pytest.raises(CalibrationTableError, match="2 tensor\\(s\\): x, y"):
        table.check_complete(["input", "x", "y"])


def test_with_entry_replaces_or_appends() -> None:
    table = sample_table()
    changed = table.with_entry("input", TableEntry(3.0, -3.0, 3.0)).with_entry("z", TableEntry(1))
    assert list(changed) == [*table, "z"]
    assert changed.threshold("input") == 3.0 and table.threshold("input") != 3.0
