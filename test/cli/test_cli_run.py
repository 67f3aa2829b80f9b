"""`tpuc run` on the simulator: the vendor-compiled ResNet18-shaped cvimodel from an npz, with
the outputs, top-5 and the cycle model's latency."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from tpuc.cli import main
from tpuc.cli.run import format_result, run_model

MODEL = "r18_half_112_cv183x_int8.cvimodel"


def test_run_matches_vendor_simulator(r18: Path, tmp_path: Path) -> None:
    result = run_model(
        r18 / MODEL,
        r18 / "r18_half_112_in_f32.npz",
        profile_json=tmp_path / "p.json",
        trace_json=tmp_path / "t.json",
    )
    vendor = np.load(r18 / "r18_half_112_cv183x_int8_runner_out.npz")
    (name,) = result.outputs
    assert name in vendor.files
    np.testing.assert_array_equal(result.outputs[name].reshape(-1), vendor[name].reshape(-1))
    profile = json.loads((tmp_path / "p.json").read_text())
    assert result.cycles == profile["total_cycles"] > 0
    assert result.latency_ms == pytest.approx(profile["total_cycles"] / 650e3)
    trace = json.loads((tmp_path / "t.json").read_text())
    assert any(e.get("ph") == "X" for e in trace["traceEvents"])
    top = result.top_k(5)
    assert len(top) == 5 and top[0][1] >= top[-1][1]
    scores = result.outputs[name].reshape(-1)
    assert top[0][0] == int(np.argmax(scores))


def test_run_command_prints_top5_and_latency(
    r18: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    work = tmp_path / "w"
    code = main(
        [
            "run",
            str(r18 / MODEL),
            "--input",
            str(r18 / "r18_half_112_in_f32.npz"),
            "--workdir",
            str(work),
            "--output",
            str(tmp_path / "out.npz"),
            "--labels",
            "none",
        ]
    )
    out = capsys.readouterr().out
    assert code == 0
    assert "output 'output_Gemm_f32': shape [1, 1000, 1, 1]" in out
    assert out.count("  top-") == 5
    assert "simulated CV183x latency: " in out and " ms at 650 MHz" in out
    assert (work / "r18_half_112_cv183x_int8_profile.json").is_file()
    assert (work / "r18_half_112_cv183x_int8_trace.json").is_file()
    assert "output_Gemm_f32" in np.load(tmp_path / "out.npz").files


def test_labels_file(r18: Path, tmp_path: Path) -> None:
    labels = tmp_path / "labels.txt"
    labels.write_text("".join(f"class_{i}\n" for i in range(1000)))
    result = run_model(r18 / MODEL, r18 / "r18_half_112_in_f32.npz", profile=False)
    text = format_result(result, str(labels))
    best = result.top_k(1)[0][0]
    assert f"top-1: class {best:>4} class_{best} " in text
    assert "latency" not in text
    short = tmp_path / "short.txt"
    short.write_text("a\nb\n")
    from tpuc.cli import CliError

    with pytest.raises(CliError, match="has 2 names, the output has 1000"):
        format_result(result, str(short))


class _FakeModel:
    """The part of tpuc.runtime.Model that model_feeds reads: the input tensors."""

    def __init__(self, name: str, shape: tuple[int, ...]) -> None:
        from tpuc.runtime import TensorInfo

        self.inputs = [TensorInfo(name, "fp32", shape, 1.0, 0.0, "io_mem0", 0, 0, False)]


def test_image_preprocessed_as_the_compile_recorded(tmp_path: Path) -> None:
    """An image given to `tpuc run --workdir` is preprocessed as recorded on the compiled
    module's tpu.input (resize, crop, mean, std)."""
    pytest.importorskip("PIL")
    import tpuc
    from cli_helpers import calibration_folder, tiny_onnx
    from PIL import Image
    from tpuc.cli import StageUnavailable
    from tpuc.cli.run import model_feeds
    from tpuc.frontend import Preprocess

    pre = Preprocess(mean=(120.0, 110.0, 100.0), std=(60.0, 50.0, 40.0), resize=20)
    work = tmp_path / "w"
    try:
        tpuc.compile(
            tiny_onnx(tmp_path / "tiny.onnx"),
            calibration_folder(tmp_path / "cali", 2),
            workdir=work,
            preprocess=pre,
            input_num=1,
        )
    except StageUnavailable:
        pass
    rng = np.random.default_rng(3)
    pixels = rng.integers(0, 256, (30, 40, 3), dtype=np.uint8)
    image = tmp_path / "photo.png"
    Image.fromarray(pixels).save(image)
    model = tmp_path / "tiny.cvimodel"
    model.write_bytes(b"")
    feeds = model_feeds(model, _FakeModel("input", (1, 3, 16, 16)), image, work)
    expected = pre.with_input_shape([1, 3, 16, 16]).apply(pixels)
    np.testing.assert_allclose(feeds["input"], expected, rtol=1e-6, atol=1e-5)
    assert feeds["input"].shape == (1, 3, 16, 16)
