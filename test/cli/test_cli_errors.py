"""The errors users meet with `tpuc compile / run / report`: each names what is wrong."""

from __future__ import annotations

from pathlib import Path

import pytest
from cli_helpers import calibration_folder, tiny_onnx
from tpuc.cli import main


def run_cli(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str]:
    code = main([str(a) for a in args])
    captured = capsys.readouterr()
    return code, captured.err


def test_missing_calibration_folder(tmp_path: Path, tiny_model: Path, capsys) -> None:
    code, err = run_cli(
        capsys,
        "compile",
        tiny_model,
        "--calibration-images",
        tmp_path / "nowhere",
        "--workdir",
        tmp_path / "w",
        "--no-progress",
    )
    assert code == 1
    assert f"calibration images folder '{tmp_path / 'nowhere'}' does not exist" in err


def test_empty_calibration_folder(tmp_path: Path, tiny_model: Path, capsys) -> None:
    empty = tmp_path / "empty"
    empty.mkdir()
    (empty / "notes.txt").write_text("not an input")
    code, err = run_cli(
        capsys,
        "compile",
        tiny_model,
        "--calibration-images",
        empty,
        "--workdir",
        tmp_path / "w",
        "--no-progress",
    )
    assert code == 1
    assert f"calibration images folder '{empty}' holds no input file" in err
    assert ".npz" in err


def test_calibration_path_is_a_file(tmp_path: Path, tiny_model: Path, capsys) -> None:
    code, err = run_cli(
        capsys, "compile", tiny_model, "--calibration-images", tiny_model, "--no-progress"
    )
    assert code == 1
    assert "is not a folder" in err


def test_missing_model(tmp_path: Path, tiny_calibration: Path, capsys) -> None:
    code, err = run_cli(
        capsys,
        "compile",
        tmp_path / "absent.onnx",
        "--calibration-images",
        tiny_calibration,
        "--no-progress",
    )
    assert code == 1
    assert f"model file '{tmp_path / 'absent.onnx'}' does not exist" in err


def test_bad_model_file(tmp_path: Path, tiny_calibration: Path, capsys) -> None:
    bad = tmp_path / "bad.onnx"
    bad.write_bytes(b"this is not a protobuf \x00\xff\x13")
    code, err = run_cli(
        capsys,
        "compile",
        bad,
        "--calibration-images",
        tiny_calibration,
        "--workdir",
        tmp_path / "w",
        "--no-progress",
    )
    assert code == 1
    assert f"{bad}" in err and "ONNX model" in err
    stages = (tmp_path / "w" / "tpuc_compile.json").read_text()
    assert '"status": "failed"' in stages


def test_unsupported_onnx_op(tmp_path: Path, tiny_calibration: Path, capsys) -> None:
    model = tiny_onnx(tmp_path / "odd.onnx", op="Erf")
    code, err = run_cli(
        capsys,
        "compile",
        model,
        "--calibration-images",
        tiny_calibration,
        "--workdir",
        tmp_path / "w",
        "--no-progress",
    )
    assert code == 1
    assert "ONNX op type 'Erf' is not supported" in err
    assert "custom op" in err


def test_missing_plugin(tmp_path: Path, tiny_model: Path, tiny_calibration: Path, capsys) -> None:
    plugin = tmp_path / "libMissingPlugin.so"
    code, err = run_cli(
        capsys,
        "compile",
        tiny_model,
        "--calibration-images",
        tiny_calibration,
        "--custom-op-plugin",
        plugin,
        "--no-progress",
    )
    assert code == 1
    assert f"custom-op plugin '{plugin}' does not exist" in err


def test_missing_runtime_lib(
    tmp_path: Path, tiny_model: Path, tiny_calibration: Path, capsys
) -> None:
    lib = tmp_path / "libMissingRuntime.so"
    code, err = run_cli(
        capsys,
        "compile",
        tiny_model,
        "--calibration-images",
        tiny_calibration,
        "--custom-runtime-lib",
        lib,
        "--no-progress",
    )
    assert code == 1
    assert f"custom runtime library '{lib}' does not exist" in err


