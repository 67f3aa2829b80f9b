"""Shared parts of the INT8 accuracy benches: sample images and their crops, conversion,
calibration, `tpu-quant`, running fp32 and INT8 modules on the interpreter.

Sample images (no download): 21 bundled with scikit-image, 3 with matplotlib, 2 with
scikit-learn (26 in all when the three packages are installed).

Evaluation inputs of an image: shorter side resized to 256, five 224 crops (centre, four
corners), each also mirrored (10 per image). Calibration inputs: shorter side resized to 288,
seeded random 224 crops, half of them mirrored: other pixels than the evaluation crops.
"""

from __future__ import annotations

import json
import re
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))

IMAGENET_MEAN = (123.675, 116.28, 103.53)  # raw pixel units (0..255)
IMAGENET_STD = (58.395, 57.12, 57.375)
SKIMAGE_NAMES = (
    "astronaut", "chelsea", "coffee", "rocket", "hubble_deep_field", "horse", "camera", "coins",
    "clock", "brick", "grass", "gravel", "retina", "cell", "immunohistochemistry", "moon", "page",
    "text", "logo", "colorwheel", "stereo_motorcycle",
)  # fmt: skip
MATPLOTLIB_NAMES = ("grace_hopper.jpg", "Minduka_Present_Blue_Pack.png", "logo2.png")


class BenchUnavailable(RuntimeError):
    """A package or tool the bench needs is missing; the message says which."""


def to_rgb(pixels: np.ndarray) -> np.ndarray:
    if pixels.dtype == np.bool_:
        pixels = pixels.astype(np.uint8) * 255
    if pixels.ndim == 2:
        pixels = np.stack([pixels] * 3, axis=-1)
    return np.ascontiguousarray(pixels[:, :, :3]).astype(np.uint8)


def sample_images(limit: int | None = None) -> list[tuple[str, np.ndarray]]:
    """(name, RGB uint8 pixels) of the sample images of the installed packages."""
    images: list[tuple[str, np.ndarray]] = []
    try:
        from skimage import data
    except ImportError as error:
        raise BenchUnavailable(f"scikit-image is not installed ({error})") from error
    for name in SKIMAGE_NAMES:
        loader = getattr(data, name, None)
        if loader is None:
            continue
        try:
            pixels = loader()
        except Exception:  # a data file missing from this scikit-image build
            continue
        if isinstance(pixels, tuple):  # stereo pair: the left view
            pixels = pixels[0]
        images.append((name, to_rgb(np.asarray(pixels))))
    try:
        import matplotlib.cbook
        from PIL import Image

        for name in MATPLOTLIB_NAMES:
            try:
                with matplotlib.cbook.get_sample_data(name) as handle:
                    images.append((name, to_rgb(np.asarray(Image.open(handle).convert("RGB")))))
            except (OSError, ValueError):
                continue
    except ImportError:
        pass
    try:
        from sklearn.datasets import load_sample_images

        sample = load_sample_images()
        for name, pixels in zip(sample.filenames, sample.images, strict=True):
            images.append((Path(name).name, to_rgb(np.asarray(pixels))))
    except ImportError:
        pass
    return images[:limit] if limit is not None else images


def resize_shorter(pixels: np.ndarray, size: int) -> np.ndarray:
    from PIL import Image

    height, width = pixels.shape[:2]
    scale = size / min(height, width)
    new_size = (max(size, round(width * scale)), max(size, round(height * scale)))
    return np.asarray(Image.fromarray(pixels).resize(new_size, Image.BILINEAR))


def normalize(pixels: np.ndarray) -> np.ndarray:
    """HWC uint8 RGB -> [1, 3, H, W] float32 with the ImageNet mean / std."""
    planar = pixels.astype(np.float32).transpose(2, 0, 1)
    mean = np.asarray(IMAGENET_MEAN, np.float32)[:, None, None]
    std = np.asarray(IMAGENET_STD, np.float32)[:, None, None]
    return np.ascontiguousarray(((planar - mean) / std)[None])


