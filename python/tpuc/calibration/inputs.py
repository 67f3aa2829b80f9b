"""Calibration inputs: data lists, sample selection and turning one item into model input arrays.

An item is one of
- the path of an image: preprocessed for the model's single `tpu.input` with the settings recorded
  on its `preprocess` attribute (`tpuc.frontend.preprocess.Preprocess`: resize, centre crop to
  the input's height and width, channel order, mean and scale);
- the path of a `.npy` file (single-input models) or a `.npz` file (arrays named after the
  `tpu.input` names; a single-input model also accepts an npz holding exactly one array);
- an in-memory numpy array (single-input models) or a dict input name -> array.
An array must have the input's shape, or that shape without its leading batch dimension of 1.
"""

from __future__ import annotations

import inspect
import os
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from .model import ModelInput

ARRAY_SUFFIXES = (".npy", ".npz")

Item = str | os.PathLike[str] | np.ndarray | Mapping[str, np.ndarray]


class InputError(ValueError):
    """A calibration input cannot be read or does not fit the model."""


def read_data_list(path: str | os.PathLike[str]) -> list[str]:
    """Paths listed one per line; blank lines and `#` lines are skipped. Relative paths are taken
    relative to the folder of the list file."""
    list_path = Path(path)
    try:
        lines = list_path.read_text().splitlines()
    except OSError as error:
        raise InputError(
            f"cannot read data list '{list_path}': {error.strerror or error}"
        ) from None
    except UnicodeDecodeError:
        raise InputError(f"data list '{list_path}' is not a text file") from None
    base = list_path.parent
    items = []
    for line in lines:
        entry = line.strip()
        if not entry or entry.startswith("#"):
            continue
        item = Path(entry)
        items.append(str(item if item.is_absolute() else base / item))
    if not items:
        raise InputError(f"data list '{list_path}' lists no inputs")
    return items


def select_samples(
    items: Sequence[Item], input_num: int | None = None, seed: int | None = None
) -> list[int]:
    """Indices of the items to calibrate on.

    Without `seed`: the first `input_num` items (all if None) in list order. With `seed`: a
    random choice of `input_num` items drawn by numpy's default generator seeded with `seed`, kept
    in list order, so the same list and seed always pick the same inputs."""
    count = len(items)
    if count == 0:
        raise InputError("no calibration inputs given")
    if input_num is None or input_num <= 0:
        input_num = count
    if input_num > count:
        raise InputError(f"--input_num={input_num} but only {count} input(s) are listed")
    if seed is None:
        return list(range(input_num))
    rng = np.random.default_rng(seed)
    return sorted(int(i) for i in rng.choice(count, size=input_num, replace=False))


def describe(item: Item, index: int) -> str:
    """A short label of an item for messages."""
    if isinstance(item, str | os.PathLike):
        return f"input #{index} '{item}'"
    return f"input #{index} (in-memory)"


def load_item(item: Item, inputs: Sequence[ModelInput], label: str = "") -> dict[str, np.ndarray]:
    """The model input arrays (float32, exact input shapes) for one item."""
    label = label or "input"
    if isinstance(item, np.ndarray):
        return {_single(inputs, label).name: _fit(item, _single(inputs, label), label)}
    if isinstance(item, Mapping):
        return _from_mapping(item, inputs, label)
    if not isinstance(item, str | os.PathLike):
        raise InputError(
            f"{label}: expected a path, an array or a dict of arrays, got {type(item)}"
        )
    path = Path(item)
    if not path.is_file():
        raise InputError(f"{label}: file not found")
    suffix = path.suffix.lower()
    if suffix == ".npy":
        try:
            array = np.load(path, allow_pickle=False)
        except (OSError, ValueError) as error:
            raise InputError(f"{label}: cannot read .npy file: {error}") from None
        return {_single(inputs, label).name: _fit(array, _single(inputs, label), label)}
    if suffix == ".npz":
        try:
            with np.load(path, allow_pickle=False) as archive:
                arrays = {key: archive[key] for key in archive.files}
        except (OSError, ValueError) as error:
            raise InputError(f"{label}: cannot read .npz file: {error}") from None
        return _from_mapping(arrays, inputs, label)
    return {_single(inputs, label).name: _image(path, _single(inputs, label), label)}


def _single(inputs: Sequence[ModelInput], label: str) -> ModelInput:
    if len(inputs) != 1:
        names = ", ".join(i.name for i in inputs)
        raise InputError(
            f"{label}: the model has {len(inputs)} inputs ({names}); give .npz files or dicts "
            "holding one array per input name"
        )
    return inputs[0]


def _from_mapping(
    arrays: Mapping[str, Any], inputs: Sequence[ModelInput], label: str
) -> dict[str, np.ndarray]:
    if len(inputs) == 1 and len(arrays) == 1:
        (array,) = arrays.values()
        return {inputs[0].name: _fit(np.asarray(array), inputs[0], label)}
    result = {}
    for model_input in inputs:
        if model_input.name not in arrays:
            names = list(arrays)
            shown = ", ".join(names[:8]) + (
                f", ... ({len(names)} arrays)" if len(names) > 8 else ""
            )
            raise InputError(
                f"{label}: no array named '{model_input.name}' (has: {shown or 'none'})"
            )
        result[model_input.name] = _fit(np.asarray(arrays[model_input.name]), model_input, label)
    return result


def _fit(array: np.ndarray, model_input: ModelInput, label: str) -> np.ndarray:
    shape = tuple(model_input.shape)
    if not np.issubdtype(array.dtype, np.number) and array.dtype != np.bool_:
        raise InputError(f"{label}: array for '{model_input.name}' has dtype {array.dtype}")
    if array.shape != shape:
        if len(shape) >= 1 and shape[0] == 1 and array.shape == shape[1:]:
            array = array.reshape(shape)
        else:
            raise InputError(
                f"{label}: array for '{model_input.name}' has shape {list(array.shape)}, "
                f"the model expects {list(shape)}"
            )
    return np.ascontiguousarray(array, dtype=np.float32)


def _image(path: Path, model_input: ModelInput, label: str) -> np.ndarray:
    try:
        from ..frontend.preprocess import Preprocess
    except ImportError as error:
        raise InputError(
            f"{label}: image inputs need the frontend's preprocessing (tpuc.frontend.preprocess), "
            f"which cannot be imported ({error}); give .npy/.npz files instead"
        ) from None
    try:
        if "input_shape" in inspect.signature(Preprocess.from_dict).parameters:
            preprocess = Preprocess.from_dict(model_input.preprocess, input_shape=model_input.shape)
        else:
            preprocess = Preprocess.from_dict(model_input.preprocess)
        array = preprocess.apply(path)
    except (OSError, ValueError, ImportError) as error:
        raise InputError(f"{label}: cannot preprocess image: {error}") from None
    expected = tuple(model_input.shape)
    if array.shape != expected and not (expected[:1] == (1,) and array.shape == expected[1:]):
        raise InputError(
            f"{label}: the image preprocessed with the settings recorded on '{model_input.name}' "
            f"({model_input.preprocess or 'none'}) has shape {list(array.shape)}, the model "
            f"expects {list(expected)}"
        )
    return _fit(np.asarray(array), model_input, label)
