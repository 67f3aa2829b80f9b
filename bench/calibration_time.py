"""Calibration time of a real model on N images, against the fp32 interpreter's forward time.

The model (default MobileNetV2, from bench/frontend_models.py) is converted with ImageNet
preprocessing recorded on its input. N images bundled with scikit-image (plus flipped and
shifted variants when N exceeds them) are resized to the network input and written as PNG files
listed in a data list, as a user would prepare them with gen_data_list.py.

- value: wall time of `tpuc.calibration.calibrate` on the N image paths (parse, image decoding
  and preprocessing, both passes through the interpreter with every tensor dumped, statistics,
  thresholds);
- reference: the fp32 interpreter's forward time over the same N inputs in one process (module
  compiled once, inputs already preprocessed, no tensor dump), after one warm-up run;
- ratio = value / reference. Calibration runs the model twice with every tensor dumped and
  counts every tensor into a histogram, so the goal is 4 forward times.

    python bench/calibration_time.py [--model mobilenet_v2] [--images 32] [--jobs 1]
                                     [--method kl]
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))

GOAL_RATIO = 4.0
IMAGENET_MEAN = (123.675, 116.28, 103.53)  # raw pixel units (0..255)
IMAGENET_STD = (58.395, 57.12, 57.375)
SKIMAGE_RGB = (
    "astronaut", "chelsea", "coffee", "rocket", "motorcycle_left", "motorcycle_right",
    "hubble_deep_field", "retina", "immunohistochemistry", "colorwheel", "logo",
)  # fmt: skip


def source_images() -> list[np.ndarray]:
    """RGB uint8 images bundled with scikit-image (gray ones made RGB)."""
    from skimage import data

    images = []
    for name in SKIMAGE_RGB:
        loader = getattr(data, name, None)
        if loader is None:
            continue
        try:
            pixels = np.asarray(loader())
        except Exception:  # a data file missing from this scikit-image build
            continue
        if pixels.ndim == 2:
            pixels = np.stack([pixels] * 3, axis=-1)
        images.append(np.ascontiguousarray(pixels[:, :, :3]).astype(np.uint8))
    if not images:
        raise RuntimeError("scikit-image ships no RGB sample image here")
    return images


def write_images(folder: Path, count: int, height: int, width: int) -> list[str]:
    """`count` PNG files of the network input size: the sample images, then variants of them
    (mirrored, shifted crops) so every file differs."""
    from PIL import Image

    sources = source_images()
    paths = []
    for i in range(count):
        base = sources[i % len(sources)]
        variant = i // len(sources)
        if variant % 2 == 1:
            base = base[:, ::-1]
        if variant >= 2:
            shift_h, shift_w = base.shape[0] // (4 + variant), base.shape[1] // (4 + variant)
            base = base[shift_h:, shift_w:]
        image = Image.fromarray(np.ascontiguousarray(base)).resize((width, height))
        path = folder / f"img_{i:04d}.png"
        image.save(path)
        paths.append(str(path))
    return paths


def convert(model_name: str, folder: Path) -> tuple[Path, Any]:
    from frontend_models import MODELS
    from tpuc.frontend import OnnxConverter, Preprocess

    model, input_shapes = MODELS[model_name]()
    preprocess = Preprocess(mean=IMAGENET_MEAN, std=IMAGENET_STD)
    mlir = folder / f"{model_name}.mlir"
    OnnxConverter(model_name, model, mlir, input_shapes=input_shapes, preprocess=preprocess).run()
    return mlir, preprocess


def forward_time(mlir: Path, paths: list[str]) -> float:
    """Interpreter forward time over the preprocessed inputs (module compiled once, no dumps),
    after a warm-up run."""
    from tpuc import interpreter
    from tpuc.calibration import inspect_module, parse_module
    from tpuc.calibration.inputs import load_item

    inputs = inspect_module(parse_module(mlir)).inputs
    feeds = [load_item(path, inputs) for path in paths]
    if hasattr(interpreter, "compile"):
        forward = interpreter.compile(mlir).run
    else:
        module = parse_module(mlir)

        def forward(feed: dict[str, np.ndarray]) -> Any:
            return interpreter.run(module, feed)

    forward(feeds[0])
    start = time.perf_counter()
    for feed in feeds:
        forward(feed)
    return time.perf_counter() - start


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", default="mobilenet_v2")
    parser.add_argument("--images", type=int, default=32)
    parser.add_argument("--jobs", type=int, default=1)
    parser.add_argument("--method", default="kl", choices=("kl", "max", "percentile"))
    args = parser.parse_args(argv)
    metric = f"calibration_time_s_{args.model}_{args.images}img_{args.method}_j{args.jobs}"

    try:
        import tpuc.interpreter  # noqa: F401
    except ImportError as error:
        print(f"skipped: the fp32 interpreter is not available ({error})")
        print(json.dumps({"metric": metric, "value": None, "reference": None, "ratio": None,
                          "goal": GOAL_RATIO}))  # fmt: skip
        return 0

    from tpuc.calibration import calibrate, inspect_module, parse_module

    folder = Path(tempfile.mkdtemp(prefix="tpuc-calibration-bench-"))
    mlir, _ = convert(args.model, folder)
    info = inspect_module(parse_module(mlir))
    (model_input,) = info.inputs
    height, width = model_input.shape[2], model_input.shape[3]
    paths = write_images(folder, args.images, height, width)
    (folder / "cali_list.txt").write_text("".join(f"{p}\n" for p in paths))
    print(f"{args.model}: {len(info.layers)} layers, input {list(model_input.shape)}, "
          f"{len(paths)} images in {folder}")  # fmt: skip

    reference = forward_time(mlir, paths)
    print(f"fp32 forward: {reference:.2f} s ({reference / len(paths) * 1000:.0f} ms/image)")

    start = time.perf_counter()
    table = calibrate(mlir, paths, args.method, jobs=args.jobs)
    value = time.perf_counter() - start
    table.write(folder / "calibration_table")
    print(f"calibration ({args.method}, jobs={args.jobs}): {value:.2f} s, {len(table)} thresholds "
          f"-> {folder / 'calibration_table'}")  # fmt: skip
    print(json.dumps({"metric": metric, "value": round(value, 3), "reference": round(reference, 3),
                      "ratio": round(value / reference, 3), "goal": GOAL_RATIO}))  # fmt: skip
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