def five_crops(big: np.ndarray, size: int, count: int = 5) -> list[np.ndarray]:
    height, width = big.shape[:2]
    corners = [((height - size) // 2, (width - size) // 2), (0, 0), (0, width - size),
               (height - size, 0), (height - size, width - size)]  # fmt: skip
    return [big[t : t + size, left : left + size] for t, left in corners[:count]]


def evaluation_inputs(
    images: list[tuple[str, np.ndarray]], crops: int = 5, size: int = 224, resize: int = 256
) -> list[np.ndarray]:
    """`crops` crops x 2 flips per image, normalized."""
    inputs = []
    for _, pixels in images:
        for crop in five_crops(resize_shorter(pixels, resize), size, crops):
            inputs += [normalize(crop), normalize(np.ascontiguousarray(crop[:, ::-1]))]
    return inputs


def calibration_inputs(
    images: list[tuple[str, np.ndarray]],
    per_image: int,
    seed: int = 2024,
    size: int = 224,
    resize: int = 288,
) -> list[np.ndarray]:
    """`per_image` seeded random crops of each image (every other one mirrored), normalized."""
    rng = np.random.default_rng(seed)
    inputs = []
    for _, pixels in images:
        big = resize_shorter(pixels, resize)
        for k in range(per_image):
            top = int(rng.integers(0, big.shape[0] - size + 1))
            left = int(rng.integers(0, big.shape[1] - size + 1))
            crop = big[top : top + size, left : left + size]
            if k % 2 == 1:
                crop = crop[:, ::-1]
            inputs.append(normalize(np.ascontiguousarray(crop)))
    return inputs


def tpuc_opt() -> Path:
    try:
        from tpuc._tools import tool_path
    except ImportError as error:
        raise BenchUnavailable(f"tpuc is not installed ({error})") from error
    return tool_path("tpuc-opt")


def convert(
    name: str,
    model: Any,
    folder: Path,
    input_shapes: Any = None,
    mean: Any = IMAGENET_MEAN,
    std: Any = IMAGENET_STD,
    **preprocess: Any,
) -> Path:
    """ONNX model (path or ModelProto) -> fp32 tpu module `<folder>/<name>.mlir`, then the
    optimized fp32 module calibration works on, as the documented flow makes it:
    `tpuc-opt --assign-layer-id --convert-bn-to-scale --canonicalize` -> `<name>_opt_fp32.mlir`
    (batch norms folded, ReLUs fused into their producers)."""
    from tpuc.frontend import OnnxConverter, Preprocess

    mlir = folder / f"{name}.mlir"
    OnnxConverter(name, model, mlir, input_shapes=input_shapes,
                  preprocess=Preprocess(mean=mean, std=std, **preprocess)).run()  # fmt: skip
    optimized = folder / f"{name}_opt_fp32.mlir"
    command = [str(tpuc_opt()), str(mlir), "--assign-layer-id", "--convert-bn-to-scale",
               "--canonicalize", "-o", str(optimized)]  # fmt: skip
    done = subprocess.run(command, capture_output=True, text=True)
    if done.returncode != 0:
        raise RuntimeError(f"optimizing {mlir} failed:\n{done.stderr}")
    return optimized


@dataclass
class Quantized:
    table: Path
    int8_mlir: Path
    op_info: Path
    calibration_seconds: float


def calibrate_and_quantize(
    mlir: Path,
    inputs: list[Any],
    method: str = "kl",
    jobs: int = 1,
    out: Path | None = None,
    **options: Any,
) -> Quantized:
    """Calibration table of `mlir` on `inputs`, then the INT8 module and its op_info_int8.csv:
    `tpuc-opt --import-calibration-table --assign-chip-name --chipname cv183x --tpu-quant`, all
    written to `out` (default: the folder of `mlir`)."""
    from tpuc.calibration import calibrate

    folder = out or mlir.parent
    start = time.perf_counter()
    table = calibrate(mlir, inputs, method, jobs=jobs, **options)
    seconds = time.perf_counter() - start
    base = mlir.stem.removesuffix("_opt_fp32")
    table_path = folder / f"{base}_calibration_table"
    table.write(table_path)
    int8_mlir = folder / f"{base}_int8.mlir"
    op_info = folder / f"{base}_op_info_int8.csv"
    command = [str(tpuc_opt()), str(mlir), "--import-calibration-table",
               "--calibration-table", str(table_path), "--assign-chip-name", "--chipname",
               "cv183x", f"--tpu-quant=weight-output={folder / f'{base}_weights_int8.npz'}",
               "--print-tpu-op-info", "--tpu-op-info-filename",
               str(op_info), "-o", str(int8_mlir)]  # fmt: skip
    done = subprocess.run(command, capture_output=True, text=True)
    if done.returncode != 0:
        raise RuntimeError(f"tpu-quant of {mlir} failed:\n{done.stderr}")
    return Quantized(table_path, int8_mlir, op_info, seconds)


def saturation(args: Any) -> dict[str, float]:
    """calibrate() options from a bench's --kl-max-saturation (none when not given)."""
    value = getattr(args, "kl_max_saturation", None)
    return {} if value is None or args.method != "kl" else {"kl_max_saturation": value}


_OP = re.compile(r'=\s*"?tpu\.(\w+)"?[^\n]*?\bname\s*=\s*"([^"]*)"')


def layer_kinds(mlir: Path) -> dict[str, str]:
    """tpu op kind (conv_2d, lut, ...) of every named op of a module's text."""
    return {name: kind for kind, name in _OP.findall(mlir.read_text())}


def non_int8_layers(quantized: Quantized) -> list[tuple[str, str, str]]:
    """(name, op kind, quant mode) of the layers tpu-quant left out of INT8 (fp32 / bf16 / CPU),
    tpu.input and the boundary tpu.quant conversions excepted."""
    from tpuc.tools.npz_compare import read_op_info

    kinds = layer_kinds(quantized.int8_mlir)
    rows = []
    for info in read_op_info(quantized.op_info):
        kind = kinds.get(info.name, "?")
        if info.quant.upper() == "INT8" or kind in ("input", "quant"):
            continue
        rows.append((info.name, kind, info.quant))
    return rows


def int8_execution_problem(int8_mlir: Path, op_info: Path, sample: np.ndarray) -> str | None:
    """Why the interpreter does not execute the INT8 module (None when it does): every tensor
    of an INT8 layer of the dump must hold int8 codes."""
    from tpuc import interpreter
    from tpuc.tools.npz_compare import int8_code_problem, read_op_info

    try:
        dump = interpreter.run(int8_mlir, {"input": sample}, dump_all=True)
    except Exception as error:  # InterpreterError: an op it cannot run, named
        return f"the interpreter cannot run {int8_mlir.name}: {error}"
    for info in read_op_info(op_info):
        if info.quant.upper() != "INT8" or info.name not in dump:
            continue
        problem = int8_code_problem(np.asarray(dump[info.name]))
        if problem is not None:
            return f"the interpreter does not execute INT8 layers: '{info.name}' {problem}"
    return None


def run_program(mlir: Path, inputs: list[np.ndarray]) -> list[dict[str, np.ndarray]]:
    """The module's results on every input (one compile)."""
    from tpuc import interpreter

    program = interpreter.compile(mlir)
    name = program.inputs[0][0]
    return [program.run({name: x}) for x in inputs]


def first_output(results: list[dict[str, np.ndarray]]) -> np.ndarray:
    return np.concatenate([np.asarray(next(iter(r.values()))).reshape(1, -1) for r in results])


def json_line(metric: str, value: float | None, reference: float | None, goal: float) -> str:
    ratio = None
    if value is not None and reference:
        ratio = round(value / reference, 4)
    return json.dumps({"metric": metric, "value": None if value is None else round(value, 4),
                       "reference": None if reference is None else round(reference, 4),
                       "ratio": ratio, "goal": goal})  # fmt: skip
