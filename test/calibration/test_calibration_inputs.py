"""Calibration inputs: data lists, seeded sample selection, and loading .npy/.npz/arrays/images
into model input arrays with clear errors."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

pytest.importorskip("tpuc.calibration", reason="tpuc is not installed")

from tpuc.calibration.inputs import InputError, load_item, read_data_list, select_samples  # noqa: E402
from tpuc.calibration.model import ModelInput  # noqa: E402

DATA = ModelInput("data", (1, 3, 4, 4), "f32")
TWO_INPUTS = (ModelInput("a", (1, 2), "f32"), ModelInput("b", (1, 3, 2, 2), "f32"))


def test_data_list_skips_comments_and_resolves_relative_paths(tmp_path: Path) -> None:
    listing = tmp_path / "lists" / "cali_list.txt"
    listing.parent.mkdir()
    listing.write_text("# calibration images\n\nimg/a.jpg\n  /abs/b.npz  \n#c.jpg\n")
    assert read_data_list(listing) == [str(listing.parent / "img" / "a.jpg"), "/abs/b.npz"]


def test_data_list_errors(tmp_path: Path) -> None:
    with pytest.raises(InputError, match="cannot read data list"):
        read_data_list(tmp_path / "missing.txt")
    empty = tmp_path / "empty.txt"
    empty.write_text("# nothing\n\n")
    with pytest.raises(InputError, match="lists no inputs"):
        read_data_list(empty)


def test_sample_selection_is_seeded_and_ordered() -> None:
    items = [f"{i}.jpg" for i in range(100)]
    assert select_samples(items, 5) == [0, 1, 2, 3, 4]
    assert select_samples(items, None) == list(range(100))
    assert select_samples(items, 0) == list(range(100))
    picked = select_samples(items, 10, seed=3)
    assert picked == select_samples(items, 10, seed=3)
    assert picked == sorted(picked) and len(set(picked)) == 10
    assert picked != select_samples(items, 10, seed=4)
    assert picked != list(range(10))
    with pytest.raises(InputError, match="--input_num=101 but only 100"):
        select_samples(items, 101)
    with pytest.raises(InputError, match="no calibration inputs"):
        select_samples([], 1)


def test_npy_and_npz_inputs(tmp_path: Path) -> None:
    array = np.arange(48, dtype=np.float64).reshape(3, 4, 4)
    np.save(tmp_path / "x.npy", array)
    loaded = load_item(tmp_path / "x.npy", (DATA,))
    assert loaded["data"].shape == (1, 3, 4, 4) and loaded["data"].dtype == np.float32
    np.testing.assert_array_equal(loaded["data"][0], array)
    np.savez(tmp_path / "one.npz", whatever=array[None])
    np.testing.assert_array_equal(load_item(tmp_path / "one.npz", (DATA,))["data"][0], array)
    np.savez(tmp_path / "two.npz", a=np.ones((1, 2)), b=np.zeros((3, 2, 2)), extra=np.ones(1))
    both = load_item(str(tmp_path / "two.npz"), TWO_INPUTS)
    assert both["a"].shape == (1, 2) and both["b"].shape == (1, 3, 2, 2)


def test_in_memory_inputs() -> None:
    array = np.ones((1, 3, 4, 4), dtype=np.float16)
    assert load_item(array, (DATA,))["data"].dtype == np.float32
    feeds = load_item({"a": np.ones((1, 2)), "b": np.ones((1, 3, 2, 2))}, TWO_INPUTS)
    assert set(feeds) == {"a", "b"}


@pytest.mark.parametrize(
    ("make", "inputs", "message"),
    [
        (lambda d: np.ones((1, 3, 5, 4)), (DATA,), r"shape \[1, 3, 5, 4\], the model expects"),
        (lambda d: np.ones((3, 4, 4)), TWO_INPUTS, "the model has 2 inputs"),
        (lambda d: {"a": np.ones((1, 2))}, TWO_INPUTS, "no array named 'b'"),
        (lambda d: d / "missing.npy", (DATA,), "file not found"),
        (lambda d: 42, (DATA,), "expected a path, an array or a dict"),
        (lambda d: np.array(["x"] * 48).reshape(1, 3, 4, 4), (DATA,), "dtype"),
    ],
)
def test_bad_inputs_are_reported(tmp_path: Path, make, inputs, message: str) -> None:  # noqa: ANN001
    with pytest.raises(InputError, match=message):
        load_item(make(tmp_path), inputs, "input #7")


def test_corrupt_array_files(tmp_path: Path) -> None:
    (tmp_path / "bad.npy").write_bytes(b"not numpy")
    with pytest.raises(InputError, match="cannot read .npy"):
        load_item(tmp_path / "bad.npy", (DATA,))
    (tmp_path / "bad.npz").write_bytes(b"not a zip")
    with pytest.raises(InputError, match="cannot read .npz"):
        load_item(tmp_path / "bad.npz", (DATA,))


def test_images_use_the_recorded_preprocessing(tmp_path: Path) -> None:
    pytest.importorskip("PIL", reason="reading images needs Pillow")
    preprocess_module = pytest.importorskip(
        "tpuc.frontend.preprocess", reason="the frontend's preprocessing is not available"
    )
    from PIL import Image

    pixels = np.random.default_rng(0).integers(0, 256, size=(4, 4, 3), dtype=np.uint8)
    Image.fromarray(pixels).save(tmp_path / "img.png")
    recorded = {"mean": [10.0, 20.0, 30.0], "scale": [0.5, 0.25, 0.125], "channel_order": "bgr"}
    model_input = ModelInput("data", (1, 3, 4, 4), "f32", recorded)
    got = load_item(tmp_path / "img.png", (model_input,))["data"]
    expected = preprocess_module.Preprocess.from_dict(recorded).apply(pixels)
    np.testing.assert_array_equal(got, expected)
    # Spot check one value by hand: channel 0 is blue in BGR order.
    assert got[0, 0, 1, 2] == pytest.approx((pixels[1, 2, 2] - 10.0) * 0.5)
    wrong_size = ModelInput("data", (1, 3, 8, 8), "f32", recorded)
    size_error = "cannot preprocess image|preprocessed with the settings recorded on 'data'"
    with pytest.raises(InputError, match=size_error):
        load_item(tmp_path / "img.png", (wrong_size,))
    (tmp_path / "broken.jpg").write_bytes(b"no image")
    with pytest.raises(InputError, match="cannot preprocess image"):
        load_item(tmp_path / "broken.jpg", (model_input,))