def test_unsupported_chip(tmp_path: Path, tiny_model: Path, tiny_calibration: Path, capsys) -> None:
    code, err = run_cli(
        capsys,
        "compile",
        tiny_model,
        "--calibration-images",
        tiny_calibration,
        "--chip",
        "cv182x",
        "--no-progress",
    )
    assert code == 1
    assert "chip 'cv182x' is not supported" in err


def test_bad_tolerance(tmp_path: Path, tiny_model: Path, tiny_calibration: Path, capsys) -> None:
    code, err = run_cli(
        capsys,
        "compile",
        tiny_model,
        "--calibration-images",
        tiny_calibration,
        "--tolerance-fp32",
        "0.9,0.9",
        "--no-progress",
    )
    assert code == 1
    assert "three numbers cos,corr,euclid" in err


def test_calibration_input_of_wrong_shape(tmp_path: Path, tiny_model: Path, capsys) -> None:
    import numpy as np

    folder = calibration_folder(tmp_path / "cali", count=2)
    np.savez(folder / "wrong.npz", input=np.zeros((1, 3, 8, 8), np.float32))
    code, err = run_cli(
        capsys,
        "compile",
        tiny_model,
        "--calibration-images",
        folder,
        "--workdir",
        tmp_path / "w",
        "--no-progress",
    )
    assert code == 1
    assert "wrong.npz" in err and "[1, 3, 8, 8]" in err and "[1, 3, 16, 16]" in err


def test_bad_cvimodel(tmp_path: Path, capsys) -> None:
    bad = tmp_path / "bad.cvimodel"
    bad.write_bytes(b"CviModel" + b"\x00" * 20)
    inputs = tmp_path / "in.npz"
    import numpy as np

    np.savez(inputs, input=np.zeros((1, 3, 4, 4), np.float32))
    code, err = run_cli(capsys, "run", bad, "--input", inputs)
    assert code == 1
    assert f"cannot load '{bad}' as a cvimodel" in err


def test_missing_cvimodel(tmp_path: Path, capsys) -> None:
    code, err = run_cli(capsys, "run", tmp_path / "none.cvimodel", "--input", "x.npz")
    assert code == 1
    assert "does not exist" in err


def test_run_missing_input(r18: Path, tmp_path: Path, capsys) -> None:
    code, err = run_cli(
        capsys, "run", r18 / "r18_half_112_cv183x_int8.cvimodel", "--input", tmp_path / "absent.npz"
    )
    assert code == 1
    assert f"input file '{tmp_path / 'absent.npz'}' does not exist" in err


def test_run_npz_with_wrong_names(r18: Path, tmp_path: Path, capsys) -> None:
    import numpy as np

    inputs = tmp_path / "in.npz"
    np.savez(
        inputs, a=np.zeros((1, 3, 112, 112), np.float32), b=np.zeros((1, 3, 112, 112), np.float32)
    )
    code, err = run_cli(capsys, "run", r18 / "r18_half_112_cv183x_int8.cvimodel", "--input", inputs)
    assert code == 1
    assert "has arrays ['a', 'b'], the model's inputs are ['input']" in err


def test_run_image_without_preprocessing(r18: Path, tmp_path: Path, capsys) -> None:
    pytest.importorskip("PIL")
    import numpy as np
    from PIL import Image

    image = tmp_path / "img.png"
    Image.fromarray(np.zeros((32, 32, 3), np.uint8)).save(image)
    code, err = run_cli(capsys, "run", r18 / "r18_half_112_cv183x_int8.cvimodel", "--input", image)
    assert code == 1
    assert "records no preprocessing for images" in err and "--workdir" in err


def test_report_of_empty_folder(tmp_path: Path, capsys) -> None:
    code, err = run_cli(capsys, "report", tmp_path)
    assert code == 1
    assert "holds nothing to report" in err


def test_report_of_missing_folder(tmp_path: Path, capsys) -> None:
    code, err = run_cli(capsys, "report", tmp_path / "nowhere")
    assert code == 1
    assert "does not exist" in err
