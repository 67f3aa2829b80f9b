"""Calibration of a small conv model through the fp32 interpreter: thresholds agree with the
interpreter's tensors, tables are identical for any number of worker processes, seeded input
selection, images preprocessed as recorded on the model, and the run_calibration command line."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pytest
from calibration_helpers import convert_conv_model, requires_interpreter

pytest.importorskip("tpuc.calibration", reason="tpuc is not installed")

from tpuc.calibration import (  # noqa: E402
    CalibrationTable,
    NonFiniteActivationError,
    calibrate,
    inspect_module,
    parse_module,
)
from tpuc.tools import run_calibration  # noqa: E402

pytestmark = requires_interpreter

SAMPLES = 10


@pytest.fixture(scope="module")
def model(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("model")
    return convert_conv_model(folder)


@pytest.fixture(scope="module")
def npy_inputs(tmp_path_factory: pytest.TempPathFactory) -> list[str]:
    folder = tmp_path_factory.mktemp("inputs")
    rng = np.random.default_rng(11)
    paths = []
    for i in range(SAMPLES):
        path = folder / f"in{i}.npy"
        scale = 0.5 + i * 0.2
        np.save(path, (rng.normal(size=(1, 3, 16, 16)) * scale).astype(np.float32))
        paths.append(str(path))
    return paths


def test_max_thresholds_are_the_interpreter_abs_max(model: Path, npy_inputs: list[str]) -> None:
    from tpuc import interpreter

    table = calibrate(model, npy_inputs, "max")
    names = inspect_module(parse_module(model)).layer_names
    assert list(table) == names
    low = {name: np.inf for name in names}
    high = {name: -np.inf for name in names}
    for path in npy_inputs:
        dumps = interpreter.run(str(model), {"data": np.load(path)}, dump_all=True)
        for name in names:
            low[name] = min(low[name], float(dumps[name].min()))
            high[name] = max(high[name], float(dumps[name].max()))
    for name in names:
        entry = table[name]
        assert (entry.min, entry.max) == (low[name], high[name]), name
        assert entry.threshold == max(abs(low[name]), abs(high[name])), name
    assert table.metadata["sample number"] == str(SAMPLES)


def test_tables_do_not_depend_on_jobs(model: Path, npy_inputs: list[str]) -> None:
    serial = calibrate(model, npy_inputs, "kl", jobs=1)
    assert calibrate(model, npy_inputs, "kl", jobs=2) == serial
    assert calibrate(model, npy_inputs, "kl", jobs=3) == serial
    module = parse_module(model)
    assert calibrate(module, npy_inputs, "kl", jobs=2) == serial
    percentile = calibrate(model, npy_inputs, "percentile", percentile=99.9, jobs=1)
    assert calibrate(model, npy_inputs, "percentile", percentile=99.9, jobs=2) == percentile


def test_thresholds_lie_inside_the_observed_range(model: Path, npy_inputs: list[str]) -> None:
    maxima = calibrate(model, npy_inputs, "max")
    for method in ("kl", "percentile"):
        table = calibrate(model, npy_inputs, method)
        for name, entry in table.items():
            assert 0.0 < entry.threshold <= maxima.threshold(name) * (1 + 1e-12), (method, name)
            assert (entry.min, entry.max) == (maxima[name].min, maxima[name].max)
    # The ReLU output is half zeros with a long tail: KL clips part of the tail.
    kl = calibrate(model, npy_inputs, "kl")
    assert kl.threshold("relu1") < maxima.threshold("relu1")


def test_seeded_selection_picks_the_same_inputs(model: Path, npy_inputs: list[str]) -> None:
    from tpuc.calibration import select_samples

    chosen = select_samples(npy_inputs, 4, seed=9)
    picked = calibrate(model, npy_inputs, "kl", input_num=4, seed=9)
    assert picked == calibrate(model, [npy_inputs[i] for i in chosen], "kl")
    assert picked == calibrate(model, npy_inputs, "kl", input_num=4, seed=9, jobs=2)
    assert calibrate(model, npy_inputs, "kl", input_num=4) == calibrate(model, npy_inputs[:4])


def test_arrays_and_files_give_the_same_table(model: Path, npy_inputs: list[str]) -> None:
    arrays = [np.load(path)[0] for path in npy_inputs]  # without the batch dimension
    assert calibrate(model, arrays, "kl") == calibrate(model, npy_inputs, "kl")
    assert calibrate(model, [{"data": a} for a in arrays], "max") == calibrate(
        model, npy_inputs, "max"
    )


def test_images_are_preprocessed_as_recorded(tmp_path: Path) -> None:
    image_module = pytest.importorskip("PIL.Image", reason="reading images needs Pillow")
    frontend = pytest.importorskip("tpuc.frontend", reason="the ONNX frontend is not available")
    preprocess = frontend.Preprocess(mean=(123.675, 116.28, 103.53), std=(58.395, 57.12, 57.375))
    model = convert_conv_model(tmp_path, preprocess)
    paths = []
    for i, pixels in enumerate(sample_images()):
        path = tmp_path / f"img{i}.png"
        image_module.fromarray(pixels).resize((16, 16)).save(path)
        paths.append(str(path))
    from_images = calibrate(model, paths, "kl", jobs=2)
    (pre,) = frontend.preprocess_of(model).values()
    arrays = [pre.apply(p) for p in paths]
    assert from_images == calibrate(model, arrays, "kl")
    data = from_images["data"]
    # ImageNet normalisation of 0..255 pixels spans about [-2.12, 2.64].
    assert -2.2 < data.min < 0.0 < data.max < 2.7


def sample_images() -> list[np.ndarray]:
    """A few RGB images shipped with scikit-image, or synthetic gradients without it."""
    try:
        from skimage import data
    except ImportError:
        ramp = np.linspace(0, 255, 64, dtype=np.float32)
        return [
            np.stack([np.add.outer(ramp, ramp * k) % 256] * 3, axis=-1).astype(np.uint8)
            for k in (0.5, 1.0, 2.0, 3.0)
        ]
    return [data.astronaut(), data.chelsea(), data.coffee(), data.rocket()]


def test_non_finite_inputs_name_the_tensor(model: Path) -> None:
    bad = np.zeros((3, 16, 16), dtype=np.float32)
    bad[0, 0, 0] = np.nan
    with pytest.raises(NonFiniteActivationError, match="'data'.*input #1"):
        calibrate(model, [np.ones((3, 16, 16), np.float32), bad], "max")


def test_command_line_writes_a_complete_table(
    model: Path, npy_inputs: list[str], tmp_path: Path, capsys: Any
) -> None:
    listing = tmp_path / "cali_list.txt"
    listing.write_text("".join(f"{p}\n" for p in npy_inputs))
    tables = []
    for jobs in ("1", "2"):
        out = tmp_path / f"table_{jobs}"
        code = run_calibration.main(
            [str(model), str(listing), "--calibration_table", str(out), "--input_num=6",
             "--jobs", jobs, "--no_progress"]
        )  # fmt: skip
        assert code == 0, capsys.readouterr().err
        assert f"wrote 10 thresholds (kl, 6 inputs) to {out}" in capsys.readouterr().out
        tables.append(CalibrationTable.read(out))
    assert tables[0] == tables[1]
    table = tables[0]
    table.check_complete(inspect_module(parse_module(model)).layer_names)
    assert table.metadata["file"] == "net.mlir"
    assert table.metadata["histogram number"] == "2048"
    assert table.metadata["sample number"] == "6"
    assert all(entry.min is not None for entry in table.values())
    assert table == calibrate(model, npy_inputs[:6], "kl")


def test_kl_thresholds_follow_the_documented_recipe(model: Path, npy_inputs: list[str]) -> None:
    """KL on the 2048-bin histogram over [0, absmax] of the non-zero values; percentile on all."""
    from tpuc import interpreter
    from tpuc.calibration.statistics import histogram_abs
    from tpuc.calibration.thresholds import kl_threshold, percentile_threshold

    kl = calibrate(model, npy_inputs, "kl")
    percentile = calibrate(model, npy_inputs, "percentile", percentile=99.5)
    dumps = [
        interpreter.run(str(model), {"data": np.load(path)}, dump_all=True) for path in npy_inputs
    ]
    for name in ("relu1", "conv2", "pool1"):
        values = np.concatenate([d[name].ravel() for d in dumps])
        absmax = float(np.abs(values).max())
        width = absmax / 2048
        nonzero = values[values != 0]
        expected = kl_threshold(histogram_abs(nonzero, absmax, 2048), width)
        assert kl.threshold(name) == pytest.approx(expected, rel=1e-12), name
        expected = percentile_threshold(histogram_abs(values, absmax, 2048), width, 99.5)
        assert percentile.threshold(name) == pytest.approx(expected, rel=1e-12), name
    relu = np.concatenate([d["relu1"].ravel() for d in dumps])
    assert np.mean(relu == 0) > 0.3  # the case the zero exclusion is for


def test_custom_ops_run_through_the_interpreter(tmp_path: Path) -> None:
    from calibration_helpers import CUSTOM_OP_MODEL, leaky_relu
    from tpuc.calibration import CalibrationError

    model = tmp_path / "custom.mlir"
    model.write_text(CUSTOM_OP_MODEL)
    rng = np.random.default_rng(5)
    inputs = [rng.normal(size=(1, 4, 8, 8)).astype(np.float32) for _ in range(4)]
    table = calibrate(model, inputs, "max", custom_ops={"leaky_relu": leaky_relu})
    assert list(table) == ["data", "lrelu", "out"]
    stacked = np.concatenate(inputs)
    expected = np.where(stacked >= 0, stacked, stacked * 0.125)
    assert (table["lrelu"].min, table["lrelu"].max) == pytest.approx(
        (float(expected.min()), float(expected.max()))
    )
    assert table["out"].min == 0.0
    parallel = calibrate(model, inputs, "max", jobs=2, custom_ops={"leaky_relu": leaky_relu})
    assert parallel == table
    with pytest.raises(CalibrationError, match="interpreter"):
        calibrate(model, inputs, "max")
    with pytest.raises(CalibrationError, match="custom-op plugin '.*missing.so' not found"):
        calibrate(model, inputs, "max", custom_op_plugin=tmp_path / "missing.so")
