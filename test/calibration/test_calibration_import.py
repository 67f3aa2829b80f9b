"""Tables written here are read by tpuc-opt --import-calibration-table: every layer gets its row,
custom ops apply threshold_overwrite as documented in tpuc.calibration.table."""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

import pytest
from calibration_helpers import find_tpuc_opt

pytest.importorskip("tpuc.calibration", reason="tpuc is not installed")

from tpuc.calibration.table import CalibrationTable, TableEntry  # noqa: E402

MODEL = """
module {
  func.func @main(%arg0: tensor<1x4x8x8xf32>) -> tensor<1x4x8x8xf32> {
    %0 = tpu.input %arg0 {name = "data"} : (tensor<1x4x8x8xf32>) -> tensor<1x4x8x8xf32>
    %1 = tpu.relu %0 {name = "r1"} : (tensor<1x4x8x8xf32>) -> tensor<1x4x8x8xf32>
    %2 = tpu.custom_op %1 {name = "lrelu", operation_name = "leaky_relu",
           param = {negative_slope = 0.1 : f32}, tpu = true, do_quant = true,
           threshold_overwrite = "backward", quant = {mode = "NONE"}}
           : (tensor<1x4x8x8xf32>) -> tensor<1x4x8x8xf32>
    %3 = tpu.custom_op %2 {name = "post", operation_name = "identity", param = {},
           tpu = false, do_quant = false, threshold_overwrite = "forward", quant = {mode = "NONE"}}
           : (tensor<1x4x8x8xf32>) -> tensor<1x4x8x8xf32>
    %4 = tpu.relu %3 {name = "tail"} : (tensor<1x4x8x8xf32>) -> tensor<1x4x8x8xf32>
    return %4 : tensor<1x4x8x8xf32>
  }
}
"""


@pytest.fixture(scope="module")
def tpuc_opt() -> Path:
    path = find_tpuc_opt()
    if path is None:
        pytest.skip("tpuc-opt not found (install tpuc, or set TPUC_BIN_DIR / TPUC_BUILD_DIR)")
    help_text = subprocess.run([str(path), "--help"], capture_output=True, text=True).stdout
    if "--import-calibration-table" not in help_text:
        pytest.skip("this tpuc-opt has no --import-calibration-table pass")
    return path


def import_table(tpuc_opt: Path, tmp_path: Path, table: CalibrationTable) -> dict[str, float]:
    model = tmp_path / "m.mlir"
    model.write_text(MODEL)
    path = tmp_path / "table"
    table.write(path)
    result = subprocess.run(
        [str(tpuc_opt), str(model), "--import-calibration-table", "--calibration-table",
         str(path)],
        capture_output=True,
        text=True,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    thresholds = {}
    for line in result.stdout.splitlines():
        name = re.search(r'name = "([^"]+)"', line)
        value = re.search(r"threshold_max = ([-+0-9.eE]+)", line)
        if name and value:
            thresholds[name.group(1)] = float(value.group(1))
    return thresholds


def test_written_tables_import_with_overwrites(tpuc_opt: Path, tmp_path: Path) -> None:
    table = CalibrationTable(
        [
            ("data", TableEntry(2.6400001049041748, -2.1179039478302, 2.6400001049041748)),
            ("r1", TableEntry(5.5, 0.0, 9.0)),
            ("lrelu", TableEntry(3.25, -0.5, 7.0)),
            ("post", TableEntry(1e-05, 0.0, 1e-05)),
            ("tail", TableEntry(123456.789, 0.0, 200000.0)),
        ],
        {"file": "m.mlir", "histogram number": "2048", "sample number": "1"},
    )
    got = import_table(tpuc_opt, tmp_path, table)
    assert got["tail"] == pytest.approx(123456.789, rel=1e-6)
    # backward: lrelu gives its threshold to r1 and, through that relu (which keeps its input's
    # threshold in tpu-quant), to data; forward: post takes lrelu's threshold.
    assert got["data"] == pytest.approx(3.25)
    assert got["r1"] == pytest.approx(3.25)
    assert got["lrelu"] == pytest.approx(3.25)
    assert got["post"] == pytest.approx(3.25)


def test_two_field_rows_import(tpuc_opt: Path, tmp_path: Path) -> None:
    rows = [(name, TableEntry(float(i + 1))) for i, name in enumerate(
        ["data", "r1", "lrelu", "post", "tail"])]  # fmt: skip
    got = import_table(tpuc_opt, tmp_path, CalibrationTable(rows))
    assert got["tail"] == 5.0 and got["r1"] == 3.0 and got["data"] == 3.0


def test_pseudo_tables_written_by_tpuc_opt_read_back(tpuc_opt: Path, tmp_path: Path) -> None:
    help_text = subprocess.run([str(tpuc_opt), "--help"], capture_output=True, text=True).stdout
    if "--gen-pseudo-weight-npz" not in help_text:
        pytest.skip("this tpuc-opt has no --gen-pseudo-weight-npz pass")
    model = tmp_path / "m.mlir"
    model.write_text(MODEL)
    table_path = tmp_path / "pseudo_table"
    result = subprocess.run(
        [str(tpuc_opt), str(model), "--gen-pseudo-weight-npz",
         f"--pseudo-calibration-table={table_path}", "-o", str(tmp_path / "out.mlir")],
        capture_output=True,
        text=True,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    table = CalibrationTable.read(table_path)
    assert list(table) == ["data", "r1", "lrelu", "post", "tail"]
    assert all(entry.threshold > 0 for entry in table.values())
    assert table["r1"].min == -table["r1"].threshold
    assert table.metadata["sample number"] == "0"
