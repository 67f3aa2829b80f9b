"""`tpuc compile` / `tpuc.compile` on a tiny generated model: every stage this build offers runs,
its files carry the guide's names, the checks hold, and a failing check names the layer."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import tpuc
from tpuc.cli import CompileError, StageUnavailable, load_result, main

BEFORE_BACKEND = ("convert", "optimize", "fp32 check", "calibrate", "quantize")


def test_compile_stages_and_files(tiny_compile: tuple[Any, Any]) -> None:
    result, stop = tiny_compile
    done = [s.name for s in result.stages if s.status == "done"]
    assert tuple(done[: len(BEFORE_BACKEND)]) == BEFORE_BACKEND
    if stop is not None:
        # Only a stage after quantization may be missing from this build, and it says which.
        assert result.stages[-1].status == "unavailable"
        assert result.stages[-1].name in ("int8 check", "backend", "translate")
        assert f"stage '{result.stages[-1].name}' is not available" in str(stop)
    work = result.workdir
    for name in (
        "tiny.mlir",
        "tiny_weights.npz",
        "tiny_opt_fp32.mlir",
        "tiny_op_info.csv",
        "tiny_in_fp32.npz",
        "tiny_blobs.npz",
        "tiny_tensor_all_fp32.npz",
        "tiny_fp32_compare.csv",
        "cali_list.txt",
        "tiny_calibration_table",
        "tiny_quant_int8.mlir",
        "tiny_op_info_int8.csv",
        "tpuc_compile.json",
    ):
        assert (work / name).is_file(), name
    assert len((work / "cali_list.txt").read_text().splitlines()) == 6
    modes = [row.split(",")[2] for row in (work / "tiny_op_info_int8.csv").read_text().split()]
    assert modes.count("INT8") >= 5


def test_fp32_check_against_onnxruntime(tiny_compile: tuple[Any, Any]) -> None:
    result, _ = tiny_compile
    check = result.fp32_check
    assert check is not None and check.passed
    names = [m.name for m in check.layers]
    for tensor in ("act1", "conv2", "add", "output"):  # conv1 + relu fuse into act1
        assert tensor in names, (tensor, names)
    assert check.minimum("cosine") > 0.9999
    dump = np.load(result.files["tensor_all_fp32"])
    blobs = np.load(result.files["blobs"])
    np.testing.assert_allclose(
        dump["output"].reshape(-1), blobs["output"].reshape(-1), rtol=1e-4, atol=1e-5
    )


def test_int8_check_when_available(tiny_compile: tuple[Any, Any]) -> None:
    result, stop = tiny_compile
    if result.int8_check is None:
        assert stop is not None and "int8 check" in str(stop)
        pytest.skip(f"INT8 interpreter not in this build: {stop}")
    check = result.int8_check
    assert check.passed
    assert check.minimum("cosine") > 0.9
    assert (result.workdir / "tiny_tensor_all_int8.npz").is_file()
    fp32 = result.interpret(result.files["in_fp32"], precision="fp32")
    int8 = result.interpret(result.files["in_fp32"], precision="int8")
    name = next(iter(fp32))
    a, b = fp32[name].reshape(-1), next(iter(int8.values())).reshape(-1)
    assert float(np.dot(a, b) / (np.linalg.norm(a) * np.linalg.norm(b))) > 0.95


def test_manifest_round_trip(tiny_compile: tuple[Any, Any]) -> None:
    result, _ = tiny_compile
    data = json.loads((result.workdir / "tpuc_compile.json").read_text())
    assert data["name"] == "tiny" and data["chip"] == "cv183x"
    loaded = load_result(result.workdir)
    assert loaded.files == result.files
    assert [m.name for m in loaded.fp32_check.layers] == [m.name for m in result.fp32_check.layers]


def test_failing_fp32_check_names_the_layer(
    tmp_path: Path, tiny_model: Path, tiny_calibration: Path
) -> None:
    # No cosine exceeds 1: the first compared layer fails and the message says why.
    with pytest.raises(CompileError) as error:
        tpuc.compile(
            tiny_model, tiny_calibration, workdir=tmp_path / "w", tolerance_fp32=(1.5, 0.0, 0.0)
        )
    message = str(error.value)
    assert message.startswith("fp32 check (interpreter vs onnxruntime) failed at layer '")
    assert "cosine" in message and "< 1.5" in message and "tiny_fp32_compare.csv" in message
    assert not isinstance(error.value, StageUnavailable)
    stages = error.value.result.stages
    assert [s.status for s in stages] == ["done", "done", "failed"]
    assert not (tmp_path / "w" / "tiny_calibration_table").exists()


def test_compile_command_line(
    tmp_path: Path, tiny_model: Path, tiny_calibration: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code = main(
        [
            "compile",
            str(tiny_model),
            "--calibration-images",
            str(tiny_calibration),
            "--input-num",
            "2",
            "--workdir",
            str(tmp_path / "w"),
            "--no-progress",
            "--calibration-method",
            "max",
            "-o",
            str(tmp_path / "tiny.cvimodel"),
        ]
    )
    out, err = capsys.readouterr()
    assert code in (0, 3), err
    assert "fp32 check  done" in out
    assert "calibrate   done" in out and "from 2 inputs (max)" in out
    if code == 3:
        assert "tpuc compile: stopped: stage '" in err and "is not available" in err
    else:
        assert (tmp_path / "tiny.cvimodel").is_file()


def test_cvimodel_when_available(tiny_compile: tuple[Any, Any]) -> None:
    result, stop = tiny_compile
    if not result.complete:
        assert stop is not None
        pytest.skip(f"no cvimodel from this build: {stop}")
    work = result.workdir
    for name in (
        "tiny_int8_tg_func.mlir",
        "tiny_weight_map.csv",
        "tiny_neuron_map.csv",
        "weight.bin",
        "tiny.cvimodel",
        "tiny_profile.json",
        "tiny_trace.json",
        "tiny_out_cvimodel.npz",
    ):
        assert (work / name).is_file(), name
    assert [s.name for s in result.stages][-3:] == ["backend", "translate", "simulate"]
    assert result.simulation["output_cosine_vs_int8_interpreter"] >= 0.99
    run = result.run(result.files["in_fp32"])
    assert run.cycles == result.simulation["cycles"] > 0
    (ours,) = run.outputs.values()
    (theirs,) = result.interpret(result.files["in_fp32"], precision="int8").values()
    assert ours.size == theirs.size == 10
    assert int(np.argmax(ours)) == int(np.argmax(theirs))


def test_output_range(tmp_path: Path, tiny_model: Path, tiny_calibration: Path) -> None:
    """--output-range: the model's output gets the threshold of its whole calibration range
    instead of the method's (here the 99.99th percentile, just below the maximum)."""
    from tpuc.calibration import CalibrationTable

    def output_entry(**options: Any) -> Any:
        work = tmp_path / f"w{len(options)}"
        try:
            result = tpuc.compile(
                tiny_model, tiny_calibration, workdir=work, method="percentile", **options
            )
        except StageUnavailable as stop:
            result = stop.result
        return CalibrationTable.read(result.files["calibration_table"])["output"], result

    plain, _ = output_entry()
    widened, result = output_entry(output_range=True)
    absmax = max(abs(plain.min), abs(plain.max))
    assert plain.threshold < absmax
    assert widened.threshold == pytest.approx(absmax)
    calibrate = next(s for s in result.stages if s.name == "calibrate")
    assert "output thresholds widened to their range: output" in calibrate.message
